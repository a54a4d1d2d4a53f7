"""Reached as `nested/deep.handler` (a module path with a slash)."""


def handler(event, context):
    return {"module": __name__, "event": event}

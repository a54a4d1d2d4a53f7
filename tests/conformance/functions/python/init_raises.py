"""A module whose top-level code fails: the init error is reported under the exception's class."""


def _configure():
    raise RuntimeError("configuration missing at import")


_configure()


def handler(event, context):
    return "unreachable"

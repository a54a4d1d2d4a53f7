raise RuntimeError("configuration missing at import")


def handler(event, context):
    return "never"

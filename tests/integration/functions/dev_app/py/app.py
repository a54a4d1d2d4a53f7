def handler(event, context):
    return {"says": "python v1"}

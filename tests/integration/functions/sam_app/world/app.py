import os


def handler(event, context):
    return {
        "world": os.environ["GREETING"],
        "peer": os.environ["PEER"],
        "stage": os.environ["STAGE"],
    }

import os

import shout  # from the Libs layer


def handler(event, context):
    return {"hello": shout.shout(os.environ["GREETING"]), "version": context.function_version}

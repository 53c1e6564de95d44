import json
import os


def handler(event, context):
    # Without an SDK in the function, report where the submission would be queued.
    return {
        "statusCode": 202,
        "body": json.dumps({"queue": os.environ["QUEUE_URL"], "size": len(event.get("body") or "")}),
    }

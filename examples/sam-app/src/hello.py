"""GET /hello/{name}: a JSON greeting (HTTP API, payload format 2.0)."""

import json
import os


def handler(event, context):
    name = (event.get("pathParameters") or {}).get("name", "world")
    body = {
        "message": f"Hello, {name}!",
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }

"""A Python function: greets the caller and shows what Lambda's context carries."""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    logger.info("greeting %s", name)
    return {
        "message": f"Hello, {name}!",
        "function": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


if __name__ == "__main__":
    print(json.dumps({"hint": "deploy with: nimbus create hello-python --runtime python3.12 --handler app.handler --code examples/python-hello"}))

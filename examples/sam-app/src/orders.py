"""Orders: `create` answers POST /orders, `process` handles batches from OrdersQueue.

POST /orders takes {"item": "<name>", "quantity": <positive integer>}. The worker accepts
any JSON object from the queue (orders may come from other producers) and reports every
other message as a batch item failure, so only those are retried.
"""

import base64
import json
import uuid


def _json(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def _parse_order(text):
    """The order in `text`, or None if it is not a valid order."""
    try:
        order = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(order, dict):
        return None
    item, quantity = order.get("item"), order.get("quantity")
    if not isinstance(item, str) or not item:
        return None
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        return None
    return {"item": item, "quantity": quantity}


def create(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    order = _parse_order(body)
    if order is None:
        return _json(400, {"error": 'expected {"item": "...", "quantity": 1}'})
    order["orderId"] = str(uuid.uuid4())
    print(json.dumps({"accepted": order}))
    return _json(202, {"status": "accepted", **order})


def _parse_message(text):
    """The JSON object in `text`, or None."""
    try:
        message = json.loads(text)
    except (TypeError, ValueError):
        return None
    return message if isinstance(message, dict) else None


def process(event, context):
    failures = []
    for record in event.get("Records", []):
        order = _parse_message(record.get("body"))
        if order is None:
            print(json.dumps({"rejected": record.get("messageId")}))
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        print(json.dumps({"processed": order, "messageId": record.get("messageId")}))
    return {"batchItemFailures": failures}

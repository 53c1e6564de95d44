import json


def handler(event, context):
    print(json.dumps({"report": event.get("report"), "at": event.get("time")}))
    return {"ok": True}

"""Runs every minute (Schedule event): logs when it was triggered."""

import json


def handler(event, context):
    print(json.dumps({"tick": event.get("time"), "rule": (event.get("resources") or [None])[0]}))
    return {"ok": True}

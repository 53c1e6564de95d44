"""X-Ray trace headers through boto3, unmodified: the ``AWSTraceHeader`` message system
attribute (its MD5 as the SDKs compute it, and ReceiveMessage returning it when asked), and a
sync Invoke whose ``X-Amzn-Trace-Id`` (added the way the X-Ray SDK does, as an HTTP header)
reaches the function's ``_X_AMZN_TRACE_ID``."""

import json
import re

from support import md5_of_message_attributes, python_zip

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
ROOT = "1-5759e988-bd862e3fe1be46a994272793"
TRACE_RE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]$")

ECHO_TRACE = "import os\ndef handler(event, context):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n"


def test_send_message_keeps_the_aws_trace_header(sqs, queues):
    _, url = queues.create("trace")
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="traced", MessageSystemAttributes=system)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_message_attributes(system)

    got = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])
    (message,) = got["Messages"]
    assert message["Attributes"] == {"AWSTraceHeader": TRACE}


def test_a_sync_invoke_continues_the_callers_trace(lam, functions):
    name, _ = functions.create("trace", python_zip(ECHO_TRACE))

    def add_trace_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = TRACE

    event = "before-sign.lambda.Invoke"
    lam.meta.events.register(event, add_trace_header)
    try:
        traced = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    finally:
        lam.meta.events.unregister(event, add_trace_header)
    assert TRACE_RE.match(traced), traced
    assert traced.startswith(f"Root={ROOT};Parent=")
    assert not traced.startswith(f"Root={ROOT};Parent=53995c3f42cd8ad8;")
    assert traced.endswith(";Sampled=1")

    fresh = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert TRACE_RE.match(fresh), fresh
    assert ROOT not in fresh

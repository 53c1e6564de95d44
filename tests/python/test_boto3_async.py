"""Asynchronous invocation through boto3: Event invokes, event-invoke configurations and their
validation, destinations. The server under test runs with --async-time-scale 0.01, so
Lambda's one- and two-minute retry delays take 0.6 s and 1.2 s."""

import datetime
import json
import time
import urllib.request

import pytest

from support import python_zip

FAILS = """
def handler(event, context):
    raise RuntimeError("failed on purpose: " + json.dumps(event))

import json
"""

OK = """
def handler(event, context):
    return {"seen": event}
"""


def event_state(endpoint, request_id, timeout_s=60):
    """The server's view of one asynchronous event, once it is terminal."""
    deadline = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(f"{endpoint}/nimbus/v1/async-events/{request_id}") as r:
            view = json.load(r)
        if view["state"] in ("succeeded", "failed", "expired") or time.monotonic() > deadline:
            return view
        time.sleep(0.05)


def test_event_invoke_is_accepted_with_202_and_runs(lam, endpoint, functions):
    name, _ = functions.create("evt", python_zip(OK))
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"k": "v"}')
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    request_id = resp["ResponseMetadata"]["RequestId"]
    view = event_state(endpoint, request_id)
    assert view["state"] == "succeeded", view
    assert view["record"]["responsePayload"] == {"seen": {"k": "v"}}
    # The deprecated InvokeAsync shape is not needed by boto3; Event with a qualifier is.
    lam.publish_version(FunctionName=name)
    resp = lam.invoke(FunctionName=name, Qualifier="1", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    assert event_state(endpoint, resp["ResponseMetadata"]["RequestId"])["state"] == "succeeded"


def test_event_invoke_configs_round_trip(lam, functions):
    name, _ = functions.create("eic", python_zip(FAILS))
    sink, _ = functions.create("eic-sink", python_zip(OK))
    sink_arn = lam.get_function(FunctionName=sink)["Configuration"]["FunctionArn"]
    put = lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": sink_arn}},
    )
    assert put["FunctionArn"].endswith(f":function:{name}:$LATEST")
    assert put["MaximumRetryAttempts"] == 1
    assert put["MaximumEventAgeInSeconds"] == 120
    assert put["DestinationConfig"]["OnFailure"]["Destination"] == sink_arn
    assert isinstance(put["LastModified"], datetime.datetime)

    # Update merges: members left out stay.
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert updated["MaximumRetryAttempts"] == 0
    assert updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"]["OnFailure"]["Destination"] == sink_arn
    # Put replaces: members left out go.
    replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2)
    assert "MaximumEventAgeInSeconds" not in replaced
    assert "Destination" not in replaced["DestinationConfig"].get("OnFailure", {})

    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=0)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"].rsplit(":", 1)[1] for c in listed) == ["$LATEST", "live"]
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    assert got["MaximumRetryAttempts"] == 0

    lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="live")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")
    # Deleting the alias takes its configuration with it.
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=1)
    lam.delete_alias(FunctionName=name, Name="live")
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["$LATEST"]


def test_event_invoke_config_bad_inputs_change_nothing(lam, functions):
    name, _ = functions.create("eic-bad", python_zip(OK))
    cases = [
        dict(MaximumRetryAttempts=3),
        dict(MaximumEventAgeInSeconds=21601),
        dict(DestinationConfig={"OnSuccess": {"Destination": "arn:aws:sns:us-east-1:000000000000:topic"}}),
        dict(DestinationConfig={"OnFailure": {"Destination": "not-an-arn"}}),
        dict(DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:" + "q" * 400}}),
    ]
    for extra in cases:
        with pytest.raises(lam.exceptions.ClientError) as e:
            lam.put_function_event_invoke_config(FunctionName=name, **extra)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, extra
        assert e.value.response["Error"]["Code"] in (
            "ValidationException",
            "InvalidParameterValueException",
        ), extra
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.put_function_event_invoke_config(FunctionName=name, Qualifier="7", MaximumRetryAttempts=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.put_function_event_invoke_config(FunctionName="no-such-fn-at-all", MaximumRetryAttempts=1)
    # A dead-letter queue must be a queue Nimbus can deliver to.
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(
            FunctionName=name,
            DeadLetterConfig={"TargetArn": "arn:aws:sns:us-east-1:000000000000:topic"},
        )


def test_failures_and_successes_reach_function_destinations(lam, endpoint, functions):
    name, _ = functions.create("dest-src", python_zip(FAILS))
    ok, _ = functions.create("dest-ok", python_zip(OK))
    sink, _ = functions.create("dest-sink", python_zip(OK))
    sink_arn = lam.get_function(FunctionName=sink)["Configuration"]["FunctionArn"]
    for fn in (name, ok):
        lam.put_function_event_invoke_config(
            FunctionName=fn,
            MaximumRetryAttempts=1,
            DestinationConfig={
                "OnSuccess": {"Destination": sink_arn},
                "OnFailure": {"Destination": sink_arn},
            },
        )
    failed = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 1}')
    view = event_state(endpoint, failed["ResponseMetadata"]["RequestId"])
    assert view["state"] == "failed"
    assert view["attempts"] == 2
    assert view["delivered"] == [{"target": "onFailure", "arn": sink_arn}]
    assert view["record"]["requestContext"]["condition"] == "RetriesExhausted"

    succeeded = lam.invoke(FunctionName=ok, InvocationType="Event", Payload=b'{"x": 2}')
    view = event_state(endpoint, succeeded["ResponseMetadata"]["RequestId"])
    assert view["state"] == "succeeded"
    assert view["delivered"] == [{"target": "onSuccess", "arn": sink_arn}]


def _sqs_client(endpoint):
    import boto3
    from botocore.config import Config

    from support import CREDENTIALS, REGION

    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}),
        **CREDENTIALS,
    )


def _drain(sqs, url, want, timeout_s=30):
    """Receives (and deletes) until ``want`` messages arrived or the time is up; then checks
    that nothing else follows."""
    got = []
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        r = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    extra = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert extra.get("Messages", []) == [], "more messages than expected"
    return got


def test_failing_event_is_tried_three_times_then_sent_to_the_sqs_dead_letter_queue(
    lam, endpoint, functions
):
    sqs = _sqs_client(endpoint)
    dlq_name = f"async-dlq-{int(time.time() * 1000)}"
    dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    try:
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        name, _ = functions.create(
            "dlq", python_zip(FAILS), DeadLetterConfig={"TargetArn": dlq_arn}
        )
        accepted = time.monotonic()
        resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
        assert resp["StatusCode"] == 202
        request_id = resp["ResponseMetadata"]["RequestId"]
        view = event_state(endpoint, request_id)
        elapsed = time.monotonic() - accepted
        assert view["state"] == "failed", view
        assert view["attempts"] == 3, view
        # Retries after ~1 and ~2 minutes, scaled by 0.01: at least 1.8 s in all.
        assert elapsed >= 1.5, elapsed
        messages = _drain(sqs, dlq_url, 1)
        assert len(messages) == 1, messages
        m = messages[0]
        # The dead letter is the event itself, with Lambda's three attributes.
        assert json.loads(m["Body"]) == {"n": 7}
        attrs = m["MessageAttributes"]
        assert attrs["RequestID"]["StringValue"] == request_id
        assert attrs["ErrorCode"]["DataType"] == "Number"
        assert attrs["ErrorCode"]["StringValue"] == "200"
        assert "failed on purpose" in attrs["ErrorMessage"]["StringValue"]
    finally:
        sqs.delete_queue(QueueUrl=dlq_url)


def test_destinations_on_sqs_queues_get_invocation_records(lam, endpoint, functions):
    sqs = _sqs_client(endpoint)
    stamp = int(time.time() * 1000)
    ok_url = sqs.create_queue(QueueName=f"dest-ok-{stamp}")["QueueUrl"]
    bad_url = sqs.create_queue(QueueName=f"dest-bad-{stamp}")["QueueUrl"]
    try:
        arn = lambda url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        ok, _ = functions.create("dest-ok", python_zip(OK))
        bad, _ = functions.create("dest-bad", python_zip(FAILS))
        for fn in (ok, bad):
            lam.put_function_event_invoke_config(
                FunctionName=fn,
                MaximumRetryAttempts=0,
                DestinationConfig={
                    "OnSuccess": {"Destination": arn(ok_url)},
                    "OnFailure": {"Destination": arn(bad_url)},
                },
            )
        good = lam.invoke(FunctionName=ok, InvocationType="Event", Payload=b'{"a": 1}')
        failed = lam.invoke(FunctionName=bad, InvocationType="Event", Payload=b'{"b": 2}')
        for r in (good, failed):
            event_state(endpoint, r["ResponseMetadata"]["RequestId"])
        [success] = _drain(sqs, ok_url, 1)
        [failure] = _drain(sqs, bad_url, 1)
        s = json.loads(success["Body"])
        assert s["version"] == "1.0"
        assert s["requestContext"]["requestId"] == good["ResponseMetadata"]["RequestId"]
        assert s["requestContext"]["condition"] == "Success"
        assert s["requestContext"]["approximateInvokeCount"] == 1
        assert s["requestPayload"] == {"a": 1}
        assert s["responsePayload"] == {"seen": {"a": 1}}
        assert s["responseContext"]["statusCode"] == 200
        f = json.loads(failure["Body"])
        assert f["requestContext"]["condition"] == "RetriesExhausted"
        assert f["requestContext"]["functionArn"].endswith(f":{bad}:$LATEST")
        assert f["responseContext"]["functionError"] == "Unhandled"
        assert f["responsePayload"]["errorType"] == "RuntimeError"
    finally:
        sqs.delete_queue(QueueUrl=ok_url)
        sqs.delete_queue(QueueUrl=bad_url)

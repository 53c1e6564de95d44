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

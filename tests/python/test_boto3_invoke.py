"""Invoke through boto3: results, log tails, function errors, qualifiers, ARNs, client
context, DryRun, and the request errors botocore parses."""

import base64
import json

import pytest

from support import assert_invoke_log_lines, decode_tail, python_zip

ECHO = """
import json

def handler(event, context):
    print("echo handler saw", json.dumps(event))
    cc = context.client_context
    return {
        "event": event,
        "function_name": context.function_name,
        "invoked_arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "client_custom": cc.custom if cc else None,
        "client_env": cc.env if cc else None,
        "client_app_title": cc.client.app_title if cc and cc.client else None,
    }
"""

RAISES = """
class ThingWentWrong(Exception):
    pass

def handler(event, context):
    print("about to fail")
    raise ThingWentWrong("the thing went wrong: " + str(event.get("why")))
"""


@pytest.fixture
def echo(functions):
    name, config = functions.create("echo", python_zip(ECHO))
    return name, config


def invoke(lam, **kwargs):
    resp = lam.invoke(**kwargs)
    body = resp["Payload"].read()
    return resp, body


def test_request_response_returns_the_result(lam, echo):
    name, _ = echo
    resp, body = invoke(lam, FunctionName=name, Payload=json.dumps({"hello": "world"}))
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, body
    assert resp["ExecutedVersion"] == "$LATEST"
    result = json.loads(body)
    assert result["event"] == {"hello": "world"}
    assert result["function_name"] == name
    assert result["invoked_arn"].endswith(f":function:{name}")
    assert result["request_id"] == resp["ResponseMetadata"]["RequestId"], (
        "the function's aws_request_id is the invoke's x-amzn-RequestId"
    )


def test_log_tail_has_start_end_report(lam, echo):
    name, _ = echo
    resp, body = invoke(lam, FunctionName=name, Payload=b'{"n": 1}', LogType="Tail")
    request_id = json.loads(body)["request_id"]
    tail = decode_tail(resp["LogResult"])
    assert_invoke_log_lines(tail, request_id)
    assert 'echo handler saw {"n": 1}' in tail, f"the function's own output is in the tail:\n{tail}"
    assert len(base64.b64decode(resp["LogResult"])) <= 4096, "LogResult is at most the last 4 KB"


def test_no_log_result_without_tail(lam, echo):
    name, _ = echo
    resp, _ = invoke(lam, FunctionName=name, Payload=b"{}")
    assert "LogResult" not in resp


def test_raising_handler_is_a_function_error(lam, functions):
    name, _ = functions.create("raises", python_zip(RAISES))
    resp, body = invoke(lam, FunctionName=name, Payload=b'{"why": "testing"}', LogType="Tail")
    assert resp["StatusCode"] == 200, "function errors do not change the HTTP status"
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(body)
    assert error["errorType"] == "ThingWentWrong", error
    assert error["errorMessage"] == "the thing went wrong: testing", error
    assert isinstance(error.get("stackTrace"), list), error
    tail = decode_tail(resp["LogResult"])
    assert "about to fail" in tail and "ThingWentWrong" in tail, tail


def test_qualifier_latest_and_function_arn(lam, echo):
    name, config = echo
    resp, body = invoke(lam, FunctionName=name, Qualifier="$LATEST", Payload=b"{}")
    assert resp["ExecutedVersion"] == "$LATEST"
    assert json.loads(body)["function_name"] == name

    arn = config["FunctionArn"]
    resp, body = invoke(lam, FunctionName=arn, Payload=b'{"via": "arn"}')
    assert "FunctionError" not in resp, body
    assert json.loads(body)["event"] == {"via": "arn"}

    resp, body = invoke(lam, FunctionName=f"{name}:$LATEST", Payload=b"{}")
    assert resp["ExecutedVersion"] == "$LATEST", body


def test_client_context_reaches_the_function(lam, echo):
    name, _ = echo
    context = {
        "client": {
            "installation_id": "install-1",
            "app_title": "e2e-app",
            "app_version_name": "1.0",
            "app_version_code": "100",
            "app_package_name": "com.example.e2e",
        },
        "custom": {"tenant": "blue"},
        "env": {"platform": "test"},
    }
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    resp, body = invoke(lam, FunctionName=name, Payload=b"{}", ClientContext=encoded)
    assert "FunctionError" not in resp, body
    result = json.loads(body)
    assert result["client_custom"] == {"tenant": "blue"}
    assert result["client_env"] == {"platform": "test"}
    assert result["client_app_title"] == "e2e-app"


def test_dry_run_is_204_and_runs_nothing(lam, echo):
    name, _ = echo
    resp, body = invoke(lam, FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    assert resp["StatusCode"] == 204
    assert body == b""


def test_payload_over_6mb_is_request_too_large(lam, echo):
    name, _ = echo
    payload = b'"' + b"x" * (6 * 1024 * 1024 - 1) + b'"'  # 6 MB + 1 byte of valid JSON
    assert len(payload) == 6 * 1024 * 1024 + 1
    with pytest.raises(lam.exceptions.RequestTooLargeException) as err:
        lam.invoke(FunctionName=name, Payload=payload)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_non_json_payload_is_invalid_request_content(lam, echo):
    name, _ = echo
    with pytest.raises(lam.exceptions.InvalidRequestContentException) as err:
        lam.invoke(FunctionName=name, Payload=b"this is not json")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "json" in err.value.response["Error"]["Message"].lower()


def test_invoke_of_missing_function_is_resource_not_found(lam):
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function-e2e", Payload=b"{}")

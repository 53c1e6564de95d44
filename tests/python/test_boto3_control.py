"""The Lambda control plane through boto3: create, read, list, update, delete, waiters,
account settings, and the exceptions botocore parses from Nimbus's error answers."""

import base64
import hashlib
import json
import re

import pytest
from botocore.exceptions import ClientError

from support import PYTHON_RUNTIME, ROLE, python_zip, unique_name

HANDLER_V1 = "def handler(event, context):\n    return {'version': 1}\n"
HANDLER_V2 = "def handler(event, context):\n    return {'version': 2}\n"
ENV_HANDLER = (
    "import os\n"
    "def handler(event, context):\n"
    "    return {k: os.environ.get(k) for k in ('VAR_A', 'VAR_B', 'VAR_C')}\n"
)

# Waiters poll quickly: every state here is reached at once or not at all.
FAST_WAIT = {"Delay": 1, "MaxAttempts": 10}


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def invoke_json(lam, name, payload=None, **kwargs):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **kwargs)
    body = resp["Payload"].read()
    assert "FunctionError" not in resp, f"function failed: {body!r}"
    return json.loads(body)


def test_create_function_with_publish_returns_version_1(lam, functions):
    code = python_zip(HANDLER_V1)
    name, created = functions.create(
        "create",
        code,
        Description="made by boto3",
        Timeout=7,
        MemorySize=192,
        Environment={"Variables": {"GREETING": "hi"}},
        Publish=True,
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionName"] == name
    assert created["Version"] == "1", "Publish=True must publish version 1"
    assert re.fullmatch(
        rf"arn:aws:lambda:us-east-1:\d{{12}}:function:{name}(:1)?", created["FunctionArn"]
    ), created["FunctionArn"]
    assert created["Runtime"] == PYTHON_RUNTIME
    assert created["Handler"] == "app.handler"
    assert created["Role"] == ROLE
    assert created["Description"] == "made by boto3"
    assert created["Timeout"] == 7
    assert created["MemorySize"] == 192
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert created["CodeSize"] == len(code)
    assert created["CodeSha256"] == sha256_b64(code), "CodeSha256 is base64(sha256(zip))"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", created["LastModified"])
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]


def test_get_function_and_configuration(lam, functions):
    code = python_zip(HANDLER_V1)
    name, created = functions.create("get", code)

    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["FunctionName"] == name
    assert config["FunctionArn"].endswith(f":function:{name}")
    assert config["Version"] == "$LATEST"
    assert config["CodeSha256"] == created["CodeSha256"]
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert got["Code"]["RepositoryType"] == "S3"
    assert got["Code"]["Location"], "GetFunction must give a code location"

    only_config = lam.get_function_configuration(FunctionName=name)
    only_config.pop("ResponseMetadata")
    for key in ("FunctionName", "FunctionArn", "Runtime", "Handler", "CodeSha256", "RevisionId"):
        assert only_config[key] == config[key], key

    # The function's ARN works wherever a name does.
    by_arn = lam.get_function_configuration(FunctionName=config["FunctionArn"])
    assert by_arn["FunctionName"] == name


def test_list_functions_pages_with_max_items_and_marker(lam, functions):
    names = {functions.create("list", python_zip(HANDLER_V1))[0] for _ in range(3)}

    paginator = lam.get_paginator("list_functions")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    seen = [f["FunctionName"] for page in pages for f in page["Functions"]]
    assert all(len(page["Functions"]) <= 2 for page in pages), "MaxItems=2 must cap each page"
    assert len(pages) >= 2, "three functions with MaxItems=2 need a second page"
    assert names <= set(seen), f"paging lost functions: {names - set(seen)}"
    assert len(seen) == len(set(seen)), f"paging repeated functions: {seen}"

    # The same by hand: MaxItems, then Marker=NextMarker until there is none.
    first = lam.list_functions(MaxItems=1)
    assert len(first["Functions"]) == 1
    assert first.get("NextMarker"), "a truncated page must carry NextMarker"
    second = lam.list_functions(MaxItems=1, Marker=first["NextMarker"])
    assert second["Functions"][0]["FunctionName"] != first["Functions"][0]["FunctionName"]


def test_update_function_code_changes_what_runs(lam, functions):
    name, created = functions.create("code", python_zip(HANDLER_V1))
    assert invoke_json(lam, name) == {"version": 1}

    new_code = python_zip(HANDLER_V2)
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_code)
    assert updated["CodeSha256"] == sha256_b64(new_code)
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"], "every update makes a new RevisionId"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)

    assert invoke_json(lam, name) == {"version": 2}, "the warm environment must not run old code"


def test_update_function_configuration_replaces_environment(lam, functions):
    name, _ = functions.create(
        "config",
        python_zip(ENV_HANDLER),
        Environment={"Variables": {"VAR_A": "1", "VAR_B": "2"}},
    )
    assert invoke_json(lam, name) == {"VAR_A": "1", "VAR_B": "2", "VAR_C": None}

    updated = lam.update_function_configuration(
        FunctionName=name,
        Environment={"Variables": {"VAR_C": "3"}},
        MemorySize=256,
        Timeout=10,
    )
    assert updated["Environment"] == {"Variables": {"VAR_C": "3"}}, "Variables is replaced, not merged"
    assert updated["MemorySize"] == 256
    assert updated["Timeout"] == 10
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)

    config = lam.get_function_configuration(FunctionName=name)
    assert config["Environment"] == {"Variables": {"VAR_C": "3"}}
    assert (config["MemorySize"], config["Timeout"]) == (256, 10)
    assert invoke_json(lam, name) == {"VAR_A": None, "VAR_B": None, "VAR_C": "3"}

    resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert "Memory Size: 256 MB" in tail, f"REPORT must show the new memory size:\n{tail}"


def test_delete_function(lam, functions):
    name, _ = functions.create("delete", python_zip(HANDLER_V1))
    resp = lam.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] in (200, 204)

    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name, Payload=b"{}")


def test_get_account_settings(lam, functions):
    functions.create("account", python_zip(HANDLER_V1))
    settings = lam.get_account_settings()
    limit = settings["AccountLimit"]
    usage = settings["AccountUsage"]
    assert limit["ConcurrentExecutions"] > 0
    assert 0 < limit["UnreservedConcurrentExecutions"] <= limit["ConcurrentExecutions"]
    assert limit["CodeSizeZipped"] > 0 and limit["CodeSizeUnzipped"] > 0
    assert limit["TotalCodeSize"] > 0
    assert usage["FunctionCount"] >= 1
    assert usage["TotalCodeSize"] > 0


def test_sdk_waiters(lam, functions):
    name, _ = functions.create("waiters", python_zip(HANDLER_V1))
    lam.get_waiter("function_exists").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    lam.get_waiter("function_active").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    lam.update_function_configuration(FunctionName=name, Description="waited")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST_WAIT)
    lam.get_waiter("function_updated").wait(FunctionName=name, WaiterConfig=FAST_WAIT)


# --- Errors, as botocore parses them ------------------------------------------------------


def test_missing_function_is_resource_not_found(lam):
    name = unique_name("missing")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as err:
        lam.get_function(FunctionName=name)
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Code"] == "ResourceNotFoundException"
    assert name in error["Message"], f"message should name the function: {error}"

    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_configuration(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.update_function_code(FunctionName=name, ZipFile=python_zip(HANDLER_V1))


def test_duplicate_create_is_resource_conflict(lam, functions):
    name, _ = functions.create("dup", python_zip(HANDLER_V1))
    with pytest.raises(lam.exceptions.ResourceConflictException) as err:
        lam.create_function(
            FunctionName=name,
            Runtime=PYTHON_RUNTIME,
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": python_zip(HANDLER_V1)},
        )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert name in err.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"Runtime": "cobol85"}, id="unknown-runtime"),
        pytest.param(
            {"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}}, id="reserved-env-key"
        ),
    ],
)
def test_invalid_parameter_value(lam, functions, bad):
    args = {
        "FunctionName": functions.track(unique_name("invalid")),
        "Runtime": PYTHON_RUNTIME,
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": python_zip(HANDLER_V1)},
    }
    args.update(bad)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as err:
        lam.create_function(**args)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.value.response["Error"]["Message"]


def test_model_constraint_is_validation_exception(lam, functions):
    # 10241 MB passes botocore's own checks (its model allows more) but not Lambda's.
    name, _ = functions.create("validation", python_zip(HANDLER_V1))
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=name, MemorySize=10241)
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "memorySize" in error["Message"], error

"""The AWS CLI v1 (the venv's ``aws`` executable) against Nimbus: exit codes and JSON output."""

import base64
import json

import pytest

from support import (
    PYTHON_RUNTIME,
    ROLE,
    AwsCli,
    assert_invoke_log_lines,
    python_zip,
    unique_name,
)

HANDLER_V1 = (
    "def handler(event, context):\n"
    "    print('cli handler v1')\n"
    "    return {'version': 1, 'event': event, 'request_id': context.aws_request_id}\n"
)
HANDLER_V2 = (
    "def handler(event, context):\n"
    "    return {'version': 2, 'event': event, 'request_id': context.aws_request_id}\n"
)


@pytest.fixture
def cli(endpoint, tmp_path):
    return AwsCli("lambda", endpoint, tmp_path)


def test_cli_function_lifecycle(cli, functions, tmp_path):
    name = functions.track(unique_name("cli"))
    zip_v1 = tmp_path / "v1.zip"
    zip_v1.write_bytes(python_zip(HANDLER_V1))

    created = cli.ok(
        "create-function", "--function-name", name, "--runtime", PYTHON_RUNTIME,
        "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{zip_v1}",
        "--timeout", "5", "--memory-size", "160",
    )
    assert created["FunctionName"] == name
    assert created["Runtime"] == PYTHON_RUNTIME
    assert (created["Timeout"], created["MemorySize"]) == (5, 160)
    assert created["CodeSize"] == zip_v1.stat().st_size

    got = cli.ok("get-function", "--function-name", name)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Configuration"]["CodeSha256"] == created["CodeSha256"]

    listed = cli.ok("list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]], "list-functions must show it"

    # invoke: the result goes to the output file, the metadata to stdout.
    out = tmp_path / "out.json"
    meta = cli.ok(
        "invoke", "--function-name", name, "--payload", '{"from": "cli"}',
        "--log-type", "Tail", str(out),
    )
    assert meta["StatusCode"] == 200
    assert "FunctionError" not in meta, out.read_text()
    assert meta["ExecutedVersion"] == "$LATEST"
    result = json.loads(out.read_text())
    assert result["version"] == 1 and result["event"] == {"from": "cli"}
    tail = base64.b64decode(meta["LogResult"]).decode()
    assert_invoke_log_lines(tail, result["request_id"])
    assert "cli handler v1" in tail, tail

    zip_v2 = tmp_path / "v2.zip"
    zip_v2.write_bytes(python_zip(HANDLER_V2))
    updated = cli.ok("update-function-code", "--function-name", name,
                     "--zip-file", f"fileb://{zip_v2}")
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["CodeSize"] == zip_v2.stat().st_size

    meta = cli.ok("invoke", "--function-name", name, "--payload", "{}", str(out))
    assert json.loads(out.read_text())["version"] == 2, "update-function-code must take effect"

    proc = cli.run("delete-function", "--function-name", name)
    assert proc.returncode == 0, proc.stderr
    proc = cli.run("get-function", "--function-name", name)
    assert proc.returncode != 0, "the function must be gone after delete-function"


def test_cli_missing_function_fails_with_resource_not_found(cli):
    name = unique_name("cli-missing")
    proc = cli.run("get-function", "--function-name", name)
    # CLI v1 exits 255 on service errors (v2 uses 254).
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "ResourceNotFoundException" in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_cli_function_error_is_reported_in_output(cli, functions, tmp_path):
    name, _ = functions.create(
        "cli-raises", python_zip("def handler(event, context):\n    raise ValueError('nope')\n")
    )
    out = tmp_path / "err.json"
    meta = cli.ok("invoke", "--function-name", name, "--payload", "{}", str(out))
    assert meta["StatusCode"] == 200
    assert meta["FunctionError"] == "Unhandled"
    error = json.loads(out.read_text())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "nope")

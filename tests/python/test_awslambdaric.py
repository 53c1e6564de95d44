"""The unmodified AWS Lambda Python runtime interface client (awslambdaric) as a custom
runtime: a ``provided.al2023`` function whose ``bootstrap`` runs ``python3 -m awslambdaric``
with the sandbox's own /usr/bin/python3.

The wheels come from ``NIMBUS_RIC_DIR`` (filled by scripts/setup-test-env.sh for that exact
interpreter) and are pip-installed with ``--target`` into the package, as a user would."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from support import Functions, make_zip

# The interpreter a function sees inside its sandbox (host /usr is mounted read-only).
SANDBOX_PYTHON = "/usr/bin/python3"
RIC_REQUIREMENTS = pathlib.Path(__file__).with_name("requirements-ric.txt")

BOOTSTRAP = """#!/bin/sh
export PYTHONPATH=/var/task
exec /usr/bin/python3 -m awslambdaric "$_HANDLER"
"""

APP = '''
import os

INVOCATIONS = 0


class Boom(Exception):
    pass


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print("ric handler invocation", INVOCATIONS)
    if event.get("fail"):
        raise Boom("asked to fail: " + event["fail"])
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "invoked_arn": context.invoked_function_arn,
        "log_group": context.log_group_name,
        "invocations": INVOCATIONS,
        "pid": os.getpid(),
    }
'''


def sandbox_python_version():
    out = subprocess.run(
        [SANDBOX_PYTHON, "-c", 'import sys; print("%d.%d" % sys.version_info[:2])'],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def ric_package(tmp_path_factory):
    """The deployment zip: awslambdaric (+ deps) installed with --target, app, bootstrap."""
    ric_dir = os.environ.get("NIMBUS_RIC_DIR")
    if not ric_dir or not any(pathlib.Path(ric_dir).glob("awslambdaric-*.whl")):
        pytest.fail(
            f"no awslambdaric wheels in NIMBUS_RIC_DIR={ric_dir!r}: run scripts/setup-test-env.sh",
            pytrace=False,
        )
    version = sandbox_python_version()
    stamped = pathlib.Path(ric_dir, "python-version")
    if stamped.exists() and stamped.read_text().strip() != version:
        pytest.fail(
            f"the wheels in {ric_dir} are for Python {stamped.read_text().strip()}, but "
            f"{SANDBOX_PYTHON} is {version}: run scripts/setup-test-env.sh again",
            pytrace=False,
        )

    target = tmp_path_factory.mktemp("ric-package")
    tag = "cp" + version.replace(".", "")
    pip = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-index", "--find-links", ric_dir,
            "--target", str(target),
            "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
            "--python-version", version, "--implementation", "cp", "--abi", tag,
            "-r", str(RIC_REQUIREMENTS),
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert pip.returncode == 0, f"pip install --target failed:\n{pip.stdout}\n{pip.stderr}"
    assert (target / "awslambdaric" / "__main__.py").exists(), "awslambdaric was not installed"

    files = {"bootstrap": (BOOTSTRAP, 0o755), "ric_app.py": APP}
    for path in sorted(target.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(target).as_posix()
            files[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return make_zip(files)


@pytest.fixture(scope="module")
def ric_function(lam, ric_package):
    """One function shared by this module's tests (warm reuse is part of what they check)."""
    fns = Functions(lam)
    name, _ = fns.create(
        "ric", ric_package, runtime="provided.al2023", handler="ric_app.handler",
        Timeout=10, MemorySize=256,
    )
    yield name
    fns.cleanup()


def invoke(lam, name, event):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    return resp, json.loads(resp["Payload"].read())


def test_ric_success_and_context(lam, ric_function):
    resp, result = invoke(lam, ric_function, {"hello": "ric"})
    assert "FunctionError" not in resp, result
    assert result["event"] == {"hello": "ric"}
    assert result["function_name"] == ric_function
    assert result["function_version"] == "$LATEST"
    assert result["memory_limit_in_mb"] == "256"
    assert 0 < result["remaining_ms"] <= 10_000, f"remaining time within Timeout=10s: {result}"
    assert result["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert result["invoked_arn"].endswith(f":function:{ric_function}")
    assert result["log_group"] == f"/aws/lambda/{ric_function}"


def test_ric_warm_environment_is_reused(lam, ric_function):
    _, first = invoke(lam, ric_function, {})
    _, second = invoke(lam, ric_function, {})
    assert second["pid"] == first["pid"], "a warm invoke must reuse the runtime process"
    assert second["invocations"] == first["invocations"] + 1, (first, second)


def test_ric_error_uses_awslambdaric_format(lam, ric_function):
    resp, error = invoke(lam, ric_function, {"fail": "on purpose"})
    assert resp["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Boom", error
    assert error["errorMessage"] == "asked to fail: on purpose", error
    # awslambdaric adds the request id and formats stack frames as strings.
    assert error["requestId"] == resp["ResponseMetadata"]["RequestId"], error
    assert any("ric_app.py" in frame for frame in error["stackTrace"]), error
    # The runtime survives a handler error.
    resp, result = invoke(lam, ric_function, {"after": "error"})
    assert "FunctionError" not in resp, result


def test_ric_missing_handler_is_an_init_error(lam, functions, ric_package):
    name, _ = functions.create(
        "ric-nohandler", ric_package, runtime="provided.al2023", handler="ric_app.nope",
        Timeout=10,
    )
    resp, error = invoke(lam, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.HandlerNotFound", error
    assert "nope" in error["errorMessage"], error

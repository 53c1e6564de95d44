"""Reserved and provisioned concurrency through boto3: throttling with Lambda's 429s, the
unreserved minimum, pre-warmed environments, and settings that survive a restart."""

import json
import os
import subprocess
import tempfile
import threading
import time

import boto3
import pytest
from botocore.config import Config

from support import CREDENTIALS, REGION, ROLE, decode_tail, python_zip, unique_name

SLOW = """
import os
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""

# Lambda's default account limit, which the shared test server keeps.
ACCOUNT_LIMIT = 1000


def client(endpoint):
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120, max_pool_connections=50),
        **CREDENTIALS,
    )


def invoke_all_at_once(endpoint, name, n, sleep_s):
    """Starts n invocations together; returns each one's (status, throttle reason, retry-after)."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        lam = client(endpoint)
        barrier.wait()
        try:
            resp = lam.invoke(FunctionName=name, Payload=json.dumps({"sleep": sleep_s}))
            resp["Payload"].read()
            results[i] = (resp["StatusCode"], None, None)
        except lam.exceptions.TooManyRequestsException as e:
            headers = e.response["ResponseMetadata"]["HTTPHeaders"]
            results[i] = (429, e.response.get("Reason"), headers.get("retry-after"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_reserved_concurrency_admits_exactly_r_and_others_keep_working(lam, endpoint, functions):
    name, _ = functions.create("reserved", python_zip(SLOW))
    other, _ = functions.create("bystander", python_zip(SLOW))
    reserved = 3
    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    assert put["ReservedConcurrentExecutions"] == reserved
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == reserved
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": reserved}
    limits = lam.get_account_settings()["AccountLimit"]
    assert limits["ConcurrentExecutions"] == ACCOUNT_LIMIT
    assert limits["UnreservedConcurrentExecutions"] == ACCOUNT_LIMIT - reserved

    outcome = {}

    def burst():
        outcome["results"] = invoke_all_at_once(endpoint, name, 2 * reserved, sleep_s=3)

    t = threading.Thread(target=burst)
    t.start()
    # While the reserved function is saturated, another function still runs.
    time.sleep(1.0)
    resp = lam.invoke(FunctionName=other, Payload=b"{}")
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    t.join()

    results = outcome["results"]
    ok = [r for r in results if r[0] == 200]
    throttled = [r for r in results if r[0] == 429]
    assert len(ok) == reserved, results
    assert len(throttled) == reserved, results
    for _, reason, retry_after in throttled:
        assert reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert retry_after is not None and int(retry_after) >= 1

    # Back to the pool: no reservation, no Concurrency member.
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == ACCOUNT_LIMIT


def test_zero_reserved_concurrency_disables_the_function(lam, functions):
    name, _ = functions.create("disabled", python_zip(SLOW))
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_reservations_must_leave_100_unreserved(lam, functions):
    first, _ = functions.create("big", python_zip(SLOW))
    second, _ = functions.create("bigger", python_zip(SLOW))
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=ACCOUNT_LIMIT - 99)
    assert e.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    # The refused call changed nothing.
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=first)
    lam.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=ACCOUNT_LIMIT - 150)
    try:
        # Across functions too: 850 + 51 would leave 99.
        with pytest.raises(lam.exceptions.InvalidParameterValueException):
            lam.put_function_concurrency(FunctionName=second, ReservedConcurrentExecutions=51)
        lam.put_function_concurrency(FunctionName=second, ReservedConcurrentExecutions=50)
        assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    finally:
        lam.delete_function_concurrency(FunctionName=first)
        lam.delete_function_concurrency(FunctionName=second)


def wait_for_status(lam, name, qualifier, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while True:
        config = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return config
        time.sleep(0.1)


def test_provisioned_concurrency_is_ready_and_warm(lam, functions, endpoint):
    name, _ = functions.create("prov", python_zip(SLOW))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")

    config = wait_for_status(lam, name, "live")
    assert config["Status"] == "READY", config
    assert config["AllocatedProvisionedConcurrentExecutions"] == 2
    assert config["AvailableProvisionedConcurrentExecutions"] == 2
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["live"]

    # The first invocations land on the pre-initialised environments: no Init Duration.
    for _ in range(2):
        resp = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}", LogType="Tail")
        assert json.loads(resp["Payload"].read())["init_type"] == "provisioned-concurrency"
        assert "Init Duration" not in decode_tail(resp["LogResult"])

    # Beyond the provisioned environments, invocations spill over to on-demand ones.
    results = invoke_all_at_once(endpoint, f"{name}:live", 3, sleep_s=1)
    assert [r[0] for r in results] == [200, 200, 200], results

    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_provisioned_concurrency_over_the_reservation_is_refused(lam, functions):
    name, _ = functions.create("provcap", python_zip(SLOW), Publish=True)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2
        )
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")


class OwnServer:
    """A `nimbus serve` of this test's own, on a data directory that outlives it."""

    def __init__(self, data_dir):
        binary = os.environ.get("NIMBUS_BIN")
        if not binary:
            pytest.fail("NIMBUS_BIN is not set (the Rust launcher e2e_clients sets it)", pytrace=False)
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--shell-pool", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(os.path.dirname(data_dir), "server.log"), "ab"),
            env={**os.environ, "NIMBUS_EXIT_WITH_STDIN": "1"},
        )
        line = self.proc.stdout.readline().decode()
        self.endpoint = next((w for w in line.split() if w.startswith("http://")), None)
        assert self.endpoint, f"unexpected ready line {line!r}"

    def kill(self):
        """SIGKILL: what was acknowledged must survive even this."""
        self.proc.kill()
        self.proc.wait(timeout=30)


def test_concurrency_settings_survive_a_restart():
    with tempfile.TemporaryDirectory(prefix="nimbus-test-py-") as tmp:
        data_dir = os.path.join(tmp, "data")
        server = OwnServer(data_dir)
        try:
            lam = client(server.endpoint)
            name = unique_name("durable")
            lam.create_function(
                FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": python_zip(SLOW)}, Publish=True,
            )
            lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
            lam.put_provisioned_concurrency_config(
                FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1
            )
        finally:
            server.kill()
        server = OwnServer(data_dir)
        try:
            lam = client(server.endpoint)
            assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 7
            assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == ACCOUNT_LIMIT - 7
            assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
            config = wait_for_status(lam, name, "live")
            assert config["Status"] == "READY", config
            assert config["RequestedProvisionedConcurrentExecutions"] == 1
            resp = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}", LogType="Tail")
            assert "Init Duration" not in decode_tail(resp["LogResult"])
            # The reservation is enforced after the restart too (0 needs the provisioned
            # environments gone first: they count against it).
            lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
            with pytest.raises(lam.exceptions.TooManyRequestsException):
                lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        finally:
            server.kill()

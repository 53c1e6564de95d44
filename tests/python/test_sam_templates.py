"""SAM templates end to end: every template the tests deploy passes the real ``cfn-lint``,
deploys with ``nimbus deploy``, serves its HTTP routes on the gateway, redeploys as a no-op,
and is removed by ``nimbus stack delete``. The example app is also driven with boto3 (a
message sent to its queue is consumed by its SQS-triggered function).

The templates are ours, written in the shapes of well-known public SAM examples (the
``sam init`` hello world, API Gateway -> SQS -> Lambda, scheduled functions, safe deploys).
"""

import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from support import unique_name

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sam-app" / "template.yaml"
TEMPLATES = sorted((REPO / "tests" / "templates").glob("*/template.yaml")) + [EXAMPLE]
# How long a queued message may take to be consumed by its mapping.
CONSUME_WITHIN_S = 60


def nimbus_bin():
    path = os.environ.get("NIMBUS_BIN")
    if not path:
        pytest.fail("NIMBUS_BIN is not set (run through cargo test -p nimbus --test e2e_clients)")
    return path


def nimbus(endpoint, *args, check=True):
    proc = subprocess.run(
        [nimbus_bin(), *args],
        env={**os.environ, "NIMBUS_ENDPOINT": endpoint},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, (
            f"nimbus {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def deploy(endpoint, template, stack):
    proc = nimbus(endpoint, "deploy", str(template), "--stack", stack, "--output", "json")
    return json.loads(proc.stdout)


def gateway_url(endpoint):
    with urllib.request.urlopen(f"{endpoint}/nimbus/v1/info", timeout=10) as r:
        return json.load(r)["GatewayUrl"]


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def concrete(path):
    """A request path for a route template: parameters and greedy proxies filled in."""
    parts = []
    for seg in path.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("+}"):
            parts.append("any/thing")
        elif seg.startswith("{"):
            parts.append("x")
        else:
            parts.append(seg)
    return "/" + "/".join(p for p in parts if p)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_cfn_lint_accepts_the_template(template):
    cfn_lint = pathlib.Path(sys.executable).parent / "cfn-lint"
    assert cfn_lint.exists(), f"cfn-lint is not installed in the venv ({cfn_lint})"
    proc = subprocess.run([str(cfn_lint), str(template)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"cfn-lint {template}:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.parent.name)
def test_template_deploys_serves_redeploys_as_a_no_op_and_deletes(endpoint, lam, template):
    stack = unique_name("t")
    result = deploy(endpoint, template, stack)["Result"]
    created = [c for c in result["Changes"] if c["Action"] == "Create"]
    functions = [c["PhysicalId"] for c in created if c["ResourceType"] == "AWS::Serverless::Function"]
    assert functions, result
    try:
        for name in functions:
            conf = lam.get_function(FunctionName=name)["Configuration"]
            assert conf["State"] == "Active"
        # Every route without a method restriction other than GET/ANY answers through the gateway.
        gw = gateway_url(endpoint)
        spec = json.loads(nimbus(endpoint, "stack", "list", "--output", "json").stdout)
        mine = next(s for s in spec["Stacks"] if s["Name"] == stack)
        served = 0
        for f in mine["Spec"]["Functions"]:
            for e in f.get("Events", []):
                src = e["Source"]
                if src["Type"] not in ("Api", "HttpApi"):
                    continue
                method = src.get("Method") or "ANY"
                path = src.get("Path") or "/"
                if method not in ("GET", "ANY"):
                    continue
                status, body = http("GET", gw + concrete(path))
                assert status == 200, f"GET {path}: {status} {body[:300]!r}"
                served += 1
        # A second deploy of the same files changes nothing.
        again = deploy(endpoint, template, stack)["Result"]
        changed = [c for c in again["Changes"] if c["Action"] != "NoChange"]
        assert changed == [], changed
    finally:
        nimbus(endpoint, "stack", "delete", stack)
    for name in functions:
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=name)


def test_example_app_routes_and_queue_work_with_boto3(endpoint, lam, sqs, tmp_path):
    stack = unique_name("ex")
    result = deploy(endpoint, EXAMPLE, stack)["Result"]
    try:
        outputs = {o["Key"]: o["Value"] for o in result["Outputs"]}
        queue_url = next(v for v in outputs.values() if v.startswith(endpoint) and "Order" in v)
        gw = gateway_url(endpoint)
        status, body = http("GET", f"{gw}/hello/ada")
        assert status == 200, body
        assert b"ada" in body
        # A message sent with boto3 is consumed by the SQS-triggered function.
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"orderId": "o-1", "qty": 2}))
        deadline = time.time() + CONSUME_WITHIN_S
        while time.time() < deadline:
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the order was not consumed: {attrs}")
    finally:
        nimbus(endpoint, "stack", "delete", stack)

"""``GET /metrics`` read by Prometheus's own parser (``prometheus_client.parser``): the text
parses, every family has the right type, the per-version counters and the Duration
histogram match the invocations boto3 just made, and queue depth and age are reported.

The functions and queues here have unique names, so their series are exact even on the
server the whole suite shares."""

import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from support import python_zip

HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""


def scrape(endpoint):
    """{family name: family} of the current exposition (checks the content type too)."""
    with urllib.request.urlopen(endpoint + "/metrics", timeout=30) as resp:
        assert resp.status == 200
        content_type = resp.headers["Content-Type"]
        assert content_type.startswith("text/plain; version=0.0.4"), content_type
        text = resp.read().decode("utf-8")
    families = {}
    for family in text_string_to_metric_families(text):
        assert family.name not in families, f"family {family.name} appears twice"
        families[family.name] = family
    return families


def value(families, family, sample_name, **labels):
    """The one sample of ``family`` named ``sample_name`` whose labels include ``labels``."""
    found = [
        s.value
        for s in families[family].samples
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, f"{sample_name}{labels}: {found}"
    return found[0]


def invoke(lam, name, payload, qualifier=None):
    extra = {"Qualifier": qualifier} if qualifier else {}
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload), **extra)
    resp["Payload"].read()
    return resp


def test_metrics_parse_and_match_the_invocations_made(endpoint, lam, functions):
    name, _ = functions.create("metrics", python_zip(HANDLER))
    for i in range(5):
        resp = invoke(lam, name, {"fail": i >= 3})
        assert ("FunctionError" in resp) == (i >= 3)
    version = lam.publish_version(FunctionName=name)["Version"]
    invoke(lam, name, {}, qualifier=version)

    off, _ = functions.create("metrics-off", python_zip(HANDLER))
    lam.put_function_concurrency(FunctionName=off, ReservedConcurrentExecutions=0)
    try:
        invoke(lam, off, {})
        raise AssertionError("an invocation with reserved concurrency 0 ran")
    except lam.exceptions.TooManyRequestsException:
        pass

    f = scrape(endpoint)
    types = {
        "lambda_invocations": "counter",
        "lambda_errors": "counter",
        "lambda_throttles": "counter",
        "lambda_duration_milliseconds": "histogram",
        "lambda_provisioned_concurrency_invocations": "counter",
        "lambda_provisioned_concurrency_spillover_invocations": "counter",
        "lambda_concurrent_executions": "gauge",
        "lambda_account_concurrent_executions": "gauge",
        "lambda_unreserved_concurrent_executions": "gauge",
        "lambda_provisioned_concurrent_executions": "gauge",
        "lambda_provisioned_concurrency_utilization": "gauge",
        "lambda_async_events_received": "counter",
        "lambda_async_events_dropped": "counter",
        "lambda_async_event_age_milliseconds": "gauge",
        "lambda_dead_letter_errors": "counter",
        "lambda_destination_delivery_failures": "counter",
        "lambda_iterator_age_milliseconds": "gauge",
        "sqs_approximate_number_of_messages_visible": "gauge",
        "sqs_approximate_age_of_oldest_message_seconds": "gauge",
        "nimbus_cold_starts": "counter",
        "nimbus_metrics_folded_samples": "counter",
    }
    for family, kind in types.items():
        assert family in f, f"no family {family}"
        assert f[family].type == kind, f"{family} is a {f[family].type}"

    latest = {"function": name, "version": "$LATEST"}
    published = {"function": name, "version": version}
    assert value(f, "lambda_invocations", "lambda_invocations_total", **latest) == 5
    assert value(f, "lambda_errors", "lambda_errors_total", **latest) == 2
    assert value(f, "lambda_throttles", "lambda_throttles_total", **latest) == 0
    assert value(f, "nimbus_cold_starts", "nimbus_cold_starts_total", **latest) == 1
    assert value(f, "lambda_invocations", "lambda_invocations_total", **published) == 1
    assert value(f, "nimbus_cold_starts", "nimbus_cold_starts_total", **published) == 1
    assert value(
        f, "lambda_throttles", "lambda_throttles_total", function=off, version="$LATEST"
    ) == 1
    assert value(
        f, "lambda_invocations", "lambda_invocations_total", function=off, version="$LATEST"
    ) == 0

    # The histogram: cumulative buckets ending at +Inf, equal to _count.
    duration = "lambda_duration_milliseconds"
    buckets = [
        (s.labels["le"], s.value)
        for s in f[duration].samples
        if s.name == duration + "_bucket" and s.labels["function"] == name
        and s.labels["version"] == "$LATEST"
    ]
    assert buckets[-1] == ("+Inf", 5), buckets
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), buckets
    bounds = [float(le) for le, _ in buckets[:-1]]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), buckets
    assert value(f, duration, duration + "_count", **latest) == 5
    assert value(f, duration, duration + "_sum", **latest) > 0

    assert value(f, "nimbus_reserved_concurrency", "nimbus_reserved_concurrency", function=off) == 0
    assert value(f, "lambda_account_concurrent_executions",
                 "lambda_account_concurrent_executions") >= 0

    # The summary `nimbus metrics` prints, over the same invocations.
    url = f"{endpoint}/nimbus/v1/metrics/summary?function={name}&since=15m"
    with urllib.request.urlopen(url, timeout=30) as resp:
        summary = json.loads(resp.read())
    [fn] = summary["Functions"]
    assert fn["FunctionName"] == name
    assert (fn["Invocations"], fn["Errors"], fn["ColdStarts"]) == (6, 2, 2)
    assert abs(fn["ErrorPercent"] - 100 * 2 / 6) < 1e-9
    assert fn["DurationP50Ms"] > 0 and fn["DurationP99Ms"] >= fn["DurationP50Ms"]
    assert [v["Version"] for v in fn["Versions"]] == ["$LATEST", version]


def test_metrics_report_queue_depth_and_mapped_queue_age(
    endpoint, lam, sqs, functions, queues, mappings
):
    name, _ = functions.create("metrics-sink", python_zip(HANDLER))
    queue, url = queues.create("metrics")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    # Disabled: the messages stay put while the mapping's queue age is reported.
    mappings.create(FunctionName=name, EventSourceArn=queues.arn(url), Enabled=False)

    f = scrape(endpoint)
    visible = "sqs_approximate_number_of_messages_visible"
    assert value(f, visible, visible, queue=queue) == 3
    not_visible = "sqs_approximate_number_of_messages_not_visible"
    assert value(f, not_visible, not_visible, queue=queue) == 0
    oldest = "sqs_approximate_age_of_oldest_message_seconds"
    assert value(f, oldest, oldest, queue=queue) >= 0
    age = "lambda_iterator_age_milliseconds"
    assert value(f, age, age, function=name, queue=queue) >= 0

"""The SQS-compatible queue service through boto3 (AWS JSON 1.0 on the Lambda listener): queue
lifecycle, messages and their digests, visibility, long polling, redrive, FIFO, bad inputs,
and SQS event source mappings through boto3's Lambda client.

Every queue is made through the ``queues`` fixture (unique names, deleted afterwards), so the
tests share the server with the rest of the suite. Visibility timeouts and delays are one to
three seconds: the whole module runs in well under a minute."""

import json
import re
import threading
import time

import pytest

from support import md5_hex, md5_of_message_attributes, python_zip, sqs_raw, unique_name

ACCOUNT_RE = r"\d{12}"


def error(excinfo):
    """(Error.Code, HTTP status) of a botocore ClientError."""
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def receive(sqs, url, **kwargs):
    """ReceiveMessage; the list of messages (empty when none)."""
    return sqs.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


def settable(sqs, url):
    """The queue's attributes minus the computed ones (what a refused change must not touch)."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    for computed in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                     "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp"):
        attrs.pop(computed, None)
    return attrs


def queue_exists(sqs, name):
    try:
        sqs.get_queue_url(QueueName=name)
        return True
    except sqs.exceptions.QueueDoesNotExist:
        return False


def wait_for(predicate, timeout_s, what, interval_s=0.1):
    """Polls ``predicate`` until it returns a truthy value; fails with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


# ------------------------------------------------------------------------------------------
# Queue lifecycle
# ------------------------------------------------------------------------------------------


def test_create_queue_is_idempotent_and_conflicts_on_different_attributes(sqs, queues):
    name, url = queues.create("life", {"VisibilityTimeout": "5", "DelaySeconds": "0"})
    assert re.fullmatch(rf"http://[^/]+/{ACCOUNT_RE}/{name}", url), url

    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "0"})
    assert again["QueueUrl"] == url, "same name and attributes must return the same queue"
    # A subset of the attributes with the existing values is the same queue too.
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})["QueueUrl"] == url

    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "6"})
    assert error(e) == ("QueueAlreadyExists", 400)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"] == {"VisibilityTimeout": "5"}, "the refused create changed the queue"

    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    owned = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=url.split("/")[-2])
    assert owned["QueueUrl"] == url


def test_list_queues_by_prefix_with_paging(sqs, queues):
    prefix = unique_name("lq")
    urls = sorted(queues.track(sqs.create_queue(QueueName=f"{prefix}-{s}")["QueueUrl"])
                  for s in ("a", "b", "c"))
    # Another queue whose name merely contains the prefix is not listed.
    queues.create(f"x{prefix}")

    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert sorted(listed["QueueUrls"]) == urls
    assert "NextToken" not in listed

    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(first["QueueUrls"]) == 2
    assert first.get("NextToken"), "a full page with more to come must carry a NextToken"
    second = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert len(second["QueueUrls"]) == 1
    assert "NextToken" not in second, "the last page has no NextToken"
    assert sorted(first["QueueUrls"] + second["QueueUrls"]) == urls

    assert sqs.list_queues(QueueNamePrefix=unique_name("none")).get("QueueUrls", []) == []


def test_queue_attributes_get_set_and_computed_counts(sqs, queues):
    name, url = queues.create("attrs")
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert re.fullmatch(rf"arn:aws:sqs:us-east-1:{ACCOUNT_RE}:{name}", everything["QueueArn"])
    expected_defaults = {
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "0",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
    }
    for key, value in expected_defaults.items():
        assert everything.get(key) == value, (key, everything)
    created = int(everything["CreatedTimestamp"])
    assert abs(created - time.time()) < 120, "CreatedTimestamp is epoch seconds"
    assert int(everything["LastModifiedTimestamp"]) >= created
    assert "FifoQueue" not in everything and "RedrivePolicy" not in everything

    some = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "QueueArn"])
    assert some["Attributes"] == {"VisibilityTimeout": "30", "QueueArn": everything["QueueArn"]}

    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"VisibilityTimeout": "10", "MessageRetentionPeriod": "120",
                    "ReceiveMessageWaitTimeSeconds": "0"},
    )
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (after["VisibilityTimeout"], after["MessageRetentionPeriod"]) == ("10", "120")

    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert queues.counts(url) == (2, 0, 1)
    got = receive(sqs, url)
    assert len(got) == 1 and got[0]["Body"] in ("one", "two")
    assert queues.counts(url) == (1, 1, 1)

    sqs.purge_queue(QueueUrl=url)
    assert queues.counts(url) == (0, 0, 0), "PurgeQueue removes visible, in-flight and delayed"
    assert receive(sqs, url) == []


def test_second_purge_within_60_seconds_is_refused(sqs, queues):
    _, url = queues.create("purge2")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    # SQS: "Only one PurgeQueue operation on a queue is allowed every 60 seconds."
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as e:
        sqs.purge_queue(QueueUrl=url)
    assert error(e) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403)


def test_tag_untag_and_list_queue_tags(sqs, queues):
    _, url = queues.create("tags", tags={"team": "a"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={"team": "b", "env": "test"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_deleted_queue_does_not_exist(sqs, queues, endpoint):
    name, url = queues.create("gone")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)

    # botocore maps SQS's query-compatible code to the modelled exception.
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name)
    assert error(e) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    for call in (
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
    ):
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
            call()
        assert error(e) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    assert sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []

    # On the wire: the JSON __type plus the query-compatible header botocore reads.
    status, headers, body = sqs_raw(endpoint, "GetQueueUrl", {"QueueName": name})
    assert status == 400
    assert headers.get("content-type", "").startswith("application/x-amz-json-1.0")
    assert headers.get("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert body["__type"].endswith("#QueueDoesNotExist"), body
    assert body.get("message") or body.get("Message"), body


# ------------------------------------------------------------------------------------------
# Messages
# ------------------------------------------------------------------------------------------

ATTRS = {
    "color.a": {"DataType": "String", "StringValue": "red"},
    "color.b": {"DataType": "Number", "StringValue": "3.14"},
    "colorful": {"DataType": "String.custom", "StringValue": "yes"},
    "size": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
}


def test_send_receive_delete_with_digests(sqs, queues):
    _, url = queues.create("msg")
    body = "h\u00e9llo w\u00f6rld \U0001f680\n\ttab\r"
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=ATTRS)
    assert re.fullmatch(r"[0-9a-f-]{36}", sent["MessageId"]), sent["MessageId"]
    # botocore does not verify these digests, so the test computes them itself.
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert sent["MD5OfMessageAttributes"] == md5_of_message_attributes(ATTRS)

    msgs = receive(sqs, url, MessageAttributeNames=["All"], AttributeNames=["All"])
    assert len(msgs) == 1
    m = msgs[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == body
    assert m["MD5OfBody"] == md5_hex(body)
    assert m["MessageAttributes"] == ATTRS
    assert m["MD5OfMessageAttributes"] == md5_of_message_attributes(ATTRS)
    assert m["ReceiptHandle"]

    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert queues.counts(url) == (0, 0, 0)
    assert receive(sqs, url) == []
    # Deleting again with the same handle is not an error.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_message_attribute_name_filters(sqs, queues):
    _, url = queues.create("filters")
    sqs.send_message(QueueUrl=url, MessageBody="filtered", MessageAttributes=ATTRS)
    cases = [
        (None, set()),
        (["All"], set(ATTRS)),
        ([".*"], set(ATTRS)),
        (["color.*"], {"color.a", "color.b"}),
        (["size"], {"size"}),
        (["size", "color.a"], {"size", "color.a"}),
        (["nope"], set()),
    ]
    for names, expected in cases:
        kwargs = {"MessageAttributeNames": names} if names is not None else {}
        msgs = receive(sqs, url, VisibilityTimeout=0, **kwargs)
        assert len(msgs) == 1, names
        got = msgs[0].get("MessageAttributes", {})
        assert set(got) == expected, (names, got)
        if expected:
            subset = {k: ATTRS[k] for k in expected}
            assert got == subset
            assert msgs[0]["MD5OfMessageAttributes"] == md5_of_message_attributes(subset), (
                f"MD5OfMessageAttributes must cover the attributes returned for {names}"
            )


def test_system_attributes_on_receive(sqs, queues):
    _, url = queues.create("sysattrs")
    before_ms = time.time() * 1000
    sqs.send_message(QueueUrl=url, MessageBody="x")

    first = receive(sqs, url, AttributeNames=["All"], VisibilityTimeout=0)[0]["Attributes"]
    assert first["ApproximateReceiveCount"] == "1"
    sent_ms = int(first["SentTimestamp"])
    first_receive_ms = int(first["ApproximateFirstReceiveTimestamp"])
    assert before_ms - 5_000 <= sent_ms <= time.time() * 1000 + 5_000, "SentTimestamp is epoch ms"
    assert sent_ms <= first_receive_ms <= time.time() * 1000 + 5_000
    assert first["SenderId"]

    time.sleep(0.05)
    second = receive(
        sqs, url, VisibilityTimeout=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"],
    )[0]["Attributes"]
    assert second == {
        "ApproximateReceiveCount": "2",
        "ApproximateFirstReceiveTimestamp": str(first_receive_ms),
    }, "only the names asked for; the first receive time does not move"

    third = receive(sqs, url, VisibilityTimeout=0, AttributeNames=["SentTimestamp"])[0]
    assert third["Attributes"] == {"SentTimestamp": str(sent_ms)}
    fourth = receive(sqs, url, VisibilityTimeout=0)[0]
    assert fourth.get("Attributes", {}) == {}
    counted = receive(sqs, url, AttributeNames=["ApproximateReceiveCount"])[0]
    assert counted["Attributes"]["ApproximateReceiveCount"] == "5"


def test_delay_seconds_queue_default_and_per_message(sqs, queues):
    _, delayed_url = queues.create("delay-q", {"DelaySeconds": "2"})
    _, plain_url = queues.create("delay-m")
    t0 = time.monotonic()
    sqs.send_message(QueueUrl=delayed_url, MessageBody="inherits the queue delay")
    sqs.send_message(QueueUrl=delayed_url, MessageBody="not delayed", DelaySeconds=0)
    sqs.send_message(QueueUrl=plain_url, MessageBody="delayed 1 s", DelaySeconds=1)

    assert queues.counts(delayed_url) == (1, 0, 1)
    assert queues.counts(plain_url) == (0, 0, 1)
    now = receive(sqs, delayed_url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in now] == ["not delayed"], "a per-message 0 overrides the queue's delay"
    sqs.delete_message(QueueUrl=delayed_url, ReceiptHandle=now[0]["ReceiptHandle"])
    assert receive(sqs, plain_url) == []

    got = receive(sqs, plain_url, WaitTimeSeconds=4)
    assert [m["Body"] for m in got] == ["delayed 1 s"]
    assert time.monotonic() - t0 >= 0.9, "the per-message delay was not honoured"
    got = receive(sqs, delayed_url, WaitTimeSeconds=4)
    assert [m["Body"] for m in got] == ["inherits the queue delay"]
    assert time.monotonic() - t0 >= 1.9, "the queue's DelaySeconds was not honoured"
    assert queues.counts(delayed_url) == (0, 1, 0)


def test_send_message_batch_with_a_failed_entry(sqs, queues):
    _, url = queues.create("sendbatch")
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok1", "MessageBody": "first"},
        {"Id": "bad", "MessageBody": "nul \x00 inside"},
        {"Id": "ok2", "MessageBody": "second", "MessageAttributes": attrs},
        {"Id": "ok3", "MessageBody": "third", "DelaySeconds": 0},
    ])
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {"ok1", "ok2", "ok3"}
    assert ok["ok1"]["MD5OfMessageBody"] == md5_hex("first")
    assert ok["ok2"]["MD5OfMessageAttributes"] == md5_of_message_attributes(attrs)
    assert len({e["MessageId"] for e in ok.values()}) == 3
    assert len(resp["Failed"]) == 1
    failed = resp["Failed"][0]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == ("bad", "InvalidMessageContents", True)
    assert failed.get("Message")

    assert queues.counts(url) == (3, 0, 0)
    got = receive(sqs, url, MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in got) == ["first", "second", "third"]


def test_delete_and_change_visibility_batches_with_a_failed_entry(sqs, queues):
    _, url = queues.create("batches")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    msgs = []
    while len(msgs) < 3:
        got = receive(sqs, url, MaxNumberOfMessages=10)
        assert got, "the three messages must be receivable"
        msgs += got
    assert queues.counts(url) == (0, 3, 0)
    keep, *rest = msgs

    resp = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "keep", "ReceiptHandle": keep["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "junk", "ReceiptHandle": "not-a-receipt-handle", "VisibilityTimeout": 0},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["keep"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in resp["Failed"]] == [
        ("junk", "ReceiptHandleIsInvalid", True)
    ]
    assert queues.counts(url) == (1, 2, 0)

    resp = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": rest[0]["ReceiptHandle"]},
        {"Id": "junk", "ReceiptHandle": "not-a-receipt-handle"},
        {"Id": "b", "ReceiptHandle": rest[1]["ReceiptHandle"]},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["a", "b"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in resp["Failed"]] == [
        ("junk", "ReceiptHandleIsInvalid", True)
    ]
    assert queues.counts(url) == (1, 0, 0)
    assert [m["Body"] for m in receive(sqs, url)] == [keep["Body"]]


# ------------------------------------------------------------------------------------------
# Visibility
# ------------------------------------------------------------------------------------------


def test_received_message_is_hidden_until_its_visibility_timeout(sqs, queues):
    _, url = queues.create("vis", {"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=url, MessageBody="x")
    first = receive(sqs, url)
    t0 = time.monotonic()
    assert len(first) == 1
    assert receive(sqs, url) == [], "a received message must be hidden"
    assert queues.counts(url) == (0, 1, 0)

    again = receive(sqs, url, WaitTimeSeconds=4, AttributeNames=["ApproximateReceiveCount"])
    elapsed = time.monotonic() - t0
    assert [m["MessageId"] for m in again] == [first[0]["MessageId"]]
    assert 0.8 <= elapsed < 3.9, f"reappeared after {elapsed:.2f} s, expected ~1 s"
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again[0]["ReceiptHandle"] != first[0]["ReceiptHandle"]


def test_change_message_visibility_to_zero_and_extending_it(sqs, queues):
    _, url = queues.create("chvis")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    m = receive(sqs, url)[0]
    assert receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m = receive(sqs, url, VisibilityTimeout=1)
    assert len(m) == 1, "visibility 0 must make the message receivable at once"

    # Extend a 1-second lease to 3 seconds: still hidden after 1.5 s.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m[0]["ReceiptHandle"], VisibilityTimeout=3)
    time.sleep(1.5)
    assert receive(sqs, url) == [], "the extended lease must keep the message hidden"
    assert queues.counts(url) == (0, 1, 0)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert len(receive(sqs, url)) == 1


def test_stale_receipt_handle_does_not_delete(sqs, queues):
    _, url = queues.create("stale")
    sqs.send_message(QueueUrl=url, MessageBody="keep me")
    old = receive(sqs, url, VisibilityTimeout=0)[0]
    new = receive(sqs, url, VisibilityTimeout=30)[0]
    assert new["MessageId"] == old["MessageId"]
    assert new["ReceiptHandle"] != old["ReceiptHandle"]

    # SQS: without the most recent receipt handle "the request succeeds, but the message
    # will not be deleted".
    resp = sqs.delete_message(QueueUrl=url, ReceiptHandle=old["ReceiptHandle"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert queues.counts(url) == (0, 1, 0), "a stale handle must not delete the message"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=new["ReceiptHandle"], VisibilityTimeout=0)
    latest = receive(sqs, url)
    assert [m["Body"] for m in latest] == ["keep me"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=latest[0]["ReceiptHandle"])
    assert queues.counts(url) == (0, 0, 0)


def test_garbage_receipt_handles_are_invalid(sqs, queues):
    _, url = queues.create("rh")
    _, other_url = queues.create("rh-other")
    sqs.send_message(QueueUrl=other_url, MessageBody="elsewhere")
    foreign = receive(sqs, other_url)[0]["ReceiptHandle"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    receive(sqs, url, VisibilityTimeout=30)

    for handle in ("garbage", "AQEB" + "x" * 40, foreign):
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as e:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        assert error(e)[0] == "ReceiptHandleIsInvalid", handle
        with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as e:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        assert error(e)[0] == "ReceiptHandleIsInvalid", handle
    assert queues.counts(url) == (0, 1, 0)
    assert queues.counts(other_url) == (0, 1, 0), "a handle used on the wrong queue touched its own"


# ------------------------------------------------------------------------------------------
# Long polling
# ------------------------------------------------------------------------------------------


def test_long_poll_on_an_empty_queue_waits_the_full_time(sqs, queues):
    _, url = queues.create("lp-empty")
    t0 = time.monotonic()
    resp = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    elapsed = time.monotonic() - t0
    assert resp.get("Messages", []) == []
    assert 1.8 <= elapsed <= 5.0, f"WaitTimeSeconds=2 returned after {elapsed:.2f} s"

    # The queue's ReceiveMessageWaitTimeSeconds is the default wait.
    _, slow_url = queues.create("lp-default", {"ReceiveMessageWaitTimeSeconds": "1"})
    t0 = time.monotonic()
    assert receive(sqs, slow_url) == []
    elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed <= 4.0, f"the queue's 1 s default wait took {elapsed:.2f} s"
    # An explicit 0 is a short poll even then.
    t0 = time.monotonic()
    assert receive(sqs, slow_url, WaitTimeSeconds=0) == []
    assert time.monotonic() - t0 < 0.95


def test_long_poll_returns_a_message_sent_meanwhile(sqs, queues):
    _, url = queues.create("lp-wake")

    def send_later():
        time.sleep(0.5)
        sqs.send_message(QueueUrl=url, MessageBody="wake up")

    sender = threading.Thread(target=send_later)
    t0 = time.monotonic()
    sender.start()
    try:
        got = receive(sqs, url, WaitTimeSeconds=5)
    finally:
        sender.join()
    elapsed = time.monotonic() - t0
    assert [m["Body"] for m in got] == ["wake up"]
    assert elapsed < 4.0, f"the long poll returned {elapsed:.2f} s after it began (send at 0.5 s)"


# ------------------------------------------------------------------------------------------
# Redrive
# ------------------------------------------------------------------------------------------


def test_redrive_moves_a_message_to_the_dead_letter_queue(sqs, queues):
    _, dlq_url = queues.create("dlq")
    dlq_arn = queues.arn(dlq_url)
    _, src_url = queues.create("src", {
        "VisibilityTimeout": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    })
    src_arn = queues.arn(src_url)
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=src_url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    assert policy["deadLetterTargetArn"] == dlq_arn
    assert int(policy["maxReceiveCount"]) == 2

    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    sent = sqs.send_message(QueueUrl=src_url, MessageBody="poison", MessageAttributes=attrs)
    one = receive(sqs, src_url, AttributeNames=["ApproximateReceiveCount"])
    assert one[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    two = receive(sqs, src_url, WaitTimeSeconds=4, AttributeNames=["ApproximateReceiveCount"])
    assert two and two[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    time.sleep(1.2)
    # The third receive finds it over maxReceiveCount and moves it instead of returning it.
    assert receive(sqs, src_url, MaxNumberOfMessages=10) == []
    assert queues.counts(src_url) == (0, 0, 0)

    moved = receive(sqs, dlq_url, WaitTimeSeconds=2, AttributeNames=["All"],
                    MessageAttributeNames=["All"])
    assert len(moved) == 1
    m = moved[0]
    assert (m["MessageId"], m["Body"]) == (sent["MessageId"], "poison")
    assert m["MD5OfBody"] == md5_hex("poison")
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == src_arn
    assert m["MessageAttributes"] == attrs

    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)
    assert sources["queueUrls"] == [src_url]
    assert sqs.list_dead_letter_source_queues(QueueUrl=src_url).get("queueUrls", []) == []


def test_redrive_policy_to_a_missing_queue_is_refused(sqs, queues):
    _, url = queues.create("redrive-bad")
    before = settable(sqs, url)
    missing_arn = re.sub(r":[^:]+$", ":" + unique_name("no-such-dlq"), queues.arn(url))
    name = unique_name("redrive-new")
    for raw in (
        json.dumps({"deadLetterTargetArn": missing_arn, "maxReceiveCount": 2}),
        json.dumps({"deadLetterTargetArn": queues.arn(url), "maxReceiveCount": 0}),
        json.dumps({"maxReceiveCount": 2}),
        "not json",
    ):
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": raw})
        assert error(e) == ("InvalidParameterValue", 400), raw
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": raw})
        assert error(e) == ("InvalidParameterValue", 400), raw
    assert settable(sqs, url) == before
    assert not queue_exists(sqs, name)


# ------------------------------------------------------------------------------------------
# FIFO
# ------------------------------------------------------------------------------------------


def test_fifo_queue_naming_rules(sqs, queues):
    stem = unique_name("fifo-names")
    bad = [
        (f"{stem}.fifo", {}),                            # .fifo suffix on a standard queue
        (stem, {"FifoQueue": "true"}),                   # FIFO without the suffix
        (f"{stem}.x.fifo", {"FifoQueue": "true"}),       # a dot in the stem
        (f"{stem}{'a' * (76 - len(stem))}.fifo", {"FifoQueue": "true"}),  # 81 with the suffix
    ]
    for name, attrs in bad:
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.create_queue(QueueName=name, Attributes=attrs)
        assert error(e) == ("InvalidParameterValue", 400), (name, attrs)
        assert not queue_exists(sqs, name), name

    name, url = queues.create("fifo-ok", fifo=True)
    assert url.endswith(f"/{name}") and name.endswith(".fifo")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    # FIFO-only attributes do not exist on standard queues.
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.create_queue(QueueName=stem, Attributes={"ContentBasedDeduplication": "true"})
    assert not queue_exists(sqs, stem)


def test_fifo_group_order_and_blocking(sqs, queues):
    _, url = queues.create("fifo-order", fifo=True)
    seqs = []
    for group, body in [("A", "A1"), ("A", "A2"), ("B", "B1"), ("A", "A3"), ("B", "B2")]:
        sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                                MessageDeduplicationId=body)
        seqs.append(int(sent["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 5, f"SequenceNumber must increase: {seqs}"

    first = receive(sqs, url, AttributeNames=["All"])
    assert [m["Body"] for m in first] == ["A1"]
    a = first[0]["Attributes"]
    assert a["MessageGroupId"] == "A" and a["MessageDeduplicationId"] == "A1"
    assert int(a["SequenceNumber"]) == seqs[0]

    # Group A has a message in flight: only group B is served, in order.
    others = receive(sqs, url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in others] == ["B1", "B2"]
    assert receive(sqs, url, MaxNumberOfMessages=10) == [], "both groups are blocked now"

    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    rest = receive(sqs, url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in rest] == ["A2", "A3"], "group A resumes in send order"

    # B's leases handed back: group B is served again from its first message.
    for m in others:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    again = receive(sqs, url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in again] == ["B1", "B2"]


def test_fifo_deduplication(sqs, queues):
    _, url = queues.create("fifo-dedup", fifo=True)
    first = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                             MessageDeduplicationId="d1")
    dup = sqs.send_message(QueueUrl=url, MessageBody="y", MessageGroupId="g",
                           MessageDeduplicationId="d1")
    assert dup["MessageId"] == first["MessageId"], "a duplicate send returns the first message's id"
    assert queues.counts(url) == (1, 0, 0)
    m = receive(sqs, url)
    assert [x["Body"] for x in m] == ["x"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m[0]["ReceiptHandle"])
    # The deduplication interval outlives the message.
    again = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                             MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"]
    assert queues.counts(url) == (0, 0, 0)

    _, cb_url = queues.create("fifo-cbd", {"ContentBasedDeduplication": "true"}, fifo=True)
    a = sqs.send_message(QueueUrl=cb_url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=cb_url, MessageBody="same", MessageGroupId="other-group")
    c = sqs.send_message(QueueUrl=cb_url, MessageBody="different", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"], "content-based deduplication is by body"
    assert c["MessageId"] != a["MessageId"]
    assert int(c["SequenceNumber"]) > int(a["SequenceNumber"])
    # An explicit id overrides the content hash.
    d = sqs.send_message(QueueUrl=cb_url, MessageBody="same", MessageGroupId="g",
                         MessageDeduplicationId="explicit")
    assert d["MessageId"] != a["MessageId"]
    assert queues.counts(cb_url) == (3, 0, 0)

    batch = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "one", "MessageBody": "b1", "MessageGroupId": "g", "MessageDeduplicationId": "bd"},
        {"Id": "two", "MessageBody": "b2", "MessageGroupId": "g", "MessageDeduplicationId": "bd"},
    ])
    ids = {e["Id"]: e["MessageId"] for e in batch["Successful"]}
    assert ids["one"] == ids["two"] and batch.get("Failed", []) == []
    assert queues.counts(url) == (1, 0, 0)


def test_fifo_receive_retried_with_the_same_attempt_id_returns_the_same_messages(sqs, queues):
    # SQS: "During a visibility timeout, subsequent calls with the same
    # ReceiveRequestAttemptId return the same messages and receipt handles."
    _, url = queues.create("fifo-attempt", fifo=True)
    for group in ("g1", "g2"):
        sqs.send_message(QueueUrl=url, MessageBody=group, MessageGroupId=group,
                         MessageDeduplicationId=group)
    first = receive(sqs, url, ReceiveRequestAttemptId="attempt-1")
    assert [m["Body"] for m in first] == ["g1"]
    retried = receive(sqs, url, ReceiveRequestAttemptId="attempt-1")
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retried] == [
        (first[0]["MessageId"], first[0]["ReceiptHandle"])
    ], "a retried receive must return what the lost answer held, not the next message"
    assert queues.counts(url) == (1, 1, 0)
    other = receive(sqs, url, ReceiveRequestAttemptId="attempt-2")
    assert [m["Body"] for m in other] == ["g2"]


def test_fifo_send_rules(sqs, queues):
    _, url = queues.create("fifo-rules", fifo=True)
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error(e) == ("MissingParameter", 400)
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                         MessageDeduplicationId="d", DelaySeconds=5)
    assert error(e) == ("InvalidParameterValue", 400)
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert error(e) == ("InvalidParameterValue", 400), "no dedup id without content-based dedup"
    assert queues.counts(url) == (0, 0, 0)

    _, std_url = queues.create("std-rules")
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=std_url, MessageBody="x", MessageDeduplicationId="d")
    assert error(e) == ("InvalidParameterValue", 400)
    assert queues.counts(std_url) == (0, 0, 0)


# ------------------------------------------------------------------------------------------
# Bad inputs: refused with SQS's codes, nothing changed
# ------------------------------------------------------------------------------------------


def test_bad_queue_names_create_nothing(sqs, queues):
    prefix = unique_name("badname")
    names = [
        prefix + "a" * (81 - len(prefix)),
        prefix + "!",
        prefix + " space",
        prefix + "/slash",
        prefix + "\u00e9",
        prefix + ".dot",
    ]
    for name in names:
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.create_queue(QueueName=name)
        assert error(e) == ("InvalidParameterValue", 400), name
    assert sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []) == []
    # 80 characters is the limit, not over it.
    longest = prefix + "a" * (80 - len(prefix))
    queues.track(sqs.create_queue(QueueName=longest)["QueueUrl"])
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"][0].endswith("/" + longest)


BAD_VALUES = [
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "-1"),
    ("VisibilityTimeout", "soon"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("DelaySeconds", "901"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
]


def test_attribute_values_out_of_range_change_nothing(sqs, queues):
    _, url = queues.create("badattr")
    before = settable(sqs, url)
    for key, value in BAD_VALUES:
        name = unique_name("badattr-new")
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.create_queue(QueueName=name, Attributes={key: value})
        assert error(e) == ("InvalidAttributeValue", 400), (key, value)
        assert not queue_exists(sqs, name), (key, value)
        # All or nothing: the valid change next to the bad one is not applied either.
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "7", key: value})
        assert error(e) == ("InvalidAttributeValue", 400), (key, value)
        assert settable(sqs, url) == before, (key, value)

    for bad in ({"Bogus": "1"}, {"ApproximateNumberOfMessages": "3"}, {"QueueArn": "arn:x"}):
        with pytest.raises(sqs.exceptions.InvalidAttributeName):
            sqs.set_queue_attributes(QueueUrl=url, Attributes=bad)
        name = unique_name("badattr-new")
        with pytest.raises(sqs.exceptions.InvalidAttributeName):
            sqs.create_queue(QueueName=name, Attributes=bad)
        assert not queue_exists(sqs, name)
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    assert settable(sqs, url) == before

    # The limits themselves are accepted.
    edges = {"VisibilityTimeout": "43200", "MessageRetentionPeriod": "60", "DelaySeconds": "900",
             "MaximumMessageSize": "1024", "ReceiveMessageWaitTimeSeconds": "20"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes=edges)
    after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(edges))["Attributes"]
    assert after == edges


def test_bad_receive_parameters_change_nothing(sqs, queues, endpoint):
    _, url = queues.create("badrecv")
    sqs.send_message(QueueUrl=url, MessageBody="still here")
    for kwargs in (
        {"MaxNumberOfMessages": 11},
        {"MaxNumberOfMessages": 0},
        {"WaitTimeSeconds": 21},
        {"WaitTimeSeconds": -1},
        {"VisibilityTimeout": 43201},
    ):
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.receive_message(QueueUrl=url, **kwargs)
        assert error(e) == ("InvalidParameterValue", 400), kwargs
        assert queues.counts(url) == (1, 0, 0), f"the refused receive {kwargs} leased a message"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.receive_message(QueueUrl=url, AttributeNames=["Bogus"])

    # The same answer without botocore in between.
    status, headers, body = sqs_raw(endpoint, "ReceiveMessage",
                                    {"QueueUrl": url, "MaxNumberOfMessages": 0})
    assert status == 400, body
    assert headers.get("x-amzn-query-error") == "InvalidParameterValue;Sender"
    assert queues.counts(url) == (1, 0, 0)


def test_bad_message_bodies_and_sizes_enqueue_nothing(sqs, queues, endpoint):
    _, url = queues.create("badbody", {"MaximumMessageSize": "1024"})
    for body in ("nul \x00", "\uffff", "bell \x07", "\ufffe"):
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        assert error(e) == ("InvalidMessageContents", 400), repr(body)
    too_big = [
        ("a" * 1025, None),
        ("\u00e9" * 513, None),  # 513 characters, 1026 bytes: the limit is in bytes
        ("a" * 1000, {"k" * 20: {"DataType": "String", "StringValue": "v" * 10}}),  # attributes count
    ]
    for body, attrs in too_big:
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody=body, **({"MessageAttributes": attrs} if attrs else {}))
        assert error(e) == ("InvalidParameterValue", 400), (len(body), attrs)
    eleven = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=eleven)
    assert error(e) == ("InvalidParameterValue", 400)
    for attrs in (
        {"n": {"DataType": "Number", "StringValue": "not a number"}},
        {"t": {"DataType": "Float", "StringValue": "1"}},
        {"e": {"DataType": "String", "StringValue": ""}},
    ):
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)
        assert error(e) == ("InvalidParameterValue", 400), attrs
    assert queues.counts(url) == (0, 0, 0)

    # Raw: a body of the right size passes; the JSON escape of a control character does not
    # sneak one through.
    status, _, body = sqs_raw(endpoint, "SendMessage", {"QueueUrl": url, "MessageBody": "\u0001"})
    assert status == 400 and body["__type"].endswith("#InvalidMessageContents"), body
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    assert queues.counts(url) == (1, 0, 0)


def test_bad_batches_change_nothing(sqs, queues, endpoint):
    _, url = queues.create("badbatch")
    eleven = [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)]
    cases = [
        (eleven, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ([{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
         "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ]
    for entries, code in cases:
        with pytest.raises(sqs.exceptions.ClientError) as e:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert error(e) == (code, 400), code
    assert queues.counts(url) == (0, 0, 0)

    # The batch total is limited to 1 MiB whatever the queue's MaximumMessageSize.
    big = "b" * (600 * 1024)
    with pytest.raises(sqs.exceptions.ClientError) as e:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": big},
                                                      {"Id": "b", "MessageBody": big}])
    assert error(e) == ("AWS.SimpleQueueService.BatchRequestTooLong", 400)
    assert queues.counts(url) == (0, 0, 0)

    for action, entries in (
        ("DeleteMessageBatch", [{"Id": f"e{i}", "ReceiptHandle": "x"} for i in range(11)]),
        ("ChangeMessageVisibilityBatch", []),
        ("SendMessageBatch", []),
    ):
        status, headers, body = sqs_raw(endpoint, action, {"QueueUrl": url, "Entries": entries})
        assert status == 400, (action, body)
        expected = ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest" if entries
                    else "AWS.SimpleQueueService.EmptyBatchRequest")
        assert headers.get("x-amzn-query-error") == f"{expected};Sender", (action, headers)
    assert queues.counts(url) == (0, 0, 0)


def test_batch_of_messages_each_under_the_queue_limit_is_accepted(sqs, queues):
    # MaximumMessageSize limits each message; the batch as a whole may be larger (up to 1 MiB).
    _, url = queues.create("batchsize", {"MaximumMessageSize": "1024"})
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "a" * 600},
        {"Id": "b", "MessageBody": "b" * 600},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["a", "b"], resp
    assert queues.counts(url) == (2, 0, 0)


# ------------------------------------------------------------------------------------------
# Event source mappings (SQS -> function) through boto3's Lambda client
# ------------------------------------------------------------------------------------------

REPORTS_FAILURES = """
def handler(event, context):
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "fail" in r["body"]]
    return {"batchItemFailures": failures}
"""

SUCCEEDS = """
def handler(event, context):
    return {"seen": len(event["Records"])}
"""


def test_sqs_mapping_deletes_successes_and_redrives_reported_failures(lam, sqs, queues, functions, mappings):
    fn, _ = functions.create("esm-fail", python_zip(REPORTS_FAILURES), Timeout=3)
    _, dlq_url = queues.create("esm-dlq")
    _, src_url = queues.create("esm-src", {
        "VisibilityTimeout": "3",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": queues.arn(dlq_url), "maxReceiveCount": 2}),
    })
    src_arn = queues.arn(src_url)
    created = mappings.create(FunctionName=fn, EventSourceArn=src_arn, BatchSize=10,
                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["EventSourceArn"] == src_arn
    assert created["FunctionArn"].endswith(f":function:{fn}")
    assert created["BatchSize"] == 10
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    bodies = ["ok-1", "fail-2", "ok-3", "fail-4", "ok-5"]
    t0 = time.monotonic()
    resp = sqs.send_message_batch(QueueUrl=src_url, Entries=[
        {"Id": f"m{i}", "MessageBody": b} for i, b in enumerate(bodies)])
    assert len(resp["Successful"]) == 5

    # The three good messages are deleted after the first batch; the two reported failures
    # stay (in flight, then visible again after the 3 s visibility timeout).
    def two_left():
        visible, in_flight, _ = queues.counts(src_url)
        return visible + in_flight == 2
    wait_for(two_left, 30, "the three successful messages to be deleted")
    assert queues.counts(dlq_url)[0] == 0, "failures must be retried before the DLQ"

    def in_dlq():
        return queues.counts(dlq_url)[0] == 2 and queues.counts(src_url) == (0, 0, 0)
    wait_for(in_dlq, 40, "the two failing messages to reach the DLQ", interval_s=0.25)
    elapsed = time.monotonic() - t0
    assert elapsed >= 5.0, (
        f"the failures reached the DLQ after {elapsed:.1f} s: they must be received twice, "
        "3 s of visibility timeout apart"
    )
    moved = receive(sqs, dlq_url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert sorted(m["Body"] for m in moved) == ["fail-2", "fail-4"]
    assert all(m["Attributes"]["DeadLetterQueueSourceArn"] == src_arn for m in moved)


def test_sqs_mapping_validation_and_lifecycle(lam, sqs, queues, functions, mappings):
    fn, _ = functions.create("esm-life", python_zip(SUCCEEDS), Timeout=3)
    fn_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    _, short_url = queues.create("esm-short", {"VisibilityTimeout": "2"})
    _, url = queues.create("esm-q", {"VisibilityTimeout": "3"})
    arn = queues.arn(url)
    missing_arn = re.sub(r":[^:]+$", ":" + unique_name("esm-missing"), arn)

    refused = [
        dict(EventSourceArn=queues.arn(short_url)),             # visibility 2 s < timeout 3 s
        dict(EventSourceArn=arn, BatchSize=11),                   # > 10 without a window
        dict(EventSourceArn=missing_arn),                         # no such queue
    ]
    for extra in refused:
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
            lam.create_event_source_mapping(FunctionName=fn, **extra)
        assert error(e)[1] == 400, extra
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []

    created = mappings.create(FunctionName=fn, EventSourceArn=arn, BatchSize=11,
                              MaximumBatchingWindowInSeconds=1)
    uuid = created["UUID"]
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == (11, 1)
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)

    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled"
    assert (got["EventSourceArn"], got["FunctionArn"]) == (arn, fn_arn)
    by_fn = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["UUID"] for m in by_fn] == [uuid]
    by_arn = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
    assert [m["UUID"] for m in by_arn] == [uuid]
    assert lam.list_event_source_mappings(EventSourceArn=missing_arn)["EventSourceMappings"] == []

    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=5,
                                              MaximumBatchingWindowInSeconds=0)
    assert updated["BatchSize"] == 5
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_event_source_mapping(UUID=uuid, BatchSize=11)
    assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 5

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting"
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.get_event_source_mapping(UUID=uuid)
    assert error(e)[1] == 404
    assert lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.delete_event_source_mapping(UUID=uuid)


def test_disabled_sqs_mapping_leaves_messages_until_enabled(lam, sqs, queues, functions, mappings):
    fn, _ = functions.create("esm-toggle", python_zip(SUCCEEDS), Timeout=3)
    _, url = queues.create("esm-toggle", {"VisibilityTimeout": "3"})
    uuid = mappings.create(FunctionName=fn, EventSourceArn=queues.arn(url), BatchSize=10)["UUID"]

    sqs.send_message(QueueUrl=url, MessageBody="while enabled")
    wait_for(lambda: queues.counts(url) == (0, 0, 0), 30, "the enabled mapping to consume")

    disabled = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabled["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"while disabled {i}")
    time.sleep(1.5)
    assert queues.counts(url) == (3, 0, 0), "a disabled mapping must not consume"

    enabled = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert enabled["State"] == "Enabling"
    wait_for(lambda: queues.counts(url) == (0, 0, 0), 30, "the re-enabled mapping to consume")
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"

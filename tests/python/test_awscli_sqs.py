"""The AWS CLI v1 (the venv's ``aws`` executable) against Nimbus's SQS service: exit codes and
JSON output of ``aws sqs``."""

import json

import pytest

from support import AwsCli, md5_hex, unique_name


@pytest.fixture
def cli(endpoint, tmp_path):
    return AwsCli("sqs", endpoint, tmp_path)


def test_cli_queue_and_message_round_trip(cli, queues):
    name = unique_name("cli-q")
    created = cli.ok("create-queue", "--queue-name", name,
                     "--attributes", "VisibilityTimeout=7,DelaySeconds=0")
    url = queues.track(created["QueueUrl"])
    assert url.endswith(f"/{name}")

    attrs = cli.ok("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["VisibilityTimeout"] == "7"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["QueueArn"].endswith(f":{name}")

    body = "from the cli \u00e9"
    sent = cli.ok("send-message", "--queue-url", url, "--message-body", body,
                  "--message-attributes", '{"k": {"DataType": "String", "StringValue": "v"}}')
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert sent["MessageId"]

    got = cli.ok("receive-message", "--queue-url", url, "--attribute-names", "All",
                 "--message-attribute-names", "All", "--wait-time-seconds", "1")
    assert len(got["Messages"]) == 1
    m = got["Messages"][0]
    assert (m["MessageId"], m["Body"]) == (sent["MessageId"], body)
    assert m["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    in_flight = cli.ok("get-queue-attributes", "--queue-url", url, "--attribute-names",
                       "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert in_flight["Attributes"] == {"ApproximateNumberOfMessages": "0",
                                       "ApproximateNumberOfMessagesNotVisible": "1"}

    assert cli.ok("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"]) is None
    after = cli.ok("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert (after["ApproximateNumberOfMessages"], after["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    assert cli.ok("delete-queue", "--queue-url", url) is None
    proc = cli.run("get-queue-url", "--queue-name", name)
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "AWS.SimpleQueueService.NonExistentQueue" in proc.stderr, proc.stderr


def test_cli_refusals_exit_non_zero(cli, queues):
    proc = cli.run("create-queue", "--queue-name", "bad name!")
    assert proc.returncode in (254, 255), (proc.returncode, proc.stdout, proc.stderr)
    assert "InvalidParameterValue" in proc.stderr, proc.stderr
    assert proc.stdout == ""

    _, url = queues.create("cli-bad")
    proc = cli.run("delete-message", "--queue-url", url, "--receipt-handle", "garbage")
    assert proc.returncode in (254, 255), proc.stderr
    assert "ReceiptHandleIsInvalid" in proc.stderr, proc.stderr

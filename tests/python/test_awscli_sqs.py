"""The AWS CLI v1 (the venv's ``aws`` executable) against Nimbus's SQS service: exit codes and
JSON output of ``aws sqs``."""

import json
import os
import subprocess
import sys

import pytest

from support import md5_hex, unique_name


class SqsCli:
    """Runs ``aws sqs`` with fake credentials, no user config, and the test endpoint."""

    def __init__(self, endpoint, home):
        self.endpoint = endpoint
        self.aws = os.path.join(os.path.dirname(sys.executable), "aws")
        assert os.access(self.aws, os.X_OK), f"the venv has no aws executable at {self.aws}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": str(home / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
            "AWS_MAX_ATTEMPTS": "1",
        }

    def run(self, *args):
        cmd = [self.aws, "sqs", *args, "--endpoint-url", self.endpoint, "--region", "us-east-1",
               "--output", "json"]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, *args):
        """Runs, asserts exit 0, and returns the parsed JSON output (None when empty)."""
        proc = self.run(*args)
        assert proc.returncode == 0, (
            f"aws sqs {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
        return json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.fixture
def cli(endpoint, tmp_path):
    return SqsCli(endpoint, tmp_path)


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

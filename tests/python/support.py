"""Helpers shared by the end-to-end tests: names, deployment packages, log parsing, queues."""

import base64
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
import zipfile

ROLE = "arn:aws:iam::000000000000:role/nimbus-e2e"
# The Python runtime used for plain handlers (Nimbus substitutes the nearest installed
# interpreter when this exact one is missing, and says so in INIT_START).
PYTHON_RUNTIME = "python3.12"
# Fake credentials: Nimbus reads the SigV4 scope but does not check signatures.
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
REGION = "us-east-1"


def unique_name(prefix):
    """A function name no other test (nor an earlier run on the same server) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_zip(files):
    """A deployment package: ``files`` maps archive path -> str/bytes, or (data, unix mode)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            mode = 0o644
            if isinstance(data, tuple):
                data, mode = data
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def python_zip(source):
    """A package holding one module ``app.py`` (handler ``app.handler``)."""
    return make_zip({"app.py": source})


def decode_tail(log_result):
    """The text of a base64 ``LogResult``."""
    assert log_result, "expected a LogResult (LogType=Tail)"
    return base64.b64decode(log_result).decode("utf-8", "replace")


def assert_invoke_log_lines(tail, request_id):
    """START, END and REPORT lines for ``request_id``, in Lambda's formats and in order."""
    lines = tail.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith(f"START RequestId: {request_id} Version: ")]
    end = [i for i, l in enumerate(lines) if l == f"END RequestId: {request_id}"]
    report = [i for i, l in enumerate(lines) if l.startswith(f"REPORT RequestId: {request_id}\t")]
    assert len(start) == 1 and len(end) == 1 and len(report) == 1, (
        f"expected one START, END and REPORT line for {request_id}:\n{tail}"
    )
    assert start[0] < end[0] < report[0], f"START/END/REPORT out of order:\n{tail}"
    fields = lines[report[0]]
    for field in (r"Duration: [0-9.]+ ms", r"Billed Duration: \d+ ms", r"Memory Size: \d+ MB",
                  r"Max Memory Used: \d+ MB"):
        assert re.search(field, fields), f"REPORT line lacks {field!r}: {fields!r}"


class Functions:
    """Creates functions with unique names and deletes them when the test ends."""

    def __init__(self, lam):
        self.lam = lam
        self.names = []

    def create(self, prefix, zip_bytes, runtime=PYTHON_RUNTIME, handler="app.handler", **extra):
        """CreateFunction; returns (name, FunctionConfiguration)."""
        name = unique_name(prefix)
        self.names.append(name)
        config = self.lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": zip_bytes},
            **extra,
        )
        return name, config

    def track(self, name):
        """Deletes ``name`` at the end too (for functions made by other clients)."""
        self.names.append(name)
        return name

    def cleanup(self):
        for name in self.names:
            try:
                self.lam.delete_function(FunctionName=name)
            except self.lam.exceptions.ResourceNotFoundException:
                pass


class Queues:
    """Creates SQS queues with unique names and deletes them when the test ends."""

    def __init__(self, sqs):
        self.sqs = sqs
        self.urls = []

    def create(self, prefix, attributes=None, fifo=False, **extra):
        """CreateQueue; returns (name, url). ``fifo`` adds the suffix and ``FifoQueue``."""
        name = unique_name(prefix) + (".fifo" if fifo else "")
        attributes = dict(attributes or {})
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes, **extra)["QueueUrl"]
        self.urls.append(url)
        return name, url

    def track(self, url):
        """Deletes ``url`` at the end too (for queues made another way)."""
        self.urls.append(url)
        return url

    def arn(self, url):
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def counts(self, url):
        """(visible, in flight, delayed) from the Approximate* attributes."""
        a = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return (
            int(a["ApproximateNumberOfMessages"]),
            int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]),
        )

    def cleanup(self):
        for url in self.urls:
            try:
                self.sqs.delete_queue(QueueUrl=url)
            except self.sqs.exceptions.QueueDoesNotExist:
                pass


class Mappings:
    """Event source mappings made through it are deleted when the test ends."""

    def __init__(self, lam):
        self.lam = lam
        self.uuids = []

    def create(self, **kwargs):
        config = self.lam.create_event_source_mapping(**kwargs)
        self.uuids.append(config["UUID"])
        return config

    def cleanup(self):
        for u in self.uuids:
            try:
                self.lam.delete_event_source_mapping(UUID=u)
            except self.lam.exceptions.ResourceNotFoundException:
                pass


def md5_of_message_attributes(attributes):
    """SQS's MD5OfMessageAttributes, computed independently of the server (the algorithm
    the AWS SDKs use to verify it): for each attribute in name order, length-prefixed name
    and data type, a transport byte (1 string/number, 2 binary), then the length-prefixed
    value. botocore does not check this digest itself, so the tests do."""
    if not attributes:
        return None
    h = hashlib.md5()

    def put(data):
        h.update(struct.pack(">I", len(data)))
        h.update(data)

    for name in sorted(attributes):
        value = attributes[name]
        put(name.encode("utf-8"))
        put(value["DataType"].encode("utf-8"))
        if "StringValue" in value:
            h.update(b"\x01")
            put(value["StringValue"].encode("utf-8"))
        else:
            h.update(b"\x02")
            put(bytes(value["BinaryValue"]))
    return h.hexdigest()


def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def sqs_raw(endpoint, action, payload, timeout=30):
    """POSTs one AWS JSON 1.0 SQS request without botocore (no client-side validation);
    returns (HTTP status, headers with lower-case names, parsed JSON body)."""
    req = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=0"
            ),
            "X-Amz-Date": "20240101T000000Z",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    headers = {k.lower(): v for k, v in headers.items()}
    return status, headers, (json.loads(body) if body.strip() else None)


class AwsCli:
    """Runs ``aws <service>`` (the venv's AWS CLI v1) with fake credentials, no user config,
    and the test endpoint."""

    def __init__(self, service, endpoint, home):
        self.service = service
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
        cmd = [self.aws, self.service, *args, "--endpoint-url", self.endpoint,
               "--region", "us-east-1", "--output", "json"]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, *args):
        """Runs, asserts exit 0, and returns the parsed JSON output (None when empty)."""
        proc = self.run(*args)
        assert proc.returncode == 0, (
            f"aws {self.service} {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
        return json.loads(proc.stdout) if proc.stdout.strip() else None

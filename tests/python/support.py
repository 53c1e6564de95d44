"""Helpers shared by the end-to-end tests: names, deployment packages, log parsing."""

import base64
import io
import re
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

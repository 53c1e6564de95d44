"""Fixtures for the end-to-end suite.

The suite drives a running ``nimbus serve`` with REAL, unmodified AWS clients (boto3, the AWS
CLI v1, awslambdaric, Node handlers). The server URL comes from ``NIMBUS_ENDPOINT``; the Rust
launcher ``crates/nimbus/tests/e2e_clients.rs`` starts a throw-away server and sets it.

By hand, against a server of your own::

    scripts/setup-test-env.sh
    NIMBUS_ENDPOINT=http://127.0.0.1:9000 .venv/bin/python -m pytest tests/python -q
"""

import os

import boto3
import pytest
from botocore.config import Config

from support import CREDENTIALS, REGION, Functions, Mappings, Queues


@pytest.fixture(scope="session")
def endpoint():
    url = os.environ.get("NIMBUS_ENDPOINT")
    if not url:
        pytest.fail(
            "NIMBUS_ENDPOINT is not set: start `nimbus serve` and export its URL, or run "
            "`cargo test -p nimbus --test e2e_clients`, which does both",
            pytrace=False,
        )
    return url.rstrip("/")


@pytest.fixture(scope="session")
def lam(endpoint):
    """A boto3 Lambda client for the server under test.

    Retries are off: an error answer must be seen as it is, not masked by a retry."""
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=120),
        **CREDENTIALS,
    )


@pytest.fixture
def functions(lam):
    """Functions made through it are deleted when the test ends."""
    fns = Functions(lam)
    yield fns
    fns.cleanup()


@pytest.fixture(scope="session")
def sqs(endpoint):
    """A boto3 SQS client for the server under test (retries off, as for ``lam``).

    The read timeout leaves room for 20-second long polls."""
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=10, read_timeout=60),
        **CREDENTIALS,
    )


@pytest.fixture
def queues(sqs):
    """Queues made through it are deleted when the test ends."""
    qs = Queues(sqs)
    yield qs
    qs.cleanup()


@pytest.fixture
def mappings(lam, functions, queues):
    """Event source mappings made through it are deleted when the test ends (before the
    functions and queues they connect)."""
    ms = Mappings(lam)
    yield ms
    ms.cleanup()

"""Node.js handlers of every shape (sync, async, callback, ESM ``.mjs``), invoked through
boto3, with the semantics of the official Node.js runtime client."""

import json

import pytest

from support import decode_tail, make_zip

NODE_RUNTIME = "nodejs20.x"

SYNC = """
exports.handler = function (event, context) {
  console.log('sync handler got', event.n);
  if (event.throw) throw new TypeError('bad sync input');
  // The official runtime ignores a sync handler's return value: with no callback,
  // the answer is null once the event loop is empty.
  return { ignored: true };
};
"""

SYNC_SUCCEED = """
exports.handler = function (event, context) {
  context.succeed({ via: 'context.succeed', n: event.n });
};
"""

ASYNC = """
class AsyncFailure extends Error {
  constructor(message) { super(message); this.name = 'AsyncFailure'; }
}
exports.handler = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (event.reject) throw new AsyncFailure('rejected: ' + event.reject);
  return {
    sum: event.a + event.b,
    functionName: context.functionName,
    requestId: context.awsRequestId,
    remaining: context.getRemainingTimeInMillis(),
    memory: context.memoryLimitInMB,
  };
};
"""

CALLBACK = """
exports.handler = (event, context, callback) => {
  setTimeout(() => {
    if (event.fail) callback(new RangeError('callback failed: ' + event.fail));
    else callback(null, { echoed: event.x, style: 'callback' });
  }, 10);
};
"""

ESM = """
import { createHash } from 'node:crypto';

const loadedAt = Date.now();

export const handler = async (event) => ({
  esm: typeof require === 'undefined',
  sha: createHash('sha256').update(String(event.text)).digest('hex'),
  loadedAt,
});
"""


def invoke(lam, name, event, **kwargs):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return resp, json.loads(resp["Payload"].read())


def node_function(functions, prefix, source, filename="index.js"):
    name, _ = functions.create(
        prefix, make_zip({filename: source}), runtime=NODE_RUNTIME, handler="index.handler",
        Timeout=10,
    )
    return name


def test_sync_handler(lam, functions):
    name = node_function(functions, "node-sync", SYNC)
    resp, result = invoke(lam, name, {"n": 1}, LogType="Tail")
    assert "FunctionError" not in resp, result
    assert result is None, "a sync handler's return value is not the result (official semantics)"
    tail = decode_tail(resp["LogResult"])
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"\t{request_id}\tINFO\tsync handler got 1" in tail, (
        f"console.log lines are '<time>\\t<request id>\\tINFO\\t<message>':\n{tail}"
    )

    resp, error = invoke(lam, name, {"throw": True})
    assert resp["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "bad sync input"), error

    name = node_function(functions, "node-succeed", SYNC_SUCCEED)
    resp, result = invoke(lam, name, {"n": 7})
    assert result == {"via": "context.succeed", "n": 7}


def test_async_handler(lam, functions):
    name = node_function(functions, "node-async", ASYNC)
    resp, result = invoke(lam, name, {"a": 2, "b": 40})
    assert "FunctionError" not in resp, result
    assert result["sum"] == 42
    assert result["functionName"] == name
    assert result["requestId"] == resp["ResponseMetadata"]["RequestId"]
    assert 0 < result["remaining"] <= 10_000
    assert str(result["memory"]) == "128"

    resp, error = invoke(lam, name, {"reject": "why not"})
    assert resp["FunctionError"] == "Unhandled"
    assert error["errorType"] == "AsyncFailure", error
    assert error["errorMessage"] == "rejected: why not", error
    assert isinstance(error.get("trace"), list), error


def test_callback_handler(lam, functions):
    name = node_function(functions, "node-callback", CALLBACK)
    resp, result = invoke(lam, name, {"x": [1, 2, 3]})
    assert "FunctionError" not in resp, result
    assert result == {"echoed": [1, 2, 3], "style": "callback"}

    resp, error = invoke(lam, name, {"fail": "on purpose"})
    assert resp["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("RangeError", "callback failed: on purpose")


def test_esm_mjs_handler(lam, functions):
    name = node_function(functions, "node-esm", ESM, filename="index.mjs")
    resp, first = invoke(lam, name, {"text": "abc"})
    assert "FunctionError" not in resp, first
    assert first["esm"] is True, "index.mjs must load as an ES module"
    assert first["sha"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    _, second = invoke(lam, name, {"text": "abc"})
    assert second["loadedAt"] == first["loadedAt"], "the warm environment keeps the module loaded"


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs22.x"])
def test_other_node_runtime_ids_run(lam, functions, runtime):
    # Only one Node is installed here; Nimbus runs the nearest one and says so in INIT_START.
    name, _ = functions.create(
        "node-rt", make_zip({"index.js": ASYNC}), runtime=runtime, handler="index.handler",
    )
    resp, result = invoke(lam, name, {"a": 1, "b": 1})
    assert "FunctionError" not in resp, result
    assert result["sum"] == 2

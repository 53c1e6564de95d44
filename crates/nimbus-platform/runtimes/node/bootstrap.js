/*
 * Nimbus runtime bootstrap for the nodejs18.x .. nodejs24.x Lambda runtimes
 * (CommonJS, Node built-ins only, Node 18+).
 *
 * Started by the platform as:
 *
 *     <node> /var/runtime/node/bootstrap.js
 *
 * with a constructed environment (nothing inherited from the host) and the
 * function's code directory as the working directory. It speaks the Lambda
 * Runtime API (2018-06-01) to $AWS_LAMBDA_RUNTIME_API and runs the handler
 * named by $_HANDLER, found under $LAMBDA_TASK_ROOT (default /var/task).
 *
 * Environment read: AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT,
 * AWS_LAMBDA_LOG_LEVEL, AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA,
 * and per invocation AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME,
 * AWS_LAMBDA_LOG_STREAM_NAME. Written per invocation: _X_AMZN_TRACE_ID.
 * NODE_PATH is honoured by Node itself for require().
 *
 * Semantics follow the official aws-lambda-ric 3.x (dist/index.mjs):
 * - Handler "dir/file.a.b": module "dir/file" relative to LAMBDA_TASK_ROOT,
 *   export path "a.b" (nested properties). Tried in order: the extension-less
 *   path, file.js as CommonJS (unless the nearest package.json says
 *   "type": "module"), file.js as ESM (if it does), file.mjs, file.cjs, then
 *   Node's own resolution of "file" from the task root. Handler strings
 *   containing ".." are rejected.
 * - Init failures are posted to /runtime/init/error with the error type in
 *   Lambda-Runtime-Function-Error-Type and body {errorType, errorMessage,
 *   trace}; types Runtime.MalformedHandlerName, Runtime.ImportModuleError,
 *   Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound, or the thrown
 *   error's own name (e.g. "Error", "TypeError") for exceptions raised by user
 *   init code. The error is logged as "Uncaught Exception" and the process
 *   exits with status 129, as the official client does.
 * - Invocation errors: POST .../error with {errorType, errorMessage, trace},
 *   no error-type header (the official client sends none), plus
 *   Lambda-Runtime-Function-XRay-Error-Cause. A non-Error value rejected/passed
 *   to the callback becomes {errorType: typeof value, errorMessage: String(v),
 *   trace: []}. Logged as "<ts>\t<id>\tERROR\tInvoke Error \t{...}".
 * - Sync, async (promise), callback (3-arg) handlers; whichever of callback /
 *   promise settles first wins; callbackWaitsForEmptyEventLoop (default true)
 *   defers a callback result until the event loop is empty ('beforeExit'); a
 *   sync handler that never calls back answers null once the loop is empty.
 *   context.succeed/fail/done are provided.
 * - Unserializable result (circular, BigInt): the official client's error
 *   Error("Unable to stringify response body") is reported as the function
 *   error for async handlers; for a callback result deferred to an empty event
 *   loop it surfaces as an uncaught exception (below), as in the official one.
 * - An uncaught exception / unhandled rejection while an invocation runs is
 *   logged and posted as that invocation's error, then the process exits
 *   (129 / 128) so the platform starts a fresh environment. Unhandled
 *   rejections are wrapped as Runtime.UnhandledPromiseRejection.
 * - console.log/info/warn/error/debug/trace (+ console.fatal) are patched to
 *   "<ISO time>\t<request id>\t<LEVEL>\t<util.format(...)>" with "\n" inside a
 *   message written as "\r", or one JSON object per line when
 *   AWS_LAMBDA_LOG_FORMAT=JSON; AWS_LAMBDA_LOG_LEVEL filters. Before the first
 *   invocation the request id prints as "undefined", as on Lambda.
 * - globalThis.awslambda.streamifyResponse / HttpResponseStream exist so code
 *   that references them loads, but response streaming is not supported: a
 *   streaming handler fails init with Runtime.MalformedStreamingHandler.
 *
 * Where this bootstrap differs (deliberately) from the official client:
 * - The Runtime API is spoken over ONE keep-alive `net` socket (no native
 *   addon, no `http` module). It is unref'd while user code runs, which is what
 *   lets 'beforeExit' implement callbackWaitsForEmptyEventLoop. A reused
 *   connection found closed before any response byte is reconnected once.
 *   The GET /next never times out. Responses may be chunked.
 * - An empty event body is not JSON: like the official client, JSON.parse
 *   fails and the invocation reports {errorType:"SyntaxError",...} without
 *   running the handler. The Content-Type of /next is ignored (as official).
 * - A non-2xx answer to GET /next exits with status 1 and a message on stderr
 *   (the official client reports it as an "Unexpected Top Level Error").
 *   A 4xx answer to a /response or /error POST is reported on stderr and the
 *   loop continues; a 5xx or a broken connection exits with status 1 (the
 *   official client ignores the outcome of those POSTs).
 * - _X_AMZN_TRACE_ID is updated before the event is parsed (official: after).
 */
'use strict';

const net = require('net');
const util = require('util');
const path = require('path');
const fs = require('fs');

const RUNTIME_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const XRAY_CAUSE_HEADER = 'Lambda-Runtime-Function-XRay-Error-Cause';

// ---------------------------------------------------------------------------
// Runtime API client: HTTP/1.1 over one raw keep-alive socket
// ---------------------------------------------------------------------------

class RuntimeClient {
  constructor(address) {
    const colon = address.lastIndexOf(':');
    let host = address.slice(0, colon);
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) {
      die(`AWS_LAMBDA_RUNTIME_API must be host:port, got '${address}'`);
    }
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    this.host = host;
    this.port = port;
    this.fixedHeaders = `Host: ${address}\r\nUser-Agent: nimbus-node/${process.versions.node}\r\n`;
    this.conn = null; // the kept-alive connection
  }

  /**
   * Sends one request; resolves to {status, headers (lowercase names), body: Buffer}.
   * If the kept-alive connection is busy (only possible on the fatal-error
   * path, while a GET /next is parked), a one-off connection is used instead.
   */
  request(method, reqPath, headers, body) {
    let head = `${method} ${reqPath} HTTP/1.1\r\n${this.fixedHeaders}`;
    for (const name of Object.keys(headers || {})) {
      head += `${name}: ${sanitizeHeaderValue(headers[name])}\r\n`;
    }
    if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
    const headBytes = Buffer.from(head + '\r\n', 'latin1');
    const data = body === undefined || body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);

    if (this.conn && this.conn.busy) {
      const oneOff = new Connection(this.host, this.port);
      return oneOff.send(data).finally(() => oneOff.destroy());
    }
    const reused = this.conn !== null && !this.conn.closed;
    if (!reused) this.conn = new Connection(this.host, this.port);
    const conn = this.conn;
    return conn.send(data).catch((err) => {
      // The server may have dropped an idle kept-alive connection: the request
      // was not processed, so it is safe to send it once more.
      if (reused && err.beforeResponse) {
        this.conn = new Connection(this.host, this.port);
        return this.conn.send(data);
      }
      throw err;
    });
  }

  async next() {
    let res;
    try {
      res = await this.request('GET', `${RUNTIME_PREFIX}/invocation/next`);
    } catch (err) {
      die(`GET /runtime/invocation/next failed: ${err.message}`);
    }
    if (res.status < 200 || res.status > 299) {
      die(`GET /runtime/invocation/next answered ${res.status}: ${res.body.toString('utf8', 0, 512)}`);
    }
    return res;
  }

  async post(reqPath, body, headers) {
    let res;
    try {
      res = await this.request('POST', reqPath, headers, Buffer.from(body, 'utf8'));
    } catch (err) {
      die(`POST ${reqPath} failed: ${err.message}`);
    }
    if (res.status >= 200 && res.status <= 299) return;
    const msg = `POST ${reqPath} answered ${res.status}: ${res.body.toString('utf8', 0, 512)}`;
    if (res.status >= 500) die(msg);
    process.stderr.write(`nimbus bootstrap: ${msg}\n`);
  }

  postInvocationResponse(result, id, callback) {
    const body = trySerializeResponse(result); // may throw, synchronously, like the official client
    this.post(`${RUNTIME_PREFIX}/invocation/${encodeURIComponent(id)}/response`, body, {
      'Content-Type': 'application/json',
    }).then(callback);
  }

  postInvocationError(error, id, callback) {
    const body = trySerializeResponse(toRapidResponse(error));
    const headers = { 'Content-Type': 'application/json' };
    // Non-ASCII escaped as \uXXXX: the JSON stays valid in a latin-1 header.
    const cause = xrayCause(error).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    if (cause && cause.length < 1024 * 1024) headers[XRAY_CAUSE_HEADER] = cause;
    this.post(`${RUNTIME_PREFIX}/invocation/${encodeURIComponent(id)}/error`, body, headers).then(callback);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this.post(`${RUNTIME_PREFIX}/init/error`, trySerializeResponse(response), {
      'Content-Type': 'application/json',
      [ERROR_TYPE_HEADER]: String(response.errorType),
    }).then(callback);
  }
}

function sanitizeHeaderValue(value) {
  // Header values must stay on one line and in latin-1.
  return String(value).replace(/[\r\n]/g, ' ').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

function trySerializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (err) {
    throw new Error('Unable to stringify response body');
  }
}

/** One TCP connection with a minimal HTTP/1.1 response parser. */
class Connection {
  constructor(host, port) {
    this.closed = false;
    this.busy = false;
    this.pending = null; // {resolve, reject, gotBytes}
    this.buf = Buffer.alloc(0);
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.onClose(err));
    this.socket.on('close', () => this.onClose(null));
  }

  send(data) {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        const err = new Error('Runtime API connection closed');
        err.beforeResponse = true;
        reject(err);
        return;
      }
      this.busy = true;
      this.pending = { resolve, reject, gotBytes: false };
      this.resetParser();
      this.socket.ref(); // an outstanding request keeps the process alive
      this.socket.write(data);
    });
  }

  destroy() {
    this.closed = true;
    this.socket.destroy();
  }

  onClose(err) {
    if (this.closed && !this.pending) return;
    this.closed = true;
    this.socket.destroy();
    const pending = this.pending;
    if (!pending) return;
    if (this.state === 'eof-body') {
      // Body delimited by connection close: that close completes it.
      this.finish(Buffer.concat(this.bodyParts));
      return;
    }
    this.pending = null;
    this.busy = false;
    const e = new Error(err ? err.message : 'Runtime API closed the connection');
    e.beforeResponse = !pending.gotBytes;
    pending.reject(e);
  }

  resetParser() {
    this.state = 'head';
    this.status = 0;
    this.headers = null;
    this.bodyParts = [];
    this.remaining = 0;
  }

  onData(chunk) {
    if (!this.pending) return; // nothing expected: ignore stray bytes
    this.pending.gotBytes = true;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.parse();
    } catch (err) {
      const pending = this.pending;
      this.pending = null;
      this.busy = false;
      this.destroy();
      if (pending) pending.reject(err);
    }
  }

  /** Consumes as much of this.buf as the current state allows. */
  parse() {
    for (;;) {
      switch (this.state) {
        case 'head': {
          const end = this.buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const lines = this.buf.toString('latin1', 0, end).split('\r\n');
          this.buf = this.buf.subarray(end + 4);
          const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(lines[0]);
          if (!m) throw new Error(`malformed status line from Runtime API: ${lines[0]}`);
          this.httpVersion = m[1];
          this.status = Number(m[2]);
          const headers = {};
          for (let i = 1; i < lines.length; i++) {
            const colon = lines[i].indexOf(':');
            if (colon < 0) continue;
            const name = lines[i].slice(0, colon).trim().toLowerCase();
            // Header bytes are UTF-8 in practice (e.g. client-context JSON).
            const value = Buffer.from(lines[i].slice(colon + 1).trim(), 'latin1').toString('utf8');
            headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
          }
          this.headers = headers;
          if (this.status >= 100 && this.status < 200) continue; // interim response
          if (/chunked/i.test(headers['transfer-encoding'] || '')) {
            this.state = 'chunk-size';
          } else if (headers['content-length'] !== undefined) {
            this.remaining = parseInt(headers['content-length'], 10);
            this.state = 'length-body';
          } else if (this.status === 204 || this.status === 304) {
            this.remaining = 0;
            this.state = 'length-body';
          } else {
            this.state = 'eof-body';
          }
          break;
        }
        case 'length-body': {
          const take = Math.min(this.remaining, this.buf.length);
          if (take > 0) {
            this.bodyParts.push(this.buf.subarray(0, take));
            this.buf = this.buf.subarray(take);
            this.remaining -= take;
          }
          if (this.remaining > 0) return;
          this.finish(Buffer.concat(this.bodyParts));
          return;
        }
        case 'chunk-size': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          const size = parseInt(this.buf.toString('latin1', 0, end).split(';')[0].trim(), 16);
          if (Number.isNaN(size)) throw new Error('malformed chunk size from Runtime API');
          this.buf = this.buf.subarray(end + 2);
          this.remaining = size;
          this.state = size === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, this.buf.length);
          this.bodyParts.push(this.buf.subarray(0, take));
          this.buf = this.buf.subarray(take);
          this.remaining -= take;
          if (this.remaining > 0) return;
          this.state = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          if (this.buf.length < 2) return;
          this.buf = this.buf.subarray(2);
          this.state = 'chunk-size';
          break;
        }
        case 'trailers': {
          const end = this.buf.indexOf('\r\n');
          if (end < 0) return;
          this.buf = this.buf.subarray(end + 2);
          if (end === 0) {
            this.finish(Buffer.concat(this.bodyParts));
            return;
          }
          break;
        }
        case 'eof-body': {
          if (this.buf.length) this.bodyParts.push(this.buf);
          this.buf = Buffer.alloc(0);
          return;
        }
        default:
          return;
      }
    }
  }

  finish(body) {
    const pending = this.pending;
    const { status, headers } = this;
    this.pending = null;
    this.busy = false;
    this.resetParser();
    const connection = (headers.connection || '').toLowerCase();
    if (connection === 'close' || (this.httpVersion === '1.0' && connection !== 'keep-alive')) {
      this.destroy();
    } else {
      this.socket.unref(); // idle: must not keep the event loop alive
    }
    pending.resolve({ status, headers, body });
  }
}

function die(message) {
  process.stderr.write(`nimbus bootstrap: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

function isErrorLike(obj) {
  return obj && obj.name && obj.message && obj.stack &&
    typeof obj.name === 'string' && typeof obj.message === 'string' && typeof obj.stack === 'string';
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The body the official client posts for an error. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replace(/\x7F/g, '%7F'),
        errorMessage: error.message?.replace(/\x7F/g, '%7F'),
        trace: error.stack.replace(/\x7F/g, '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** "\t" + JSON of the error with its enumerable properties (text-format logs). */
function toFormatted(error) {
  const withProps = (value) => {
    if (!(value instanceof Error)) return value;
    const ret = Object.assign(
      { errorType: value.name, errorMessage: value.message, code: value.code },
      value,
    );
    if (typeof value.stack === 'string') ret.stack = value.stack.split('\n');
    return ret;
  };
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withProps(v));
  } catch (_) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function xrayCause(err) {
  try {
    const stack = [];
    if (err && err.stack) {
      const lines = String(err.stack).replace(/\x7F/g, '%7F').split('\n');
      lines.shift();
      for (const stackLine of lines) {
        let line = stackLine.trim().replace(/\(|\)/g, '');
        line = line.substring(line.indexOf(' ') + 1);
        const label = line.lastIndexOf(' ') >= 0 ? line.slice(0, line.lastIndexOf(' ')) : null;
        const location = (!label ? line : line.slice(line.lastIndexOf(' ') + 1)).split(':');
        stack.push({ path: location[0], line: parseInt(location[1], 10), label: label || 'anonymous' });
      }
    }
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [{
        type: err?.name?.replace(/\x7F/g, '%7F'),
        message: err?.message?.replace(/\x7F/g, '%7F'),
        stack,
      }],
      paths: Array.from(new Set(stack.map((e) => e.path))),
    });
  } catch (_) {
    return '';
  }
}

function defineRuntimeError(name) {
  const cls = { [name]: class extends Error {} }[name];
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}
const ImportModuleError = defineRuntimeError('ImportModuleError');
const HandlerNotFound = defineRuntimeError('HandlerNotFound');
const MalformedHandlerName = defineRuntimeError('MalformedHandlerName');
const UserCodeSyntaxError = defineRuntimeError('UserCodeSyntaxError');
const MalformedStreamingHandler = defineRuntimeError('MalformedStreamingHandler');
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

// ---------------------------------------------------------------------------
// Console patching
// ---------------------------------------------------------------------------

// Same global slots as the official client: libraries read the current id there.
const REQUEST_ID_SYMBOL = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID_SYMBOL = Symbol.for('aws.lambda.runtime.tenantId');

const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

const LOG_JSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function logText(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${global[REQUEST_ID_SYMBOL]}\t${level.name}\t${util.format(message, ...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function logJson(level, message, ...params) {
  const result = {
    timestamp: new Date().toISOString(),
    level: level.name,
    requestId: global[REQUEST_ID_SYMBOL],
  };
  const tenantId = global[TENANT_ID_SYMBOL];
  if (tenantId !== undefined && tenantId !== null) result.tenantId = tenantId;
  let line;
  if (params.length === 0) {
    result.message = message;
    try {
      line = JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      line = JSON.stringify(result);
    }
  } else {
    result.message = util.format(message, ...params);
    for (const param of [message, ...params]) {
      if (param instanceof Error) {
        result.errorType = param?.constructor?.name ?? 'UnknownError';
        result.errorMessage = param.message;
        result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
        break;
      }
    }
    line = JSON.stringify(result);
  }
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const log = LOG_JSON ? logJson : logText;
  const minimum = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || LEVELS.TRACE;
  const nop = () => {};
  const at = (level) => (level.priority >= minimum.priority
    ? (msg, ...params) => log(level, msg, ...params)
    : nop);
  console.trace = at(LEVELS.TRACE);
  console.debug = at(LEVELS.DEBUG);
  console.info = at(LEVELS.INFO);
  console.log = console.info;
  console.warn = at(LEVELS.WARN);
  console.error = at(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);
}

/** Logs an error the way the official client does ("Invoke Error", "Uncaught Exception", ...). */
function logError(message, err) {
  if (LOG_JSON) {
    console.error(intoError(err));
  } else {
    console.error(message, toFormatted(intoError(err)));
  }
}

// ---------------------------------------------------------------------------
// Handler loading
// ---------------------------------------------------------------------------

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

function installGlobalAwsLambda() {
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === '1' || flag === 'true') return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[HANDLER_STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark, 10);
      }
      return handler;
    },
    HttpResponseStream: class HttpResponseStream {
      static from() {
        throw new MalformedStreamingHandler('Response streaming is not supported by this runtime.');
      }
    },
  };
}

function tryRequireFile(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImportFile(file) {
  if (!fs.existsSync(file)) return undefined;
  return import(require('url').pathToFileURL(file).href);
}

function folderHasTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) return pkg.type === 'module';
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') return false;
  return folderHasTypeModule(path.resolve(folder, '..'));
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequireFile(base);
  if (extensionless) return extensionless;
  const typeModule = fs.existsSync(base + '.js') && folderHasTypeModule(path.dirname(base + '.js'));
  if (!typeModule) {
    const cjs = tryRequireFile(base + '.js');
    if (cjs) return cjs;
  }
  const loaded = (typeModule && (await tryImportFile(base + '.js'))) ||
    (await tryImportFile(base + '.mjs')) ||
    tryRequireFile(base + '.cjs');
  if (loaded) return loaded;
  // Last resort: Node's own resolution (node_modules, NODE_PATH, ...).
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  // Same split as the official client, quirks included: the basename holds
  // "module.export.path"; everything before its first occurrence is the root.
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndHandler));
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndHandler);
  if (!match) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = match;

  installGlobalAwsLambda();
  let userApp;
  try {
    userApp = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const handler = handlerPath.split('.').reduce((obj, key) => obj && obj[key], userApp);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  const streaming = handler[HANDLER_STREAMING];
  if (streaming !== undefined && streaming !== null && streaming !== false) {
    throw new MalformedStreamingHandler(
      streaming === 'response'
        ? 'Response streaming is not supported by this runtime.'
        : 'Only response streaming is supported.',
    );
  }
  return handler;
}

// ---------------------------------------------------------------------------
// Invocation loop
// ---------------------------------------------------------------------------

// The 'beforeExit' hook, kept where the official client keeps it.
const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const noop = () => {};
const beforeExit = {
  invoke: () => global[BEFORE_EXIT](),
  reset: () => { global[BEFORE_EXIT] = noop; },
  set: (fn) => { global[BEFORE_EXIT] = fn; },
};

class Runtime {
  constructor(client, handler) {
    this.client = client;
    this.handler = handler;
    this.dying = false;
    // Until the first invocation, fatal errors are init errors.
    this.fatal = {
      uncaughtException: (error) => this.exitAfter((cb) => client.postInitError(error, cb), 129),
      unhandledRejection: (error) => this.exitAfter((cb) => client.postInitError(error, cb), 128),
    };
  }

  exitAfter(post, code) {
    if (this.dying) return;
    this.dying = true;
    try {
      post(() => process.exit(code));
    } catch (_) {
      process.exit(code);
    }
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().catch((err) => {
        console.log(`Unexpected Top Level Error: ${err}`);
        this.fatal.uncaughtException(err);
      });
    });
  }

  async handleOnce() {
    const { headers, body } = await this.client.next();
    const id = headers['lambda-runtime-aws-request-id'];
    if (!id) die('GET /runtime/invocation/next: no Lambda-Runtime-Aws-Request-Id header');
    global[REQUEST_ID_SYMBOL] = id;
    global[TENANT_ID_SYMBOL] = headers['lambda-runtime-aws-tenant-id'];

    const [callback, callbackContext, markCompleted] = this.buildCallbackContext(id);
    try {
      this.fatal = {
        uncaughtException: (error) => this.exitAfter((cb) => this.client.postInvocationError(error, id, cb), 129),
        unhandledRejection: (error) => this.exitAfter((cb) => this.client.postInvocationError(error, id, cb), 128),
      };
      // A handler that neither returns a promise nor calls back answers null
      // once the event loop is empty.
      beforeExit.set(() => {
        markCompleted();
        this.client.postInvocationResponse(null, id, () => this.scheduleIteration());
      });
      const trace = headers['lambda-runtime-trace-id'];
      if (trace) process.env._X_AMZN_TRACE_ID = trace;
      else delete process.env._X_AMZN_TRACE_ID;
      const event = JSON.parse(body.toString('utf8'));
      const context = Object.assign(callbackContext, environmentData(), headerData(headers));
      const result = this.handler(event, context, callback);
      if (result && typeof result.then === 'function') {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  /** callback + context.{succeed,fail,done}, first call wins (official semantics). */
  buildCallbackContext(id) {
    const client = this.client;
    const scheduleNext = () => this.scheduleIteration();
    const postError = (err, cb) => {
      logError('Invoke Error', err);
      client.postInvocationError(err, id, cb);
    };
    let isCompleteInvoked = false;
    const complete = (result, cb) => {
      if (isCompleteInvoked) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      isCompleteInvoked = true;
      client.postInvocationResponse(result, id, cb);
    };
    let waitForEmptyEventLoop = true;
    const callback = (err, result) => {
      beforeExit.reset();
      if (err !== undefined && err !== null) {
        postError(err, scheduleNext);
      } else if (!waitForEmptyEventLoop) {
        complete(result, scheduleNext);
      } else {
        beforeExit.set(() => setImmediate(() => complete(result, scheduleNext)));
      }
    };
    const done = (err, result) => {
      beforeExit.reset();
      if (err !== undefined && err !== null) postError(err, scheduleNext);
      else complete(result, scheduleNext);
    };
    const succeed = (result) => done(null, result);
    const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

    // Shared "finished" flag; set only after the wrapped call returns, so a
    // call that throws (e.g. unserializable result) can be followed by fail().
    let finished = false;
    const once = (fn) => function onlyFirst(...args) {
      if (!finished) {
        fn(...args);
        finished = true;
      }
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
      set callbackWaitsForEmptyEventLoop(value) { waitForEmptyEventLoop = value; },
      succeed: once(succeed),
      fail: once(fail),
      done: once(done),
    };
    return [once(callback), context, () => { isCompleteInvoked = true; }];
  }
}

function environmentData() {
  const env = process.env;
  return {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  };
}

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function headerData(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']) || 0;
  return {
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'] ?? '',
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

async function main() {
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) die('AWS_LAMBDA_RUNTIME_API is not set');
  patchConsole();
  const client = new RuntimeClient(address);
  const runtime = new Runtime(client, null);

  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    runtime.fatal.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    runtime.fatal.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  const appRoot = process.env.LAMBDA_TASK_ROOT || '/var/task';
  try {
    runtime.handler = await loadHandler(appRoot, process.env._HANDLER || '');
  } catch (err) {
    // The official client lets this escape as an uncaught exception.
    logError('Uncaught Exception', err);
    runtime.fatal.uncaughtException(err);
    return;
  }
  runtime.scheduleIteration();
}

main();

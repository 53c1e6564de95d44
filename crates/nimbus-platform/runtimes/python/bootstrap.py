"""Nimbus runtime bootstrap for the python3.x Lambda runtimes (stdlib only).

Started by the platform as:

    <python3.X> -S /var/runtime/python/bootstrap.py

with a constructed environment (nothing inherited from the host) and the
function's code directory as the working directory. It speaks the Lambda
Runtime API (2018-06-01) to $AWS_LAMBDA_RUNTIME_API and runs the handler named
by $_HANDLER. Runs on CPython 3.9 and later.

Environment read: AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT (default
/var/task), AWS_EXECUTION_ENV, AWS_LAMBDA_LOG_LEVEL, AWS_LAMBDA_LOG_FORMAT, and
per invocation (for the context object) AWS_LAMBDA_FUNCTION_NAME,
AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME. Written per invocation:
_X_AMZN_TRACE_ID.

Faster launch (recommended): a script run as __main__ is never served from a
.pyc, so `python -S bootstrap.py` compiles this file on every cold start
(measured 5-11 ms, i.e. TTFR roughly halves without it). The platform can
compile it once per host interpreter, e.g.

    <python3.X> -S -c "import py_compile as p; p.compile('/var/runtime/python/bootstrap.py',
        cfile='/var/runtime/python/bootstrap.cpython-3X.pyc', doraise=True)"

and launch `<python3.X> -S /var/runtime/python/bootstrap.cpython-3X.pyc`
instead; behaviour is identical (a .pyc only runs on the interpreter version
that wrote it).

Cold start is the product, so the happy path imports nothing beyond what the
interpreter has already loaded under -S plus two C modules: `_socket` (not
`socket`, which drags in enum and selectors) and `_json` (not `json`, which
compiles regular expressions). Measured on the dev box that is ~1.5 ms instead
of ~18 ms. `os` is not imported either: `posix.environ` is the very dict that
`os.environ` wraps once user code imports os, so both stay in sync.
`traceback` and `json` are imported only on error paths.

Behaviour, and where it deliberately differs from the official awslambdaric:

* Handler resolution, init error types and messages, the error body
  {"errorMessage","errorType","requestId","stackTrace"}, the stack-trace frame
  format, Runtime.MarshalError / UnmarshalError / LambdaContextUnmarshalError
  and the context object follow awslambdaric 4.x. The init-error header
  Lambda-Runtime-Function-Error-Type carries the error type (for an exception
  raised by user init code that is the exception's class name, e.g.
  "ValueError", exactly as the official client sends it). Invocation errors
  are posted WITHOUT that header (the official client sends none) but with
  Lambda-Runtime-Function-XRay-Error-Cause, like the official one.
* The user module is imported with __import__ rather than
  importlib.import_module (saves an import); tracebacks of init errors
  therefore lack the single importlib/__init__.py frame.
* JSON results are encoded like the official simplejson-based encoder:
  separators ", " and ": ", NaN/Infinity allowed, decimal.Decimal written as
  a JSON number, bytes nested inside the result decoded as UTF-8,
  ensure_ascii=False for python3.12+ (taken from AWS_EXECUTION_ENV) and True
  before. One known divergence: a namedtuple is encoded as an array (stdlib
  json) where simplejson writes an object. A top-level `bytes` result is sent
  raw with Content-Type application/unknown, as the official client does.
* Event decoding: a /next Content-Type of application/json (parameters
  ignored) or NO Content-Type decodes the body as JSON; any other content type
  passes the raw bytes to the handler (official: anything but exactly
  "application/json" passes bytes). An empty body is not valid JSON, so, as
  with the official client, the invocation fails with Runtime.UnmarshalError
  "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)"
  without calling the handler.
* stdout and stderr are rebuilt like `python -u` does (text layer over an
  unbuffered FileIO, write_through), so every write reaches the pipe at once,
  including writes to sys.stdout.buffer.
* Lambda's logging handler (format "[LEVEL]\\t<ISO8601 ms>Z\\t<request id>\\t
  <message>\\n", AWS_LAMBDA_LOG_LEVEL, AWS_LAMBDA_LOG_FORMAT=JSON) is NOT set up
  eagerly, because importing `logging` costs several ms. Instead a one-shot
  import hook on sys.meta_path installs it the moment anything imports
  `logging` (at init or lazily inside an invocation). The handler is thus in
  place before any user code can use logging, exactly as on Lambda (where,
  e.g., logging.basicConfig() at import time is a no-op because the root logger
  already has a handler). If nothing imports logging, nothing is paid.
* One log record / one error report = one log event: the platform splits the
  pipe on "\\n", so newlines inside a formatted record (multi-line messages,
  logger.exception tracebacks) and inside the "[ERROR] ..." report are written
  as "\\r" (the official client joins report lines with "\\r" but leaves newlines
  inside messages alone; on Lambda its framed telemetry pipe keeps records
  whole anyway). print() output is passed through untouched.
* The "LAMBDA_WARNING: Unhandled exception ..." line the official client logs
  before an init error is not printed (it points at AWS runtime versions).
* Runtime API failures: a non-2xx answer to GET /next, a missing request id,
  or a failed connection exits with status 1 and a message on stderr. A 4xx
  answer to a /response or /error POST (e.g. 413 payload too large, 400 stale
  request id) is reported on stderr and the loop continues with /next (the
  official client crashes here, forcing a needless cold start); a 5xx exits.
* The HTTP/1.1 client keeps ONE keep-alive connection for the life of the
  process, never times out (the environment may be frozen while waiting on
  /next), and reconnects once if a reused connection turns out to be closed
  before any byte of the answer arrived. Responses may use Content-Length or
  chunked transfer-encoding.
* sys.path is: LAMBDA_TASK_ROOT, /opt/python/lib/pythonX.Y/site-packages,
  /opt/python, then the interpreter's own entries (PYTHONPATH, stdlib) minus
  this file's directory. X.Y is the running interpreter's version.
"""

import sys
import posix
import time
import _socket

try:
    import _json
except ImportError:  # exotic builds without the C accelerator
    _json = None

_RUNTIME_PREFIX = "/2018-06-01/runtime"
_NEXT_PATH = _RUNTIME_PREFIX + "/invocation/next"
# The file name tracebacks show for this code. Differs from __file__ when the
# platform runs a precompiled bootstrap.<cache_tag>.pyc (see header).
_THIS_FILE = (lambda: None).__code__.co_filename
_ENV = posix.environ  # bytes -> bytes; the dict os.environ wraps

# Per-invocation state read by the logging filter (same as the official client).
_REQUEST_ID = None
_TENANT_ID = None


def _getenv(name, default=None):
    value = _ENV.get(name.encode())
    if value is None:
        return default
    return value.decode("utf-8", "surrogateescape")


def _set_trace_id(value):
    os_mod = sys.modules.get("os")
    if os_mod is not None:
        # Go through os.environ when user code has it, in case it was replaced.
        if value:
            os_mod.environ["_X_AMZN_TRACE_ID"] = value
        else:
            os_mod.environ.pop("_X_AMZN_TRACE_ID", None)
        return
    key = b"_X_AMZN_TRACE_ID"
    if value:
        raw = value.encode("utf-8", "surrogateescape")
        posix.putenv(key, raw)
        _ENV[key] = raw
    elif key in _ENV:
        posix.unsetenv(key)
        del _ENV[key]


def _die(message):
    sys.stderr.write("nimbus bootstrap: %s\n" % message)
    sys.exit(1)


# --------------------------------------------------------------------------- #
# JSON                                                                         #
# --------------------------------------------------------------------------- #


class _DecodeContext:
    # Attributes _json.make_scanner reads; mirrors json.JSONDecoder's defaults.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {
        "-Infinity": float("-inf"),
        "Infinity": float("inf"),
        "NaN": float("nan"),
    }.__getitem__


_scan_once = _json.make_scanner(_DecodeContext()) if _json else None
_WS = " \t\n\r"


def _json_loads(text):
    """json.loads(text) without importing json on the happy path.

    Any failure is re-run through the real json.loads, which raises the exact
    error (and message) json.loads would have raised.
    """
    if _scan_once is not None:
        try:
            n = len(text)
            i = 0
            while i < n and text[i] in _WS:
                i += 1
            obj, end = _scan_once(text, i)
            while end < n and text[end] in _WS:
                end += 1
            if end == n:
                return obj
        except Exception:
            pass
    import json

    return json.loads(text)


_decimal_nonce = None


def _to_json(obj, ensure_ascii):
    """Encode like the official client's simplejson encoder (see header)."""
    decimals = []

    def default(o):
        dec = sys.modules.get("decimal")
        if dec is not None and isinstance(o, dec.Decimal):
            if o.is_nan():
                return float("nan")
            # Stdlib json cannot emit a raw number from `default`; emit a
            # unique placeholder string and splice the digits in afterwards.
            global _decimal_nonce
            if _decimal_nonce is None:
                _decimal_nonce = posix.urandom(8).hex()
            decimals.append(str(o))
            return "\x00nimbus-decimal-%s-%d\x00" % (_decimal_nonce, len(decimals) - 1)
        if isinstance(o, (bytes, bytearray)):
            return bytes(o).decode("utf-8")  # simplejson's encoding="utf-8"
        raise TypeError(
            "Object of type %s is not JSON serializable" % o.__class__.__name__
        )

    encoder = None
    if _json is not None:
        try:
            encoder = _json.make_encoder(
                {},  # fresh markers per call: a failed encode may leave entries
                default,
                _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring,
                None,
                ": ",
                ", ",
                False,
                False,
                True,
            )
        except Exception:  # a future _json with another signature
            encoder = None
    if encoder is not None:
        out = "".join(encoder(obj, 0))
    else:
        import json

        out = json.JSONEncoder(
            ensure_ascii=ensure_ascii, allow_nan=True, default=default
        ).encode(obj)
    for i, digits in enumerate(decimals):
        out = out.replace(
            '"\\u0000nimbus-decimal-%s-%d\\u0000"' % (_decimal_nonce, i), digits, 1
        )
    return out


def _runtime_wants_ascii():
    # awslambdaric sets ensure_ascii=False for python3.12 and later only.
    env = _getenv("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python"
    if env.startswith(prefix):
        try:
            major, minor = env[len(prefix):].split(".")[:2]
            return (int(major), int(minor)) < (3, 12)
        except ValueError:
            pass
    return True


_ENSURE_ASCII = _runtime_wants_ascii()


def _encode_utf8(text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to escaped output
        return text.encode("utf-8", "backslashreplace")


# --------------------------------------------------------------------------- #
# Runtime API client: HTTP/1.1 over one raw keep-alive socket                  #
# --------------------------------------------------------------------------- #


class _PeerClosed(OSError):
    pass


class _RuntimeAPI:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            _die("AWS_LAMBDA_RUNTIME_API must be host:port, got %r" % address)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self._family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
        self._addr = (host, int(port))
        self._prefix = "Host: %s\r\nUser-Agent: nimbus-python/%d.%d.%d\r\n" % (
            (address,) + tuple(sys.version_info[:3])
        )
        self._sock = None
        self._buf = bytearray()
        self._got_bytes = False

    def _connect(self):
        sock = _socket.socket(self._family, _socket.SOCK_STREAM)
        # Never time out (the environment may sit frozen on /next), whatever
        # socket.setdefaulttimeout() user code called before we got here.
        sock.settimeout(None)
        try:
            sock.connect(self._addr)
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        del self._buf[:]

    def _close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        del self._buf[:]

    def request(self, method, path, body=None, headers=""):
        """Send one request; return (status, {lowercase name: value}, body)."""
        head = "%s %s HTTP/1.1\r\n%s%s" % (method, path, self._prefix, headers)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        data = _encode_utf8(head + "\r\n")
        if body:
            data += body
        for attempt in (1, 2):
            reused = self._sock is not None
            if not reused:
                self._connect()
            self._got_bytes = False
            try:
                self._sock.sendall(data)
                return self._read_response()
            except OSError:
                self._close()
                # A kept-alive connection the server already dropped: the
                # request cannot have been processed, so send it once more.
                if reused and attempt == 1 and not self._got_bytes:
                    continue
                raise

    def _recv(self, size=65536):
        chunk = self._sock.recv(size)
        if not chunk:
            raise _PeerClosed("Runtime API closed the connection")
        self._got_bytes = True
        self._buf += chunk

    def _read_until(self, marker, start=0):
        buf = self._buf
        while True:
            pos = buf.find(marker, start)
            if pos >= 0:
                return pos
            start = max(0, len(buf) - len(marker) + 1)
            self._recv()

    def _take(self, n):
        buf = self._buf
        while len(buf) < n:
            self._recv(max(65536, min(n - len(buf), 1 << 22)))
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def _read_response(self):
        while True:
            end = self._read_until(b"\r\n\r\n")
            head = self._take(end + 4)[:-4].decode("utf-8", "surrogateescape")
            lines = head.split("\r\n")
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise OSError("malformed status line from Runtime API: %r" % lines[0])
            status = int(parts[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = headers[name] + ", " + value if name in headers else value
            if 100 <= status < 200:
                continue  # interim response (e.g. 100 Continue); the real one follows
            break
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self._take(int(headers["content-length"].split(",")[0]))
        elif status in (204, 304):
            body = b""
        else:  # no framing: the body runs until the server closes
            try:
                while True:
                    self._recv()
            except _PeerClosed:
                pass
            body = bytes(self._buf)
            self._close()
        connection = headers.get("connection", "").lower()
        if connection == "close" or (parts[0] == "HTTP/1.0" and connection != "keep-alive"):
            self._close()
        return status, headers, body

    def _read_chunked(self):
        pieces = []
        while True:
            end = self._read_until(b"\r\n")
            size_line = self._take(end + 2)[:-2]
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                # Trailer section: header lines up to an empty line.
                while True:
                    end = self._read_until(b"\r\n")
                    if not self._take(end + 2)[:-2]:
                        return b"".join(pieces)
            pieces.append(self._take(size))
            self._take(2)  # CRLF after the chunk data

    def post(self, path, body, headers):
        status, _, answer = self.request("POST", path, body, headers)
        if 200 <= status < 300:
            return
        message = "POST %s answered %d: %s" % (
            path,
            status,
            answer[:512].decode("utf-8", "replace"),
        )
        if status >= 500:
            _die(message)
        sys.stderr.write("nimbus bootstrap: %s\n" % message)


# --------------------------------------------------------------------------- #
# Errors                                                                       #
# --------------------------------------------------------------------------- #


class _Fault(Exception):
    """A runtime-detected failure with a Lambda error type (awslambdaric's FaultException)."""

    def __init__(self, error_type, message, trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def _make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return "<unprintable %s object>" % type(value).__name__


def _user_frames(exc):
    import traceback

    frames = [
        (f.filename, f.lineno, f.name, f.line)
        for f in traceback.extract_tb(exc.__traceback__)
    ]
    # Drop the leading frames that belong to this bootstrap.
    for i, frame in enumerate(frames):
        if frame[0] != _THIS_FILE:
            return frames[i:]
    return frames


def _error_from_exception(exc, request_id=None):
    """Error body and X-Ray cause for an exception escaping user code."""
    import traceback

    frames = _user_frames(exc)
    name = type(exc).__name__
    message = _safe_str(exc)
    body = _make_error(message, name, traceback.format_list(frames), request_id)
    return body, _xray_cause(name, message, frames)


def _xray_cause(error_type, message, frames):
    return {
        "working_directory": posix.getcwd(),
        "exceptions": [
            {
                "message": message,
                "type": error_type,
                "stack": [
                    {"label": name, "path": path, "line": line}
                    for path, line, name, _ in frames
                ],
            }
        ],
        "paths": list(dict.fromkeys(path for path, _, _, _ in frames)),
    }


_NBSP = "\u00a0"


def _log_error(error):
    """Write an error report to the log the way awslambdaric does."""
    if _LOG_JSON:
        record = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": "ERROR",
        }
        record.update(error)
        text = _to_json(record, _ENSURE_ASCII)
    else:
        description = "[ERROR]"
        if error["errorType"]:
            description += " " + error["errorType"]
        if error["errorMessage"]:
            if error["errorType"]:
                description += ":"
            description += " " + error["errorMessage"]
        lines = [description, "Traceback (most recent call last):"]
        for element in error["stackTrace"]:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                # Leading spaces become NO-BREAK SPACEs (log viewers keep them).
                stripped = line.lstrip(" ")
                lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
        text = "\r".join(lines)
    sys.stdout.write(text.replace("\n", "\r") + "\n")


# --------------------------------------------------------------------------- #
# Logging (installed only when something imports `logging`)                   #
# --------------------------------------------------------------------------- #

_LOG_JSON = (_getenv("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_level = _getenv("AWS_LAMBDA_LOG_LEVEL")
# awslambdaric's mapping: unset -> leave the root level alone, TRACE -> DEBUG.
_LOG_LEVEL = {None: "", "TRACE": "DEBUG"}.get(_level, _level).upper()
_TEXT_LOG_FORMAT = (
    "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
)
_JSON_RESERVED = frozenset(
    (
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename",
        "module", "exc_info", "exc_text", "stack_info", "lineno", "funcName",
        "created", "msecs", "relativeCreated", "thread", "threadName",
        "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
    )
)


def _install_lambda_logging(logging):
    logging.Formatter.converter = time.gmtime

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                text = self.format(record)
            except Exception:
                self.handleError(record)
                return
            # One record = one log event: inner newlines become \r.
            if text.endswith("\n"):
                text = text[:-1]
            sys.stdout.write(text.replace("\n", "\r") + "\n")

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _REQUEST_ID or ""
            record.tenant_id = _TENANT_ID
            return True

    handler = LambdaLoggerHandler()
    if _LOG_JSON:
        handler.setFormatter(_make_json_formatter(logging))
    else:
        handler.setFormatter(logging.Formatter(_TEXT_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    if _LOG_LEVEL in logging._nameToLevel:
        root.setLevel(_LOG_LEVEL)
    handler.addFilter(LambdaLoggerFilter())
    root.addHandler(handler)


def _make_json_formatter(logging):
    import json

    encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    class JsonFormatter(logging.Formatter):
        def __init__(self):
            logging.Formatter.__init__(self, datefmt="%Y-%m-%dT%H:%M:%SZ")

        def format(self, record):
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc_info = record.exc_info
            if exc_info:
                import traceback

                stack = traceback.format_tb(exc_info[2])
            result = {
                "timestamp": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "message": record.msg
                if isinstance(record.msg, dict) and not record.args
                else record.getMessage(),
                "logger": record.name,
                "stackTrace": stack if exc_info else None,
                "errorType": exc_info[0].__name__ if exc_info else None,
                "errorMessage": str(exc_info[1]) if exc_info else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
                if exc_info
                else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            result.update(
                (key, value)
                for key, value in record.__dict__.items()
                if key not in _JSON_RESERVED and key not in result
            )
            return encode({k: v for k, v in result.items() if v is not None}) + "\n"

    return JsonFormatter()


class _LoggingLoader:
    """Wraps the real loader of `logging` to configure it right after it runs."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        # Put the real loader back first, so nothing ever sees this wrapper.
        module.__spec__.loader = module.__loader__ = self.real
        self.real.exec_module(module)
        try:
            _install_lambda_logging(module)
        except Exception as exc:  # e.g. a user module shadowing `logging`
            sys.stderr.write("nimbus bootstrap: logging setup failed: %r\n" % (exc,))


class _LoggingImportHook:
    """One-shot sys.meta_path finder that fires when `logging` is first imported."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(cls)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _LoggingLoader(spec.loader)
        return spec


# --------------------------------------------------------------------------- #
# Context object                                                               #
# --------------------------------------------------------------------------- #


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client:
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return (
            "Client([installation_id=%s,app_title=%s,app_version_name=%s,"
            "app_version_code=%s,app_package_name=%s])"
            % tuple(getattr(self, f) for f in self.__slots__)
        )


class ClientContext:
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (
            self.custom,
            self.env,
            self.client,
        )


def _obj_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


_W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class LambdaContext:
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms,
                 invoked_function_arn=None, tenant_id=None):
        self.aws_request_id = request_id
        self.log_group_name = _getenv("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = _getenv("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = _getenv("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = _getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = _getenv("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        # Like awslambdaric: a "w3c" member of the client context is moved out
        # of client_context and exposed (allow-listed strings only) via w3c().
        self._w3c_fields = {}
        if isinstance(client_context, dict) and "w3c" in client_context:
            raw = client_context.pop("w3c")
            if isinstance(raw, dict):
                self._w3c_fields = {
                    k: raw[k] for k in _W3C_FIELDS if isinstance(raw.get(k), str)
                }
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get(
                "cognitoIdentityPoolId"
            )
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def w3c(self):
        return dict(self._w3c_fields)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id, self.log_group_name, self.log_stream_name,
                self.function_name, self.memory_limit_in_mb, self.function_version,
                self.invoked_function_arn, self.client_context, self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, name):
    try:
        return _json_loads(value)
    except Exception as exc:
        raise _Fault(
            "Runtime.LambdaContextUnmarshalError",
            "Unable to parse %s JSON: %s" % (name, exc),
        )


# --------------------------------------------------------------------------- #
# Init                                                                         #
# --------------------------------------------------------------------------- #


def _unbuffer_stdio():
    import io  # already loaded by the interpreter

    for fd, name in ((1, "stdout"), (2, "stderr")):
        old = getattr(sys, name)
        if old is None:
            continue
        try:
            stream = io.TextIOWrapper(
                io.FileIO(fd, "w", closefd=False),
                encoding="utf-8",
                errors=old.errors or "backslashreplace",
                write_through=True,
            )
        except (OSError, ValueError):  # fd not open: leave the stream alone
            continue
        old.flush()
        setattr(sys, name, stream)


def _setup_sys_path(task_root):
    rest = list(sys.path)
    # Python put this script's directory (symlinks resolved) first, unless it
    # runs with -I or -P. User code must not see the runtime's directory.
    if rest and not (sys.flags.isolated or getattr(sys.flags, "safe_path", False)):
        del rest[0]
    here = __file__.rpartition("/")[0]
    rest = [p for p in rest if p not in (here, "", task_root)]
    layers = [
        "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2],
        "/opt/python",
    ]
    sys.path[:] = [task_root] + [p for p in layers if p not in rest] + rest


def _load_handler(name):
    try:
        modname, fname = name.rsplit(".", 1)
    except ValueError as exc:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (name, exc))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _Fault(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module %s as a handler module" % modname,
            )
        dotted = modname.replace("/", ".")
        __import__(dotted)
        module = sys.modules[dotted]
    except ImportError as exc:
        raise _Fault(
            "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, exc)
        )
    except SyntaxError as exc:
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (modname, exc),
            ['  File "%s" Line %s\n    %s' % (exc.filename, exc.lineno, exc.text)],
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname)
        )


def _fail_init(api, error):
    _log_error(error)
    error_type = error["errorType"].replace("\r", " ").replace("\n", " ")
    try:
        status, _, answer = api.request(
            "POST",
            _RUNTIME_PREFIX + "/init/error",
            _encode_utf8(_to_json(error, _ENSURE_ASCII)),
            "Content-Type: application/json\r\n"
            "Lambda-Runtime-Function-Error-Type: %s\r\n" % error_type,
        )
        if not 200 <= status < 300:
            sys.stderr.write(
                "nimbus bootstrap: POST /runtime/init/error answered %d: %s\n"
                % (status, answer[:512].decode("utf-8", "replace"))
            )
    except OSError as exc:
        sys.stderr.write("nimbus bootstrap: cannot report init error: %s\n" % (exc,))
    sys.exit(1)


# --------------------------------------------------------------------------- #
# Invocation                                                                   #
# --------------------------------------------------------------------------- #


def _decode_event(body, content_type):
    if content_type:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return body
    if body[:3] == b"\xef\xbb\xbf":
        body = body[3:]
    try:
        return _json_loads(body.decode("utf-8", "surrogatepass"))
    except Exception as exc:
        raise _Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % (exc,))


def _encode_result(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return _encode_utf8(_to_json(result, _ENSURE_ASCII)), "application/json"
    except Exception as exc:
        raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % (exc,))


def _invoke(api, handler, headers, body):
    global _REQUEST_ID, _TENANT_ID
    request_id = headers["lambda-runtime-aws-request-id"]
    tenant_id = headers.get("lambda-runtime-aws-tenant-id")
    _REQUEST_ID = request_id
    _TENANT_ID = tenant_id
    _set_trace_id(headers.get("lambda-runtime-trace-id"))
    error = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        identity = headers.get("lambda-runtime-cognito-identity")
        try:
            deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        except ValueError:
            deadline_ms = 0
        context = LambdaContext(
            request_id,
            _parse_json_header(client_context, "Client Context") if client_context else None,
            _parse_json_header(identity, "Cognito Identity") if identity else None,
            deadline_ms,
            headers.get("lambda-runtime-invoked-function-arn"),
            tenant_id,
        )
        event = _decode_event(body, headers.get("content-type"))
        result = handler(event, context)
        payload, content_type = _encode_result(result)
    except _Fault as fault:
        error = _make_error(fault.message, fault.error_type, fault.trace, request_id)
        cause = _xray_cause("LambdaValidationError", fault.message, [])
    except Exception as exc:
        error, cause = _error_from_exception(exc, request_id)

    path = "%s/invocation/%s/" % (_RUNTIME_PREFIX, request_id)
    if error is None:
        api.post(path + "response", payload, "Content-Type: %s\r\n" % content_type)
        return
    _log_error(error)
    extra = ""
    cause_json = _to_json(cause, True)  # ASCII: it travels in a header
    if len(cause_json) < 1024 * 1024:
        extra = "Lambda-Runtime-Function-XRay-Error-Cause: %s\r\n" % cause_json
    api.post(
        path + "error",
        _encode_utf8(_to_json(error, _ENSURE_ASCII)),
        "Content-Type: application/json\r\n" + extra,
    )


def main():
    address = _getenv("AWS_LAMBDA_RUNTIME_API")
    if not address:
        _die("AWS_LAMBDA_RUNTIME_API is not set")
    _unbuffer_stdio()
    _setup_sys_path(_getenv("LAMBDA_TASK_ROOT") or "/var/task")
    if "logging" in sys.modules:
        _install_lambda_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingImportHook)
    api = _RuntimeAPI(address)

    try:
        handler = _load_handler(_getenv("_HANDLER") or "")
    except _Fault as fault:
        _fail_init(api, _make_error(fault.message, fault.error_type, fault.trace))
    except Exception as exc:
        _fail_init(api, _error_from_exception(exc)[0])

    while True:
        try:
            status, headers, body = api.request("GET", _NEXT_PATH)
        except OSError as exc:
            _die("GET /runtime/invocation/next failed: %s" % (exc,))
        if not 200 <= status < 300:
            _die(
                "GET /runtime/invocation/next answered %d: %s"
                % (status, body[:512].decode("utf-8", "replace"))
            )
        if not headers.get("lambda-runtime-aws-request-id"):
            _die("GET /runtime/invocation/next: no Lambda-Runtime-Aws-Request-Id header")
        try:
            _invoke(api, handler, headers, body)
        except OSError as exc:
            _die("posting the invocation result failed: %s" % (exc,))


if __name__ == "__main__":
    main()

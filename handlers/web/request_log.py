"""One structured JSON log line per request; never a token, key or password."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
import time

from flask import Flask, Response, request

from handlers.web.context import request_state

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# "<METHOD> <path>?<query> HTTP/x": the query runs to the next space (or quote, in Zappa's line).
QUERY_IN_REQUEST_LINE = re.compile(r"([A-Z]+ [^\s?\"]*)\?[^\s\"]*")
# A full URL in the line (Zappa logs the Referer): its query goes too.
QUERY_IN_URL = re.compile(r"(https?://[^\s?\"]*)\?[^\s\"]*")
# flask run's development server (Werkzeug) and Zappa's handler each log one line per request.
SERVER_ACCESS_LOGGERS = ("werkzeug", "zappa.wsgi")
log = logging.getLogger("nativemessage.request")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: level, logger, message and any ``fields`` given."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a single JSON line."""
        payload = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    """Send the service's logs, as JSON lines, to stderr (CloudWatch on Lambda)."""
    root = logging.getLogger()
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and root.handlers:
        # Lambda's runtime installs its own handler on the root logger: adding a second one would
        # format and write every line twice. Its handlers get our format instead (one write a line).
        for handler in root.handlers:
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(JsonFormatter())
    elif not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    _skip_what_no_line_shows()
    # botocore logs request bodies at DEBUG, which would include secrets.
    logging.getLogger("botocore").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # The servers' own access lines (flask run's, Zappa's on Lambda) show the path, never the query.
    for name in SERVER_ACCESS_LOGGERS:
        server_log = logging.getLogger(name)
        if not any(isinstance(existing, PathOnly) for existing in server_log.filters):
            server_log.addFilter(PathOnly())


def _skip_what_no_line_shows() -> None:
    # The logging HOWTO's "Optimization" section: a record need not find its caller's file and line
    # (a walk up the stack on every call) nor look up thread, process and task names that no JSON
    # line of ours shows. About a tenth of a request's time went here.
    logging._srcfile = None  # the documented switch (logging HOWTO, "Optimization")
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


class PathOnly(logging.Filter):
    """Cuts the query string out of access-log request lines (``GET /path?key=... HTTP/1.1``).

    Clients put keys and tokens in URLs by mistake; a log must not keep them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and arguments in place; never drop the record."""
        if isinstance(record.msg, str):
            record.msg = _path_only(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def _path_only(text: str) -> str:
    return QUERY_IN_URL.sub(r"\1", QUERY_IN_REQUEST_LINE.sub(r"\1", text))


def init_request_log(app: Flask) -> None:
    """Stamp each request with an id and log it once it has a response."""

    @app.before_request
    def start_timer() -> None:
        state = request_state()
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        state.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else secrets.token_hex(16)
        state.started_at = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        state = request_state()
        started = state.started_at
        fields = {
            "request_id": state.request_id or None,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "tenant": state.logged_tenant,
            "auth": state.principal.auth if state.principal else None,
        }
        if state.request_id:
            response.headers.add("X-Request-Id", state.request_id)  # only this hook sets it
        log.info("request", extra={"fields": fields})
        return response

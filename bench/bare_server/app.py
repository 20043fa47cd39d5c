"""The bare Flask apps the benchmarks compare against: the same JSON as ``GET /api/v1/me``, nothing else.

``build()`` can add the libraries the service is built on, each configured as the service configures
it: flask-jwt-extended verifying the same token, flask-limiter counting in memory, and one JSON log
line per request. With all three this is the floor those libraries set, before any code of ours.

gunicorn serves it as ``app:app`` with ``--chdir bench/bare_server`` (so ``servers.gunicorn_server``
serves it unchanged): ``BENCH_ME_JSON`` is the body to answer, ``BENCH_LIBRARIES=1`` adds the three.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from flask import Flask, Response, jsonify

PATH = "/api/v1/me"


def build(
    body: dict[str, Any], *, jwt: bool = False, limiter: bool = False, log: bool = False, name: str = "bare"
) -> Flask:
    """A Flask app whose ``GET /api/v1/me`` answers ``body``, with the libraries asked for."""
    app = Flask(name)

    def me() -> Response:
        return jsonify(body)

    view: Any = me
    if jwt:
        from flask_jwt_extended import JWTManager, jwt_required

        issuer = os.environ.get("JWT_ISSUER", "https://api-message.nativehub.live")
        audience = os.environ.get("JWT_AUDIENCE", "nativemessage-api")
        app.config.update(
            JWT_SECRET_KEY=os.environ["JWT_SECRET_KEY"],
            JWT_TOKEN_LOCATION=["headers"],
            JWT_ALGORITHM="HS256",
            JWT_DECODE_ALGORITHMS=["HS256"],
            JWT_DECODE_ISSUER=issuer,
            JWT_DECODE_AUDIENCE=audience,
            JWT_DECODE_LEEWAY=0,
        )
        JWTManager(app)
        view = jwt_required()(view)
    if limiter:
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        Limiter(get_remote_address, app=app, application_limits=["1000000000/minute"], storage_uri="memory://")
    if log:
        logger = _json_logger()

        @app.after_request
        def log_request(response: Response) -> Response:
            logger.info("request", extra={"fields": {"method": "GET", "path": PATH, "status": response.status_code}})
            return response

    app.add_url_rule(PATH, "me", view)
    app.add_url_rule("/api/v1/health", "health", lambda: jsonify(status="ok"))
    return app


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        payload.update(getattr(record, "fields", {}))
        return json.dumps(payload, default=str)


def _json_logger() -> logging.Logger:
    logger = logging.getLogger("bench.request")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # one line per request, whatever the root logger has
    return logger


_libraries = os.environ.get("BENCH_LIBRARIES") == "1"
app = build(json.loads(os.environ.get("BENCH_ME_JSON", "{}")), jwt=_libraries, limiter=_libraries, log=_libraries)

"""Liveness and the OpenAPI document: no credential, no rate limit."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from handlers.web.endpoint import api_spec, endpoint, json_response


class HealthStatus(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"


bp = Blueprint("health", __name__, url_prefix="/api/v1")


@bp.get("/health")
@endpoint(responses={200: HealthStatus}, tags=("health",))
def health() -> Response:
    """Liveness: the process is up and serving (no DynamoDB call)."""
    return json_response(HealthStatus())


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3 document, generated from the routes' own pydantic models."""
    return jsonify(api_spec.spec)

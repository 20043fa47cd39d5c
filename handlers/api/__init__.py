"""The JSON API under /api/v1: one module per resource, each with its schemas beside it."""

from __future__ import annotations

from flask import Flask

from handlers.api import api_keys, audit_events, auth, health, messages, mfa, passwords, users


def register_api(app: Flask) -> None:
    """Serve every resource's blueprint."""
    for module in (health, auth, users, passwords, mfa, api_keys, messages, audit_events):
        app.register_blueprint(module.bp)

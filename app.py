"""The Flask application factory; ``app`` is what Zappa, gunicorn and ``flask run`` serve."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from config import Settings
from handlers import api_keys, auth, health, messages, users
from handlers.dashboard import init_dashboard
from handlers.errors import register_error_handlers
from handlers.extensions import init_extensions
from handlers.rate_limits import init_rate_limits
from handlers.request_log import configure_logging, init_request_log
from handlers.security_headers import init_security_headers
from handlers.services import EXTENSION_KEY, Services


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding individual settings."""
    settings = config if isinstance(config, Settings) else Settings.from_env().with_overrides(config or {})
    settings.validate()
    configure_logging(settings.log_level)

    # The dashboard serves its own static files under /dashboard/static; nothing else is static.
    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_content_length, JSON_SORT_KEYS=False)
    # No redirects (their bodies are HTML): a path is either a route or a 404 envelope.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.extensions[EXTENSION_KEY] = Services.from_settings(settings)

    init_extensions(app)
    register_error_handlers(app)
    init_request_log(app)
    init_security_headers(app)
    init_rate_limits(app)
    for blueprint in (health.bp, auth.bp, users.bp, api_keys.bp, messages.bp):
        app.register_blueprint(blueprint)
    init_dashboard(app)

    from cli import register_cli

    register_cli(app, include_demo=settings.environment == "dev")
    return app


app = create_app()

"""The web dashboard under /dashboard: log in, Settings, API Keys, Users, log out.

Server-rendered pages over the same repositories and account rules as the API. ``views`` holds the
blueprint and its own pages, ``keys``, ``users`` and ``security_log`` the Settings sections, ``password``
the Account page's Change password form, ``two_factor`` its Two-factor section, ``login_code`` a
two-factor login's code step, ``session`` the login session and CSRF tokens, ``pages`` what
every page shares (context, security headers, error pages); ``templates/`` and ``static/`` sit beside them.
"""

from __future__ import annotations

from flask import Flask

from handlers.dashboard import keys, login_code, password, security_log, two_factor, users
from handlers.dashboard.pages import display_clock, display_date, finish_dashboard_response
from handlers.dashboard.session import DashboardSessionInterface, session_tenant
from handlers.dashboard.views import bp
from handlers.ratelimit.subject import SESSION_TENANT_KEY

bp.register_blueprint(keys.bp)
bp.register_blueprint(users.bp)
bp.register_blueprint(security_log.bp)
bp.register_blueprint(password.bp)
bp.register_blueprint(two_factor.bp)
bp.register_blueprint(login_code.bp)


def init_dashboard(app: Flask) -> None:
    """Serve the dashboard: its blueprint, its cookie session, and its headers and error pages."""
    app.session_interface = DashboardSessionInterface()
    # Dashboard pages with a live session count against their tenant, not their network's IP.
    app.extensions[SESSION_TENANT_KEY] = session_tenant
    app.register_blueprint(bp)
    app.add_template_filter(display_date, "dashboard_date")
    app.add_template_filter(display_clock, "dashboard_clock")
    app.after_request(finish_dashboard_response)

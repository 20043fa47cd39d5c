"""Rate limiting with flask-limiter: per tenant for authenticated requests, per IP for the rest.

The public surface: ``limiter`` (the one flask-limiter instance), ``init_rate_limits`` (binds it to
an app), ``login_limits`` (the login's own limits, shared by the API and the dashboard). Inside:
``subject`` decides who a request counts against, ``saturation`` answers what process memory
already knows (full windows, refused credentials), ``headers`` writes the X-RateLimit-* headers.
"""

from handlers.ratelimit.limiter import init_rate_limits, limiter
from handlers.ratelimit.login import login_limits

__all__ = ["init_rate_limits", "limiter", "login_limits"]

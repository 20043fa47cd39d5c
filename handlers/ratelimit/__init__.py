"""Rate limiting with flask-limiter: per tenant for authenticated requests, per IP for the rest.

The public surface: ``limiter`` (the one flask-limiter instance, ``extension``), ``init_rate_limits``
(binds it to an app, ``wiring``), ``login_limits`` (the login's own limits, shared by the API and the
dashboard). Inside: ``subject`` decides who a request counts against, ``local`` answers what process
memory already knows (full windows, refused credentials) and counts tenant requests with
flask-limiter's strategy, ``saturation`` is that memory, ``headers`` writes the X-RateLimit-* headers.
"""

from handlers.ratelimit.extension import limiter
from handlers.ratelimit.login import login_limits, slow_down_if_targeted
from handlers.ratelimit.wiring import init_rate_limits

__all__ = ["init_rate_limits", "limiter", "login_limits", "slow_down_if_targeted"]

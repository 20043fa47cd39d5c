"""HTTP only: ``api/`` (JSON resources), ``dashboard/`` (pages), ``web/`` (plumbing), ``ratelimit/``."""

"""Web plumbing every route shares: the error envelope, request parsing and the OpenAPI document,
the one principal resolver, the JWT wiring, the request state, the request log and security headers."""

"""Domain and storage, no Flask.

- ``accounts/``: the account rules the API, the dashboard and the CLI share (one place each).
- ``store/``: DynamoDB helpers, table schemas, item keys, the ``limits`` storage, store errors.
- One module per entity, record and repository together: ``tenants``, ``users``, ``api_keys``,
  ``messages``, ``revoked_tokens``.
- Plain domain pieces: ``roles``, ``passwords``, ``key_format``, ``clock``, ``signing_secret``, and
  ``repositories`` (the bundle one app shares, built from the settings).
"""

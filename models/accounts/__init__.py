"""The account rules the API, the dashboard and the CLI share, each written once.

- ``principal``: who a request is made by, and how to build one from a user or a key.
- ``credentials``: checking a username and password; the live account behind a credential.
- ``user_changes``: what an admin may change on a user of their tenant.
- ``key_access``: which API keys a principal may see and manage.
- ``password_change``: changing one's own password, and an admin's reset of another user's.
- ``inputs``: the validated shapes of a new user, login credentials, a password change and a new key's name.
"""

"""Revoked refresh tokens, kept by ``jti`` until the token would have expired anyway."""

from __future__ import annotations

from collections.abc import Sequence

from models.audit import write_with_audit
from models.audit_record import AuditEvent
from models.store.dynamo import DynamoDB, read_item, to_item
from models.store.tables import REVOKED_TOKENS, TTL_ATTRIBUTE


class RevokedTokenRepository:
    """The revoked_tokens table."""

    def __init__(self, db: DynamoDB) -> None:
        self._db = db
        self._table = db.table_name(REVOKED_TOKENS.name)

    def revoke(self, jti: str, expires_at: int, audit: Sequence[AuditEvent] = ()) -> None:
        """Record a token as revoked (with ``audit``, in one transaction); DynamoDB's TTL removes it after ``expires_at``."""
        put = {"TableName": self._table, "Item": to_item({"jti": jti, TTL_ATTRIBUTE: int(expires_at)})}
        write_with_audit(self._db, "Put", put, audit)

    def is_revoked(self, jti: str) -> bool:
        """True when the token was revoked."""
        found = read_item(self._db, self._table, {"jti": jti})
        # An item past its TTL that DynamoDB has not yet deleted still says "revoked": its token
        # has expired by then, so the answer is right either way.
        return found is not None

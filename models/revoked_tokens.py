"""Revoked refresh tokens, kept by ``jti`` until the token would have expired anyway."""

from __future__ import annotations

from models.store.dynamo import DynamoDB, read_item, to_item, translate_errors
from models.store.tables import REVOKED_TOKENS, TTL_ATTRIBUTE


class RevokedTokenRepository:
    """The revoked_tokens table."""

    def __init__(self, db: DynamoDB) -> None:
        self._db = db
        self._table = db.table_name(REVOKED_TOKENS.name)

    def revoke(self, jti: str, expires_at: int) -> None:
        """Record a token as revoked; DynamoDB's TTL removes the record after ``expires_at``."""
        with translate_errors():
            self._db.client.put_item(TableName=self._table, Item=to_item({"jti": jti, TTL_ATTRIBUTE: int(expires_at)}))

    def is_revoked(self, jti: str) -> bool:
        """True when the token was revoked."""
        found = read_item(self._db, self._table, {"jti": jti})
        # An item past its TTL that DynamoDB has not yet deleted still says "revoked": its token
        # has expired by then, so the answer is right either way.
        return found is not None

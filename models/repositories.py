"""The repositories and clients one app shares: built once from the settings, injected everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from config import Settings
from models.api_keys import ApiKeyRepository
from models.audit import AuditRepository
from models.clock import Clock
from models.messages import MessageRepository
from models.mfa import MfaKeys
from models.mfa_repository import MfaRepository
from models.revoked_tokens import RevokedTokenRepository
from models.signing_secret import SigningSecret
from models.store.dynamo import DynamoDB
from models.tenants import TenantCache, TenantRepository
from models.users import UserRepository


@dataclass
class Repositories:
    """Settings, the DynamoDB client, the signing secret, the clock and one repository per entity."""

    settings: Settings
    db: DynamoDB
    signing_secret: SigningSecret
    tenants: TenantRepository
    users: UserRepository
    revoked_tokens: RevokedTokenRepository
    api_keys: ApiKeyRepository
    messages: MessageRepository
    tenant_cache: TenantCache
    audit: AuditRepository
    mfa: MfaRepository
    # Replaceable so tests can move time instead of sleeping; repositories read it through ``now``.
    clock: Clock = field(default_factory=Clock)

    def now(self) -> datetime:
        """The current time by this app's clock (the one every repository stamps with)."""
        return self.clock.now()

    @classmethod
    def from_settings(cls, settings: Settings) -> Repositories:
        """Wire the repositories to one lazily connected DynamoDB client and to this bundle's clock."""
        db = DynamoDB(settings.table_prefix, settings.aws_region)

        # Bound late: a test that swaps ``clock`` moves every repository's time too.
        def now() -> datetime:
            return bundle.now()

        users = UserRepository(db, now)
        signing_secret = SigningSecret(settings)
        # MFA_ENCRYPTION_KEY when set, else the signing secret (config.py says why; read lazily, as it is).
        mfa_keys = MfaKeys(lambda: settings.mfa_encryption_key or signing_secret.get())
        tenants = TenantRepository(db, now)
        bundle = cls(
            settings=settings,
            db=db,
            signing_secret=signing_secret,
            tenants=tenants,
            users=users,
            revoked_tokens=RevokedTokenRepository(db),
            api_keys=ApiKeyRepository(db, users),
            messages=MessageRepository(db),
            tenant_cache=TenantCache(tenants, now=lambda: now().timestamp()),
            audit=AuditRepository(db, now, settings.audit_retention_days),
            mfa=MfaRepository(db, users, mfa_keys, now),
        )
        return bundle

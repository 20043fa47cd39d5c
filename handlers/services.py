"""The per-app bundle of settings and repositories that handlers reach through ``services()``."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from config import Settings
from models.api_keys import ApiKeyRepository
from models.clock import Clock
from models.dynamo import DynamoDB
from models.messages import MessageRepository
from models.signing_secret import SigningSecret
from models.tenants import TenantLimitCache, TenantRepository
from models.tokens import RevokedTokenRepository
from models.users import UserRepository

EXTENSION_KEY = "nativemessage"


@dataclass
class Services:
    """Settings, the signing secret and one repository per entity, shared by every request."""

    settings: Settings
    db: DynamoDB
    signing_secret: SigningSecret
    tenants: TenantRepository
    users: UserRepository
    revoked_tokens: RevokedTokenRepository
    api_keys: ApiKeyRepository
    messages: MessageRepository
    tenant_limits: TenantLimitCache
    # Replaceable so tests can move time instead of sleeping.
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Wire repositories to one lazily connected DynamoDB client."""
        db = DynamoDB(settings.table_prefix, settings.aws_region)
        users = UserRepository(db)
        tenants = TenantRepository(db)
        clock = Clock()
        services = cls(
            settings=settings,
            db=db,
            signing_secret=SigningSecret(settings),
            tenants=tenants,
            users=users,
            revoked_tokens=RevokedTokenRepository(db),
            api_keys=ApiKeyRepository(db, users),
            messages=MessageRepository(db),
            # Reads the clock through the bundle, so a test that swaps the clock moves this too.
            tenant_limits=TenantLimitCache(tenants, now=lambda: services.clock.now().timestamp()),
            clock=clock,
        )
        return services


def services() -> Services:
    """The services of the app handling the current request or CLI command."""
    return current_app.extensions[EXTENSION_KEY]

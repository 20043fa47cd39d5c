"""The per-app bundle of settings and repositories that handlers reach through ``services()``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from config import Settings
from models.dynamo import DynamoDB
from models.signing_secret import SigningSecret
from models.tenants import TenantRepository
from models.tokens import RevokedTokenRepository
from models.users import UserRepository

EXTENSION_KEY = "nativemessage"


@dataclass(frozen=True)
class Services:
    """Settings, the signing secret and one repository per entity, shared by every request."""

    settings: Settings
    db: DynamoDB
    signing_secret: SigningSecret
    tenants: TenantRepository
    users: UserRepository
    revoked_tokens: RevokedTokenRepository

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Wire repositories to one lazily connected DynamoDB client."""
        db = DynamoDB(settings.table_prefix, settings.aws_region)
        return cls(
            settings=settings,
            db=db,
            signing_secret=SigningSecret(settings),
            tenants=TenantRepository(db),
            users=UserRepository(db),
            revoked_tokens=RevokedTokenRepository(db),
        )


def services() -> Services:
    """The services of the app handling the current request or CLI command."""
    return current_app.extensions[EXTENSION_KEY]

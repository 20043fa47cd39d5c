"""Request and response models of two-factor authentication (``/me/mfa/totp``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.accounts.inputs import AccountInput

# A TOTP code is 6 digits, a recovery code 14 characters with its dashes; room for spaces typed.
CODE_MAX_LENGTH = 64


class TotpEnrolment(BaseModel):
    """``201`` of ``POST /me/mfa/totp``: the new secret and its otpauth URI, shown this once."""

    secret: str = Field(examples=["JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"])
    otpauth_uri: str = Field(examples=["otpauth://totp/NativeMessage:alice?secret=...&issuer=NativeMessage"])


class TotpConfirmRequest(AccountInput):
    """``POST /me/mfa/totp/confirm``: a current code of the new secret."""

    code: str = Field(min_length=1, max_length=CODE_MAX_LENGTH)


class RecoveryCodes(BaseModel):
    """``200`` of ``POST /me/mfa/totp/confirm``: ten single-use recovery codes, shown this once."""

    recovery_codes: list[str] = Field(examples=[["7kq2-m9xd-3fhp"]])


class TotpDisableRequest(AccountInput):
    """``POST /me/mfa/totp/disable``: the caller's password and a current code (or a recovery code)."""

    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(min_length=1, max_length=CODE_MAX_LENGTH)

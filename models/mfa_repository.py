"""Two-factor authentication on the user's item: enrolment, confirmation, codes at login, disabling.

Every write is one conditional UpdateItem of the user's item (with its audit events in the same
transaction when there are any). Each one also moves ``keys_version`` on: ``UserRepository.update``
rewrites the whole item guarded by it, and must not put back the two-factor state it read before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.audit import write_with_audit
from models.audit_record import AuditEvent
from models.clock import iso
from models.mfa import (
    MfaKeys,
    UndecryptableSecret,
    accepted_step,
    is_totp_code,
    new_recovery_codes,
    new_secret,
    otpauth_uri,
)
from models.store.dynamo import DynamoDB, to_item
from models.store.errors import Conflict, NotFound
from models.store.item_keys import user_key
from models.store.tables import ACCOUNTS
from models.users import User, UserRepository

TOTP = "totp"
RECOVERY_CODE = "recovery_code"


class InvalidCode(Exception):
    """The code given is wrong, already used, or not for this user's two-factor state."""


@dataclass(frozen=True)
class Enrolment:
    """A started enrolment: the secret in clear, shown to the user this once, and its otpauth URI."""

    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)  # it holds the secret too


@dataclass(frozen=True)
class _Proof:
    # What makes a code's use a single write: its condition, the values it names, and the write's clauses.
    kind: str
    condition: str
    values: dict[str, Any]
    set_clauses: tuple[str, ...] = ()
    delete_clause: str | None = None


class MfaRepository:
    """The ``mfa_*`` attributes of user items in the accounts table."""

    def __init__(self, db: DynamoDB, users: UserRepository, keys: MfaKeys, now: Callable[[], datetime]) -> None:
        self._db = db
        self._users = users
        self._keys = keys
        self._now = now
        self._table = db.table_name(ACCOUNTS.name)

    def start_enrolment(self, user: User) -> Enrolment:
        """Store a new pending secret for ``user`` (replacing any pending one); Conflict if TOTP is already on."""
        current = self._users.reload(user)
        if current.mfa_enabled:
            raise Conflict("two-factor authentication is already on; disable it first")
        secret = new_secret()
        stored = self._keys.encrypt_secret(secret, current.user_id)
        self._write(
            current,
            sets=("mfa_pending_secret = :pending",),
            condition="(attribute_not_exists(mfa_enabled) OR mfa_enabled = :no)",
            values={":pending": stored, ":no": False},
            conflict="two-factor authentication is already on; disable it first",
        )
        return Enrolment(secret, otpauth_uri(secret, current.username))

    def pending_enrolment(self, user: User) -> Enrolment | None:
        """The enrolment ``user`` started and has not confirmed (its secret in clear, to show again), or None."""
        current = self._users.reload(user)
        if current.mfa_enabled or current.mfa_pending_secret is None:
            return None
        try:
            secret = self._keys.decrypt_secret(current.mfa_pending_secret, current.user_id)
        except UndecryptableSecret:
            # Begun under another key: as good as none, and starting again replaces it.
            return None
        return Enrolment(secret, otpauth_uri(secret, current.username))

    def confirm(self, user: User, code: str, audit: Sequence[AuditEvent] = ()) -> list[str]:
        """Turn TOTP on with a current code of the pending secret; the 10 recovery codes, in clear, this once.

        InvalidCode for a wrong code, or when no enrolment was started; ``audit`` (mfa.enabled) is
        written in the same transaction. UndecryptableSecret when the pending secret does not decrypt
        with the current key (starting the enrolment again encrypts a new one with it).
        """
        current = self._users.reload(user)
        if current.mfa_enabled or current.mfa_pending_secret is None:
            raise InvalidCode("no two-factor enrolment is waiting for a code; start one first")
        secret = self._keys.decrypt_secret(current.mfa_pending_secret, current.user_id)
        step = accepted_step(secret, code, self._now(), current.mfa_last_step)
        if step is None:
            raise InvalidCode("the code is not a current one of the new secret")
        codes = new_recovery_codes()
        self._write(
            current,
            sets=(
                "mfa_enabled = :yes",
                "mfa_secret = :pending",
                "mfa_last_step = :step",
                "mfa_recovery = :digests",
            ),
            removes=("mfa_pending_secret",),
            # Only the enrolment checked: a restarted one (a new pending secret) meanwhile wins.
            condition="mfa_pending_secret = :pending AND (attribute_not_exists(mfa_enabled) OR mfa_enabled = :no)",
            values={
                ":yes": True,
                ":no": False,
                ":pending": current.mfa_pending_secret,
                ":step": step,
                ":digests": {self._keys.recovery_code_digest(value) for value in codes},
            },
            audit=audit,
            conflict="the two-factor enrolment changed meanwhile; start again",
        )
        return codes

    def use_code(
        self,
        user: User,
        code: str,
        audit: Sequence[AuditEvent] = (),
        recovery_audit: Sequence[AuditEvent] = (),
    ) -> str:
        """Accept a login's ``code`` (a TOTP code, or a recovery code, which is then gone): TOTP or RECOVERY_CODE.

        InvalidCode when wrong or already used, also when two requests race with one code: the
        write is conditional, so only one of them passes. ``audit`` (the login's own record) and, for a
        recovery code, ``recovery_audit`` (mfa.recovery_code_used) are written in the same transaction
        as the code's use: a code is never spent by a login that is not recorded, nor the reverse.
        UndecryptableSecret when the stored secret does not decrypt with the current key.
        """
        proof = self._proof(user, code)
        events = [*audit, *(recovery_audit if proof.kind == RECOVERY_CODE else ())]
        self._use(user, proof, audit=events)
        return proof.kind

    def disable(self, user: User, code: str, audit: Sequence[AuditEvent] = ()) -> None:
        """Turn TOTP off with a current (unused) code or a recovery code; ``audit`` (mfa.disabled) in one transaction.

        The caller checks the password first. InvalidCode when the code is wrong or already used;
        UndecryptableSecret as for ``use_code``.
        """
        current = self._users.reload(user)
        proof = self._proof(current, code)
        self._use(
            current,
            proof,
            sets=("mfa_enabled = :no",),
            removes=("mfa_secret", "mfa_recovery", "mfa_pending_secret"),
            values={":no": False},
            audit=audit,
        )

    def _proof(self, user: User, code: str) -> _Proof:
        if not user.mfa_enabled or user.mfa_secret is None:
            raise InvalidCode("two-factor authentication is not on")
        # Decrypted for a recovery code too: the codes' digests are keyed from the same material, so
        # when the secret does not decrypt (the key changed) no code can be checked, and the answer
        # must say so (UndecryptableSecret) rather than call every recovery code wrong.
        secret = self._keys.decrypt_secret(user.mfa_secret, user.user_id)
        if is_totp_code(code):
            step = accepted_step(secret, code, self._now(), user.mfa_last_step)
            if step is None:
                raise InvalidCode("wrong or already used code")
            return _Proof(
                TOTP,
                "(attribute_not_exists(mfa_last_step) OR mfa_last_step < :step)",
                {":step": step},
                set_clauses=("mfa_last_step = :step",),
            )
        digest = self._keys.recovery_code_digest(code)
        if digest not in user.mfa_recovery:
            raise InvalidCode("wrong or already used recovery code")
        return _Proof(
            RECOVERY_CODE,
            "contains(mfa_recovery, :digest)",
            {":digest": digest, ":digests": {digest}},
            delete_clause="mfa_recovery :digests",
        )

    def _use(
        self,
        user: User,
        proof: _Proof,
        *,
        sets: tuple[str, ...] = (),
        removes: tuple[str, ...] = (),
        values: dict[str, Any] | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> None:
        proof_values = dict(proof.values)
        delete = proof.delete_clause
        if "mfa_recovery" in removes:
            # Every recovery code goes: the one used need not be deleted on its own (nor named).
            delete = None
            proof_values.pop(":digests", None)
        self._write(
            user,
            sets=(*proof.set_clauses, *sets),
            removes=removes,
            delete=delete,
            condition=f"mfa_enabled = :on AND {proof.condition}",
            values={":on": True, **proof_values, **(values or {})},
            audit=audit,
            conflict=None,
        )

    def _write(
        self,
        user: User,
        *,
        sets: tuple[str, ...],
        condition: str,
        values: dict[str, Any],
        removes: tuple[str, ...] = (),
        delete: str | None = None,
        audit: Sequence[AuditEvent] = (),
        conflict: str | None,
    ) -> None:
        # One conditional update of this user's item (the username may since be someone else's);
        # Conflict(``conflict``) when the condition fails, or InvalidCode without one (a code's use).
        clauses = [*sets, "updated_at = :now", "keys_version = if_not_exists(keys_version, :zero) + :one"]
        expression = "SET " + ", ".join(clauses)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        if delete:
            expression += " DELETE " + delete
        request = {
            "TableName": self._table,
            "Key": to_item(user_key(user.username)),
            "UpdateExpression": expression,
            "ConditionExpression": f"user_id = :uid AND {condition}",
            "ExpressionAttributeValues": to_item(
                {**values, ":uid": user.user_id, ":now": iso(self._now()), ":zero": 0, ":one": 1}
            ),
        }
        if write_with_audit(self._db, "Update", request, audit):
            return
        current = self._users.find_by_username(user.username)
        if current is None or current.user_id != user.user_id:
            raise NotFound("user not found")
        if conflict is None:
            raise InvalidCode("wrong or already used code")
        raise Conflict(conflict)

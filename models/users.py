"""Users: username (globally unique, case-insensitive), password hash, role and status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from models.audit import put_actions, write_with_audit
from models.audit_record import AuditEvent
from models.clock import iso
from models.store.dynamo import (
    TENANT_INDEX,
    DynamoDB,
    TransactionCancelled,
    backoff,
    from_item,
    put_new_item,
    query_tenant_index,
    read_item,
    to_item,
    transact_write,
    translate_errors,
)
from models.store.errors import Conflict, NotAllowed, NotFound
from models.store.item_keys import api_key_key, is_user_id, new_user_id, tenant_users_index_key, user_key
from models.store.tables import ACCOUNTS
from models.store.tenant_index import IndexPage, page_tenant_index
from models.user_record import User, user_from_item, user_item

# Optimistic-concurrency retries when a key is created while the user changes.
UPDATE_ATTEMPTS = 5
# Moves a user's session generation on (with values :zero and :one): every credential stamped before dies.


class _GenerationMoved(Exception):
    """The user's session generation moved on since it was read (another sign-out, a disable)."""


class UserRepository:
    """User items of the accounts table and the ``by_tenant`` index over them."""

    def __init__(self, db: DynamoDB, now: Callable[[], datetime]) -> None:
        self._db = db
        self._now = now
        self._table = db.table_name(ACCOUNTS.name)

    def create(
        self, tenant_id: str, username: str, password_hash: str, role: str, audit: Sequence[AuditEvent] = ()
    ) -> User:
        """Create a user; Conflict if the username is taken in any case, in any tenant.

        ``audit`` events (naming the new user) are written in the same transaction.
        """
        now = iso(self._now())
        user = User(
            user_id=new_user_id(),
            tenant_id=tenant_id,
            username=username,
            role=role,
            disabled=False,
            created_at=now,
            updated_at=now,
            password_hash=password_hash,
        )
        item = {**user_key(username), **tenant_users_index_key(tenant_id, user.user_id), **user_item(user)}
        # The casefolded username is the key, so "the key is new" is the uniqueness rule.
        if not audit:
            put_new_item(self._db, self._table, item, conflict="username is already taken")
            return user
        put = {
            "Put": {"TableName": self._table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
        }
        try:
            transact_write(self._db.client, [put, *put_actions(self._db, (e.about(user.user_id) for e in audit))])
        except TransactionCancelled as exc:
            if exc.failed_condition(0):
                raise Conflict("username is already taken") from exc
            raise
        return user

    def find_by_username(self, username: str) -> User | None:
        """The user with this username in any case, or None."""
        item = read_item(self._db, self._table, user_key(username))
        return user_from_item(item) if item else None

    def get_in_tenant(self, tenant_id: str, user_id: str) -> User:
        """A user of this tenant by id; NotFound for other tenants' users and unknown ids."""
        if not is_user_id(user_id):
            raise NotFound("user not found")
        index_key = tenant_users_index_key(tenant_id, user_id)
        with translate_errors():
            response = self._db.client.query(
                TableName=self._table,
                IndexName=TENANT_INDEX,
                KeyConditionExpression="gsi1pk = :pk AND gsi1sk = :sk",
                ExpressionAttributeValues=to_item({":pk": index_key["gsi1pk"], ":sk": index_key["gsi1sk"]}),
                ProjectionExpression="username",
            )
        items = response.get("Items", [])
        if not items:
            raise NotFound("user not found")
        # The index is eventually consistent: read the item itself for its current state.
        user = self.find_by_username(from_item(items[0])["username"])
        if user is None or user.user_id != user_id or user.tenant_id != tenant_id:
            raise NotFound("user not found")
        return user

    def list_for_tenant(self, tenant_id: str) -> list[User]:
        """Every user of a tenant, oldest first (no password hashes: the index does not hold them)."""
        return [user_from_item(item) for item in query_tenant_index(self._db, self._table, tenant_id, "USER#")]

    def list_page(
        self, tenant_id: str, *, limit: int, after: str | None = None, newest_first: bool = False
    ) -> IndexPage[User]:
        """Up to ``limit`` users of a tenant after the user id ``after``, oldest first by default."""
        return page_tenant_index(
            self._db, self._table, tenant_id, "USER#", user_from_item, limit=limit, after=after, descending=newest_first
        )

    def update(
        self,
        user: User,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        acting_admin: User | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> User:
        """Change role and/or disabled flag, and the same on every live API key of the user, atomically.

        Disabling ends the user's sessions for good (their generation moves on). With ``acting_admin``,
        the write happens only while that admin is still an active admin of the tenant, checked in the
        same transaction: two admins demoting each other cannot both succeed, so a tenant never loses
        its last active admin (NotAllowed for the one that loses).
        """
        for attempt in range(UPDATE_ATTEMPTS):
            current = self.reload(user)
            changes: dict[str, Any] = {"updated_at": iso(self._now())}
            if role is not None:
                changes["role"] = role
            if disabled is not None:
                changes["disabled"] = disabled
                if disabled and not current.disabled:
                    changes["session_generation"] = current.session_generation + 1
            updated = replace(current, **changes)
            actions = [self.user_write(current, updated)]
            actions += [
                self._key_creator_update(entry["digest"], updated.role, updated.disabled)
                for entry in current.api_keys.values()
            ]
            actions += put_actions(self._db, audit)
            if acting_admin is not None:
                actions.append(self._still_active_admin(acting_admin))
            try:
                transact_write(self._db.client, actions)
            except TransactionCancelled as exc:
                if acting_admin is not None and exc.failed_condition(len(actions) - 1):
                    raise NotAllowed("your admin rights changed while this request was processed") from exc
                if exc.failed_condition(0):
                    backoff(attempt)
                    continue  # a key was created or revoked meanwhile: re-read and retry
                raise
            return replace(updated, keys_version=current.keys_version + 1)
        raise Conflict("the user changed concurrently; retry")

    def _still_active_admin(self, admin: User) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_item(user_key(admin.username)),
                "ConditionExpression": "user_id = :uid AND tenant_id = :tid AND #role = :admin AND disabled = :no",
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": to_item(
                    {":uid": admin.user_id, ":tid": admin.tenant_id, ":admin": "admin", ":no": False}
                ),
            }
        }

    def end_sessions(self, user: User, audit: Sequence[AuditEvent] = ()) -> User:
        """Move the user's session generation on: every refresh token and dashboard session issued
        before now stops working (access tokens live out their 15 minutes). One conditional write,
        with ``audit`` in its transaction."""
        for attempt in range(UPDATE_ATTEMPTS):
            try:
                return self._set_on_this_user(
                    user, {"session_generation": user.session_generation + 1}, audit, from_generation=True
                )
            except _GenerationMoved:
                user = self.reload(user)  # another sign-out (or a disable) moved it first: from there
                backoff(attempt)
        raise Conflict("the user changed concurrently; retry")

    def change_password(self, user: User, password_hash: str, audit: Sequence[AuditEvent] = ()) -> User:
        """Set a new password hash and move the session generation on (as ``end_sessions``), in one write
        (with ``audit``, in one transaction).

        Only while the stored hash is still ``user.password_hash`` (the one a current password was
        checked against): Conflict if another change came first, NotFound if the user is gone.
        """
        for attempt in range(UPDATE_ATTEMPTS):
            fields = {"password_hash": password_hash, "session_generation": user.session_generation + 1}
            try:
                return self._set_on_this_user(user, fields, audit, from_generation=True, seen_hash=user.password_hash)
            except _GenerationMoved:
                user = self.reload(user)  # a sign-out or a disable moved the generation first; the hash is as seen
                backoff(attempt)
        raise Conflict("the user changed concurrently; retry")

    def set_password_hash(self, user: User, password_hash: str, audit: Sequence[AuditEvent] = ()) -> User:
        """Replace a user's stored password hash (used to upgrade hashing parameters)."""
        return self._set_on_this_user(user, {"password_hash": password_hash}, audit)

    def _set_on_this_user(
        self,
        user: User,
        fields: dict[str, Any],
        audit: Sequence[AuditEvent],
        *,
        from_generation: bool = False,
        seen_hash: str | None = None,
    ) -> User:
        # One conditional write of the user's item (and its updated_at), in a transaction with its
        # audit events when there are any; NotFound if the user is gone. With ``from_generation``,
        # only while the session generation is still the one ``user`` holds (_GenerationMoved); with
        # ``seen_hash``, only while the stored password hash is still that one (Conflict).
        changes = {**fields, "updated_at": iso(self._now())}
        names = {f"#f{index}": name for index, name in enumerate(changes)}
        values = {f":v{index}": value for index, value in enumerate(changes.values())}
        # The same username may since belong to a new user: only touch this one.
        condition = "user_id = :uid"
        values[":uid"] = user.user_id
        if from_generation:
            values[":gen"] = user.session_generation
            unset = " OR attribute_not_exists(session_generation)" if user.session_generation == 0 else ""
            condition += f" AND (session_generation = :gen{unset})"
        if seen_hash is not None:
            values[":seen"] = seen_hash
            condition += " AND password_hash = :seen"
        assignments = [f"{name} = {value}" for name, value in zip(names, values, strict=False)]
        # keys_version guards every whole-item rewrite of the user (update, key creation): moved on
        # here too, a rewrite that read the user before this write retries instead of putting the
        # old password hash or session generation back.
        assignments.append("keys_version = if_not_exists(keys_version, :zero) + :one")
        values.update({":zero": 0, ":one": 1})
        update = {
            "TableName": self._table,
            "Key": to_item(user_key(user.username)),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
        if not write_with_audit(self._db, "Update", update, audit):
            current = self.find_by_username(user.username)
            if current is None or current.user_id != user.user_id:
                raise NotFound("user not found")
            if seen_hash is not None and current.password_hash != seen_hash:
                raise Conflict("the password was changed meanwhile; retry")
            if from_generation:
                raise _GenerationMoved()
            raise Conflict("the user changed concurrently; retry")
        return replace(user, **changes, keys_version=user.keys_version + 1)

    def delete(self, user: User) -> None:
        """Delete a user and stop every API key they created, in one transaction."""
        current = self.reload(user)
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": to_item(user_key(current.username)),
                    "ConditionExpression": "user_id = :uid AND keys_version = :v",
                    "ExpressionAttributeValues": to_item({":uid": current.user_id, ":v": current.keys_version}),
                }
            }
        ]
        actions += [
            self._key_creator_update(entry["digest"], current.role, True) for entry in current.api_keys.values()
        ]
        try:
            transact_write(self._db.client, actions)
        except TransactionCancelled as exc:
            raise Conflict("the user changed concurrently; retry") from exc

    def user_write(self, current: User, updated: User) -> dict[str, Any]:
        """A transaction action writing ``updated`` over ``current``, if nobody changed it meanwhile."""
        item: dict[str, Any] = {
            **user_key(updated.username),
            **tenant_users_index_key(updated.tenant_id, updated.user_id),
        }
        item.update(user_item(updated), keys_version=current.keys_version + 1)
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": "user_id = :uid AND (keys_version = :v OR attribute_not_exists(keys_version))",
                "ExpressionAttributeValues": to_item({":uid": current.user_id, ":v": current.keys_version}),
            }
        }

    def reload(self, user: User) -> User:
        """The current state of this user (same id); NotFound if deleted or replaced."""
        current = self.find_by_username(user.username)
        if current is None or current.user_id != user.user_id:
            raise NotFound("user not found")
        return current

    def _key_creator_update(self, digest: str, role: str, disabled: bool) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item(api_key_key(digest)),
                "UpdateExpression": "SET creator_role = :role, creator_disabled = :disabled",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":role": role, ":disabled": disabled}),
            }
        }

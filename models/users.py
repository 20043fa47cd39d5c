"""Users: username (globally unique, case-insensitive), password hash, role and status."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Iterator

from models.dynamo import DynamoDB, error_code, from_item, to_item, translate_errors
from models.errors import Conflict, NotFound
from models.keys import is_user_id, new_user_id, tenant_users_index_key, user_key
from models.tables import ACCOUNTS

TENANT_INDEX = "by_tenant"


@dataclass(frozen=True)
class User:
    """A person with a login inside one tenant."""

    user_id: str
    tenant_id: str
    username: str
    role: str
    disabled: bool
    created_at: str
    updated_at: str
    password_hash: str | None = field(default=None, repr=False)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class UserRepository:
    """User items of the accounts table and the ``by_tenant`` index over them."""

    def __init__(self, db: DynamoDB) -> None:
        self._db = db
        self._table = db.table_name(ACCOUNTS.name)

    def create(self, tenant_id: str, username: str, password_hash: str, role: str) -> User:
        """Create a user; Conflict if the username is taken in any case, in any tenant."""
        now = _now()
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
        item = {**user_key(username), **tenant_users_index_key(tenant_id, user.user_id), **asdict(user), "type": "user"}
        with translate_errors():
            try:
                # The casefolded username is the key, so this condition is the uniqueness rule.
                self._db.client.put_item(
                    TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
                )
            except Exception as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise Conflict("username is already taken") from exc
                raise
        return user

    def find_by_username(self, username: str) -> User | None:
        """The user with this username in any case, or None."""
        with translate_errors():
            response = self._db.client.get_item(
                TableName=self._table, Key=to_item(user_key(username)), ConsistentRead=True
            )
        item = response.get("Item")
        return _user(from_item(item)) if item else None

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
        return list(self._iter_tenant(tenant_id))

    def _iter_tenant(self, tenant_id: str) -> Iterator[User]:
        paginator = self._db.client.get_paginator("query")
        with translate_errors():
            pages = paginator.paginate(
                TableName=self._table,
                IndexName=TENANT_INDEX,
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
                ExpressionAttributeValues=to_item({":pk": f"TENANT#{tenant_id}", ":prefix": "USER#"}),
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield _user(from_item(item))

    def update(self, user: User, *, role: str | None = None, disabled: bool | None = None) -> User:
        """Change a user's role and/or disabled flag; NotFound if the user changed identity meanwhile."""
        changes: dict[str, Any] = {"updated_at": _now()}
        if role is not None:
            changes["role"] = role
        if disabled is not None:
            changes["disabled"] = disabled
        return self._update(user, changes)

    def set_password_hash(self, user: User, password_hash: str) -> User:
        """Replace a user's stored password hash (used to upgrade hashing parameters)."""
        return self._update(user, {"password_hash": password_hash, "updated_at": _now()})

    def delete(self, user: User) -> None:
        """Delete a user (operators only; the item and its tokens' validity go with it)."""
        with translate_errors():
            self._db.client.delete_item(TableName=self._table, Key=to_item(user_key(user.username)))

    def _update(self, user: User, changes: dict[str, Any]) -> User:
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": value for i, value in enumerate(changes.values())}
        assignments = ", ".join(f"{name} = {value}" for name, value in zip(names, values, strict=False))
        with translate_errors():
            try:
                response = self._db.client.update_item(
                    TableName=self._table,
                    Key=to_item(user_key(user.username)),
                    UpdateExpression=f"SET {assignments}",
                    # The same username may since belong to a new user: only touch this one.
                    ConditionExpression="user_id = :uid AND tenant_id = :tid",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item({**values, ":uid": user.user_id, ":tid": user.tenant_id}),
                    ReturnValues="ALL_NEW",
                )
            except Exception as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise NotFound("user not found") from exc
                raise
        return _user(from_item(response["Attributes"]))


def _user(values: dict[str, Any]) -> User:
    return User(
        user_id=values["user_id"],
        tenant_id=values["tenant_id"],
        username=values["username"],
        role=values["role"],
        disabled=bool(values.get("disabled", False)),
        created_at=values["created_at"],
        updated_at=values.get("updated_at", values["created_at"]),
        password_hash=values.get("password_hash"),
    )

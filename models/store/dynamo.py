"""The process-wide DynamoDB client and the helpers every repository shares."""

from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator, Mapping

from models.store.errors import Conflict, StoreUnavailable

# The accounts table's index of a tenant's users and keys (schema in models/tables.py).
TENANT_INDEX = "by_tenant"

# Error codes that mean "try again later", not "your request is wrong".
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
        # A plain write that met a transaction on the same item: nothing was written; retry.
        "TransactionConflictException",
    }
)


class DynamoDB:
    """Creates the boto3 DynamoDB client lazily, once per process, and names the tables."""

    def __init__(self, table_prefix: str, region: str) -> None:
        self.table_prefix = table_prefix
        self.region = region
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The low-level DynamoDB client, created on first use (never at import)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    # Short timeouts and few retries: a request waiting on DynamoDB holds a
                    # Lambda instance, and the client is better told "503, retry" quickly.
                    config = Config(
                        connect_timeout=2,
                        read_timeout=5,
                        retries={"max_attempts": 3, "mode": "standard"},
                    )
                    self._client = boto3.client("dynamodb", region_name=self.region, config=config)
        return self._client

    def table_name(self, logical_name: str) -> str:
        """The physical table name for a logical one (``accounts`` -> ``nativemessage-accounts``)."""
        return f"{self.table_prefix}{logical_name}"


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn botocore's transport and throttling failures into StoreUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise StoreUnavailable("a DynamoDB table is missing: run `flask --app app db init`") from exc
        if code in RETRYABLE_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise StoreUnavailable() from exc
        raise
    except BotoCoreError as exc:
        raise StoreUnavailable() from exc


def error_code(exc: BaseException) -> str:
    """The DynamoDB error code of a ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialize a plain dict into DynamoDB's typed attribute format, dropping None values."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Deserialize a DynamoDB item into plain Python values (numbers become int where whole)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain: dict[str, Any] = {}
    for key, value in item.items():
        decoded = deserializer.deserialize(value)
        if isinstance(decoded, Decimal):
            decoded = int(decoded) if decoded == decoded.to_integral_value() else float(decoded)
        plain[key] = decoded
    return plain


class TransactionCancelled(Conflict):
    """A TransactWriteItems call was cancelled; ``reasons`` has one code per action ('None' if fine).

    A Conflict: one that no repository expected (a condition of an action nobody checks, such as an
    audit record's) reaches the client as 409 "retry", nothing having been written.
    """

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the change met a concurrent one and was not made; retry")
        self.reasons = reasons

    def failed_condition(self, index: int) -> bool:
        """True when action ``index`` was cancelled by its condition."""
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


def transact_write(client: Any, actions: list[dict[str, Any]]) -> None:
    """Run TransactWriteItems; TransactionCancelled carries which action's condition failed."""
    with translate_errors():
        try:
            client.transact_write_items(TransactItems=actions)
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            cancellation: list[dict[str, Any]] = getattr(exc, "response", {}).get("CancellationReasons", [])
            reasons = [reason.get("Code", "None") for reason in cancellation]
            # TransactionConflict: another transaction held an item; nothing was written, so retrying is safe.
            if any(code in RETRYABLE_CODES or code in ("ThrottlingError", "TransactionConflict") for code in reasons):
                raise StoreUnavailable() from exc
            raise TransactionCancelled(reasons) from exc


def backoff(attempt: int) -> None:
    """Sleep a little before retrying an optimistic write (full jitter, 20 ms doubling per attempt)."""
    time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not a secret


def read_item(db: DynamoDB, table: str, key: Mapping[str, Any], consistent: bool = True) -> dict[str, Any] | None:
    """One item as plain values (strongly consistent by default), or None when there is none."""
    with translate_errors():
        response = db.client.get_item(TableName=table, Key=to_item(key), ConsistentRead=consistent)
    item = response.get("Item")
    return from_item(item) if item else None


def put_new_item(db: DynamoDB, table: str, item: Mapping[str, Any], conflict: str) -> None:
    """Write an item whose key must not exist yet (``pk``); Conflict(``conflict``) when it does."""
    with translate_errors(), failed_condition_raises(Conflict(conflict)):
        db.client.put_item(TableName=table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")


@contextmanager
def failed_condition_raises(error: Exception) -> Iterator[None]:
    """Turn a write's ``ConditionalCheckFailedException`` into the domain ``error`` (NotFound, Conflict)."""
    try:
        yield
    except Exception as exc:
        if is_failed_condition(exc):
            raise error from exc
        raise


def conditional_update(client: Any, **request: Any) -> dict[str, Any] | None:
    """Run UpdateItem; its response, or None when its ConditionExpression did not hold.

    Raises botocore's errors as they are: callers decide whether to translate them (repositories
    do, with ``translate_errors``; the limits storage leaves them to flask-limiter).
    """
    try:
        response: dict[str, Any] = client.update_item(**request)
    except Exception as exc:
        if is_failed_condition(exc):
            return None
        raise
    return response


def is_failed_condition(exc: BaseException) -> bool:
    """True for a write refused because its ConditionExpression did not hold."""
    return error_code(exc) == "ConditionalCheckFailedException"


def query_tenant_index(db: DynamoDB, table: str, tenant_id: str, sort_prefix: str) -> Iterator[dict[str, Any]]:
    """Every item of a tenant in the accounts table's ``by_tenant`` index whose sort key starts so."""
    paginator = db.client.get_paginator("query")
    with translate_errors():
        pages = paginator.paginate(
            TableName=table,
            IndexName=TENANT_INDEX,
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"TENANT#{tenant_id}", ":prefix": sort_prefix}),
        )
        for page in pages:
            for item in page.get("Items", []):
                yield from_item(item)

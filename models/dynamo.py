"""The process-wide DynamoDB client and the helpers every repository shares."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator, Mapping

from models.errors import StoreUnavailable

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

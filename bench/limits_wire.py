"""The limits table answered at botocore's wire, in process: a lease's client CPU without an emulator's.

``GET /me`` leases permits with one conditional ``UpdateItem`` per batch. In production that call is
botocore's CPU (serialise, sign, parse) plus a network round trip; moto in the same process would add
its emulator's CPU (about 12 ms a call here: URL matching over every service it mocks, its expression
parser), which no deployment pays. This answers the limits table's ``UpdateItem`` from a dict at
botocore's ``before-send`` event, after botocore has built and signed the request and before any
socket: what is left is exactly the client's share. The round trip is reported beside the figure.

Only what the leasing storage sends is understood: the lease (``ADD #count :take``, ``expires_at`` set
if absent, while "no window yet, or the window is open and ``count <= :highest``"), the window's
restart (``SET`` both while ``expires_at <= :now``) and ``GetItem``. Items never expire by TTL here.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse


class _RawBody:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


class LimitsWire:
    """A ``before-send`` handler that answers UpdateItem calls on one table and counts them."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.items: dict[str, tuple[int, float]] = {}
        self.calls = 0

    def install(self, client: Any) -> None:
        """Answer ``client``'s UpdateItem calls on the table from now on; moto answers everything else."""
        from moto.core.models import botocore_stubber

        # botocore calls every before-send handler and keeps the first answer: moto would still run
        # its emulator for the calls answered here. So this handler stands in front of moto's instead.
        self._moto = botocore_stubber
        client.meta.events.unregister("before-send", botocore_stubber)
        client.meta.events.register("before-send", self)

    def __call__(self, request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        body = json.loads(request.body) if operation in ("UpdateItem", "GetItem") else {}
        if body.get("TableName") != self.table:
            return self._moto(request=request, event_name=event_name, **kwargs)
        self.calls += 1
        key = body["Key"]["key"]["S"]
        count, expires_at = self.items.get(key, (0, 0.0))
        if operation == "GetItem":
            return self._answer(200, {"Item": self._item(key, count, expires_at)} if key in self.items else {})
        values = body["ExpressionAttributeValues"]
        now = float(values[":now"]["N"])
        if ":amount" in values:  # a window restarted: SET count, expires_at only while expires_at <= :now
            if key in self.items and expires_at > now:
                return self._answer(400, self._failed(count, expires_at))
            count, expires_at = int(values[":amount"]["N"]), float(values[":expires"]["N"])
        else:  # a lease: ADD count only while no window is open yet, or the open one has room
            if key in self.items and not (expires_at > now and count <= int(values[":highest"]["N"])):
                return self._answer(400, self._failed(count, expires_at))
            if key not in self.items:
                expires_at = float(values[":expires"]["N"])
            count += int(values[":take"]["N"])
        self.items[key] = (count, expires_at)
        return self._answer(200, {"Attributes": self._item(key, count, expires_at)})

    def _failed(self, count: int, expires_at: float) -> dict[str, Any]:
        return {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": {"count": {"N": str(count)}, "expires_at": {"N": repr(expires_at)}},
        }

    @staticmethod
    def _item(key: str, count: int, expires_at: float) -> dict[str, Any]:
        return {"key": {"S": key}, "count": {"N": str(count)}, "expires_at": {"N": repr(expires_at)}}

    @staticmethod
    def _answer(status: int, payload: dict[str, Any]) -> AWSResponse:
        content = json.dumps(payload).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "bench"}
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, headers, _RawBody(content))

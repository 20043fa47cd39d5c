"""Previous and Next links of the dashboard's paged lists: the API's signed cursors in plain links, no script.

``?after=<cursor>`` is the page after an item (Next), ``?before=<cursor>`` the page before one
(Previous, read in the opposite order and turned round), no cursor the first page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request, url_for

from handlers.web.cursors import decode_position, encode_position
from handlers.web.errors import InvalidRequest
from models.store.tenant_index import IndexPage

T = TypeVar("T")

# Rows per page of the API Keys and Users pages (the API's default page size).
PAGE_SIZE = 20


@dataclass(frozen=True)
class PageRequest:
    """Where the asked-for page starts: after the item ``after``, read backwards for a Previous link."""

    tenant_id: str
    kind: str
    after: str | None
    backwards: bool


@dataclass(frozen=True)
class ShownPage(Generic[T]):
    """A page's rows in the order shown, and the URLs of the pages before and after it (None: no link)."""

    rows: list[T]
    previous_url: str | None
    next_url: str | None

    @property
    def is_first(self) -> bool:
        """True for the page a list opens on (nothing before it)."""
        return self.previous_url is None


def page_request(tenant_id: str, kind: str, is_id: Callable[[str], bool]) -> PageRequest:
    """The page the query string asks for, in a list of cursors of ``kind`` (the API's: u users, k keys);
    a cursor that is not this tenant's or this list's is a 400."""
    after, before = request.args.get("after"), request.args.get("before")
    if after and before:
        raise InvalidRequest("Ask for the page after an item or before one, not both")
    if before:
        return PageRequest(tenant_id, kind, decode_position(tenant_id, kind, before, is_id), backwards=True)
    position = decode_position(tenant_id, kind, after, is_id) if after else None
    return PageRequest(tenant_id, kind, position, backwards=False)


def shown_page(
    asked: PageRequest, page: IndexPage[T], id_of: Callable[[T], str], endpoint: str, **params: Any
) -> ShownPage[T]:
    """The rows of ``page`` (read for ``asked``) in list order, with Previous and Next links to ``endpoint``."""
    params = {name: value for name, value in params.items() if value}

    def link(direction: str, item_id: str | None) -> str | None:
        if item_id is None:
            return None
        return url_for(endpoint, **{**params, direction: encode_position(asked.tenant_id, asked.kind, item_id)})

    start = url_for(endpoint, **params)
    if asked.backwards:
        rows = list(reversed(page.items))
        # Previous only while more came before; Next goes on after the last row (no rows: from the start).
        return ShownPage(rows, link("before", page.resume_after), link("after", id_of(rows[-1])) if rows else start)
    rows = page.items
    if asked.after is None:
        return ShownPage(rows, None, link("after", page.resume_after))
    # An empty page past the end (its items revoked or filtered meanwhile) goes back to the start.
    return ShownPage(rows, link("before", id_of(rows[0])) if rows else start, link("after", page.resume_after))

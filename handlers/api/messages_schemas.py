"""Request and response models of the messages endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from handlers.web.schemas import PageQuery, StrictModel
from models.messages import Message, recipient_number
from models.text_rules import body_problem

E164 = r"^\+[1-9][0-9]{1,14}$"


def _a_possible_number(value: str) -> str:
    number = recipient_number(value)
    if number is None:
        raise ValueError("to is not a possible phone number (E.164: +, country code, number)")
    return number


def _a_body(value: str) -> str:
    problem = body_problem(value)
    if problem is not None:
        raise ValueError(f"The body {problem}")
    return value


class MessageCreate(StrictModel):
    """A message to send: an E.164 phone number and 1 to 4,096 characters."""

    to: Annotated[
        str,
        Field(pattern=E164, description="E.164, e.g. +14155550123", examples=["+14155550123"]),
        AfterValidator(_a_possible_number),
    ]
    body: Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_a_body)]


class MessageListQuery(PageQuery):
    """Paging through messages, newest first (other query parameters are ignored)."""


class MessageOut(BaseModel):
    """A message as the API shows it."""

    id: str
    to: str
    body: str
    status: Literal["queued"]
    created_at: str
    created_by: str = Field(description="The user id of the sender")
    key_id: str | None = Field(description="The API key it was sent with, if any")

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        """The public shape of a message."""
        return cls(
            id=message.message_id,
            to=message.to,
            body=message.body,
            status="queued",
            created_at=message.created_at,
            created_by=message.created_by,
            key_id=message.key_id,
        )


class MessagePage(BaseModel):
    """One page of messages; ``next_cursor`` is null on the last page."""

    items: list[MessageOut]
    next_cursor: str | None

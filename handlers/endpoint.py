"""One decorator per route declares its body, query and responses: parsed here, documented in OpenAPI."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from spectree import Response as SpecResponse
from spectree import SecurityScheme, SpecTree
from spectree.models import InType, SecureType, SecuritySchemeData

from handlers.errors import InvalidRequest
from handlers.schemas import ErrorEnvelope

Model = TypeVar("Model", bound=BaseModel)

BEARER = {"bearerAuth": []}
API_KEY = {"apiKey": []}

# Created unbound: the document is generated from whichever app serves the request.
api_spec = SpecTree(
    "flask",
    title="NativeMessage API",
    version="1.0.0",
    mode="strict",
    # Plain model names in the document, not spectree's hashed ones.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    annotations=False,
    page_templates={},
    validation_error_status=400,
    validation_error_model=ErrorEnvelope,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="JWT")
        ),
        SecurityScheme(
            name="apiKey", data=SecuritySchemeData(type=SecureType.API_KEY, name="X-API-Key", field_in=InType.HEADER)
        ),
    ],
)


def endpoint(
    *,
    responses: dict[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    body_optional: bool = False,
    query: type[BaseModel] | None = None,
    tags: tuple[str, ...] = (),
    security: list[dict[str, list[str]]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Parse the JSON body/query into ``body=``/``query=`` kwargs and document the route.

    With ``body_optional``, a request without a body gets the model's defaults.
    """
    documented = {f"HTTP_{status}": model for status, model in responses.items()}
    for status in _error_statuses(body is not None, bool(security)):
        documented.setdefault(f"HTTP_{status}", ErrorEnvelope)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def parsed_view(*args: Any, **kwargs: Any) -> Any:
            if body is not None:
                empty = not request.content_length and not request.is_json
                kwargs["body"] = body() if body_optional and empty else parse_body(body)
            if query is not None:
                kwargs["query"] = parse_model(query, request.args.to_dict(), "query")
            return view(*args, **kwargs)

        return api_spec.validate(
            json=body,
            query=query,
            resp=SpecResponse(**documented),
            tags=tags,
            security=security if security is not None else {},
            skip_validation=True,
        )(parsed_view)

    return decorate


def _error_statuses(has_body: bool, needs_credentials: bool) -> tuple[int, ...]:
    statuses = (429, 503)
    if has_body:
        statuses += (413,)
    if needs_credentials:
        statuses += (401, 403)
    return statuses


def parse_body(model: type[Model]) -> Model:
    """The request's JSON object validated against ``model``; InvalidRequest otherwise."""
    if not request.is_json:
        raise InvalidRequest("Send a JSON body with Content-Type: application/json")
    try:
        payload = request.get_json(silent=True)
    except RecursionError as exc:
        # json.loads recurses per nesting level; silent=True only covers ValueError.
        raise InvalidRequest("The request body is nested too deeply") from exc
    if payload is None:
        raise InvalidRequest("The request body is not valid JSON")
    if not isinstance(payload, dict):
        raise InvalidRequest("The request body must be a JSON object")
    return parse_model(model, payload, "body")


def parse_model(model: type[Model], payload: dict[str, Any], location: str) -> Model:
    """Validate a dict against a model, turning pydantic's errors into a 400 with details."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequest(f"The request {location} is invalid", details=validation_details(exc)) from exc


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input, so no password is ever echoed back."""
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or None, "message": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize a response model with the status and headers given."""
    response = current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response

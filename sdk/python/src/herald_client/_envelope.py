"""Reading Herald's JSend answers: ``data`` on success, a typed ``HeraldApiError`` otherwise."""

from __future__ import annotations

from typing import Any

import httpx

from herald_client._retry import parse_retry_after
from herald_client.errors import INVALID_RESPONSE, HeraldApiError, api_error
from herald_client.models import Page, Pagination, next_page

_SNIPPET = 200  # enough of a foreign body (a proxy's HTML page) to recognise it


def read_envelope(response: httpx.Response) -> Any:
    """The ``data`` of a JSend success; raises the matching ``HeraldApiError`` for anything
    else, with code ``invalid_response`` when the body is not JSend at all."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        body = response.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if isinstance(body, dict):
        status = body.get("status")
        if status == "success" and "data" in body and response.is_success:
            return body["data"]
        code, message = body.get("code"), body.get("message")
        if status == "error" and isinstance(code, str) and isinstance(message, str):
            raise api_error(response.status_code, code, message, body.get("data"), retry_after)
    raise invalid_response(response, retry_after)


def invalid_response(response: httpx.Response, retry_after: float | None = None) -> HeraldApiError:
    snippet = response.text[:_SNIPPET] if response.content else ""
    return api_error(
        response.status_code,
        INVALID_RESPONSE,
        f"Herald answered HTTP {response.status_code} with a body that is not JSend.",
        {"body": snippet, "content_type": response.headers.get("Content-Type")},
        retry_after,
    )


class MalformedData(HeraldApiError):
    """A JSend success whose ``data`` does not have the shape the operation promises."""

    def __init__(self, expected: str, data: Any) -> None:
        super().__init__(
            200,
            INVALID_RESPONSE,
            f"Herald's data is not {expected}.",
            {"data": repr(data)[:_SNIPPET]},
        )


def parse_object(data: Any) -> Any:
    """An object answer, returned as the ``TypedDict`` the operation declares."""
    if not isinstance(data, dict):
        raise MalformedData("an object", data)
    return data


def parse_page(data: Any) -> Page[Any]:
    """``{"items": [...], "pagination": {...}}``, the shape of every list."""
    if not isinstance(data, dict):
        raise MalformedData("a page", data)
    items, info = data.get("items"), data.get("pagination")
    if not isinstance(items, list) or not isinstance(info, dict):
        raise MalformedData("a page", data)
    try:
        page, next_before_id = info["page"], info.get("next_before_id")
        pagination = Pagination(
            page=None if page is None else int(page),
            limit=int(info["limit"]),
            total=int(info["total"]),
            pages=int(info["pages"]),
            next_before_id=None if next_before_id is None else int(next_before_id),
        )
    except (KeyError, TypeError, ValueError):
        raise MalformedData("a page", data) from None
    # Herald's own keys, with next_before_id always present (None outside the history).
    return Page(items=items, pagination=pagination)


def following(page: Page[Any]) -> dict[str, int] | None:
    """The arguments that ask for the page after this one, None after the last. The history is
    walked by ``before_id`` (nothing created meanwhile shifts it, and it stays fast deep); other
    lists by number."""
    before_id = page["pagination"]["next_before_id"]
    if before_id is not None:
        return {"before_id": before_id}
    number = next_page(page)
    return {"page": number} if number is not None else None

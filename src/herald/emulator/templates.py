"""``/{version}/{waba_id}/message_templates``: create, list (cursor paging), delete."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from herald.emulator.auth import require_token
from herald.emulator.errors import MetaError
from herald.emulator.state import EmulatedTemplate, EmulatorState

router = APIRouter(dependencies=[Depends(require_token)])

_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
DUPLICATE_SUBCODE = 2388024
NOT_FOUND_SUBCODE = 2593002


def state_of(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def _check(payload: Any) -> tuple[str, str, str, list[dict[str, Any]]]:
    if not isinstance(payload, dict):
        raise MetaError(100, "the body must be a JSON object")
    name, language = payload.get("name"), payload.get("language")
    category, components = payload.get("category"), payload.get("components")
    if not isinstance(name, str) or not _NAME.match(name):
        raise MetaError(100, "name must be lower case letters, digits and underscores")
    if not isinstance(language, str) or not language:
        raise MetaError(100, "language is required")
    if category not in CATEGORIES:
        raise MetaError(100, f"category must be one of {', '.join(CATEGORIES)}")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise MetaError(100, "components must be a list of objects")
    bodies = [c for c in components if c.get("type") == "BODY"]
    if len(bodies) != 1 or not isinstance(bodies[0].get("text"), str) or not bodies[0]["text"]:
        raise MetaError(100, "exactly one BODY component with text is required")
    variables = set(_PLACEHOLDER.findall(bodies[0]["text"]))
    if variables and category != "AUTHENTICATION":
        examples = ((bodies[0].get("example") or {}).get("body_text") or [[]])[0]
        if len(examples) != len(variables):
            raise MetaError(100, f"example.body_text needs {len(variables)} value(s)")
    return name, language, str(category), components


@router.post("/{version}/{waba_id}/message_templates")
async def create_template(waba_id: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    try:
        payload = await request.json()
    except ValueError:
        raise MetaError(100, "the body is not JSON") from None
    name, language, category, components = _check(payload)
    if any(
        t.waba_id == waba_id and t.name == name and t.language == language
        for t in state.templates.values()
    ):
        raise MetaError(100, f"{name} already exists in {language}", subcode=DUPLICATE_SUBCODE)
    template = EmulatedTemplate(state.new_id(), waba_id, name, language, category, components)
    state.templates[template.id] = template
    state.review_later(template)
    return {"id": template.id, "status": template.status, "category": category}


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _position(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise MetaError(100, "invalid cursor") from None


@router.get("/{version}/{waba_id}/message_templates")
async def list_templates(
    waba_id: str,
    request: Request,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 25,
    after: str | None = None,
) -> dict[str, Any]:
    state = state_of(request)
    matching = [
        t
        for t in state.templates.values()
        if t.waba_id == waba_id and (name is None or t.name == name)
    ]
    start = _position(after)
    page = matching[start : start + limit]
    paging: dict[str, Any] = {
        "cursors": {"before": _cursor(start), "after": _cursor(start + len(page))}
    }
    if start + len(page) < len(matching):
        paging["next"] = str(request.url.include_query_params(after=_cursor(start + len(page))))
    return {"data": [t.as_json() for t in page], "paging": paging}


@router.delete("/{version}/{waba_id}/message_templates")
async def delete_template(
    waba_id: str, request: Request, name: str, hsm_id: str | None = None
) -> dict[str, bool]:
    state = state_of(request)
    doomed = [
        t
        for t in state.templates.values()
        if t.waba_id == waba_id and t.name == name and (hsm_id is None or t.id == hsm_id)
    ]
    if not doomed:
        raise MetaError(100, "Template not found", subcode=NOT_FOUND_SUBCODE)
    for template in doomed:
        del state.templates[template.id]
    return {"success": True}

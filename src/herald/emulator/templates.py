"""``/{version}/{waba_id}/message_templates``: create, list (cursor paging), delete."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from herald.emulator.auth import require_token
from herald.emulator.errors import MetaError
from herald.emulator.records import EmulatedTemplate
from herald.emulator.state import EmulatorState
from herald.emulator.template_rules import check_template
from herald.emulator.uploads import uploads_of

router = APIRouter(dependencies=[Depends(require_token)])

DUPLICATE_SUBCODE = 2388024
NOT_FOUND_SUBCODE = 2593002


def state_of(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


@router.post("/{version}/{waba_id}/message_templates")
async def create_template(waba_id: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    try:
        payload = await request.json()
    except ValueError:
        raise MetaError(100, "the body is not JSON") from None
    handles = uploads_of(request).handles
    checked = check_template(payload, lambda h: handles[h].mime_type if h in handles else None)
    name, language, category = checked["name"], checked["language"], checked["category"]
    if any(
        t.waba_id == waba_id and t.name == name and t.language == language
        for t in state.templates.values()
    ):
        raise MetaError(100, f"{name} already exists in {language}", subcode=DUPLICATE_SUBCODE)
    template = EmulatedTemplate(
        state.new_id(),
        waba_id,
        name,
        language,
        category,
        checked["components"],
        parameter_format=str(payload.get("parameter_format", "POSITIONAL")),  # checked above
    )
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


# What a listing shows without ``fields`` (Meta's "default fields"), and what it may be asked.
DEFAULT_FIELDS = ("id", "name", "language", "status", "category", "components")
KNOWN_FIELDS = (
    *DEFAULT_FIELDS,
    "rejected_reason",
    "quality_score",
    "parameter_format",
    "previous_category",
)
# Fields of Meta's template node the emulator holds nothing for: asked, they are left out.
OTHER_FIELDS = (
    "sub_category",
    "correct_category",
    "library_template_name",
    "message_send_ttl_seconds",
    "cta_url_link_tracking_opted_out",
)


def _fields(asked: str | None) -> tuple[str, ...]:
    if asked is None:
        return DEFAULT_FIELDS
    names = tuple(f.strip() for f in asked.split(",") if f.strip())
    for name in names:
        if name not in KNOWN_FIELDS and name not in OTHER_FIELDS:
            raise MetaError(
                100,
                f"(#100) Tried accessing nonexisting field ({name}) on node type "
                "(WhatsAppBusinessHSM)",
            )
    return tuple(dict.fromkeys(("id", *(n for n in names if n in KNOWN_FIELDS))))  # id: always


@router.get("/{version}/{waba_id}/message_templates")
async def list_templates(
    waba_id: str,
    request: Request,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 25,
    after: str | None = None,
    fields: str | None = None,
) -> dict[str, Any]:
    state = state_of(request)
    shown = _fields(fields)
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
    data = [{k: v for k, v in t.as_json().items() if k in shown} for t in page]
    return {"data": data, "paging": paging}


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

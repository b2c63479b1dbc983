"""Seeding: templates a WhatsApp Business Account already holds, of every kind Meta has
(carousels, limited-time offers, catalog and flow buttons, location headers...), put in the
emulator as Meta would list them, without going through creation and review.

A seed is Meta's listing shape: ``{"waba_id": "...", "templates": [{"name", "language",
"category", "components", "status"?, "id"?, "parameter_format"?, "quality_score"?,
"rejected_reason"?}]}``, or a list of such objects (several accounts). The control API
(``POST /_emulator/templates/seed``) and ``herald emulator --seed FILE`` both take it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
# The statuses Meta lists templates in.
STATUSES = (
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
)
QUALITIES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_ID = re.compile(r"^[0-9]{1,30}$")


class SeedError(ValueError):
    """A seed that is not in Meta's shape; the message says where."""


@dataclass(frozen=True)
class SeedTemplate:
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "APPROVED"
    id: str | None = None
    parameter_format: str = "POSITIONAL"
    quality: str = "UNKNOWN"
    rejected_reason: str | None = None


def read_seed_file(path: Path) -> list[SeedTemplate]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SeedError(f"{path} is not JSON: {exc}") from None
    return check_seed(body)


def check_seed(body: Any) -> list[SeedTemplate]:
    """Every template of a seed, checked; SeedError for the first problem."""
    accounts = body if isinstance(body, list) else [body]
    seeded: list[SeedTemplate] = []
    for n, account in enumerate(accounts):
        where = f"[{n}]" if isinstance(body, list) else ""
        if not isinstance(account, dict):
            raise SeedError(f"{where or 'the seed'} must be an object with waba_id and templates")
        waba_id = account.get("waba_id")
        templates = account.get("templates")
        if not isinstance(waba_id, str | int) or not _ID.match(str(waba_id)):
            raise SeedError(f"{where}waba_id must be a numeric id")
        if not isinstance(templates, list):
            raise SeedError(f"{where}templates must be a list")
        for i, template in enumerate(templates):
            seeded.append(_template(str(waba_id), template, f"{where}templates[{i}]"))
    keys = [(t.waba_id, t.name, t.language) for t in seeded]
    if len(set(keys)) != len(keys):
        raise SeedError("a template name and language appears twice in one account")
    return seeded


def _template(waba_id: str, template: Any, where: str) -> SeedTemplate:
    if not isinstance(template, dict):
        raise SeedError(f"{where} must be an object")
    name, language = template.get("name"), template.get("language")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SeedError(f"{where}.name must be lower case letters, digits and underscores")
    if not isinstance(language, str) or not language:
        raise SeedError(f"{where}.language is required")
    category = template.get("category")
    if category not in CATEGORIES:
        raise SeedError(f"{where}.category must be one of {', '.join(CATEGORIES)}")
    status = template.get("status", "APPROVED")
    if status not in STATUSES:
        raise SeedError(f"{where}.status must be one of {', '.join(STATUSES)}")
    template_id = template.get("id")
    if template_id is not None and not _ID.match(str(template_id)):
        raise SeedError(f"{where}.id must be a numeric id")
    parameter_format = template.get("parameter_format", "POSITIONAL")
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise SeedError(f"{where}.parameter_format must be POSITIONAL or NAMED")
    quality = template.get("quality_score", {"score": "UNKNOWN"})
    score = quality.get("score") if isinstance(quality, dict) else quality
    if score not in QUALITIES:
        raise SeedError(f"{where}.quality_score.score must be one of {', '.join(QUALITIES)}")
    reason = template.get("rejected_reason")
    return SeedTemplate(
        waba_id=waba_id,
        name=name,
        language=language,
        category=category,
        components=_components(template.get("components"), where),
        status=status,
        id=str(template_id) if template_id is not None else None,
        parameter_format=parameter_format,
        quality=score,
        rejected_reason=str(reason) if reason else None,
    )


def _components(components: Any, where: str) -> list[dict[str, Any]]:
    """Meta's components as given, their types upper-cased as Meta lists them."""
    if not isinstance(components, list) or not components:
        raise SeedError(f"{where}.components must be a non-empty list")
    kept: list[dict[str, Any]] = []
    for i, component in enumerate(components):
        kind = component.get("type") if isinstance(component, dict) else None
        if not isinstance(kind, str) or not kind:
            raise SeedError(f"{where}.components[{i}] must be an object with a type")
        kept.append({**component, "type": kind.upper()})
    return kept

"""Meta's OpenAPI description of the Cloud API (v23.0), read from ``shared/reference/meta/``
beside the clone (CI keeps a copy of shared/ there). The project never copies it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC_FILE = Path("shared/reference/meta/business-messaging-api_v23.0.yaml")
ROOT = Path(__file__).resolve().parents[1]
SEND_PATH = "/{Version}/{Phone-Number-ID}/messages"
# Marketing Messages Lite takes the same template object: its examples are template sends too.
MARKETING_PATH = "/{Version}/{Phone-Number-ID}/marketing_messages"


def spec_path() -> Path | None:
    """The spec beside the repository, or beside a folder holding it (a git worktree)."""
    for folder in ROOT.parents:
        if (folder / SPEC_FILE).is_file():
            return folder / SPEC_FILE
    return None


@functools.cache
def load_spec() -> dict[str, Any]:
    path = spec_path()
    if path is None:
        pytest.fail(
            f"Meta's spec is not beside the clone: ../{SPEC_FILE} (see docs/development.md)"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as file:
        spec: dict[str, Any] = yaml.load(file, Loader=loader)  # noqa: S506 - a safe loader
    return spec


def request_examples(path: str, method: str) -> dict[str, Any]:
    """The JSON request examples of one operation, by their names in the spec."""
    content = load_spec()["paths"][path][method]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content.get("examples", {}).items()}


def template_send_examples() -> dict[str, dict[str, Any]]:
    """Every template send the spec shows, by name (the marketing ones prefixed)."""
    marketing = request_examples(MARKETING_PATH, "post")
    return {
        name: value
        for name, value in [
            *request_examples(SEND_PATH, "post").items(),
            *((f"Marketing {name}", value) for name, value in marketing.items()),
        ]
        if value.get("type") == "template"
    }

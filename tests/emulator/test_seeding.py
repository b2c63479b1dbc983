"""A WhatsApp Business Account's existing templates, of every kind, seeded into the emulator
(control API and ``herald emulator --seed FILE``) and listed as Meta lists them: default
fields unless ``fields`` asks for others, cursor paging, kept across restarts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import herald_process
from tests.emulator.test_app import AUTH, WABA, Emulator, emulator, receiver
from tests.emulator.test_state import Receiver, running
from tests.template.seeds import CAROUSEL, EVERY_KIND, NAMED, POSITIONAL

__all__ = ["emulator", "receiver"]  # the fixtures
LISTING = f"/v23.0/{WABA}/message_templates"


async def seed(emulator: Emulator, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer = await emulator.http.post(
        "/_emulator/templates/seed", json={"waba_id": WABA, "templates": templates}
    )
    assert answer.status_code == 200, answer.text
    placed: list[dict[str, Any]] = answer.json()
    return placed


async def test_seeded_templates_of_every_kind_are_listed_with_paging(emulator: Emulator) -> None:
    placed = await seed(emulator, EVERY_KIND)
    assert [t["status"] for t in placed] == ["APPROVED"] * len(EVERY_KIND)
    names: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = (await emulator.http.get(LISTING, params=params, headers=AUTH)).json()
        names += [t["name"] for t in page["data"]]
        if "next" not in page["paging"]:
            break
        params["after"] = page["paging"]["cursors"]["after"]
    assert names == [t["name"] for t in EVERY_KIND]
    carousel = next(t for t in placed if t["name"] == "summer_carousel")
    assert carousel["components"] == CAROUSEL["components"]
    # No webhook: these templates were approved long ago.
    await emulator.drain()
    assert emulator.receiver.received == []


async def test_a_listing_shows_default_fields_unless_others_are_asked(emulator: Emulator) -> None:
    await seed(emulator, [POSITIONAL, NAMED])
    plain = (await emulator.http.get(LISTING, headers=AUTH)).json()["data"][0]
    assert set(plain) == {"id", "name", "language", "status", "category", "components"}
    fields = "name,quality_score,parameter_format"
    asked = (await emulator.http.get(LISTING, params={"fields": fields}, headers=AUTH)).json()
    assert asked["data"] == [
        {
            "id": asked["data"][0]["id"],
            "name": "order_shipped",
            "quality_score": {"score": "GREEN"},
            "parameter_format": "POSITIONAL",
        },
        {
            "id": asked["data"][1]["id"],
            "name": "welcome_named",
            "quality_score": {"score": "UNKNOWN"},
            "parameter_format": "NAMED",
        },
    ]
    unknown = await emulator.http.get(LISTING, params={"fields": "name,colour"}, headers=AUTH)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == 100


async def test_seeding_again_replaces_a_template_and_keeps_its_id(emulator: Emulator) -> None:
    first = (await seed(emulator, [POSITIONAL]))[0]
    again = (await seed(emulator, [{**POSITIONAL, "status": "PAUSED"}]))[0]
    assert (again["id"], again["status"]) == (first["id"], "PAUSED")
    listed = (await emulator.http.get(LISTING, headers=AUTH)).json()["data"]
    assert [(t["id"], t["status"]) for t in listed] == [(first["id"], "PAUSED")]


@pytest.mark.parametrize(
    "body",
    [
        {"templates": [POSITIONAL]},
        {"waba_id": WABA, "templates": [{**POSITIONAL, "category": "NEWS"}]},
        {"waba_id": WABA, "templates": [{**POSITIONAL, "components": []}]},
        {"waba_id": WABA, "templates": [{**POSITIONAL, "status": "GREAT"}]},
        {"waba_id": WABA, "templates": [{**POSITIONAL, "name": "Has Spaces"}]},
        {"waba_id": WABA, "templates": [POSITIONAL, POSITIONAL]},
        {"waba_id": WABA, "templates": [{**POSITIONAL, "quality_score": {"score": "BLUE"}}]},
    ],
)
async def test_a_seed_not_in_meta_s_shape_is_refused(
    emulator: Emulator, body: dict[str, Any]
) -> None:
    answer = await emulator.http.post("/_emulator/templates/seed", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert (await emulator.http.get(LISTING, headers=AUTH)).json()["data"] == []


async def test_herald_emulator_seed_file_is_listed_and_kept(
    receiver: Receiver, tmp_path: Path
) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps([{"waba_id": WABA, "templates": EVERY_KIND}]))
    state = tmp_path / "emulator.sqlite3"
    async with running(state, receiver, tmp_path, "--seed", str(seed_file)) as http:
        listed = (await http.get(LISTING, params={"limit": 100}, headers=AUTH)).json()["data"]
        assert [t["name"] for t in listed] == [t["name"] for t in EVERY_KIND]
        ids = [t["id"] for t in listed]
    # Started again without the seed: the state file still holds them.
    async with running(state, receiver, tmp_path) as http:
        listed = (await http.get(LISTING, params={"limit": 100}, headers=AUTH)).json()["data"]
        assert [t["id"] for t in listed] == ids


def test_a_seed_file_that_is_not_a_seed_stops_the_emulator(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps({"waba_id": WABA, "templates": [{"name": "x"}]}))
    env = {"HERALD_EMULATOR_APP_SECRET": "s", "HERALD_EMULATOR_ACCESS_TOKEN": "t"}
    done = herald_process("emulator", "--port", "1", "--seed", str(seed_file), env=env, timeout=30)
    assert done.returncode == 6
    assert "templates[0].language" in done.stderr


async def test_a_created_template_lists_its_parameter_format_and_an_unknown_quality(
    emulator: Emulator,
) -> None:
    named = {
        "name": "welcome",
        "language": "en",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": NAMED["components"],
    }
    created = await emulator.http.post(LISTING, json=named, headers=AUTH)
    assert created.status_code == 200, created.text
    fields = {"fields": "parameter_format,quality_score"}
    listed = (await emulator.http.get(LISTING, params=fields, headers=AUTH)).json()["data"]
    assert listed == [
        {
            "id": created.json()["id"],
            "parameter_format": "NAMED",
            "quality_score": {"score": "UNKNOWN"},
        }
    ]

"""A business comes with templates Meta already approved: one sync call imports them all, of
every kind, and keeps Herald's copies in step (issue 21)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from herald.db import session_factory
from herald.kit.crypto import Cipher
from herald.models import Channel
from tests.conftest import EMULATOR_ACCESS_TOKEN, DatabaseUnderTest, add_user, assert_error
from tests.live_herald import Live, eventually
from tests.template import seeds
from tests.template.seeds import EVERY_KIND, seed, user_id, waba_of

SYNC = "/api/v2/whatsapp/templates/sync"
TEMPLATES = "/api/v2/whatsapp/templates"
EMULATOR_AUTH = {"Authorization": f"Bearer {EMULATOR_ACCESS_TOKEN}"}


async def sync(live: Live, auth: dict[str, str]) -> dict[str, int]:
    answer = await live.herald.post(SYNC, headers=auth)
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()["data"]
    return counts


async def listed(live: Live, auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = await live.herald.get(TEMPLATES, params={"limit": 100}, headers=auth)
    return {t["name"]: t for t in answer.json()["data"]["items"]}


async def seeded_ana(live: Live, db: DatabaseUnderTest, auth: dict[str, str]) -> str:
    await sync(live, auth)  # makes ana's emulator channel: nothing at its account yet
    waba = waba_of(await user_id(db))
    await seed(live.emulator, waba, EVERY_KIND)
    return waba


async def test_one_sync_imports_every_kind_and_a_second_changes_nothing(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await seeded_ana(live, db, live_ana)
    assert await sync(live, live_ana) == {
        "created": 8,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
    }
    templates = await listed(live, live_ana)
    assert {name for name, t in templates.items() if t["state"] == "APPROVED"} == {
        t["name"] for t in EVERY_KIND
    }

    shipped = templates["order_shipped"]
    assert shipped["placeholder_count"] == 2
    assert shipped["quality"] == "GREEN"
    assert shipped["footer"] == "Reply STOP to opt out"
    assert shipped["buttons"] == [
        {
            "type": "QUICK_REPLY",
            "text": "Thanks",
            "url": None,
            "example": None,
            "phone_number": None,
        }
    ]
    assert shipped["components"] == seeds.POSITIONAL["components"]
    assert shipped["sendable"] is True

    assert templates["invoice_ready"]["header"]["format"] == "DOCUMENT"
    assert templates["parcel_on_its_way"]["header"] == {
        "format": "TEXT",
        "text": "Parcel {{1}}",
        "example": "P-42",
        "example_media_id": None,
    }
    assert templates["track_or_call"]["buttons"] == [
        {
            "type": "URL",
            "text": "Track",
            "url": "https://shop.example.com/track/{{1}}",
            "example": "A1",
            "phone_number": None,
        },
        {
            "type": "PHONE_NUMBER",
            "text": "Call us",
            "url": None,
            "example": None,
            "phone_number": "+15550100",
        },
    ]
    assert templates["summer_coupon"]["buttons"][0]["example"] == "SUN10"
    otp = templates["login_code"]
    assert otp["authentication"] == {
        "otp_type": "COPY_CODE",
        "add_security_recommendation": True,
        "code_expiration_minutes": 10,
        "package_name": None,
        "signature_hash": None,
    }
    assert otp["sendable"] is True

    named = templates["welcome_named"]
    assert named["parameter_format"] == "NAMED"
    assert (named["sendable"], named["unsendable_reason"]) == (True, None)
    assert named["parameters"] == {
        "format": "NAMED",
        "body": ["first_name", "discount"],
        "header": [],
    }

    carousel = templates["summer_carousel"]
    assert carousel["sendable"] is False
    assert "carousel" in carousel["unsendable_reason"]
    assert carousel["components"][1]["type"] == "CAROUSEL"

    assert await sync(live, live_ana) == {
        "created": 0,
        "updated": 0,
        "unchanged": 8,
        "removed": 0,
    }


async def test_imported_templates_are_sent_and_the_unsendable_ones_refused(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await seeded_ana(live, db, live_ana)
    await sync(live, live_ana)
    templates = await listed(live, live_ana)
    sends = {
        "order_shipped": {"body_params": ["Sam", "A-100"]},
        "parcel_on_its_way": {"header_params": ["P-42"]},
        "track_or_call": {
            "body_params": ["A1"],
            "buttons": [{"index": 0, "sub_type": "url", "value": "A1"}],
        },
        "login_code": {"otp_code": "123456"},
        "welcome_named": {"body_params": {"first_name": "Sam", "discount": "10%"}},
    }
    for name, fields in sends.items():
        answer = await live.herald.post(
            f"{TEMPLATES}/{templates[name]['id']}/send",
            json={"to": "21696816277", "country_code": "TN", **fields},
            headers=live_ana,
        )
        assert answer.status_code == 202, (name, answer.text)

    async def accepted() -> bool:
        sent = (await live.emulator.get("/_emulator/messages")).json()
        return sorted(m["template"] for m in sent) == sorted(sends)

    await eventually(accepted, message="every imported send reaches the emulator, accepted")

    refused = await live.herald.post(
        f"{TEMPLATES}/{templates['summer_carousel']['id']}/send",
        json={"to": "21696816277", "country_code": "TN"},
        headers=live_ana,
    )
    body = assert_error(refused, 400, "template_not_sendable")
    assert "carousel" in str(body["message"])


async def test_a_template_deleted_at_meta_is_removed_and_never_sent(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    waba = await seeded_ana(live, db, live_ana)
    await sync(live, live_ana)
    gone = await live.emulator.delete(
        f"/v23.0/{waba}/message_templates",
        params={"name": "order_shipped"},
        headers=EMULATOR_AUTH,
    )
    assert gone.status_code == 200, gone.text

    assert await sync(live, live_ana) == {
        "created": 0,
        "updated": 0,
        "unchanged": 7,
        "removed": 1,
    }
    template = (await listed(live, live_ana))["order_shipped"]
    assert template["state"] == "DELETED"
    only_deleted = await live.herald.get(TEMPLATES, params={"state": "DELETED"}, headers=live_ana)
    assert [t["name"] for t in only_deleted.json()["data"]["items"]] == ["order_shipped"]

    refused = await live.herald.post(
        f"{TEMPLATES}/{template['id']}/send",
        json={"to": "21696816277", "country_code": "TN", "body_params": ["Sam", "A-100"]},
        headers=live_ana,
    )
    assert_error(refused, 400, "template_deleted")
    assert await sync(live, live_ana) == {
        "created": 0,
        "updated": 0,
        "unchanged": 7,
        "removed": 0,
    }


async def test_a_draft_of_the_same_name_becomes_meta_s_copy(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    """A draft never submitted is provider news's blind spot (provider_news.set_state ignores it):
    the sync takes Meta's copy all the same."""
    draft = await live.herald.post(
        TEMPLATES,
        json={"name": "order_shipped", "language": "en_US", "category": "MARKETING", "body": "Hi"},
        headers=live_ana,
    )
    assert draft.status_code == 201, draft.text
    await sync(live, live_ana)
    await seed(live.emulator, waba_of(await user_id(db)), [seeds.POSITIONAL])
    assert await sync(live, live_ana) == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "removed": 0,
    }
    got = await live.herald.get(f"{TEMPLATES}/{draft.json()['data']['id']}", headers=live_ana)
    template = got.json()["data"]
    assert (template["state"], template["category"], template["placeholder_count"]) == (
        "APPROVED",
        "UTILITY",
        2,
    )


async def test_sync_is_the_caller_s_own_and_provider_errors_are_jsend(
    live: Live, live_ana: dict[str, str], db: DatabaseUnderTest
) -> None:
    await seeded_ana(live, db, live_ana)
    await sync(live, live_ana)
    bob = await live.auth_for(await add_user(db, "bob@example.com"))
    assert await sync(live, bob) == {"created": 0, "updated": 0, "unchanged": 0, "removed": 0}
    assert await listed(live, bob) == {}
    anas = await listed(live, live_ana)
    other = await live.herald.get(f"{TEMPLATES}/{anas['order_shipped']['id']}", headers=bob)
    assert_error(other, 404, "template_not_found")

    # Bob's channel's token is one Meta no longer takes: a JSend error, nothing changed.
    async with session_factory(db.engine)() as session:
        cipher = Cipher(live.settings.resolved_encryption_keys())
        await session.execute(
            update(Channel)
            .where(Channel.user_id == await user_id(db, "bob@example.com"))
            .values(access_token_encrypted=cipher.encrypt("a revoked token"))
        )
        await session.commit()
    refused = await live.herald.post(SYNC, headers=bob)
    assert_error(refused, 502, "provider_auth_failed")
    assert (await live.herald.post(SYNC)).status_code == 401


async def test_the_sync_path_is_not_a_template_id(live: Live, live_ana: dict[str, str]) -> None:
    """OpenAPI matches the literal path first: GET and DELETE there are 405, with its Allow."""
    for method in ("GET", "DELETE"):
        answer = await live.herald.request(method, f"{TEMPLATES}/sync", headers=live_ana)
        body = assert_error(answer, 405, "method_not_allowed")
        assert answer.headers["allow"] == "POST", body

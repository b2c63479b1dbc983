"""Meta's webhook bodies read into typed events (provider/events.py), fed with the examples of
Meta's own OpenAPI description, and a failed status's error classified exactly as a refused
send's (the same code table, the same function)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from herald.provider import cloud_api
from herald.provider.errors import CODES, ErrorKind, ProviderError, TemplateProblem
from herald.provider.events import (
    DeliveryStatus,
    InboundMessage,
    MessageStatus,
    Pricing,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatus,
    TemplateStatusUpdate,
    parse_webhook,
    webhook_accounts,
)
from herald.provider.inbound import (
    InboundLocation,
    InboundMedia,
    InboundReaction,
    InteractiveReply,
    QuickReplyTap,
)
from tests.meta_spec import load_spec

WEBHOOK_PATH = "/whatsapp/webhooks"


def webhook_examples() -> dict[str, dict[str, Any]]:
    content = load_spec()["paths"][WEBHOOK_PATH]["post"]["requestBody"]["content"]
    examples = content["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def status_example() -> dict[str, Any]:
    """A ``statuses[]`` item with every member Meta's ``Statuses`` schema names (the spec shows
    no status example), plus the callback data Herald sends (whatsapp-cloud-api.md)."""
    properties = load_spec()["components"]["schemas"]["Statuses"]["properties"]
    status = {
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA",
        "status": "delivered",
        "timestamp": "1750025136",
        "recipient_id": "16505551234",
        "biz_opaque_callback_data": "4711",
        "conversation": {"id": "c1", "origin": {"type": "marketing"}},
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing"},
    }
    assert set(properties) - set(status) <= {"group_id", "errors"}
    return status


def envelope(field: str, value: dict[str, Any], waba_id: str = "419561257915477") -> bytes:
    change = {"field": field, "value": value}
    body = {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}
    return orjson.dumps(body)


def statuses_value(*statuses: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": list(statuses),
    }


def test_every_inbound_example_of_the_spec_is_one_inbound_message() -> None:
    examples = webhook_examples()
    messages = {
        n: e for n, e in examples.items() if e["entry"][0]["changes"][0]["field"] == "messages"
    }
    assert len(messages) >= 10
    for name, example in messages.items():
        events = parse_webhook(orjson.dumps(example))
        raw = example["entry"][0]["changes"][0]["value"]["messages"]
        assert len(events) == len(raw), name
        for event, item in zip(events, raw, strict=True):
            assert isinstance(event, InboundMessage), name
            assert event.waba_id == example["entry"][0]["id"]
            assert (
                event.phone_number_id
                == example["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
            )
            assert event.provider_message_id == item["id"]
            assert event.sender == item["from"]
            assert event.kind == item["type"]
            assert event.context_message_id == (item.get("context") or {}).get("id")


def test_what_a_customer_wrote_or_tapped_is_the_inbound_text() -> None:
    examples = webhook_examples()

    def text_of(name: str) -> str | None:
        (event,) = parse_webhook(orjson.dumps(examples[name]))
        assert isinstance(event, InboundMessage)
        return event.text

    assert text_of("Text Message") == "Does it come in another color?"
    assert text_of("Button Message") == "Unsubscribe"
    assert text_of("Interactive List Reply Message") == "Priority Mail Express"
    assert text_of("Interactive Button Reply Message") == "Cancel"
    assert text_of("Reaction Message") is None
    assert text_of("Image Message") == "Taj Mahal"  # a caption is what the customer wrote


def inbound_of(name: str) -> InboundMessage:
    (event,) = parse_webhook(orjson.dumps(webhook_examples()[name]))
    assert isinstance(event, InboundMessage)
    return event


def test_each_kind_of_the_spec_is_read_into_its_typed_part() -> None:
    text = inbound_of("Text Message")
    assert text.sent_at == datetime.fromtimestamp(1749416383, UTC)
    assert text.profile_name == "Sheena Nelson"
    assert (text.media, text.raw, text.extra) == (None, None, None)

    image = inbound_of("Image Message")
    assert image.media == InboundMedia(
        provider_media_id="1003383421387256",
        mime_type="image/jpeg",
        sha256="SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
        caption="Taj Mahal",
    )
    assert image.text == "Taj Mahal"

    assert inbound_of("Location Message").location == InboundLocation(
        latitude=37.44221496582,
        longitude=-122.16165924072,
        name="Philz Coffee",
        address="101 Forest Ave, Palo Alto, CA 94301",
        url="https://philzcoffee.com/",
    )
    contacts = inbound_of("Contact Sharing Message").contacts
    assert contacts[0]["name"]["formatted_name"] == "Lucía Gómez"
    reaction = inbound_of("Reaction Message").reaction
    assert reaction == InboundReaction(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA", "👍"
    )

    button = inbound_of("Button Message")
    assert button.button == QuickReplyTap("Unsubscribe", "Unsubscribe")
    assert button.payload == "Unsubscribe"
    listed = inbound_of("Interactive List Reply Message")
    assert listed.interactive == InteractiveReply(
        "list_reply", "priority_express", "Priority Mail Express", "Next Day to 2 Days"
    )
    assert listed.payload == "priority_express"
    tapped = inbound_of("Interactive Button Reply Message")
    assert tapped.interactive == InteractiveReply("button_reply", "cancel-button", "Cancel")

    # Kinds without a typed part are kept as Meta sent them.
    unsupported = inbound_of("Unsupported Message")
    assert unsupported.raw is not None
    assert unsupported.raw["errors"][0]["code"] == 131051
    order = inbound_of("Order Message")
    assert order.raw is not None
    assert order.raw["order"]["catalog_id"] == "194836987003835"
    system = inbound_of("System Message")
    assert system.raw is not None
    assert system.raw["system"]["type"] == "user_changed_number"
    assert system.profile_name is None  # a system message comes without contacts

    # What comes beside the kind: an ad's referral, a product enquiry.
    ad = inbound_of("Text Message from Click to WhatsApp Ad")
    assert ad.extra is not None
    assert ad.extra["referral"]["source_type"] == "ad"
    enquiry = inbound_of("Text Message with Context (Product Inquiry)")
    assert enquiry.extra == {
        "referred_product": {"catalog_id": "194836987003835", "product_retailer_id": "di9ozbzfi4"}
    }


def test_media_kinds_carry_their_own_members_and_an_unreadable_time_is_none() -> None:
    base = {"from": "16505551234", "id": "wamid.X", "timestamp": "soon"}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sam"}, "wa_id": "16505551234"}],
        "messages": [
            {
                **base,
                "type": "audio",
                "audio": {"id": "1", "mime_type": "audio/ogg", "sha256": "x", "voice": True},
            },
            {
                **base,
                "type": "document",
                "document": {
                    "id": "2",
                    "mime_type": "application/pdf",
                    "sha256": "y",
                    "filename": "r.pdf",
                },
            },
            {
                **base,
                "type": "sticker",
                "sticker": {"id": "3", "mime_type": "image/webp", "sha256": "z", "animated": False},
            },
            {
                **base,
                "type": "video",
                "video": {"id": "4", "mime_type": "video/mp4", "sha256": "w", "caption": "look"},
            },
        ],
    }
    audio, document, sticker, video = parse_webhook(envelope("messages", value))
    assert isinstance(audio, InboundMessage)
    assert audio.media is not None
    assert audio.media.voice is True
    assert audio.sent_at is None
    assert isinstance(document, InboundMessage)
    assert document.media is not None
    assert document.media.filename == "r.pdf"
    assert isinstance(sticker, InboundMessage)
    assert sticker.media is not None
    assert sticker.media.animated is False
    assert isinstance(video, InboundMessage)
    assert video.text == "look"
    assert all(isinstance(e, InboundMessage) and e.profile_name == "Sam" for e in (audio, video))


def test_fields_herald_does_not_follow_carry_no_event() -> None:
    for name, example in webhook_examples().items():
        if example["entry"][0]["changes"][0]["field"].startswith("group_"):
            assert parse_webhook(orjson.dumps(example)) == [], name


def test_a_status_is_read_with_its_callback_data_and_time() -> None:
    status = status_example()
    (event,) = parse_webhook(envelope("messages", statuses_value(status)))
    assert event == MessageStatus(
        waba_id="419561257915477",
        phone_number_id="106540352242922",
        provider_message_id=status["id"],
        callback_data="4711",
        status=DeliveryStatus.DELIVERED,
        at=datetime.fromtimestamp(1750025136, UTC),
        pricing=Pricing(billable=True, category="marketing", model="PMP"),
    )
    assert event.error is None


def test_a_status_pricing_is_read_as_far_as_it_is_readable() -> None:
    def pricing(value: object) -> Pricing | None:
        status = {**status_example(), "pricing": value}
        (event,) = parse_webhook(envelope("messages", statuses_value(status)))
        assert isinstance(event, MessageStatus)
        return event.pricing

    assert pricing({"billable": False, "pricing_model": "pmp", "category": "SERVICE"}) == Pricing(
        False, "service", "PMP"
    )
    # A category Meta adds later is kept as it comes; a billable that is not a boolean is not.
    assert pricing({"billable": "yes", "category": "referral_conversion"}) == Pricing(
        None, "referral_conversion", None
    )
    assert pricing({}) is None
    assert pricing("free") is None
    (bare,) = parse_webhook(
        envelope("messages", statuses_value({**status_example(), "pricing": None}))
    )
    assert isinstance(bare, MessageStatus)
    assert bare.pricing is None


def test_statuses_herald_does_not_follow_and_unreadable_times_are_skipped_or_blank() -> None:
    deleted = {**status_example(), "status": "deleted"}
    late = {**status_example(), "status": "READ", "timestamp": "soon"}
    (event,) = parse_webhook(envelope("messages", statuses_value(deleted, late)))
    assert isinstance(event, MessageStatus)
    assert (event.status, event.at) == (DeliveryStatus.READ, None)


@pytest.mark.parametrize("code", sorted(CODES))
def test_a_failed_status_is_classified_as_a_refused_send_with_its_code(code: int) -> None:
    error = {
        "code": code,
        "title": "Short text",
        "message": "Longer text",
        "error_data": {"details": "What went wrong"},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
    failed = {**status_example(), "status": "failed", "errors": [error]}
    (event,) = parse_webhook(envelope("messages", statuses_value(failed)))
    assert isinstance(event, MessageStatus)
    assert event.status is DeliveryStatus.FAILED
    assert event.error is not None

    refused = {"error": {**copy.deepcopy(error), "type": "OAuthException", "fbtrace_id": "x"}}
    with pytest.raises(ProviderError) as send:
        cloud_api._parse(400, orjson.dumps(refused))
    assert event.error.kind is send.value.kind is CODES[code].kind
    assert event.error.template_problem is send.value.template_problem
    assert (event.error.code, event.error.title, event.error.details) == (
        code,
        "Short text",  # a status's short text is its title (a send's is its message)
        "What went wrong",
    )


def test_a_failed_status_without_errors_has_no_error() -> None:
    failed = {**status_example(), "status": "failed"}
    (event,) = parse_webhook(envelope("messages", statuses_value(failed)))
    assert isinstance(event, MessageStatus)
    assert event.error is None


def test_template_level_codes_name_their_problem() -> None:
    problems = {c: e.template for c, e in CODES.items() if e.template is not None}
    assert problems == {
        132001: TemplateProblem.MISSING,
        132015: TemplateProblem.PAUSED,
        132016: TemplateProblem.DISABLED,
    }
    assert ProviderError(ErrorKind.PERMANENT, 131026, "t").template_problem is None


def test_template_updates() -> None:
    status = {
        "event": "rejected",
        "message_template_id": 594425479261596,
        "message_template_name": "order_confirmed",
        "message_template_language": "en_US",
        "reason": "INVALID_FORMAT",
    }
    quality = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "YELLOW",
        "message_template_id": 594425479261596,
        "message_template_name": "order_confirmed",
        "message_template_language": "en_US",
    }
    category = {
        "message_template_id": 594425479261596,
        "message_template_name": "order_confirmed",
        "message_template_language": "en_US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    ids = ("594425479261596", "order_confirmed", "en_US")
    assert parse_webhook(envelope("message_template_status_update", status)) == [
        TemplateStatusUpdate(
            "419561257915477",
            TemplateStatus.REJECTED,
            *ids,
            reason="INVALID_FORMAT",
            event="REJECTED",
        )
    ]
    # Every event Meta documents, and the status it leaves the template in (None: as it was).
    leaves = {
        "APPROVED": TemplateStatus.APPROVED,
        "PENDING": TemplateStatus.PENDING,
        "PAUSED": TemplateStatus.PAUSED,
        "DISABLED": TemplateStatus.DISABLED,
        "REINSTATED": TemplateStatus.APPROVED,
        "PENDING_DELETION": TemplateStatus.DELETED,
        "DELETED": TemplateStatus.DELETED,
        "IN_APPEAL": TemplateStatus.PENDING,
        "FLAGGED": None,
    }
    for name, leaves_it in leaves.items():
        value = {**status, "event": name, "reason": "NONE"}
        (event,) = parse_webhook(envelope("message_template_status_update", value))
        assert isinstance(event, TemplateStatusUpdate)
        assert (event.status, event.event, event.reason) == (leaves_it, name, None)
    for says_nothing in ("LOCKED", "UNLOCKED", "ARCHIVED", "UNARCHIVED", "LIMIT_EXCEEDED"):
        value = {**status, "event": says_nothing}
        assert parse_webhook(envelope("message_template_status_update", value)) == []
    paused = {
        **status,
        "event": "PAUSED",
        "reason": None,
        "other_info": {"title": "FIRST_PAUSE", "description": "Paused for 3 hours."},
    }
    (event,) = parse_webhook(envelope("message_template_status_update", paused))
    assert isinstance(event, TemplateStatusUpdate)
    assert event.detail == "FIRST_PAUSE: Paused for 3 hours."
    assert parse_webhook(envelope("message_template_quality_update", quality)) == [
        TemplateQualityUpdate("419561257915477", *ids, "GREEN", "YELLOW")
    ]
    assert parse_webhook(envelope("template_category_update", category)) == [
        TemplateCategoryUpdate("419561257915477", *ids, "UTILITY", "MARKETING")
    ]


def test_unknown_parts_are_skipped_and_a_body_that_is_not_the_envelope_is_refused() -> None:
    assert parse_webhook(envelope("account_alerts", {"anything": 1})) == []
    assert parse_webhook(orjson.dumps({"entry": ["x", {"id": "1", "changes": [1]}]})) == []
    no_number = {**statuses_value(status_example()), "metadata": {}}
    assert parse_webhook(envelope("messages", no_number)) == []
    with pytest.raises(AttributeError):
        parse_webhook('[{"entry": "not a list of entries"}]')


def test_the_accounts_a_delivery_speaks_for() -> None:
    example = webhook_examples()["Text Message"]
    assert webhook_accounts(example) == ["419561257915477"]
    assert webhook_accounts({"entry": "x"}) == []
    assert webhook_accounts([]) == []

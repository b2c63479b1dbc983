"""Meta's listed components → Herald's template fields: every kind is imported, and what no
send can carry yet is marked so, with the reason (``template/importing.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from herald.provider.base import ProviderTemplate
from herald.template.importing import imported
from tests.template import seeds

BODY = {"type": "BODY", "text": "Hello {{1}}", "example": {"body_text": [["Sam"]]}}


def listed(
    components: list[dict[str, Any]],
    category: str = "UTILITY",
    status: str = "APPROVED",
    **fields: Any,
) -> ProviderTemplate:
    return ProviderTemplate(
        id="1",
        name="t",
        language="en",
        status=status,
        category=category,
        components=tuple(components),
        **fields,
    )


@pytest.mark.parametrize(
    ("component", "words"),
    [
        ({"type": "CAROUSEL", "cards": []}, "a carousel"),
        ({"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Ends"}}, "limited-time"),
        ({"type": "HEADER", "format": "LOCATION"}, "a location header"),
        ({"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Go"}]}, "a flow button"),
        ({"type": "BUTTONS", "buttons": [{"type": "MPM", "text": "View"}]}, "catalog"),
        ({"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View"}]}, "catalog"),
        ({"type": "SOMETHING_NEW"}, "a SOMETHING_NEW component"),
    ],
)
def test_kinds_herald_cannot_send_are_imported_with_the_reason(
    component: dict[str, Any], words: str
) -> None:
    fields = imported(listed([BODY, component]))
    assert fields.sendable is False
    assert fields.unsendable_reason is not None
    assert words in fields.unsendable_reason
    assert fields.body == "Hello {{1}}"
    assert fields.components == [BODY, component]


def test_named_parameters_are_imported_sendable_with_their_names_in_the_body() -> None:
    named = imported(listed([{"type": "BODY", "text": "Hello"}], parameter_format="NAMED"))
    assert (named.parameter_format, named.sendable) == ("NAMED", True)
    with_variables = imported(listed(seeds.NAMED["components"], parameter_format="NAMED"))
    assert (with_variables.parameter_format, with_variables.sendable) == ("NAMED", True)
    assert with_variables.body == "Welcome {{first_name}}, enjoy {{discount}} off."
    assert with_variables.placeholder_count == 2


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("APPROVED", "APPROVED"),
        ("IN_APPEAL", "PENDING"),
        ("PENDING_DELETION", "DELETED"),
        ("LIMIT_EXCEEDED", "DISABLED"),
        ("A_STATUS_META_ADDS_LATER", "DISABLED"),
    ],
)
def test_meta_s_statuses_become_herald_s_states(status: str, state: str) -> None:
    assert imported(listed([BODY], status=status)).state == state


def test_a_rejection_reason_is_kept_only_for_a_rejected_template() -> None:
    rejected = imported(listed([BODY], status="REJECTED", rejected_reason="INVALID_FORMAT"))
    assert rejected.rejection_reason == "INVALID_FORMAT"
    assert imported(listed([BODY], rejected_reason="NONE")).rejection_reason is None


def test_an_unknown_category_is_not_sendable() -> None:
    fields = imported(listed([BODY], category="TRANSACTIONAL"))
    assert fields.sendable is False
    assert "TRANSACTIONAL" in str(fields.unsendable_reason)


def test_one_tap_otp_with_its_app_and_meta_s_older_url_button() -> None:
    body = {"type": "BODY", "add_security_recommendation": False}
    one_tap = {
        "type": "OTP",
        "otp_type": "ONE_TAP",
        "supported_apps": [{"package_name": "com.example.shop", "signature_hash": "K8a/AINcGX7"}],
    }
    fields = imported(
        listed([body, {"type": "BUTTONS", "buttons": [one_tap]}], category="AUTHENTICATION")
    )
    assert fields.authentication == {
        "otp_type": "ONE_TAP",
        "add_security_recommendation": False,
        "package_name": "com.example.shop",
        "signature_hash": "K8a/AINcGX7",
    }
    assert (fields.body, fields.placeholder_count, fields.sendable) == (
        "{{1}} is your verification code.",
        0,
        True,
    )
    older = {
        "type": "URL",
        "text": "Copy code",
        "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
    }
    copied = imported(
        listed([body, {"type": "BUTTONS", "buttons": [older]}], category="AUTHENTICATION")
    )
    assert copied.authentication == {"otp_type": "COPY_CODE", "add_security_recommendation": False}
    assert copied.buttons == []


def test_an_authentication_template_without_its_otp_button_is_not_sendable() -> None:
    fields = imported(listed([BODY], category="AUTHENTICATION"))
    assert fields.sendable is False
    assert "OTP" in str(fields.unsendable_reason)

"""How a template's verdict settles each of its messages (``results.plan``): no attempt for a
message never sent, the send deadline kept for a paused template, one verdict recorded once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from herald.dispatch.policy import RetryPolicy
from herald.dispatch.results import SendResult, plan
from herald.dispatch.template_holds import MISSING, PAUSED, Verdict
from herald.models import Message
from herald.provider.base import ErrorKind, ProviderError

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(template_recheck_seconds=300)


def message(message_id: int, deadline_in: timedelta) -> Message:
    return Message(
        id=message_id,
        template_id=7,
        template_name="order_confirmed",
        template_language="en",
        attempts=0,
        pair_rate_hits=0,
        deadline_at=NOW + deadline_in,
    )


def result(verdict: Verdict, message_id: int, called: bool, deadline_in: timedelta) -> SendResult:
    refusal = ProviderError(ErrorKind.TEMPLATE_UNAVAILABLE, verdict.code, "refused")
    return SendResult(
        message(message_id, deadline_in),
        NOW,
        NOW,
        error=refusal if called else None,
        verdict=verdict,
        called=called,
    )


def test_a_paused_templates_messages_wait_without_an_attempt_of_their_own() -> None:
    verdict = Verdict(("order_confirmed", "en"), PAUSED, True, "PAUSED")
    planned = plan(
        [
            result(verdict, 1, called=True, deadline_in=timedelta(hours=24)),
            result(verdict, 2, called=False, deadline_in=timedelta(hours=24)),
        ],
        POLICY,
        random.Random(1),
    )
    assert [(r["mid"], r["attempted"], r["retry_at"]) for r in planned.retry] == [
        (1, 1, NOW + timedelta(seconds=300)),
        (2, 0, NOW + timedelta(seconds=300)),
    ]
    assert [a["message_id"] for a in planned.attempts] == [1]  # the one call made
    assert planned.verdicts == [verdict]
    assert verdict.template_ids == {7}


def test_a_paused_template_past_the_send_deadline_fails_the_message() -> None:
    verdict = Verdict(("order_confirmed", "en"), PAUSED, True, "PAUSED")
    planned = plan(
        [result(verdict, 1, called=False, deadline_in=timedelta(seconds=60))],
        POLICY,
        random.Random(1),
    )
    assert planned.retry == []
    assert [(f["code"], f["title"], f["attempted"]) for f in planned.fail] == [
        ("132015", "Template paused by the provider", 0)
    ]


def test_a_missing_template_fails_every_message_with_one_reason() -> None:
    verdict = Verdict(("order_confirmed", "en"), MISSING, False, "DRAFT")
    planned = plan(
        [result(verdict, n, called=n == 1, deadline_in=timedelta(hours=24)) for n in range(1, 4)],
        POLICY,
        random.Random(1),
    )
    assert {(f["code"], f["title"]) for f in planned.fail} == {
        ("132001", "Template does not exist at the provider")
    }
    assert [f["attempted"] for f in planned.fail] == [1, 0, 0]
    assert planned.verdicts == [verdict]  # recorded once for the three

"""Turning provider answers into row changes (``repository.record_results``: conditional, so a
status webhook that raced ahead of the dispatcher is never overwritten)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.dispatch import repository
from herald.dispatch.policy import Decision, Outcome, RetryPolicy, decide
from herald.dispatch.template_holds import Verdict
from herald.models import Message
from herald.provider.base import ErrorKind, ProviderError, SendReceipt


@dataclass
class SendResult:
    message: Message
    started_at: datetime
    finished_at: datetime
    receipt: SendReceipt | None = None
    error: ProviderError | None = None
    # A template-level refusal's verdict, for the refused message and the template's others.
    verdict: Verdict | None = None
    called: bool = True  # False: settled by the verdict, without a provider call of its own


@dataclass
class Planned:
    """The statements to run for a set of results, and what they imply for the channel."""

    accepted: list[dict[str, Any]]
    retry: list[dict[str, Any]]
    fail: list[dict[str, Any]]
    unknown: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    decisions: list[tuple[SendResult, Decision]]
    verdicts: list[Verdict] = field(default_factory=list)  # to record, once each

    def changed_ids(self) -> list[int]:
        """Messages whose state these results may have changed (to sent or failed)."""
        return [row["mid"] for row in (*self.accepted, *self.fail)]


def plan(results: list[SendResult], policy: RetryPolicy, rng: random.Random) -> Planned:
    planned = Planned([], [], [], [], [], [])
    for result in results:
        if result.verdict is not None:
            _plan_held(planned, result, result.verdict, policy)
            continue
        message, at = result.message, result.finished_at
        attempt: dict[str, Any] = {
            "message_id": message.id,
            "started_at": result.started_at,
            "finished_at": at,
            "outcome": "accepted",
            "error_code": None,
            "error_title": None,
            "provider_message_id": None,
        }
        if result.receipt is not None:
            attempt["provider_message_id"] = result.receipt.provider_message_id
            planned.accepted.append(
                {"mid": message.id, "wamid": result.receipt.provider_message_id, "at": at}
            )
            planned.decisions.append((result, Decision(Outcome.SENT)))
        else:
            error = result.error
            assert error is not None
            attempt.update(
                outcome=error.kind.value, error_code=_code(error), error_title=error.title
            )
            hits = message.pair_rate_hits + (error.kind is ErrorKind.PAIR_RATE)
            decision = decide(
                error, message.attempts + 1, hits, message.deadline_at, at, policy, rng
            )
            planned.decisions.append((result, decision))
            if decision.outcome is Outcome.RETRY:
                planned.retry.append(
                    {
                        "mid": message.id,
                        "retry_at": decision.at,
                        "attempted": 1,
                        "hits": hits,
                        "at": at,
                    }
                )
            elif decision.outcome is Outcome.UNKNOWN:
                planned.unknown.append({"mid": message.id, "at": at})
            else:
                planned.fail.append(_failure(message, at, error, attempted=1))
        planned.attempts.append(attempt)
    return planned


def _failure(
    message: Message, at: datetime, error: ProviderError, attempted: int
) -> dict[str, Any]:
    return {
        "mid": message.id,
        "at": at,
        "code": _code(error),
        "title": error.title,
        "detail": error.details,
        "attempted": attempted,
    }


def _plan_held(planned: Planned, result: SendResult, verdict: Verdict, policy: RetryPolicy) -> None:
    """A message of a template the provider refused: the verdict decides, not its own answer."""
    message, at, called = result.message, result.finished_at, int(result.called)
    if message.template_id is not None:
        verdict.template_ids.add(message.template_id)
    if not verdict.recorded and all(v is not verdict for v in planned.verdicts):
        planned.verdicts.append(verdict)
    retry_at = at + timedelta(seconds=policy.template_recheck_seconds)
    if verdict.holds and retry_at <= message.deadline_at:
        decision = Decision(Outcome.RETRY, retry_at)
        planned.retry.append(
            {
                "mid": message.id,
                "retry_at": retry_at,
                "attempted": called,
                "hits": message.pair_rate_hits,
                "at": at,
            }
        )
    else:
        decision = Decision(Outcome.FAILED)
        planned.fail.append(_failure(message, at, verdict.error, attempted=called))
    planned.decisions.append((result, decision))
    if called:
        error = result.error or verdict.error
        planned.attempts.append(
            {
                "message_id": message.id,
                "started_at": result.started_at,
                "finished_at": at,
                "outcome": error.kind.value,
                "error_code": _code(error),
                "error_title": error.title,
                "provider_message_id": None,
            }
        )


def combined(plans: list[Planned]) -> Planned:
    """Several chunks' plans as one, to record in one transaction."""
    merged = Planned([], [], [], [], [], [])
    for planned in plans:
        merged.accepted += planned.accepted
        merged.retry += planned.retry
        merged.fail += planned.fail
        merged.unknown += planned.unknown
        merged.attempts += planned.attempts
        merged.decisions += planned.decisions
        merged.verdicts += [v for v in planned.verdicts if all(m is not v for m in merged.verdicts)]
    return merged


def _code(error: ProviderError) -> str:
    return error.stored_code


async def apply(session: AsyncSession, planned: Planned) -> None:
    await repository.record_results(
        session, planned.accepted, planned.retry, planned.fail, planned.unknown, planned.attempts
    )

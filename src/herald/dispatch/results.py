"""Turning provider answers into row changes: conditional, so a status webhook that raced ahead
of the dispatcher is never overwritten (a message never moves backwards)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.dispatch.policy import Decision, Outcome, RetryPolicy, decide
from herald.dispatch.template_holds import Verdict
from herald.models import Attempt, Message
from herald.models.message import FAILED, QUEUED, SENDING, SENT
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


def _still_sending(new_state: str) -> Any:
    return case((Message.state == SENDING, new_state), else_=Message.state)


_RELEASE = {"lease_owner": None, "lease_expires_at": None, "in_flight_at": None}

ACCEPTED = (
    update(Message)
    .where(Message.id == bindparam("mid"))
    .values(
        state=_still_sending(SENT),
        provider_message_id=func.coalesce(Message.provider_message_id, bindparam("wamid")),
        sent_at=func.coalesce(Message.sent_at, bindparam("at")),
        attempts=Message.attempts + 1,
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
RETRY = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        state=QUEUED,
        next_attempt_at=bindparam("retry_at"),
        attempts=Message.attempts + bindparam("attempted"),
        pair_rate_hits=bindparam("hits"),
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
FAIL = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        state=FAILED,
        failed_at=bindparam("at"),
        error_code=bindparam("code"),
        error_title=bindparam("title"),
        error_detail=bindparam("detail"),
        attempts=Message.attempts + bindparam("attempted"),
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)
UNKNOWN = (
    update(Message)
    .where(Message.id == bindparam("mid"), Message.state == SENDING)
    .values(
        outcome_unknown_since=bindparam("at"),
        attempts=Message.attempts + 1,
        updated_at=bindparam("at"),
        **_RELEASE,
    )
)


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
    return str(error.code) if error.code is not None else error.kind.value


async def apply(session: AsyncSession, planned: Planned) -> None:
    # Core executemany (one round trip a statement), not the ORM's bulk-by-primary-key.
    connection = await session.connection()
    for statement, rows in (
        (ACCEPTED, planned.accepted),
        (RETRY, planned.retry),
        (FAIL, planned.fail),
        (UNKNOWN, planned.unknown),
    ):
        if rows:
            await connection.execute(statement, rows)
    if planned.attempts:
        await connection.execute(insert(Attempt), planned.attempts)

"""The life of a message: its states, the moves between them, the timestamp each sets, which are
final, and what a callback receiver is told on reaching each. The dispatcher, the status
webhooks, callbacks, the console and the API's schemas all read this table; a new state is a
line in ``MessageState`` and one in ``LIFECYCLE`` (plus a migration if it needs a timestamp
column of its own, or a name longer than the ``state`` column's 10 characters).

"A message never moves backwards" is ``LIFECYCLE``'s ``to``: ``may_move`` asks it in Python
and ``moved_to`` builds the same question as SQL, so a status webhook that raced ahead of the
dispatcher's record of the send is never overwritten by either.

Here rather than in ``message/``: the model's column and every feature that moves a message
(dispatch, callbacks, the webhooks) read it, and this module imports nothing of Herald's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from sqlalchemy import case, or_

# Also the API's and the console's list of states, in this order.
MessageState = Literal["queued", "sending", "sent", "delivered", "read", "failed", "cancelled"]
STATES: Final[tuple[MessageState, ...]] = get_args(MessageState)

QUEUED: Final[MessageState] = "queued"
SENDING: Final[MessageState] = "sending"
SENT: Final[MessageState] = "sent"
DELIVERED: Final[MessageState] = "delivered"
READ: Final[MessageState] = "read"
FAILED: Final[MessageState] = "failed"
CANCELLED: Final[MessageState] = "cancelled"


@dataclass(frozen=True)
class State:
    # The states it may move to; none: it is final.
    to: tuple[MessageState, ...] = ()
    # The message's column set when it is reached, and kept when it is reached again (a late
    # webhook); None: the state has no time of its own.
    timestamp: str | None = None
    # A step of the delivery path: reaching it means the earlier steps were passed, even when
    # their statuses never came (or come later), and a callback receiver is told of each.
    step: bool = False
    # The provider has (or may have) the message: its status webhooks may move it on.
    with_provider: bool = False


LIFECYCLE: Final[dict[MessageState, State]] = {
    QUEUED: State(to=(SENDING, FAILED, CANCELLED)),
    # Back to queued: a retry, or a claim given back before the request left.
    SENDING: State(to=(QUEUED, SENT, DELIVERED, READ, FAILED), with_provider=True),
    SENT: State(to=(DELIVERED, READ, FAILED), timestamp="sent_at", step=True, with_provider=True),
    DELIVERED: State(to=(READ,), timestamp="delivered_at", step=True, with_provider=True),
    READ: State(timestamp="read_at", step=True, with_provider=True),
    FAILED: State(timestamp="failed_at"),
    CANCELLED: State(),
}

# By any string: a state read from a row or a webhook.
_BY_NAME: Final[dict[str, State]] = dict(LIFECYCLE.items())
FINAL: Final[tuple[MessageState, ...]] = tuple(s for s in STATES if not LIFECYCLE[s].to)
# The timestamp columns, in the order of the states that set them.
TIMESTAMPS: Final[tuple[str, ...]] = tuple(
    stamp for s in STATES if (stamp := LIFECYCLE[s].timestamp) is not None
)
# The delivery path's steps, in order.
STEPS: Final[tuple[MessageState, ...]] = tuple(s for s in STATES if LIFECYCLE[s].step)
# The states a provider's status reports (the others are Herald's own).
REPORTED: Final[tuple[MessageState, ...]] = tuple(
    s for s in STATES if LIFECYCLE[s].timestamp is not None
)


def may_move(current: str, new: str) -> bool:
    """Whether a message in ``current`` may move to ``new`` (never backwards)."""
    state = _BY_NAME.get(current)
    return state is not None and new in state.to


def reported_moves(current: str, new: str) -> bool:
    """Whether a provider's status of ``new`` moves a message in ``current``: only one the
    provider has, and only forwards."""
    state = _BY_NAME.get(current)
    return state is not None and state.with_provider and new in state.to


def timestamp(state: str) -> str | None:
    """The column ``state`` sets when reached, if any."""
    found = _BY_NAME.get(state)
    return None if found is None else found.timestamp


def is_step(state: str) -> bool:
    return state in STEPS


def sources(new: MessageState) -> tuple[MessageState, ...]:
    """The states a message may move to ``new`` from."""
    return tuple(s for s in STATES if new in LIFECYCLE[s].to)


def moved_to(column: Any, new: MessageState) -> Any:
    """SQL for ``may_move``: the state column's value once moved to ``new`` where it may move,
    as it was elsewhere (a later state a webhook recorded first stays)."""
    # Comparisons rather than IN: an IN list is an "expanding" parameter, which a statement
    # run for many rows at once (executemany) cannot have.
    found = sources(new)
    if not found:
        return column
    return case((or_(*(column == source for source in found)), new), else_=column)


def _reaches() -> dict[MessageState, frozenset[MessageState]]:
    """The states each state may lead to, however many moves away."""
    reach = {s: set(LIFECYCLE[s].to) for s in STATES}
    changed = True
    while changed:
        changed = False
        for found in reach.values():
            more = set().union(*(reach[s] for s in found)) - found
            if more:
                found |= more
                changed = True
    return {s: frozenset(found) for s, found in reach.items()}


_REACHES = _reaches()


def announced(state: MessageState) -> tuple[MessageState, ...]:
    """What a callback receiver is told when a message reaches ``state``, in order: a step of
    the delivery path announces the steps before it too (Meta's statuses arrive out of order,
    and a message seen ``read`` first was also sent and delivered). A state that is neither a
    step nor final is not announced: it is Herald's own business."""
    if LIFECYCLE[state].step:
        return STEPS[: STEPS.index(state) + 1]
    return (state,) if state in FINAL else ()


def _not_yet(state: MessageState) -> tuple[str, ...]:
    return tuple(
        stamp
        for s in STATES
        if s != state and state not in _REACHES[s] and (stamp := LIFECYCLE[s].timestamp) is not None
    )


_NOT_YET: Final[dict[str, tuple[str, ...]]] = {s: _not_yet(s) for s in STATES}


def not_yet(state: str) -> tuple[str, ...]:
    """The timestamps an event announcing ``state`` must not show: those of the states that
    cannot come before it (a late delivery of ``sent`` does not leak the later ``read_at``)."""
    return _NOT_YET.get(state, ())


def reached(state: MessageState) -> tuple[MessageState, ...]:
    """The states whose messages have reached the step ``state`` (the console's funnel: a read
    message was also sent and delivered); every message was queued."""
    if state == QUEUED:
        return STATES
    return tuple(s for s in STATES if s == state or state in announced(s))


# The console's funnel: from queued along the delivery path, and what failed.
FUNNEL: Final[tuple[MessageState, ...]] = (QUEUED, *STEPS, FAILED)

"""What a process remembers between sends: users' authorising state, their templates and their
channels (the senders a send may name, ``channel/senders.py``).

A send authorised by a remembered state is checked again inside the transaction that stores
it (``intake.SendBatcher``): the batch reads the state of its users and templates, and a send
whose user no longer authorises its token, or whose template changed, is not stored but drafted
again from the database (``Stale``). So revocation holds in every process, SQLite's CLI
included, without any invalidation message: a request that starts after a user is disabled is
in a batch whose transaction starts later still, and sees it. A remembered state is only ever
trusted to allow; anything it would refuse is decided on a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from herald.channel.senders import UserChannels
from herald.kit.jwt import credentials_version
from herald.message.limit import LimitMemory
from herald.models import Template, User

# The template fields a send is checked against and copied from: a change to any of them means
# the send must be drafted again.
TEMPLATE_FIELDS = (
    "user_id",
    "channel_id",
    "waba_id",
    "name",
    "language",
    "category",
    "state",
    "sendable",
    "header_format",
    "header_text",
    "buttons",
    "placeholder_count",
    "parameter_format",
    "body",
)
MAX_REMEMBERED = 10_000  # entries per map; cleared when full (a miss only costs a read)


class Stale(Exception):
    """The state a send was drafted under changed before its batch: draft it again."""


@dataclass(frozen=True)
class UserState:
    is_disabled: bool
    has_api_access: bool
    credentials: int  # ``credentials_version`` of the user's tokens_valid_after

    @classmethod
    def of(cls, is_disabled: bool, has_api_access: bool, valid_after: datetime | None) -> UserState:
        return cls(bool(is_disabled), bool(has_api_access), credentials_version(valid_after))

    def authorises(self, token_credentials: int | None) -> bool:
        """None: the request authenticated otherwise (a secret key), checked in its own read."""
        if self.is_disabled or not self.has_api_access:
            return False
        return token_credentials is None or token_credentials == self.credentials


@dataclass(frozen=True)
class Checks:
    """What a send's batch verifies before storing it."""

    user_id: int
    token_credentials: int | None
    template_id: int
    template: tuple[Any, ...]
    channels: UserChannels  # the user's channels the sender was chosen among


def template_fields(template: Template) -> tuple[Any, ...]:
    return tuple(getattr(template, name) for name in TEMPLATE_FIELDS)


@dataclass
class IntakeCache:
    users: dict[int, UserState] = field(default_factory=dict)
    templates: dict[tuple[int, int], Template] = field(default_factory=dict)
    # Each limited WABA's count of customers, as this process last read it (message/limit.py).
    limits: LimitMemory = field(default_factory=LimitMemory)
    channels: dict[int, UserChannels] = field(default_factory=dict)

    def user(self, user_id: int) -> UserState | None:
        return self.users.get(user_id)

    def remember_user(self, user: User) -> None:
        self._room(self.users)
        self.users[user.id] = UserState.of(
            user.is_disabled, user.has_api_access, user.tokens_valid_after
        )

    def template(self, user_id: int, template_id: int) -> Template | None:
        return self.templates.get((user_id, template_id))

    def remember_template(self, template: Template) -> None:
        """``template`` must be detached and never changed afterwards: requests share it."""
        self._room(self.templates)
        self.templates[(template.user_id, template.id)] = template

    def user_channels(self, user_id: int) -> UserChannels | None:
        return self.channels.get(user_id)

    def remember_channels(self, user_id: int, channels: UserChannels) -> None:
        self._room(self.channels)
        self.channels[user_id] = channels

    def forget_user(self, user_id: int) -> None:
        self.users.pop(user_id, None)

    def forget(self, user_id: int, template_id: int) -> None:
        self.users.pop(user_id, None)
        self.templates.pop((user_id, template_id), None)
        self.channels.pop(user_id, None)

    @staticmethod
    def _room(entries: dict[Any, Any]) -> None:
        if len(entries) >= MAX_REMEMBERED:
            entries.clear()

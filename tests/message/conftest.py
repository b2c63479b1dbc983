"""Fixtures of the message tests."""

from __future__ import annotations

import pytest

from herald.config import Settings
from herald.kit.clock import FrozenClock
from herald.models import Template, User
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import approved_template


@pytest.fixture
async def template(
    db: DatabaseUnderTest, ana: User, settings: Settings, clock: FrozenClock
) -> Template:
    """ana's approved template on her default channel."""
    return await approved_template(db, ana, settings, clock.now())

from __future__ import annotations

from typing import Any

import pytest

from tests.callback.test_delivery import receiver  # noqa: F401 - the fixture, for every module


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    # The callback receiver listens on loopback; retries are fast so tests stay short.
    return {
        "callbacks_allow_loopback": True,
        "callback_retry_base_seconds": 0.05,
        "callback_poll_seconds": 0.05,
        "callback_timeout_seconds": 3.0,
    }

"""Waiting for a template's review, written once for both clients: the steps yield the calls to
run (through the client, with its login and retries) and the pauses between them."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeAlias

from herald_client._call import Call, Sleep
from herald_client._routes_messaging import get_template
from herald_client.errors import ReviewTimeout
from herald_client.models import Template

Step: TypeAlias = Call[Template] | Sleep
Steps: TypeAlias = Generator[Step, Template | None, Template]

DEFAULT_REVIEW_TIMEOUT = 600.0
DEFAULT_POLL_INTERVAL = 5.0


def review_steps(
    template_id: int, timeout: float, poll_interval: float, clock: Callable[[], float]
) -> Steps:
    """Read the template until it leaves PENDING; raise ``ReviewTimeout`` after ``timeout``."""
    if timeout < 0 or poll_interval <= 0:
        raise ValueError("timeout must be 0 or more and poll_interval more than 0")
    deadline = clock() + timeout
    while True:
        template = yield get_template(template_id)
        assert template is not None  # the driver answers a Call with its result
        if template["state"] != "PENDING":
            return template
        left = deadline - clock()
        if left <= 0:
            raise ReviewTimeout(template)
        yield Sleep(min(poll_interval, left))

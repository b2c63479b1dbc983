from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What the control API may change at run time (PATCH /_emulator/config).
TUNABLE = frozenset(
    {
        "approve_after_seconds",
        "webhooks_enabled",
        "webhook_url",
        "webhook_max_attempts",
        "webhook_retry_cap_seconds",
        "webhook_retry_window_seconds",
        "throughput_per_second",
        "throughput_burst_seconds",
        "pair_rate_seconds",
        "status_delays",
        "latency_seconds",
        "error_rate",
        "timeout_rate",
        "timeout_seconds",
        "duplicate_statuses",
        "malformed_answers",
        "malformed_rate",
        "webhook_delay_seconds",
        "reorder_statuses",
        "failing_numbers",
        "refusing_numbers",
    }
)


@dataclass
class EmulatorConfig:
    access_token: str
    app_secret: str
    webhook_url: str | None = None
    approve_after_seconds: float | None = 2.0  # None: templates wait for the control API
    webhooks_enabled: bool = True
    # Webhooks the endpoint did not take are tried again, as Meta does, for up to seven days:
    # 0.2 s after the first try, then twice as long each time, at most this many seconds apart.
    webhook_retry_cap_seconds: float = 60.0
    webhook_retry_window_seconds: float = 7 * 24 * 3600.0
    webhook_max_attempts: int | None = None  # a bound of its own (tests); None: the window only
    # Where the emulator keeps what Meta remembers (templates, media, phone numbers, knobs set
    # through the control API, webhooks not yet delivered); None: in memory only.
    state_path: str | None = None
    # Sending: limits Meta enforces, and faults to inject.
    throughput_per_second: float | None = None  # per phone number id; None = unlimited
    throughput_burst_seconds: float = 0.1  # sends that may arrive together: this much of the rate
    pair_rate_seconds: float | None = None  # min spacing to one recipient; None = off
    status_delays: tuple[float, float, float] = (0.02, 0.02, 0.02)  # → sent, delivered, read
    latency_seconds: float = 0.0
    error_rate: float = 0.0  # share of sends answered HTTP 500 (code 131000)
    timeout_rate: float = 0.0  # share of sends answered only after ``timeout_seconds``
    timeout_seconds: float = 15.0
    duplicate_statuses: bool = False  # send every status webhook twice
    # Answers Meta's clients must survive: "accepted_html" takes the message but answers 200
    # with an HTML page; "error_html" refuses it with a 502 HTML page (a proxy in the way).
    malformed_answers: str | None = None
    malformed_rate: float = 0.0
    webhook_delay_seconds: float = 0.0  # a slow sender: wait this long before each POST
    reorder_statuses: bool = False  # send read before delivered
    failing_numbers: dict[str, int] = field(default_factory=dict)  # number → status error code
    refusing_numbers: dict[str, int] = field(default_factory=dict)  # number → send error code
    # Templates the accounts already hold when it starts (seeding.SeedTemplate, checked).
    seed: list[Any] = field(default_factory=list)

    def public(self) -> dict[str, object]:
        """The configuration without its secrets."""
        shown = dict(self.__dict__)
        shown.pop("access_token")
        shown.pop("app_secret")
        shown.pop("seed")
        return shown

    def knobs(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in TUNABLE}

    def tune(self, key: str, value: Any) -> None:
        """Set one knob of ``TUNABLE`` (others are ignored)."""
        if key in TUNABLE:
            setattr(self, key, tuple(value) if key == "status_delays" else value)

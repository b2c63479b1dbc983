"""What the emulator keeps of each thing Meta keeps (media, templates, accepted sends) and its
throughput bucket: plain records, held by state.py."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EmulatedMedia:
    id: str
    phone_number_id: str
    mime_type: str
    sha256: str
    size: int
    filename: str | None
    uploaded_at: float  # wall clock
    expired: bool = False
    # A customer's file (sent through /_emulator/inbound), base64: served for download as
    # Meta serves a media message's file. Uploads keep only their digest and size.
    content: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phone_number_id": self.phone_number_id,
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "file_size": self.size,
            "filename": self.filename,
            "uploaded_at": self.uploaded_at,
            "expired": self.expired,
        }


@dataclass
class EmulatedTemplate:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    rejected_reason: str | None = None
    parameter_format: str = "POSITIONAL"
    quality: str = "UNKNOWN"  # Meta's rating of a new template, until it has feedback
    previous_category: str | None = None  # before Meta re-categorised it

    def as_json(self) -> dict[str, Any]:
        shown = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": self.components,
            "parameter_format": self.parameter_format,
            "quality_score": {"score": self.quality},
        }
        if self.rejected_reason:
            shown["rejected_reason"] = self.rejected_reason
        if self.previous_category:  # as Meta lists a re-categorised template
            shown["previous_category"] = self.previous_category
        return shown


@dataclass
class EmulatedMessage:
    wamid: str
    phone_number_id: str
    to: str
    template: str
    language: str
    callback_data: str | None
    # The request's JSON as it came: kept as bytes, not parsed, so that thousands of kept sends
    # add nothing for the cyclic collector to walk (its full collections stalled the emulator).
    body: bytes
    received_at: float  # monotonic


@dataclass
class Bucket:
    """Meta-like throughput check: a token bucket holding ``burst_seconds`` of the rate (a tenth
    of a second by default)."""

    rate: float
    burst_seconds: float = 0.1
    tokens: float = 0.0
    updated: float = field(default_factory=time.monotonic)

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * self.burst_seconds)

    def take(self, now: float | None = None) -> bool:
        """Whether a send arriving ``now`` (monotonic seconds; default: at once) gets through.
        Given times replay recorded arrivals (the benchmark's check of a pacing run)."""
        now = time.monotonic() if now is None else now
        capacity = self.capacity
        self.tokens = min(capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def bucket_refusals(times: list[float], rate: float, burst_seconds: float = 0.1) -> int:
    """How many of these sends (seconds, in order) a bucket full at the first would refuse: a
    pacing run's sends judged as the emulator judges arrivals, apart from the network's jitter."""
    if not times:
        return 0
    bucket = Bucket(rate, burst_seconds, updated=times[0])
    bucket.tokens = bucket.capacity
    return sum(not bucket.take(at) for at in times)


@dataclass
class NumberHealth:
    """What Meta decided about one business number: its quality, messaging limit tier,
    throughput (after Meta's upgrade), and whether its sends are restricted or banned."""

    phone_number_id: str
    display_phone_number: str | None = None
    quality: str = "UNKNOWN"
    tier: str | None = None
    throughput_per_second: float | None = None  # None: the emulator's setting
    restricted: bool = False  # business-initiated messaging (templates) refused with 368
    restricted_until: float | None = None  # wall clock; None with ``restricted``: no end
    banned: bool = False  # every send refused with 131031

    def restricted_now(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.restricted and (self.restricted_until is None or self.restricted_until > now)

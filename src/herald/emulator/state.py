"""Everything the emulator remembers, per app instance: in memory, and in its state file when it
has one (``EmulatorConfig.state_path``, persistence.py)."""

from __future__ import annotations

import asyncio
import collections
import itertools
import secrets
import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from herald.emulator.config import EmulatorConfig
from herald.emulator.messaging_limit import MessagingLimits
from herald.emulator.persistence import StateFile, StoredWebhook
from herald.emulator.records import (
    Bucket,
    EmulatedMedia,
    EmulatedMessage,
    EmulatedTemplate,
    NumberHealth,
)
from herald.emulator.seeding import SeedError, SeedTemplate
from herald.emulator.uploads import UploadedFile, Uploads, UploadSession
from herald.emulator.webhooks import WebhookSender

CUSTOMER_WINDOW_SECONDS = 24 * 3600  # Meta's customer-service window


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.templates: dict[str, EmulatedTemplate] = {}
        self.messages: list[EmulatedMessage] = []
        self.refused: dict[int, int] = {}  # error code → how many sends were refused with it
        # When each send over the throughput arrived (phone number id, monotonic as
        # ``received_at``): with the accepted ones' times, a benchmark can tell the arrivals'
        # burst from the sender's, number by number.
        # Bounded: a long-running emulator (the built-in one) that keeps refusing must not grow.
        self.throughput_refused_at: collections.deque[tuple[str, float]] = collections.deque(
            maxlen=10_000
        )
        self.phone_wabas: dict[str, str] = {}  # phone number id → WABA id
        # What Meta decided about each number (number_health.py): phone number id → it.
        self.numbers: dict[str, NumberHealth] = {}
        self.messaging_limits = MessagingLimits()  # tiers set by the control API, and usage
        # When each customer last wrote to each business number ("phone number id:wa_id" →
        # epoch seconds): free-form sends are refused with 131047 24 h after it.
        self.customer_windows: dict[str, float] = {}
        # The messages customers sent (wamid → the business number's id): the only ones a read
        # receipt may name. Receipts accepted, for tests (read_receipts.py).
        self.inbound_to: dict[str, str] = {}
        self.read_receipts: list[dict[str, Any]] = []
        self.media: dict[str, EmulatedMedia] = {}
        self.uploads = Uploads()  # Resumable Upload sessions and the header handles they issued
        self._ids = itertools.count(int(time.time()) * 1000)
        self._buckets: dict[str, Bucket] = {}
        self._last_to: dict[tuple[str, str], float] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self.store = StateFile(Path(config.state_path)) if config.state_path else None
        self.webhooks = WebhookSender(
            app_secret=lambda: self.config.app_secret,
            url=lambda: self.config.webhook_url,
            enabled=lambda: self.config.webhooks_enabled,
            max_attempts=lambda: self.config.webhook_max_attempts,
            delay=lambda: self.config.webhook_delay_seconds,
            retry_cap=lambda: self.config.webhook_retry_cap_seconds,
            retry_window=lambda: self.config.webhook_retry_window_seconds,
            store=self.store,
        )
        self._startup_knobs = config.knobs()
        self._started = False
        self._undelivered: list[StoredWebhook] = []
        if self.store is not None:
            self._restore(self.store)

    # --- what is kept across restarts ----------------------------------------------------------

    def _collections(self) -> dict[str, tuple[dict[str, Any], type[Any]]]:
        """Every remembered collection of dataclasses: kind → (id → object, its class). Kept
        as JSON documents, so a field added to one of these classes is kept with no schema
        change; a new collection needs one line here."""
        return {
            "template": (self.templates, EmulatedTemplate),
            "media": (self.media, EmulatedMedia),
            "upload_session": (self.uploads.sessions, UploadSession),
            "upload_handle": (self.uploads.handles, UploadedFile),
        }

    def _restore(self, store: StateFile) -> None:
        stored = store.load_objects()
        for kind, (collection, cls) in self._collections().items():
            names = {f.name for f in fields(cls)}
            for key, body in stored.get(kind, {}).items():
                collection[key] = cls(**{k: v for k, v in body.items() if k in names})
        self.phone_wabas.update(
            {key: str(body["waba_id"]) for key, body in stored.get("phone_number", {}).items()}
        )
        self.customer_windows.update(
            {key: float(body["at"]) for key, body in stored.get("window", {}).items()}
        )
        # Kept apart from the id-numbered collections: a phone number id is no id of ours.
        names = {f.name for f in fields(NumberHealth)}
        for key, body in stored.get("number_health", {}).items():
            self.numbers[key] = NumberHealth(**{k: v for k, v in body.items() if k in names})
        self.inbound_to.update(
            {key: str(body["to"]) for key, body in stored.get("inbound", {}).items()}
        )
        for waba_id, body in stored.get("messaging_limit", {}).items():
            self.messaging_limits.set_tier(waba_id, str(body["tier"]))
        for key, value in stored.get("knob", {}).items():
            self.config.tune(key, value["value"])
        self._undelivered = store.load_webhooks()
        self.webhooks.number_after(self._undelivered)
        numeric = [int(k) for c, _ in self._collections().values() for k in c if k.isdigit()]
        if numeric:
            self._ids = itertools.count(max(max(numeric) + 1, int(time.time()) * 1000))

    def remember(self) -> None:
        """Queue what changed since the last call for the state file (a no-op without one)."""
        if self.store is None:
            return
        for kind, (collection, _) in self._collections().items():
            self.store.sync(kind, {key: asdict(item) for key, item in collection.items()})
        self.store.sync("phone_number", {k: {"waba_id": v} for k, v in self.phone_wabas.items()})
        self.store.sync("window", {k: {"at": v} for k, v in self.customer_windows.items()})
        self.store.sync("number_health", {k: asdict(v) for k, v in self.numbers.items()})
        self.store.sync("inbound", {k: {"to": v} for k, v in self.inbound_to.items()})
        tiers = self.messaging_limits.tiers
        self.store.sync("messaging_limit", {k: {"tier": v} for k, v in tiers.items()})
        knobs = self.config.knobs()
        overridden = {k: v for k, v in knobs.items() if v != self._startup_knobs[k]}
        self.store.sync("knob", {k: {"value": v} for k, v in overridden.items()})

    async def durable(self) -> None:
        """Wait until every change so far is in the state file (at once without one)."""
        if self.store is not None:
            await self.store.durable()

    def start(self) -> None:
        """In the event loop, once: send the webhooks a previous run left undelivered and take
        up the review of templates it left pending."""
        if self._started:
            return
        self._started = True
        self.webhooks.restore(self._undelivered)
        self._undelivered = []
        if self.config.seed:  # ``herald emulator --seed FILE``
            self.seed(self.config.seed)
        if self.store is not None:
            for template in list(self.templates.values()):
                if template.status == "PENDING":
                    self.review_later(template)

    # --- ids and timers ----------------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def new_wamid() -> str:
        return "wamid." + secrets.token_urlsafe(24)

    def later(self, delay: float, action: Any) -> None:
        """Run ``action()`` after ``delay`` seconds, off the request that caused it. A timer
        handle, not a task: three statuses a send, and a task (with its sleep) costs several
        times the handle's CPU."""

        def run() -> None:
            self._timers.discard(handle)
            action()

        handle = asyncio.get_running_loop().call_later(delay, run)
        self._timers.add(handle)

    async def aclose(self) -> None:
        for handle in list(self._timers):
            handle.cancel()
        await self.webhooks.aclose()
        if self.store is not None:
            self.remember()
            await self.store.aclose()

    # --- templates ---------------------------------------------------------------------------

    def waba_of(self, phone_number_id: str) -> str | None:
        """The account a number sends for: mapped explicitly, or the sandbox convention
        (a WABA whose id is the phone number id), or unknown."""
        if phone_number_id in self.phone_wabas:
            return self.phone_wabas[phone_number_id]
        if any(t.waba_id == phone_number_id for t in self.templates.values()):
            return phone_number_id
        return None

    def customer_wrote(
        self, phone_number_id: str, wa_id: str, at: float | None = None, wamid: str | None = None
    ) -> None:
        """A customer's message opens (or extends) their 24-hour window with the number; its
        ``wamid`` may then be marked read."""
        self.customer_windows[f"{phone_number_id}:{wa_id}"] = time.time() if at is None else at
        if wamid is not None:
            self.inbound_to[wamid] = phone_number_id
        self.remember()

    def window_open(self, phone_number_id: str, wa_id: str, now: float | None = None) -> bool:
        """Whether a free-form message may go to ``wa_id`` from this number now."""
        last = self.customer_windows.get(f"{phone_number_id}:{wa_id}")
        moment = time.time() if now is None else now
        return last is not None and moment - last < CUSTOMER_WINDOW_SECONDS

    def find_template(
        self, name: str, language: str, waba_id: str | None = None
    ) -> EmulatedTemplate | None:
        for template in self.templates.values():
            if (
                template.name == name
                and template.language == language
                and (waba_id is None or template.waba_id == waba_id)
            ):
                return template
        return None

    def seed(self, seeded: list[SeedTemplate]) -> list[EmulatedTemplate]:
        """Put templates an account already holds in place, as they are (no review, no
        webhook): a template of the same account, name and language is replaced, keeping its
        id. SeedError when a given id is another template's."""
        placed: list[EmulatedTemplate] = []
        for spec in seeded:
            existing = self.find_template(spec.name, spec.language, spec.waba_id)
            template_id = existing.id if existing else (spec.id or self.new_id())
            taken = self.templates.get(spec.id or "")
            if spec.id and taken is not None and taken is not existing:
                raise SeedError(f"id {spec.id} is another template's ({taken.name})")
            template = EmulatedTemplate(
                template_id,
                spec.waba_id,
                spec.name,
                spec.language,
                spec.category,
                spec.components,
                status=spec.status,
                rejected_reason=spec.rejected_reason if spec.status == "REJECTED" else None,
                parameter_format=spec.parameter_format,
                quality=spec.quality,
            )
            self.templates[template.id] = template
            placed.append(template)
        self.remember()
        return placed

    def set_status(
        self,
        template: EmulatedTemplate,
        status: str,
        reason: str | None = None,
        event: str | None = None,
    ) -> None:
        """Change a template's review status and send its webhook (``event``: the status,
        unless Meta names the change otherwise, as REINSTATED for a paused template)."""
        template.status = status
        template.rejected_reason = reason if status == "REJECTED" else None
        self.remember()
        self.webhooks.enqueue(
            template.waba_id,
            {
                "field": "message_template_status_update",
                "value": {
                    "event": event or status,
                    **self._template_fields(template),
                    # Meta's reason is null for a template scheduled for deletion.
                    "reason": None if status == "PENDING_DELETION" else reason or "NONE",
                    "message_template_category": template.category,
                },
            },
        )

    @staticmethod
    def _template_fields(template: EmulatedTemplate) -> dict[str, Any]:
        return {
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
        }

    def set_quality(self, template: EmulatedTemplate, score: str) -> None:
        """Meta rated the template again: its ``message_template_quality_update`` webhook
        (sent only when the score changes, as Meta does)."""
        if score == template.quality:
            return
        previous, template.quality = template.quality, score
        self.remember()
        self.webhooks.enqueue(
            template.waba_id,
            {
                "field": "message_template_quality_update",
                "value": {
                    "previous_quality_score": previous,
                    "new_quality_score": score,
                    **self._template_fields(template),
                },
            },
        )

    def set_category(self, template: EmulatedTemplate, category: str) -> None:
        """Meta re-categorised the template (a completed change): its
        ``template_category_update`` webhook, sent only when the category changes."""
        if category == template.category:
            return
        template.previous_category, template.category = template.category, category
        self.remember()
        self.webhooks.enqueue(
            template.waba_id,
            {
                "field": "template_category_update",
                "value": {
                    **self._template_fields(template),
                    "previous_category": template.previous_category,
                    "new_category": category,
                },
            },
        )

    def review_later(self, template: EmulatedTemplate) -> None:
        delay = self.config.approve_after_seconds
        if delay is None:
            return

        def approve() -> None:
            if self.templates.get(template.id) is template and template.status == "PENDING":
                self.set_status(template, "APPROVED")

        self.later(delay, approve)

    # --- sending -----------------------------------------------------------------------------

    def over_throughput(self, phone_number_id: str) -> bool:
        rate = self.config.throughput_per_second
        if rate is None:
            return False
        health = self.numbers.get(phone_number_id)
        if health is not None and health.throughput_per_second is not None:
            rate = health.throughput_per_second  # Meta upgraded this number (number_health.py)
        burst = self.config.throughput_burst_seconds
        bucket = self._buckets.get(phone_number_id)
        if bucket is None or (bucket.rate, bucket.burst_seconds) != (rate, burst):
            bucket = self._buckets[phone_number_id] = Bucket(rate, burst)
            bucket.tokens = bucket.capacity
        if bucket.take():
            return False
        self.throughput_refused_at.append((phone_number_id, bucket.updated))
        return True

    def over_pair_rate(self, phone_number_id: str, to: str) -> bool:
        spacing = self.config.pair_rate_seconds
        if spacing is None:
            return False
        now = time.monotonic()
        last = self._last_to.get((phone_number_id, to))
        if last is not None and now - last < spacing:
            return True
        self._last_to[(phone_number_id, to)] = now
        return False

    def refuse(self, code: int) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1

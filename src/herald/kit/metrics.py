"""Prometheus metrics: what Herald counts, and the /metrics answer.

Counters live in each process. Several processes on one machine (``herald api`` behind a
balancer, workers) share them through prometheus_client's multiprocess mode: set
``PROMETHEUS_MULTIPROC_DIR`` to one empty directory for all of them. Queue figures are read
from the database at scrape time, so they are the same whichever process answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

HTTP_REQUESTS = Counter(
    "herald_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "herald_http_request_duration_seconds",
    "Time to answer HTTP requests",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MESSAGES = Counter(
    "herald_messages", "Messages entering each state (queued on acceptance)", ["state"]
)
PROVIDER_SENDS = Counter(
    "herald_provider_sends", "Send calls to the provider, by outcome", ["channel_id", "outcome"]
)
PROVIDER_ERRORS = Counter(
    "herald_provider_errors", "Provider errors, by Meta's code", ["channel_id", "code"]
)
WEBHOOKS_RECEIVED = Counter("herald_webhooks_received", "Meta webhook deliveries stored")
WEBHOOKS_APPLIED = Counter("herald_webhooks_applied", "Meta webhook deliveries applied")
WEBHOOK_LAG = Histogram(
    "herald_webhook_lag_seconds",
    "From a webhook's arrival to its application",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CALLBACKS = Counter("herald_callback_deliveries", "Status callback attempts", ["outcome"])
# Poison isolation (docs/reliability.md): one item's failure is recorded and the batch goes on;
# an item that keeps failing is set aside; a round that fails as a whole pauses its loop.
ITEM_FAILURES = Counter(
    "herald_loop_item_failures",
    "Items a background loop failed to handle on Herald's side (recorded, the batch went on)",
    ["loop"],
)
SET_ASIDE = Counter(
    "herald_loop_items_set_aside", "Items a background loop set aside (dead-lettered)", ["loop"]
)
ROUND_FAILURES = Counter(
    "herald_loop_round_failures", "Background loop rounds that failed as a whole", ["loop"]
)
LOOP_BACKOFF = Gauge(
    "herald_loop_backoff_seconds",
    "The pause a background loop is taking after failed rounds (0: running normally)",
    ["loop"],
    multiprocess_mode="max",
)


def queue_metrics(depth: int, oldest_age_seconds: float) -> list[Metric]:
    """Queue depth and the age of the oldest due message, read from the database per scrape."""
    return [
        GaugeMetricFamily("herald_queue_depth", "Messages due and waiting", value=depth),
        GaugeMetricFamily(
            "herald_queue_oldest_age_seconds",
            "How long the oldest due message has waited",
            value=oldest_age_seconds,
        ),
    ]


def set_aside_metrics(webhook_events: int, callback_deliveries: int) -> list[Metric]:
    """Items set aside and waiting for a person, read from the database per scrape."""
    family = GaugeMetricFamily(
        "herald_set_aside_items", "Items set aside (dead-lettered), by kind", labels=["kind"]
    )
    family.add_metric(["webhook_event"], webhook_events)
    family.add_metric(["callback_delivery"], callback_deliveries)
    return [family]


# A quality rating as a gauge's value: an alert fires on a drop (< 3) or on red (== 1).
QUALITY_VALUES = {"GREEN": 3, "YELLOW": 2, "RED": 1, "UNKNOWN": 0}


def channel_health_metrics(channels: Iterable[tuple[int, str, bool, int]]) -> list[Metric]:
    """Each channel's health, read from the database per scrape: (channel id, quality rating,
    whether it may send, throughput). Labelled by channel id only: no phone number."""
    quality = GaugeMetricFamily(
        "herald_channel_quality",
        "The channel's quality rating at Meta: 3 green, 2 yellow, 1 red, 0 unknown",
        labels=["channel_id"],
    )
    held = GaugeMetricFamily(
        "herald_channel_sending_held",
        "1 while Meta restricts or bans the channel's number (its messages wait), else 0",
        labels=["channel_id"],
    )
    throughput = GaugeMetricFamily(
        "herald_channel_throughput_per_second",
        "The messages a second the channel's number may send",
        labels=["channel_id"],
    )
    for channel_id, rating, sending, per_second in channels:
        label = [str(channel_id)]
        quality.add_metric(label, QUALITY_VALUES.get(rating, 0))
        held.add_metric(label, 0 if sending else 1)
        throughput.add_metric(label, per_second)
    return [quality, held, throughput]


def render(extra: Iterable[Metric] = ()) -> tuple[bytes, str]:
    """The exposition text of every metric of this process (or of all, in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    extra_registry = CollectorRegistry()
    metrics = list(extra)
    if metrics:

        class _Fixed(Collector):
            def collect(self) -> Iterable[Metric]:
                return metrics

        extra_registry.register(_Fixed())
        body += generate_latest(extra_registry)
    return body, CONTENT_TYPE_LATEST

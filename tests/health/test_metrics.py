"""``/metrics``: Prometheus text with requests, messages, sends, webhooks and the queue."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.dispatch.test_end_to_end import SAM, approved_template
from tests.live_herald import Live, eventually


async def scrape(live: Live) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await live.herald.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    values = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_show_the_sends(live: Live, live_ana: dict[str, str]) -> None:
    template = await approved_template(live, live_ana)
    before = await scrape(live)
    bulk = await live.herald.post(
        f"/api/v2/whatsapp/templates/{template['id']}/send-bulk",
        json={"recipients": [{**SAM, "to": f"2169681627{n}"} for n in range(3)]},
        headers=live_ana,
    )
    assert bulk.status_code == 202, bulk.text
    group = bulk.json()["data"]["whatsapp_bulk_group_id"]

    async def all_read() -> bool:
        answer = await live.herald.get(f"/api/v2/whatsapp/bulk-groups/{group}", headers=live_ana)
        return bool(answer.json()["data"]["counts"].get("read") == 3)

    await eventually(all_read, timeout=15, message="the three messages are read")
    after = await scrape(live)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("herald_messages_total", state="queued") == 3
    assert grew("herald_messages_total", state="sent") == 3
    assert grew("herald_messages_total", state="read") == 3
    sends = [
        v - value(before, n, **dict(labels))
        for (n, labels), v in after.items()
        if n == "herald_provider_sends_total" and dict(labels).get("outcome") == "accepted"
    ]
    assert sum(sends) == 3
    route = "/api/v2/whatsapp/templates/{template_id}/send-bulk"
    assert grew("herald_http_requests_total", method="POST", route=route, status="202") == 1
    assert grew("herald_webhooks_received_total") >= 1
    assert grew("herald_webhooks_applied_total") >= 1
    assert value(after, "herald_queue_depth") == 0
    assert ("herald_queue_oldest_age_seconds", ()) in after


async def test_unmatched_paths_share_one_label(live: Live) -> None:
    before = await scrape(live)
    for n in range(3):
        await live.herald.get(f"/no/such/path/{n}")
    after = await scrape(live)
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "herald_http_requests_total", **labels)
        - value(before, "herald_http_requests_total", **labels)
        == 3
    )
    assert not any("/no/such/path" in str(key) for key in after)


async def test_a_route_is_labelled_as_the_document_spells_it(live: Live) -> None:
    """`/api/whatsapp/{message_id:message_id}/` is declared with a convertor (a literal path
    beside it wins); its label is the template without it, as in the OpenAPI document."""
    before = await scrape(live)
    answer = await live.herald.get("/api/whatsapp/5/")
    assert answer.status_code == 401
    after = await scrape(live)
    labels = {"method": "GET", "route": "/api/whatsapp/{message_id}/", "status": "401"}
    assert (
        value(after, "herald_http_requests_total", **labels)
        - value(before, "herald_http_requests_total", **labels)
        == 1
    )

"""``/console/dashboard``: the console's landing page. Messages per day by state (an SVG drawn
here, nothing fetched at runtime), delivery and read rates, the top templates and the cost per
pricing category over a chosen range: the analytics API's own computation
(``analytics.service``), never a second one; and each of the user's numbers with its health
and the day's usage of its messaging limit (``channel.health.view``, as the API shows it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from herald.analytics import service as analytics
from herald.analytics.service import Figures, Report
from herald.channel import health
from herald.channel import service as channel_service
from herald.channel.health_schemas import ChannelHealthOut
from herald.console.rendering import CONSOLE, ViewerDep, render
from herald.deps import RuntimeDep, SessionDep
from herald.errors import HeraldError

router = APIRouter(include_in_schema=False)

TOP_TEMPLATES = 10
# The chart's states, bottom to top, each drawn in its own colour (console.css, .bar-*).
CHART_STATES = ("read", "delivered", "sent", "failed", "queued")
CHART_HEIGHT, BAR_SPACE = 160.0, 600.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    state: str
    day: str
    count: int


def rates_of(figures: Figures) -> tuple[float | None, float | None]:
    """Delivered (or read) of those that left; read of those delivered. None: no such message."""
    states = figures.states
    reached = states.get("delivered", 0) + states.get("read", 0)
    left = reached + states.get("sent", 0) + states.get("failed", 0)
    delivery = reached / left if left else None
    read = states.get("read", 0) / reached if reached else None
    return delivery, read


def bars(report: Report) -> list[Bar]:
    """Stacked bars, one per day with messages, scaled to the busiest day."""
    days = [(key, figures) for key, figures in report.groups.items() if key is not None]
    if not days:
        return []
    busiest = max(figures.total for _, figures in days) or 1
    width = BAR_SPACE / len(days)
    drawn = []
    for index, (day, figures) in enumerate(days):
        top = CHART_HEIGHT
        for state in CHART_STATES:
            count = figures.states.get(state, 0)
            if state == "queued":  # what has not left yet: queued, sending, cancelled
                count = figures.total - sum(figures.states.get(s, 0) for s in CHART_STATES[:-1])
            if count <= 0:
                continue
            height = CHART_HEIGHT * count / busiest
            top -= height
            drawn.append(Bar(index * width + 1, top, max(width - 2, 1), height, state, day, count))
    return drawn


@router.get(f"{CONSOLE}/dashboard", response_class=HTMLResponse)
async def dashboard_page(
    request: Request,
    who: ViewerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    now = runtime.clock.now()
    problem = None
    try:
        start, end = analytics.period(from_ or None, to or None, now)
    except HeraldError as exc:  # shown on the page, the default range instead
        problem = exc.message
        start, end = analytics.period(None, None, now)
    user_id = who.user.id
    per_day = await analytics.messages(session, user_id, start, end, "day")
    per_template = await analytics.messages(session, user_id, start, end, "template")
    per_category = await analytics.messages(session, user_id, start, end, "category")
    delivery, read = rates_of(per_day.totals)
    templates = sorted(per_template.groups.items(), key=lambda item: -item[1].total)
    return render(
        request,
        "dashboard.html",
        who,
        problem=problem,
        start=start,
        end=end,
        from_value=from_ or "",
        to_value=to or "",
        report=per_day,
        bars=bars(per_day),
        chart_states=CHART_STATES,
        delivery_rate=delivery,
        read_rate=read,
        top_templates=templates[:TOP_TEMPLATES],
        categories=per_category,
        senders=[
            (channel, ChannelHealthOut.model_validate(await health.view(session, channel, now)))
            for channel in await channel_service.of_user(session, user_id)
        ],
    )

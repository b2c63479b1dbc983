"""The history as CSV (``GET /api/whatsapp/?format=csv``): every message a filter matches, one
row each, streamed in keyset batches so that memory stays flat however many there are.

Made for spreadsheets: UTF-8 with a byte order mark (Excel reads it as UTF-8 then), RFC 4180
quoting by the ``csv`` module, and a text cell that starts with ``= + - @`` (or a tab or carriage
return) prefixed with ``'``, so that a spreadsheet never runs what a customer or template wrote
as a formula (CSV injection, OWASP).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.clock import iso_utc
from herald.message.export_repository import export_batch

BATCH = 1000
BOM = "\ufeff"
HEADER = (
    "id",
    "whatsapp_bulk_group_id",
    "type",
    "template_id",
    "template_name",
    "template_language",
    "to",
    "country_code",
    "state",
    "created_at",
    "scheduled_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_title",
    "error_detail",
    "billable",
    "pricing_category",
    "pricing_model",
    "channel_id",
    "provider_message_id",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell as text, never read as a formula by a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_utc(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def row_cells(row: Row[Any]) -> list[str]:
    values = (
        row.id,
        row.whatsapp_bulk_group_id,
        row.kind,
        row.template_id,
        row.template_name,
        row.template_language,
        row.phone_number,
        row.country_code,
        row.state,
        row.created_at,
        row.scheduled_at,
        row.sent_at,
        row.delivered_at,
        row.read_at,
        row.failed_at,
        row.error_code,
        row.error_title,
        row.error_detail,
        row.billable,
        row.pricing_category,
        row.pricing_model,
        row.channel_id,
        row.provider_message_id,
    )
    return [safe_cell(value) for value in values]


def _lines(rows: list[list[str]] | tuple[tuple[str, ...], ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # RFC 4180: CRLF
    return out.getvalue()


async def csv_chunks(
    sessions: Callable[[], AsyncSession],
    user_id: int,
    filters: dict[str, Any],
    before_id: int | None = None,
    batch: int = BATCH,
) -> AsyncIterator[bytes]:
    """The file, a batch of rows a chunk. Its own session: the request's is closed by the
    time the body is streamed."""
    yield (BOM + _lines((HEADER,))).encode()
    async with sessions() as session:
        while True:
            rows = await export_batch(session, user_id, filters, before_id, batch)
            if not rows:
                return
            yield _lines([row_cells(row) for row in rows]).encode()
            if len(rows) < batch:
                return
            before_id = rows[-1].id
            # Between batches nothing is held: a long download keeps no transaction open.
            await session.rollback()


def filename(now: datetime) -> str:
    return f"messages-{now.strftime('%Y%m%d-%H%M%S')}.csv"

"""``client.channels`` and the sender of a send (``channel_id`` / ``from_``) through the SDK."""

from __future__ import annotations

import pytest
from herald_client import AsyncHeraldClient, BadRequest, NotFound
from sqlalchemy import select

from herald.db import session_factory
from herald.models import Message
from tests.channel.test_senders import SECOND_NUMBER, TwoWabas, two
from tests.conftest import DatabaseUnderTest
from tests.message.helpers import SAM

__all__ = ["two"]  # the fixture, for these tests


async def test_the_client_lists_reads_and_sets_the_default_channel(
    sdk: AsyncHeraldClient, two: TwoWabas
) -> None:
    listed = await sdk.channels.list()
    assert [(c["id"], c["is_default"]) for c in listed["items"]] == [
        (two.first.id, True),
        (two.second.id, False),
    ]
    assert (await sdk.channels.get(two.second.id))["waba_id"] == two.second.waba_id
    made = await sdk.channels.set_default(two.second.id)
    assert made["is_default"] is True
    with pytest.raises(NotFound) as missing:
        await sdk.channels.get(999_999)
    assert missing.value.code == "channel_not_found"


async def test_sends_name_their_sender(
    sdk: AsyncHeraldClient, two: TwoWabas, db: DatabaseUnderTest
) -> None:
    by_number = await sdk.send_template(
        two.in_second.id, SAM["to"], SAM["country_code"], ["Sam", "A1"], from_=SECOND_NUMBER
    )
    bulk = await sdk.send_bulk(two.in_second.id, [dict(SAM)], channel_id=two.second.id)
    with pytest.raises(BadRequest) as refused:
        await sdk.send_template(
            two.in_first.id, SAM["to"], SAM["country_code"], ["Sam", "A1"], channel_id=two.second.id
        )
    assert refused.value.code == "channel_waba_mismatch"
    async with session_factory(db.engine)() as session:
        senders = (await session.scalars(select(Message.channel_id).order_by(Message.id))).all()
    assert by_number["message"]["id"] > 0
    assert bulk["queued"] == 1
    assert senders == [two.second.id, two.second.id]

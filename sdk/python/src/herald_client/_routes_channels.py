"""Calls for channels: your WhatsApp senders, and which one is the default (the sender of a
send that names none; a send names one with ``channel_id`` or ``from_``)."""

from __future__ import annotations

from herald_client._call import Call
from herald_client._envelope import parse_object, parse_page
from herald_client.models import Channel, Page

CHANNELS = "/api/v2/channels"
DEFAULT_LIMIT = 20


def list_channels(*, page: int = 1, limit: int = DEFAULT_LIMIT) -> Call[Page[Channel]]:
    """Your channels, oldest first."""
    return Call("GET", CHANNELS, parse_page, params={"page": page, "limit": limit})


def get_channel(channel_id: int) -> Call[Channel]:
    """One of your channels; ``NotFound`` ``channel_not_found`` for any other."""
    return Call("GET", f"{CHANNELS}/{int(channel_id)}", parse_object)


def set_default_channel(channel_id: int) -> Call[Channel]:
    """Make the channel your default sender."""
    return Call("PUT", f"{CHANNELS}/{int(channel_id)}/default", parse_object)

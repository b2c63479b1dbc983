"""The composition root's list of features that keep state for the process's life: each
``started(runtime)`` registers its state on ``runtime.features`` (``kit/registry.py``) and
closes it at shutdown. ``herald serve`` (app.py) and ``herald worker`` (cli) start them all."""

from __future__ import annotations

from herald.auth import limits as auth
from herald.caller import check as caller
from herald.channel import defaults as channel
from herald.media import state as media
from herald.message import state as message
from herald.meta_webhook import state as meta_webhook
from herald.runtime import FeatureStart

FEATURES: tuple[FeatureStart, ...] = (
    auth.started,
    caller.started,
    channel.started,
    media.started,
    message.started,
    meta_webhook.started,
)

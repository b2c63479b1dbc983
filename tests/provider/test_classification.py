"""Meta's error code alone decides what Herald does (whatsapp-cloud-api.md, table of errors)."""

from __future__ import annotations

import pytest

from herald.provider.base import ErrorKind, ProviderError, classify
from herald.provider.errors import WINDOW_CLOSED, stored_code, words_for


@pytest.mark.parametrize(
    ("codes", "kind"),
    [
        ((130429, 80007, 4), ErrorKind.THROTTLED),
        ((131056,), ErrorKind.PAIR_RATE),
        ((131057, 2, 131016, 131000), ErrorKind.TRANSIENT),
        (
            (
                131026,
                131047,
                131051,
                132000,
                132001,
                132005,
                132007,
                132008,
                132012,
                133010,
                100,
                131030,
            ),
            ErrorKind.PERMANENT,
        ),
        ((132015, 132016), ErrorKind.TEMPLATE_UNAVAILABLE),
        ((131048,), ErrorKind.MESSAGING_LIMIT),
        ((131049,), ErrorKind.SENDER_LIMITED),
        ((131050,), ErrorKind.OPTED_OUT),
        ((190, 104, 0, 10, 200, 250, 299), ErrorKind.AUTH),
    ],
)
def test_each_row_of_the_error_table(codes: tuple[int, ...], kind: ErrorKind) -> None:
    for code in codes:
        # The HTTP status never overrides the code.
        assert classify(code, 500) is kind
        assert classify(code, 400) is kind


def test_unknown_codes_fall_back_on_the_http_status() -> None:
    assert classify(999_999, 503) is ErrorKind.TRANSIENT
    assert classify(None, 502) is ErrorKind.TRANSIENT
    assert classify(999_999, 400) is ErrorKind.PERMANENT
    assert classify(None, None) is ErrorKind.PERMANENT


def test_a_message_outside_the_window_is_stored_as_window_closed() -> None:
    """131047 ("Re-engagement message") is the API's own refusal, raced: a failed message
    shows Herald's name for it, and the console still explains it."""
    assert stored_code(131047, ErrorKind.PERMANENT) == WINDOW_CLOSED == "window_closed"
    assert ProviderError(ErrorKind.PERMANENT, 131047, "Re-engagement message").stored_code == (
        "window_closed"
    )
    assert words_for("window_closed") == words_for("131047")
    assert "24 hours" in (words_for("window_closed") or "")
    assert stored_code(131026, ErrorKind.PERMANENT) == "131026"
    assert stored_code(None, ErrorKind.INTERNAL) == "internal_error"

"""Logs never carry a full phone number, a password, a token or a secret."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from herald.logging import configure_logging


def test_json_logs_mask_numbers_and_drop_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    try:
        structlog.get_logger("test").info(
            "user.contact_added number 21696816277",
            phone="+21696816277",
            password="s3cret-pass",
            jwt_secret="abc",
            headers={"Authorization": "Bearer eyJabc", "accept": "json"},
            recipients=["447911123456"],
        )
        logging.getLogger("uvicorn.error").info("stdlib line for 14155552671")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    text = json.dumps(lines)
    for secret in ("21696816277", "s3cret-pass", "eyJabc", "447911123456", "14155552671"):
        assert secret not in text
    first = lines[0]
    assert first["password"] == "[redacted]"
    assert first["jwt_secret"] == "[redacted]"
    assert first["headers"] == {"Authorization": "[redacted]", "accept": "json"}
    assert first["phone"] == "216968****77"
    assert "216968****77" in first["event"]
    assert lines[1]["event"] == "stdlib line for 141555****71"

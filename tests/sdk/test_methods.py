"""The clients' methods are real functions: ``help()`` and ``inspect.signature()`` show each
one's parameters and result, and the async client's are coroutine functions."""

from __future__ import annotations

import inspect
import pydoc
import typing

from herald_client import AsyncHeraldClient, HeraldClient, Page, SendAccepted, Template
from herald_client._operations import Operation, Operations

OPERATIONS = [name for name, value in vars(Operations).items() if isinstance(value, Operation)]


def test_every_operation_is_a_real_method_of_both_clients() -> None:
    assert len(OPERATIONS) > 30
    for name in OPERATIONS:
        sync, asynchronous = vars(HeraldClient)[name], vars(AsyncHeraldClient)[name]
        assert inspect.isfunction(sync), name
        assert not inspect.iscoroutinefunction(sync), name
        assert inspect.iscoroutinefunction(asynchronous), name
        assert inspect.signature(sync) == inspect.signature(asynchronous), name
        assert sync.__doc__ == asynchronous.__doc__, name
        assert sync.__qualname__ == f"HeraldClient.{name}"


def test_signatures_show_the_parameters_and_the_result() -> None:
    signature = inspect.signature(HeraldClient.send_template)
    assert list(signature.parameters)[:4] == ["self", "template_id", "to", "country_code"]
    assert signature.parameters["idempotency_key"].default is None
    assert signature.return_annotation is SendAccepted

    bound = inspect.signature(HeraldClient("http://herald.test", token="t").get_template)
    assert str(bound) == "(template_id: int) -> herald_client.models.Template"
    assert bound.return_annotation is Template

    listing = inspect.signature(AsyncHeraldClient.list_templates).return_annotation
    assert typing.get_origin(listing) is Page
    assert typing.get_args(listing) == (Template,)
    assert typing.get_type_hints(HeraldClient.get_template)["return"] is Template


def test_help_shows_signatures_not_descriptors() -> None:
    text = pydoc.render_doc(AsyncHeraldClient, renderer=pydoc.plaintext)
    assert "Operation object" not in text
    assert "async send_template(self, template_id: int, to: str, country_code: str" in text
    assert "Queue one message from an APPROVED template" in text
    assert "async wait_for_review(self, template_id" in text

"""A client generated from the live document works: ``openapi-python-client`` builds one from
``GET /api/openapi.json`` without a single warning (``--fail-on-warning``), with short function
names, and the generated code logs in, creates, submits and sends a template through a live
Herald and its emulator, and reads Herald's JSend errors as typed ``ErrorBody`` objects."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PASSWORD, DatabaseUnderTest, add_user
from tests.live_herald import Live, eventually

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
# No post hooks: the generated code is imported as it comes, not formatted.
CONFIG = "post_hooks: []\n"


@pytest.fixture
def generated_packages(tmp_path: Path) -> Iterator[Path]:
    """A folder on ``sys.path`` for the generated package, and its modules forgotten after."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            if name.startswith("herald_api"):
                del sys.modules[name]


async def generate(live: Live, folder: Path, name: str) -> str:
    document = await live.herald.get("/api/openapi.json")
    assert document.status_code == 200
    (folder / "openapi.json").write_bytes(document.content)
    (folder / "generator.yaml").write_text(CONFIG + f"package_name_override: {name}\n")
    process = await asyncio.create_subprocess_exec(
        GENERATOR,
        "generate",
        "--path",
        str(folder / "openapi.json"),
        "--output-path",
        str(folder / name),
        "--meta",
        "none",
        "--config",
        str(folder / "generator.yaml"),
        "--fail-on-warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=folder,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode(errors="replace")
    return name


def operation(package: str, tag: str, operation_id: str) -> ModuleType:
    return importlib.import_module(f"{package}.api.{tag}.{operation_id}")


def model(package: str, name: str) -> Any:
    return getattr(importlib.import_module(f"{package}.models"), name)


async def test_a_generated_client_sends_and_reads_errors(
    live: Live, db: DatabaseUnderTest, generated_packages: Path
) -> None:
    package = await generate(live, generated_packages, f"herald_api_{db.kind}")
    client_module = importlib.import_module(f"{package}.client")
    user = await add_user(db, "ana@example.com")
    base_url = str(live.herald.base_url)

    login = await operation(package, "auth", "login").asyncio(
        client=client_module.Client(base_url=base_url),
        body=model(package, "LoginRequest")(username=user.email, password=PASSWORD),
    )
    api = client_module.AuthenticatedClient(base_url=base_url, token=login.data.token)

    created = await operation(package, "templates", "templates_create").asyncio(
        client=api,
        body=model(package, "TemplateCreate")(
            name="order_confirmed",
            language="en",
            category=model(package, "TemplateCreateCategory").UTILITY,
            body="Hello {{1}}, your order {{2}} is confirmed.",
        ),
    )
    template_id = created.data.id
    submitted = await operation(package, "templates", "templates_submit").asyncio(
        template_id, client=api
    )
    assert submitted.data.state == "PENDING"

    async def approved() -> bool:
        answer = await operation(package, "templates", "templates_get").asyncio(
            template_id, client=api
        )
        return bool(answer.data.state == "APPROVED")

    await eventually(approved, message="the emulator approves the template")

    send = operation(package, "messages", "messages_send")
    send_body = model(package, "SendV2")
    accepted = await send.asyncio_detailed(
        template_id,
        client=api,
        body=send_body(to="21696816277", country_code="TN", body_params=["Sam", "ORD-41"]),
    )
    assert accepted.status_code == 202
    assert isinstance(accepted.parsed, model(package, "SuccessAccepted"))
    message_id = accepted.parsed.data.message.id

    async def sent() -> bool:
        answer = await operation(package, "messages", "messages_get").asyncio(
            message_id, client=api
        )
        return str(answer.data.state) in ("sent", "delivered", "read")

    await eventually(sent, message="the message leaves through the emulator")

    # Errors come back typed, with their code, not dropped.
    error_body = model(package, "ErrorBody")
    mismatch = await send.asyncio_detailed(
        template_id,
        client=api,
        body=send_body(to="21696816277", country_code="TN", body_params=["Sam"]),
    )
    assert mismatch.status_code == 400
    assert isinstance(mismatch.parsed, error_body)
    assert mismatch.parsed.code == "body_params_mismatch"
    assert mismatch.parsed.data["expected"] == 2

    missing = await operation(package, "messages", "messages_get").asyncio_detailed(
        987654, client=api
    )
    assert missing.status_code == 404
    assert isinstance(missing.parsed, error_body)
    assert missing.parsed.code == "message_not_found"

    unauthenticated = client_module.AuthenticatedClient(base_url=base_url, token="not-a-jwt")
    refused = await operation(package, "callbacks", "callbacks_list").asyncio_detailed(
        client=unauthenticated
    )
    assert refused.status_code == 401
    assert isinstance(refused.parsed, error_body)
    assert refused.parsed.code == "token_invalid"

"""The OpenAPI document tells the truth: schemathesis, run against a live Herald (real HTTP, the
emulator behind it, each database), finds no 5xx, no status or header the document does not
declare, no answer that breaks its schema, and no invalid request accepted.

Its command line runs every phase: the document's examples, the coverage phase (boundaries
and each kind of invalid value), fuzzing, and the stateful phase, which follows the document's
``links`` (create a contact, then read, change and delete it by the id the answer gave, and so
on). A fixed seed, deterministic generation and a fixed number of examples per operation keep
each run the same and within a couple of minutes.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DatabaseUnderTest, add_user
from tests.hostile.conftest import UNLIMITED
from tests.live_herald import Live

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CONFIG = str(Path(__file__).with_name("schemathesis.toml"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
)
EXAMPLES_PER_OPERATION = 15
SEED = 20261203
RUN_TIMEOUT_SECONDS = 600


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    # Budgets no run reaches: a 429 would only hide the answer schemathesis came to see.
    return dict(UNLIMITED)


async def test_schemathesis_finds_nothing_against_the_live_app(
    live: Live, db: DatabaseUnderTest, tmp_path: Path
) -> None:
    auth = await live.auth_for(await add_user(db, "ana@example.com"))
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "--config-file",
        CONFIG,
        "run",
        str(live.herald.base_url.join("/api/openapi.json")),
        "--header",
        f"Authorization: {auth['Authorization']}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        # The caller is ana, by her token; made-up plugin key headers would only be refused.
        "--generation-with-security-parameters",
        "false",
        "--workers",
        "1",
        "--no-shrink",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,  # its cache folder goes there, not into the work tree
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_SECONDS)
    report = output.decode(errors="replace")
    print(report)  # pytest shows it with -rP; on a failure, the assertion does
    assert process.returncode == 0, report

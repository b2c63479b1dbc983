"""Every media test runs on both stores: local disk and an S3-compatible server on loopback.

The S3 side is moto's standalone server (``moto_server``, from PyPI), started as its own process
and spoken to over real HTTP by boto3, exactly as an S3, MinIO or SeaweedFS endpoint would be.
(SeaweedFS, the other candidate, has no package in this machine's Debian.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from herald.config import Settings
from tests.conftest import DatabaseUnderTest, make_settings
from tests.live import free_port

BUCKET = "herald-media-test"
S3_KEYS = {"s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("the S3-compatible test server (moto_server) did not start")
            time.sleep(0.1)
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["s3_access_key_id"],
        aws_secret_access_key=S3_KEYS["s3_secret_access_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "local":
        return {"media_store": "local"}
    endpoint = request.getfixturevalue("s3_endpoint")
    return {
        "media_store": "s3",
        "s3_bucket": BUCKET,
        "s3_prefix": "media",
        "s3_endpoint_url": endpoint,
        **S3_KEYS,
    }


@pytest.fixture
def settings(db: DatabaseUnderTest, data_dir: Path, store_settings: dict[str, Any]) -> Settings:
    return make_settings(db, data_dir, **store_settings)


@pytest.fixture
def live_overrides(store_settings: dict[str, Any]) -> dict[str, Any]:
    return store_settings

"""The TLS settings every HTTP client of the process shares."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_tls() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    built once: a client made without it reads and parses the whole bundle, 27 ms of CPU
    (measured), and a lifespan, a CLI command or a test makes one or more clients."""
    return httpx.create_ssl_context()

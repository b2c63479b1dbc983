"""Every HTTP client of the process shares one TLS context, and it still verifies peers."""

from __future__ import annotations

import ssl

from herald.kit.tls import client_tls


def test_one_context_that_verifies_certificates_and_host_names() -> None:
    context = client_tls()
    assert context is client_tls()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded

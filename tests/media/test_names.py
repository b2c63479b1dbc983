"""Display names of uploads: never a path, always with the detected type's extension."""

from __future__ import annotations

import pytest

from herald.media.intake import clean_filename


@pytest.mark.parametrize(
    ("given", "mime", "shown"),
    [
        ("invoice-april.pdf", "application/pdf", "invoice-april.pdf"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("C:\\Users\\ana\\logo.PNG", "image/png", "logo.PNG"),
        ("evil\x00name\x1b.pdf", "application/pdf", "evil_name_.pdf"),
        ('a<b>c:"d"|e?.pdf', "application/pdf", "a_b_c_d_e_.pdf"),
        ("photo.pdf", "image/jpeg", "photo.jpg"),
        (None, "video/mp4", "file.mp4"),
        ("...", "application/pdf", "file.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 251 + ".pdf"),
    ],
)
def test_clean_filename(given: str | None, mime: str, shown: str) -> None:
    assert clean_filename(given, mime) == shown

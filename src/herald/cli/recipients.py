"""What `herald send` and `herald send-bulk` put in a send: body parameters, button values and
header media, from options or from a CSV file's columns."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from herald.cli.common import EXIT_INVALID, fail

_PARAM_COLUMN = re.compile(r"^param(\d+)$")
_BUTTON_COLUMN = re.compile(r"^button(\d)$")
COLUMNS_HELP = (
    "to, country_code (required), param1…paramN (body parameters), button0…button9 (the value "
    "of the template's button at that index), header_media_id (an uploaded file's id)"
)
# The send's ``sub_type`` for each kind of template button.
_SUB_TYPES = {"URL": "url", "COPY_CODE": "copy_code", "QUICK_REPLY": "quick_reply"}


def parse_button_option(option: str) -> tuple[int, str]:
    """``INDEX=VALUE`` (INDEX counts the template's buttons from 0)."""
    index, separator, value = option.partition("=")
    if not separator or not index.strip().isdigit() or not value:
        fail(
            f"--button takes INDEX=VALUE, e.g. --button 0=ORD-41 for the first button: {option!r}",
            EXIT_INVALID,
        )
    return int(index), value


def button_params(template: dict[str, Any], values: dict[int, str]) -> list[dict[str, Any]]:
    """The send's ``buttons``: each value with the ``sub_type`` its template button calls for."""
    buttons = template.get("buttons") or []
    params = []
    for index, value in sorted(values.items()):
        if index >= len(buttons):
            fail(
                f"template {template['id']} ({template['name']}) has {len(buttons)} button(s), "
                f"numbered from 0: there is no button {index}",
                EXIT_INVALID,
            )
        sub_type = _SUB_TYPES[buttons[index]["type"]]
        params.append({"index": index, "sub_type": sub_type, "value": value})
    return params


class RecipientsFile:
    """A CSV file of recipients, a header row first; unknown columns are refused, by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open(newline="", encoding="utf-8-sig") as file:
                reader = csv.reader(file)
                header = [column.strip() for column in next(reader, [])]
                # Each row with its line in the file (the header is line 1), for messages.
                self.rows = [
                    (reader.line_num, row) for row in reader if any(cell.strip() for cell in row)
                ]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            fail(f"cannot read {path}: {exc}", EXIT_INVALID)
        self.columns = {name: position for position, name in enumerate(header)}
        self._check_header(header)
        self.params = sorted(
            (int(m.group(1)), self.columns[name])
            for name in header
            if (m := _PARAM_COLUMN.match(name))
        )
        self.buttons = sorted(
            (int(m.group(1)), self.columns[name])
            for name in header
            if (m := _BUTTON_COLUMN.match(name))
        )

    def _check_header(self, header: list[str]) -> None:
        if not {"to", "country_code"} <= set(header):
            fail(
                f"{self.path} needs a header row with at least to,country_code; "
                f"the columns are: {COLUMNS_HELP}",
                EXIT_INVALID,
            )
        for position, name in enumerate(header, start=1):
            if not name:
                fail(f"{self.path}: column {position} of the header row has no name", EXIT_INVALID)
            known = name in ("to", "country_code", "header_media_id") or (
                _PARAM_COLUMN.match(name) or _BUTTON_COLUMN.match(name)
            )
            if not known:
                fail(
                    f"{self.path}: unknown column {name!r}; the columns are: {COLUMNS_HELP}",
                    EXIT_INVALID,
                )
            if header.count(name) > 1:
                fail(f"{self.path}: column {name!r} appears twice", EXIT_INVALID)
        numbers = sorted(int(m.group(1)) for n in header if (m := _PARAM_COLUMN.match(n)))
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
            wanted = f"param{missing[0]}" if missing else "param1"
            fail(
                f"{self.path}: body parameter columns go param1, param2, … without a gap "
                f"({wanted} is missing)",
                EXIT_INVALID,
            )

    def __len__(self) -> int:
        return len(self.rows)

    def line_of(self, index: int) -> int:
        """The file's line of the recipient at ``index`` (the header is line 1)."""
        return self.rows[index][0]

    def recipients(self, template: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The rows as the API's recipients. ``template`` (needed when there are button
        columns) gives each button's ``sub_type``."""
        recipients = []
        for line, row in self.rows:
            cell = _cells(row)
            recipient: dict[str, Any] = {
                "to": cell(self.columns["to"]),
                "country_code": cell(self.columns["country_code"]),
            }
            if self.params:
                recipient["body_params"] = [cell(position) for _, position in self.params]
            values = {index: cell(position) for index, position in self.buttons}
            if values := {index: value for index, value in values.items() if value}:
                assert template is not None
                recipient["buttons"] = button_params(template, values)
            if media := cell(self.columns.get("header_media_id", -1)):
                if not media.isdigit():
                    fail(f"row {line}: header_media_id must be a number: {media!r}", EXIT_INVALID)
                recipient["header_media_id"] = int(media)
            recipients.append(recipient)
        return recipients


def _cells(row: list[str]) -> Callable[[int], str]:
    def cell(position: int) -> str:
        return row[position].strip() if 0 <= position < len(row) else ""

    return cell

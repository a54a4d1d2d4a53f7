"""Reading a REPORT line (`REPORT RequestId: ...\tDuration: 2.00 ms\t...`) into its figures,
for the Test tab. Pure; a log tail may be cut anywhere, so a partial line gives what it has."""

from __future__ import annotations

import re

_REPORT = re.compile(r"^REPORT RequestId: (?P<request_id>\S+)(?P<fields>.*)$", re.MULTILINE)
_FIELD = re.compile(r"\t(?P<name>[A-Za-z ]+): (?P<value>[0-9.]+) ?(?P<unit>ms|MB)?")
_NAMES = {
    "Duration": "duration",
    "Billed Duration": "billed_duration",
    "Memory Size": "memory_size",
    "Max Memory Used": "max_memory_used",
    "Init Duration": "init_duration",
}


def parse_report(log_tail: str) -> dict[str, str]:
    """The last REPORT line's figures with their units ({"duration": "2.00 ms", ...}), plus its
    request id; empty when the tail holds none."""
    found = list(_REPORT.finditer(log_tail))
    if not found:
        return {}
    last = found[-1]
    figures = {"request_id": last["request_id"]}
    for field in _FIELD.finditer(last["fields"]):
        key = _NAMES.get(field["name"])
        if key is not None:
            figures[key] = f"{field['value']} {field['unit'] or ''}".strip()
    return figures

"""Where a function's logs go, named as Lambda names them. Built (and read back) only here.

A log group per function, `/aws/lambda/<function>`; a log stream per instance,
`2026/11/27/[$LATEST]<instance-id>` (the day it started, the version it serves, its id).
"""

from __future__ import annotations

from datetime import date

GROUP_PREFIX = "/aws/lambda/"


def log_group_name(function_name: str) -> str:
    return f"{GROUP_PREFIX}{function_name}"


def function_of_log_group(group: str) -> str | None:
    """The function whose log group this is, or None for any other group name."""
    return group[len(GROUP_PREFIX) :] if group.startswith(GROUP_PREFIX) else None


def log_stream_name(started_on: date, version: str, instance_id: str) -> str:
    return f"{started_on:%Y/%m/%d}/[{version}]{instance_id}"

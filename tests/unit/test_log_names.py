"""Log group and stream names: built in one place, read back by the same rules."""

from __future__ import annotations

from datetime import date

import pytest

from orchestrator.log_names import function_of_log_group, log_group_name, log_stream_name


@pytest.mark.parametrize(
    ("group", "function"),
    [
        ("/aws/lambda/fn", "fn"),
        ("/aws/lambda/my-Func_1", "my-Func_1"),
        ("/aws/lambda/", ""),
        ("/aws/lambdax/fn", None),
        ("/custom/group", None),
        ("aws/lambda/fn", None),
    ],
)
def test_function_of_log_group(group: str, function: str | None) -> None:
    assert function_of_log_group(group) == function
    if function:
        assert log_group_name(function) == group


def test_stream_name_is_day_version_and_instance() -> None:
    assert log_stream_name(date(2026, 11, 27), "$LATEST", "ab12") == "2026/11/27/[$LATEST]ab12"

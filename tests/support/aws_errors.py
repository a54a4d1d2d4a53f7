"""AWS's answer to a boto3 call that must be refused, as (status, error code, message)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def refusal(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    status = error["ResponseMetadata"]["HTTPStatusCode"]
    return status, error["Error"]["Code"], error["Error"]["Message"]

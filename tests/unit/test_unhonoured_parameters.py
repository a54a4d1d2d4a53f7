"""Parameters of the Lambda API this server cannot honour are refused, never dropped; the empty
values deployment tools send for "none" pass (validation.refuse_unhonoured)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import LambdaError
from orchestrator.validation import UNHONOURED, refuse_unhonoured


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}},
        {"VpcConfig": {}},
        {"DeadLetterConfig": {}},
        {"DeadLetterConfig": {"TargetArn": ""}},
        {"SnapStart": {"ApplyOn": "None"}},
        {"Layers": []},
        {"KMSKeyArn": ""},
        {"FileSystemConfigs": []},
    ],
)
def test_empty_values_mean_none(body: dict[str, Any]) -> None:
    refuse_unhonoured(body)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VpcConfig", {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}),
        ("DeadLetterConfig", {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}),
        ("SnapStart", {"ApplyOn": "PublishedVersions"}),
        ("KMSKeyArn", "arn:aws:kms:us-east-1:000000000000:key/1"),
        (
            "FileSystemConfigs",
            [{"Arn": "arn:aws:elasticfilesystem:...", "LocalMountPath": "/mnt/x"}],
        ),
        ("CodeSigningConfigArn", "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-1"),
        ("PublishTo", "LATEST_PUBLISHED"),
        ("SourceKMSKeyArn", "arn:aws:kms:us-east-1:000000000000:key/1"),
    ],
)
def test_values_it_cannot_honour_are_refused_saying_what_to_do(key: str, value: Any) -> None:
    with pytest.raises(LambdaError) as refused:
        refuse_unhonoured({key: value})
    assert refused.value.message == f"{key} is not supported by this server: {UNHONOURED[key]}."

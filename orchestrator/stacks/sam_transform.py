"""SAM to CloudFormation with AWS's own translator (aws-sam-translator), offline.

The translator wants code in S3; a developer's template points at local folders (`CodeUri: src/`,
`ContentUri: layers/libs`). So, as `sam package` would, each local path is swapped for a
placeholder S3 location before translating, and every `Code` / `Content` that comes out naming
a placeholder is mapped back to its folder. The translator needs a region and account for the
ARNs it writes; Lambkin's are given, no AWS call is made (the managed-policy map is empty:
Lambkin's roles live in its credentials file, not in IAM).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import ExceptionWithMessage, InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from .template_files import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
PLACEHOLDER_BUCKET = "lambkin-local-code"
_CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


@dataclass(frozen=True)
class Translated:
    template: dict[str, Any]  # CloudFormation, with Code / Content pointing at placeholders
    local_code: dict[str, Path]  # placeholder key -> the local folder or .zip


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names


def local_code_of(location: dict[str, Any], local_code: dict[str, Path]) -> Path | None:
    """The folder a translated `Code` / `Content` (S3Bucket + S3Key) stands for, if local."""
    bucket = location.get("S3Bucket")
    key = location.get("S3Key")
    if bucket == PLACEHOLDER_BUCKET and isinstance(key, str):
        return local_code.get(key)
    return None


def _swap_local_paths(
    template: dict[str, Any], base_dir: Path
) -> tuple[dict[str, Any], dict[str, Path]]:
    swapped = copy.deepcopy(template)
    local: dict[str, Path] = {}

    def swap(owner: dict[str, Any], key: str, where: str) -> None:
        value = owner.get(key)
        if not isinstance(value, str) or value.startswith("s3://"):
            return  # S3 locations and intrinsic functions are left as they are
        path = (base_dir / value).resolve()
        if not path.exists():
            raise TemplateError(f"{where}: {key} {value!r} does not exist (relative to {base_dir})")
        placeholder = f"code-{len(local)}"
        local[placeholder] = path
        owner[key] = f"s3://{PLACEHOLDER_BUCKET}/{placeholder}"

    function_globals = (swapped.get("Globals") or {}).get("Function")
    if isinstance(function_globals, dict):
        swap(function_globals, "CodeUri", "Globals.Function")
    for logical_id, resource in (swapped.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        key = _CODE_PROPERTIES.get(str(resource.get("Type")))
        properties = resource.get("Properties")
        if key is not None and isinstance(properties, dict):
            if key not in properties and resource.get("Type") == "AWS::Serverless::Function":
                if "InlineCode" in properties or "ImageUri" in properties:
                    continue
            swap(properties, key, logical_id)
    return swapped, local


def to_cloudformation(
    template: dict[str, Any],
    parameters: dict[str, Any],
    base_dir: Path,
    region: str,
    account_id: str,
    stack_name: str,
) -> Translated:
    """The CloudFormation of a template (itself, when it is not SAM)."""
    if not is_sam(template):
        return Translated(copy.deepcopy(template), {})
    swapped, local = _swap_local_paths(template, base_dir)
    session = boto3.session.Session(
        region_name=region, aws_access_key_id="lambkin", aws_secret_access_key="offline"
    )
    translator = Translator({}, Parser(), boto_session=session)
    values = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::Partition": "aws",
    }
    try:
        translated = translator.translate(swapped, values, passthrough_metadata=True)
    except (InvalidDocumentException, ExceptionWithMessage) as exc:
        causes = getattr(exc, "causes", None) or [exc]
        raise TemplateError(
            "the SAM translator refused the template: "
            + "; ".join(getattr(c, "message", str(c)) for c in causes)
        ) from None
    return Translated(translated, local)

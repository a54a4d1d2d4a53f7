"""The resources that carry code: functions and layer versions, created when missing and
updated only when their code (by CodeSha256) or configuration differs from the server's.

Functions get two tags, `lambkin:stack` and `lambkin:logical-id`: what `delete` removes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from ..hot_reload import HOT_RELOAD_BUCKET, folder_code_sha256
from ..zip_folder import package
from . import stack_model as model
from .deploy_walk import Change, Walk, call, get
from .sam_transform import local_code_of
from .template_files import TemplateError

STACK_TAG = "lambkin:stack"
LOGICAL_ID_TAG = "lambkin:logical-id"
# A function's configuration and the defaults the API applies when a template leaves one out, so
# that removing a property from the template changes it back.
_FUNCTION_DEFAULTS: dict[str, Any] = {
    "Runtime": None,
    "Handler": None,
    "MemorySize": 128,
    "Timeout": 3,
    "Description": "",
    "Environment": {"Variables": {}},
    "Layers": [],
    "Role": None,
    "TracingConfig": {"Mode": "PassThrough"},
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
}
# Passed on when given (not compared: the API's answers do not echo them all back).
_PASSED_ON = ("LoggingConfig", "DeadLetterConfig", "ImageConfig", "KmsKeyArn", "VpcConfig")
_INLINE_FILES = {"python": "index.py", "nodejs": "index.js"}


def code_zip(code: dict[str, Any], walk: Walk, runtime: str | None, where: str) -> bytes:
    """The zip a `Code` / `Content` stands for: a local folder (SAM), or inline `ZipFile`."""
    local = local_code_of(code, walk.local_code)
    if local is not None:
        return package(local)
    if isinstance(code.get("ZipFile"), str):
        language = next((k for k in _INLINE_FILES if (runtime or "").startswith(k)), "python")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(zipfile.ZipInfo(_INLINE_FILES[language]), code["ZipFile"])
        return buffer.getvalue()
    raise TemplateError(
        f"{where}: code in S3 ({code}) cannot be fetched here: point CodeUri at a local folder"
    )


@dataclass(frozen=True)
class FunctionCode:
    """How a function's code is sent (CreateFunction's Code, UpdateFunctionCode's arguments)
    and the CodeSha256 the server will report for it."""

    arguments: dict[str, Any]
    code_sha256: str


def function_code(
    code: dict[str, Any], walk: Walk, runtime: str | None, where: str
) -> FunctionCode:
    """A zip, or with `walk.hot_reload` a local folder served as it is (hot_reload.py)."""
    local = local_code_of(code, walk.local_code)
    if walk.hot_reload and local is not None and local.is_dir():
        folder = local.resolve()
        return FunctionCode(
            {"S3Bucket": HOT_RELOAD_BUCKET, "S3Key": str(folder)}, folder_code_sha256(folder)[1]
        )
    zipped = code_zip(code, walk, runtime, where)
    return FunctionCode({"ZipFile": zipped}, sha256_b64(zipped))


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def function_changes(desired: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The configuration keys whose value differs (pure; defaults fill what is left out)."""
    differing = []
    for key, default in _FUNCTION_DEFAULTS.items():
        want = desired.get(key, default)
        have = current.get(key, default)
        if key == "Layers":
            have = [layer["Arn"] if isinstance(layer, dict) else layer for layer in have or []]
        if key == "Environment":
            want = {"Variables": (want or {}).get("Variables") or {}}
            have = {"Variables": (have or {}).get("Variables") or {}}
        if want is not None and want != have:
            differing.append(key)
    return differing


def _function_config(properties: dict[str, Any]) -> dict[str, Any]:
    """What CreateFunction / UpdateFunctionConfiguration take of a function's properties."""
    return {k: v for k, v in properties.items() if k in _FUNCTION_DEFAULTS or k in _PASSED_ON}


def deploy_function(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    name = props.get("FunctionName") or model.physical_name(walk.stack, resource.logical_id)
    walk.scope.refs[resource.logical_id] = name
    walk.scope.attributes[resource.logical_id] = {"Arn": walk.arn("function", name)}
    code = function_code(props.get("Code") or {}, walk, props.get("Runtime"), resource.logical_id)
    config = _function_config(props)
    tags = {t["Key"]: t["Value"] for t in props.get("Tags") or [] if isinstance(t, dict)}
    tags |= {STACK_TAG: walk.stack, LOGICAL_ID_TAG: resource.logical_id}
    current = get(walk.client.get_function, FunctionName=name)
    reserved = props.get("ReservedConcurrentExecutions")
    if current is None:
        walk.record(Change(resource.logical_id, resource.type, "create", name))
        if walk.apply:
            walk.say(f"creating function {name}")
            call(
                f"create {name}",
                walk.client.create_function,
                FunctionName=name,
                Code=code.arguments,
                Tags=tags,
                **config,
            )
            walk.client.get_waiter("function_active_v2").wait(FunctionName=name)
            if reserved is not None:
                walk.client.put_function_concurrency(
                    FunctionName=name, ReservedConcurrentExecutions=int(reserved)
                )
        return
    what: list[str] = []
    if current["Configuration"].get("CodeSha256") != code.code_sha256:
        what.append("code")
    differing = function_changes(config, current["Configuration"])
    what += differing
    have_reserved = (current.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    if reserved != have_reserved:
        what.append("ReservedConcurrentExecutions")
    have_tags = current.get("Tags") or {}
    if any(have_tags.get(k) != v for k, v in tags.items()):
        what.append("Tags")
    if not what:
        walk.record(Change(resource.logical_id, resource.type, "unchanged", name))
        return
    walk.record(Change(resource.logical_id, resource.type, "update", f"{name}: {', '.join(what)}"))
    if not walk.apply:
        return
    walk.say(f"updating function {name} ({', '.join(what)})")
    waiter = walk.client.get_waiter("function_updated_v2")
    if "code" in what:
        call(
            f"update {name}'s code",
            walk.client.update_function_code,
            FunctionName=name,
            **code.arguments,
        )
        waiter.wait(FunctionName=name)
    if differing:
        changed_config = {k: config.get(k, _FUNCTION_DEFAULTS[k]) for k in differing}
        call(
            f"update {name}'s configuration",
            walk.client.update_function_configuration,
            FunctionName=name,
            **changed_config,
        )
        waiter.wait(FunctionName=name)
    if "ReservedConcurrentExecutions" in what:
        if reserved is None:
            walk.client.delete_function_concurrency(FunctionName=name)
        else:
            walk.client.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=int(reserved)
            )
    if "Tags" in what:
        walk.client.tag_resource(Resource=walk.arn("function", name), Tags=tags)


def deploy_layer(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    name = props.get("LayerName") or model.physical_name(walk.stack, resource.logical_id, 140)
    content = code_zip(props.get("Content") or {}, walk, None, resource.logical_id)
    versions = get(walk.client.list_layer_versions, LayerName=name) or {}
    latest = (versions.get("LayerVersions") or [None])[0]
    if latest is not None:
        described = walk.client.get_layer_version(LayerName=name, VersionNumber=latest["Version"])
        if described["Content"]["CodeSha256"] == sha256_b64(content) and all(
            described.get(k) == props[k]
            for k in ("CompatibleRuntimes", "Description")
            if k in props
        ):
            walk.scope.refs[resource.logical_id] = latest["LayerVersionArn"]
            walk.record(
                Change(resource.logical_id, resource.type, "unchanged", latest["LayerVersionArn"])
            )
            return
    number = (latest["Version"] if latest else 0) + 1
    arn = walk.arn("layer", f"{name}:{number}")
    action = "update" if latest else "create"
    if walk.apply:
        walk.say(f"publishing layer {name}")
        published = call(
            f"publish layer {name}",
            walk.client.publish_layer_version,
            LayerName=name,
            Content={"ZipFile": content},
            **{
                k: props[k]
                for k in (
                    "CompatibleRuntimes",
                    "Description",
                    "LicenseInfo",
                    "CompatibleArchitectures",
                )
                if k in props
            },
        )
        arn = published["LayerVersionArn"]
    walk.scope.refs[resource.logical_id] = arn
    walk.record(Change(resource.logical_id, resource.type, action, arn))

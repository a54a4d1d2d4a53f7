"""A function's configuration, as stored and as the Lambda API renders it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .arns import LATEST, function_arn, pool_key
from .container_images import ImageSettings, ResolvedImage
from .layers import FunctionLayer
from .log_names import log_group_name

DEFAULT_ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def now_timestamp() -> str:
    """Lambda's LastModified format: 2026-11-27T13:06:32.563+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def runtime_version_arn(region: str, runtime: str) -> str:
    """AWS's RuntimeVersionArn names the runtime version a function runs (64 hex digits). This
    server runs one version of each runtime: its digits are the SHA-256 of the runtime's name."""
    digest = hashlib.sha256(f"lambkin:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def new_revision_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    runtime: str
    handler: str
    role: str
    code_sha256_hex: str
    code_sha256: str
    code_size: int
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    ephemeral_storage: int = 512
    environment: dict[str, str] = field(default_factory=dict)
    architectures: tuple[str, ...] = ("x86_64",)
    tracing_mode: str = "PassThrough"
    # LoggingConfig: the levels are "" unless the format is JSON; the group "" is the default.
    log_format: str = "Text"
    application_log_level: str = ""
    system_log_level: str = ""
    custom_log_group: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # PackageType Image: the image as resolved when the code was set, and ImageConfig.
    package_type: str = "Zip"
    image: ResolvedImage | None = None
    image_settings: ImageSettings = field(default_factory=ImageSettings)
    last_modified: str = field(default_factory=now_timestamp)
    revision_id: str = field(default_factory=new_revision_id)
    # $LATEST, or the number of a published version: an immutable snapshot of the function.
    version: str = LATEST
    # Its layers, in order (extracted into /opt, later ones winning).
    layers: tuple[FunctionLayer, ...] = ()
    # Hot reload (hot_reload.py): the folder on the server's machine that is its code, "" for
    # a zip.
    code_folder: str = ""

    def updated(self, **changes: Any) -> FunctionConfig:
        """A copy with changes, a new revision and a new LastModified."""
        return replace(
            self, last_modified=now_timestamp(), revision_id=new_revision_id(), **changes
        )

    @property
    def is_published(self) -> bool:
        return self.version != LATEST

    @property
    def pool_key(self) -> str:
        """Which instances may serve it: one set per function and version, never mixed."""
        return pool_key(self.name, self.version)

    def same_snapshot(self, other: FunctionConfig) -> bool:
        """Whether publishing `self` would snapshot nothing new over `other` (AWS publishes no
        new version when neither code nor configuration changed)."""
        ignored = {"description", "last_modified", "revision_id", "tags", "version"}
        mine, theirs = self.to_json(), other.to_json()
        return all(mine[k] == theirs[k] for k in mine if k not in ignored)

    @property
    def is_image(self) -> bool:
        return self.package_type == "Image"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["architectures"] = list(self.architectures)
        data["image"] = self.image.to_json() if self.image else None
        data["image_settings"] = self.image_settings.render()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionConfig:
        settings = data.get("image_settings") or {}
        image = data.get("image")
        return cls(
            **{
                **data,
                "architectures": tuple(data.get("architectures", ("x86_64",))),
                "image": ResolvedImage.from_json(image) if image else None,
                "layers": tuple(FunctionLayer(**layer) for layer in data.get("layers", ())),
                "image_settings": ImageSettings(
                    tuple(settings["EntryPoint"]) if "EntryPoint" in settings else None,
                    tuple(settings["Command"]) if "Command" in settings else None,
                    settings.get("WorkingDirectory"),
                ),
            }
        )

    @property
    def log_group(self) -> str:
        """Where its logs are stored (and what AWS_LAMBDA_LOG_GROUP_NAME says)."""
        return self.custom_log_group or log_group_name(self.name)

    def logging_now(self) -> dict[str, str]:
        return {
            "log_format": self.log_format,
            "application_log_level": self.application_log_level,
            "system_log_level": self.system_log_level,
            "custom_log_group": self.custom_log_group,
        }

    def render_logging(self) -> dict[str, str]:
        """LoggingConfig as AWS answers it: levels only with JSON (keys in AWS's order)."""
        if self.log_format != "JSON":
            return {"LogFormat": self.log_format, "LogGroup": self.log_group}
        return {
            "ApplicationLogLevel": self.application_log_level or "INFO",
            "LogFormat": "JSON",
            "LogGroup": self.log_group,
            "SystemLogLevel": self.system_log_level or "INFO",
        }

    def render(self, region: str, account_id: str, phase: str = "read") -> dict[str, Any]:
        """The AWS FunctionConfiguration shape. `phase` is the answer it is in, as AWS words
        each: CreateFunction's says `Pending` ("The function is being created."), an update's
        `LastUpdateStatus: InProgress`; every read after says `Active` and `Successful`. Code
        is unpacked before the API answers, so the function is usable at once either way."""
        rendered: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": function_arn(
                region, account_id, self.name, self.version if self.is_published else None
            ),
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code_sha256,
            "Version": self.version,
            "TracingConfig": {"Mode": self.tracing_mode},
            "RevisionId": self.revision_id,
            # Code is unpacked before the API answers, so a function is usable at once.
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": self.package_type,
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "LoggingConfig": self.render_logging(),
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        }
        if phase == "created":
            del rendered["LastUpdateStatus"]
            rendered["State"] = "Pending"
            rendered["StateReason"] = "The function is being created."
            rendered["StateReasonCode"] = "Creating"
        elif phase == "updated":
            rendered["LastUpdateStatus"] = "InProgress"
            rendered["LastUpdateStatusReason"] = "The function is being created."
            rendered["LastUpdateStatusReasonCode"] = "Creating"
        if not self.is_image:
            rendered["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": runtime_version_arn(region, self.runtime)
            }
        if self.environment:
            rendered["Environment"] = {"Variables": dict(self.environment)}
        if self.layers:
            rendered["Layers"] = [layer.render() for layer in self.layers]
        if self.is_image:
            # An image function has neither (AWS leaves both keys out), and says how its
            # image's settings are replaced.
            del rendered["Runtime"], rendered["Handler"]
            image_config = self.image_settings.render()
            rendered["ImageConfigResponse"] = {"ImageConfig": image_config} if image_config else {}
        return rendered

    def render_code(self, zip_location: str) -> dict[str, Any]:
        """GetFunction's Code: where the zip is, or which image (as given, and pinned)."""
        if self.image is not None:
            return {
                "RepositoryType": "ECR",
                "ImageUri": self.image.uri,
                "ResolvedImageUri": self.image.resolved_uri,
            }
        return {"RepositoryType": "S3", "Location": zip_location}

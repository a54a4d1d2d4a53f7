"""The functions service: create, read, update and delete functions.

Validates everything before it stores anything; stores the code first, then the record, so a
failure leaves what was stored before intact.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from . import validation
from .aliases import is_alias_name
from .arns import LATEST, FunctionRef, function_arn, parse_function_ref
from .code_store import CodeError, CodeStore, StoredCode
from .container_images import (
    ImageUnavailable,
    ResolvedImage,
    describe_missing_command,
    runtime_command,
)
from .debugging import DebugTagInvalid, debug_setup, validate_debug_tag
from .drivers.base import FunctionFiles
from .errors import LambdaError, LambdaErrorCode, constraint, invalid_parameter, not_found
from .errors import validation as constraint_failure
from .event_config import event_config_setting
from .function_config import FunctionConfig
from .hot_reload import folder_code_sha256, hot_reload_folder
from .instance import StopReason
from .layer_service import LayerService
from .limits import validate_tags
from .pool import Pool
from .registry import FunctionExists, FunctionMissing, Registry, RevisionChanged
from .settings import Settings

log = logging.getLogger(__name__)

LIST_PAGE_DEFAULT = 50
LIST_PAGE_MAX = 10000


def _require_command(config: FunctionConfig) -> None:
    """An image function must have something to run: its image's or its ImageConfig's."""
    if config.image is not None and not runtime_command(config.image, config.image_settings):
        raise invalid_parameter(describe_missing_command(config.image.uri))


class ImageSource(Protocol):
    """Where container images come from: the driver (drivers/base.py)."""

    async def resolve_image(self, uri: str) -> ResolvedImage: ...

    async def release_image(self, image_id: str) -> None: ...


class FunctionService:
    def __init__(
        self,
        registry: Registry,
        code_store: CodeStore,
        pool: Pool,
        settings: Settings,
        available_runtimes: Callable[[], list[str]],
        images: ImageSource,
        layers: LayerService,
    ) -> None:
        self._registry = registry
        self._layers = layers
        self._images = images
        self._code = code_store
        self._pool = pool
        self._settings = settings
        self._available_runtimes = available_runtimes
        self.deleted_hooks: list[Callable[[str], None]] = []  # e.g. forget its reservation
        # Code was set or went away (hot reload watches the folders in use).
        self.code_hooks: list[Callable[[], None]] = []
        # (function, qualifier): a version or an alias is gone; what it had goes with it.
        self.qualifier_deleted_hooks: list[Callable[[str, str], None]] = [
            lambda name, qualifier: registry.set_setting(
                name, event_config_setting(qualifier), None
            )
        ]
        self._rng = random.Random()  # an alias's weighted routing

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self._settings.region, self._settings.account_id, name, qualifier)

    def render(self, config: FunctionConfig, phase: str = "read") -> dict[str, Any]:
        return config.render(self._settings.region, self._settings.account_id, phase)

    def account_settings(self, concurrency_limit: int, unreserved: int) -> dict[str, Any]:
        """GetAccountSettings: Lambda's limits (those Lambkin enforces) and this server's use."""
        every = self._registry.every_config()
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": concurrency_limit,
                "UnreservedConcurrentExecutions": unreserved,
            },
            "AccountUsage": {
                "TotalCodeSize": sum(c.code_size for c in every),
                "FunctionCount": len(self._registry.names()),
            },
        }

    def require(self, ref: FunctionRef, draw: float | None = None) -> FunctionConfig:
        """The function, or the version of it, a reference names (Registry.resolve), or AWS's
        ResourceNotFoundException."""
        self.require_region(ref)
        config = self._registry.resolve(ref.name, ref.qualifier, draw)
        if config is not None:
            return config
        raise not_found(f"Function not found: {self.arn(ref.name, ref.qualifier)}")

    def require_region(self, ref: FunctionRef) -> None:
        """An ARN of another region names no function here, as AWS answers it."""
        if ref.region is not None and ref.region != self._settings.region:
            raise not_found(
                f"Functions from '{ref.region}' are not reachable in this region "
                f"('{self._settings.region}')"
            )

    def qualifier_deleted(self, name: str, qualifier: str) -> None:
        for hook in self.qualifier_deleted_hooks:
            hook(name, qualifier)

    def require_for_invoke(self, ref: FunctionRef) -> FunctionConfig:
        """What one invocation runs: through an alias, the version its weights pick. AWS names
        the version an unqualified invocation asked for ($LATEST) when it finds nothing."""
        qualified = ref if ref.qualifier else dataclasses.replace(ref, qualifier=LATEST)
        return self.require(qualified, self._rng.random())

    def require_unqualified(self, ref: FunctionRef, what: str) -> FunctionConfig:
        """$LATEST itself, for what only the function has (its code, configuration, tags)."""
        if ref.qualifier not in (None, LATEST):
            raise invalid_parameter(
                f"{what} is not supported on a version or an alias: name the function."
            )
        return self.require(ref)

    async def publish_version(self, ref: FunctionRef, body: Any) -> FunctionConfig:
        """Snapshot $LATEST as the next version, with AWS's preconditions; publishing nothing
        new (same code and configuration as the last version) returns that version."""
        if ref.qualifier is not None:
            raise invalid_parameter("PublishVersion takes the function's name, not a version.")
        latest = self.require(ref)
        if not isinstance(body, dict):
            raise LambdaError(
                LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
            )
        description, code_sha256 = validation.publish_request(body)
        self._check_revision(latest, body)
        if code_sha256 is not None and code_sha256 != latest.code_sha256:
            raise invalid_parameter(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST "
                f"({latest.code_sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        published = self._registry.versions(latest.name)
        if published and published[-1].same_snapshot(latest):
            return published[-1]

        def snapshot(number: str) -> FunctionConfig:
            return latest.updated(
                version=number,
                description=latest.description if description is None else description,
                tags={},
            )

        try:
            config = self._registry.publish(latest.name, snapshot)
        except FunctionMissing:
            raise not_found(f"Function not found: {self.arn(latest.name)}") from None
        log.info("version published", extra={"function": latest.name, "version": config.version})
        return config

    def list_versions(
        self, ref: FunctionRef, marker: str | None, max_items: str | None
    ) -> dict[str, Any]:
        """$LATEST, then every published version, oldest first; paged like ListFunctions."""
        latest = self.require_unqualified(ref, "ListVersionsByFunction")
        limit = self._page_limit(max_items)
        configs = [latest, *self._registry.versions(latest.name)]
        start = 0
        if marker:
            known = [c.version for c in configs]
            start = known.index(marker) + 1 if marker in known else len(configs)
        page = configs[start : start + limit]
        result: dict[str, Any] = {"Versions": [self.render(c) for c in page]}
        if start + limit < len(configs):
            result["NextMarker"] = page[-1].version
        return result

    def _page_limit(self, max_items: str | None) -> int:
        if max_items is None:
            return LIST_PAGE_DEFAULT
        try:
            limit = int(max_items)
        except ValueError:
            raise constraint_failure("maxItems", "Member must be an integer") from None
        if not 1 <= limit <= LIST_PAGE_MAX:
            raise constraint_failure(
                "maxItems", f"Member must have value between 1 and {LIST_PAGE_MAX}"
            )
        return limit

    async def _store_code(self, zip_bytes: bytes) -> StoredCode:
        try:
            return await asyncio.to_thread(self._code.put, zip_bytes)
        except CodeError as exc:
            raise LambdaError(LambdaErrorCode(exc.error_code), exc.message) from None

    async def _resolve_image(self, uri: str) -> ResolvedImage:
        """The image, found (or pulled) and pinned by the driver, within AWS's size limit."""
        try:
            image = await self._images.resolve_image(uri)
        except ImageUnavailable as exc:
            raise invalid_parameter(str(exc)) from None
        limit = self._settings.max_image_bytes
        if image.size > limit:
            await self._release_if_unused(image.image_id)
            raise invalid_parameter(
                f"Image size {image.size} bytes of {uri} exceeds the maximum allowed image size "
                f"of {limit} bytes: make the image smaller (a slimmer base, fewer layers)."
            )
        return image

    def _image_code(self, image: ResolvedImage) -> dict[str, Any]:
        """The FunctionConfig fields an image sets: AWS reports the digest as CodeSha256."""
        return {
            "image": image,
            "code_sha256_hex": image.digest_hex,
            "code_sha256": image.digest_hex,
            "code_size": 0,
        }

    async def _release_if_unused(self, image_id: str) -> None:
        if not any(c.image and c.image.image_id == image_id for c in self._registry.every_config()):
            await self._images.release_image(image_id)

    async def create(self, body: Any) -> FunctionConfig:
        if not isinstance(body, dict):
            raise LambdaError(
                LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
            )
        ref = validation.function_name(body.get("FunctionName"))
        self.require_region(ref)
        name = ref.name
        publish = validation.publish_flag(body)
        package = validation.package_type(body)
        fields = validation.configuration(
            body, self._available_runtimes(), creating=True, package=package
        )
        fields.update(
            validation.logging_fields(fields.pop("logging", {}), validation.DEFAULT_LOGGING, name)
        )
        tags = validation.tags(body.get("Tags"))
        validation.tag_count(tags)
        validate_tags(tags)
        _check_debug_tag(tags, "" if package == "Image" else str(fields.get("runtime", "")))
        folder: Path | None = None
        if package == "Image":
            uri = validation.image_uri(body.get("Code"))
        else:
            code_body = body.get("Code")
            if isinstance(code_body, dict):
                folder = hot_reload_folder(
                    code_body.get("S3Bucket"),
                    code_body.get("S3Key"),
                    self._settings.hot_reload_roots,
                )
            zip_bytes = b"" if folder is not None else validation.zip_file(code_body)
            if body.get("Layers"):
                fields["layers"] = await self._layers.for_function(body["Layers"])
        if self._registry.get(name) is not None:
            raise LambdaError(LambdaErrorCode.RESOURCE_CONFLICT, f"Function already exist: {name}")
        if package == "Image":
            image = await self._resolve_image(uri)
            code_fields = self._image_code(image)
            config = FunctionConfig(
                name=name, runtime="", handler="", package_type="Image", tags=tags,
                **code_fields, **fields,
            )  # fmt: skip
            try:
                _require_command(config)
            except LambdaError:
                await self._release_if_unused(image.image_id)
                raise
        elif folder is not None:
            sha_hex, sha = folder_code_sha256(folder)
            config = FunctionConfig(
                name=name,
                code_sha256_hex=sha_hex,
                code_sha256=sha,
                code_size=0,
                code_folder=str(folder),
                tags=tags,
                **fields,
            )
        else:
            code = await self._store_code(zip_bytes)
            await self._layers.check_size(code.sha256_hex, fields.get("layers", ()))
            config = FunctionConfig(
                name=name,
                code_sha256_hex=code.sha256_hex,
                code_sha256=code.code_sha256,
                code_size=code.size,
                tags=tags,
                **fields,
            )
        try:
            self._registry.create(config)
        except FunctionExists:
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT, f"Function already exist: {name}"
            ) from None
        log.info("function created", extra={"function": name})
        for hook in self.code_hooks:
            hook()
        if publish:  # AWS answers with the version it published
            return await self.publish_version(FunctionRef(name), {})
        return config

    def list_page(
        self, marker: str | None, max_items: str | None, all_versions: bool = False
    ) -> dict[str, Any]:
        """A page of functions' $LATEST, by name; with `all_versions` (FunctionVersion=ALL)
        each followed by its published versions."""
        limit = self._page_limit(max_items)
        names = self._registry.names()
        start = 0
        if marker:
            # The marker is the last name of the previous page: stable even if functions are
            # created or deleted between pages.
            start = next((i for i, n in enumerate(names) if n > marker), len(names))
        page = names[start : start + limit]
        configs = [c for n in page if (c := self._registry.get(n)) is not None]
        if all_versions:
            configs = [v for c in configs for v in (c, *self._registry.versions(c.name))]
        result: dict[str, Any] = {"Functions": [self.render(c) for c in configs]}
        if start + limit < len(names):
            result["NextMarker"] = page[-1]
        return result

    def _check_revision(self, config: FunctionConfig, body: dict[str, Any]) -> None:
        expected = body.get("RevisionId")
        if expected is not None and expected != config.revision_id:
            raise LambdaError(
                LambdaErrorCode.PRECONDITION_FAILED,
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            )

    def _replace(self, old: FunctionConfig, new: FunctionConfig, reason: str) -> FunctionConfig:
        try:
            self._registry.replace(new, expected_revision=old.revision_id)
        except RevisionChanged:
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT,
                f"The operation cannot be performed at this time. An update is in progress for "
                f"resource: {self.arn(old.name)}. Retry the request.",
            ) from None
        except FunctionMissing:
            raise not_found(f"Function not found: {self.arn(old.name)}") from None
        # New invocations go to the new revision at once; old instances finish and stop.
        self._pool.retire(new.name, keep_revision=new.revision_id, reason=StopReason.UPDATE)
        log.info("function updated", extra={"function": new.name, "reason": reason})
        return new

    async def update_code(self, ref: FunctionRef, body: Any) -> FunctionConfig:
        config = self.require_unqualified(ref, "UpdateFunctionCode")
        if not isinstance(body, dict):
            raise LambdaError(
                LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
            )
        self._check_revision(config, body)
        validation.refuse_unhonoured(body)
        if config.is_image:
            return await self._update_image(config, body)
        if "ImageUri" in body:
            raise invalid_parameter(
                "Please don't provide ImageUri when updating a function with packageType Zip."
            )
        folder = hot_reload_folder(
            body.get("S3Bucket"), body.get("S3Key"), self._settings.hot_reload_roots
        )
        if folder is None and "ZipFile" not in body:
            raise invalid_parameter(
                "ZipFile is required: this server takes code as a base64 zip only "
                "(or, for hot reloading, S3Bucket hot-reload and S3Key the code's folder)."
            )
        validation.architectures(body.get("Architectures"))
        publish = validation.publish_flag(body)
        if folder is not None:
            if body.get("DryRun"):
                return config
            sha_hex, sha = folder_code_sha256(folder)
            new = config.updated(
                code_sha256_hex=sha_hex, code_sha256=sha, code_size=0, code_folder=str(folder)
            )
        else:
            zip_bytes = validation.decode_zip(body["ZipFile"])
            code = await self._store_code(zip_bytes)
            await self._layers.check_size(code.sha256_hex, config.layers)
            if body.get("DryRun"):
                return config
            new = config.updated(
                code_sha256_hex=code.sha256_hex,
                code_sha256=code.code_sha256,
                code_size=code.size,
                code_folder="",
            )
        new = self._replace(config, new, "code update")
        for hook in self.code_hooks:
            hook()
        return await self.publish_version(FunctionRef(new.name), {}) if publish else new

    async def _update_image(self, config: FunctionConfig, body: dict[str, Any]) -> FunctionConfig:
        uri = validation.image_uri(body, updating=True)
        validation.architectures(body.get("Architectures"))
        publish = validation.publish_flag(body)
        image = await self._resolve_image(uri)
        old_image = config.image
        assert old_image is not None  # an image function always has one
        if body.get("DryRun"):
            new = config
        else:
            new = self._replace(config, config.updated(**self._image_code(image)), "code update")
        for image_id in {old_image.image_id, image.image_id}:  # whichever no function runs now
            await self._release_if_unused(image_id)
        if publish and not body.get("DryRun"):
            return await self.publish_version(FunctionRef(new.name), {})
        return new

    async def update_configuration(self, ref: FunctionRef, body: Any) -> FunctionConfig:
        config = self.require_unqualified(ref, "UpdateFunctionConfiguration")
        fields = validation.configuration(
            body, self._available_runtimes(), creating=False, package=config.package_type
        )
        if "logging" in fields:
            fields.update(
                validation.logging_fields(fields.pop("logging"), config.logging_now(), config.name)
            )
        self._check_revision(config, body)
        if "Layers" in body and not config.is_image:  # (an image's are refused above)
            fields["layers"] = await self._layers.for_function(body["Layers"] or [])
            if not config.code_folder:  # a folder's size is its own (hot reload)
                await self._layers.check_size(config.code_sha256_hex, fields["layers"])
        new = config.updated(**fields)
        _require_command(new)
        return self._replace(config, new, "configuration update")

    async def delete(self, ref: FunctionRef) -> None:
        if ref.qualifier == LATEST:
            raise invalid_parameter(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if ref.qualifier is not None and is_alias_name(ref.qualifier):
            raise invalid_parameter("Deletion of aliases is not currently supported.")
        self.require(FunctionRef(ref.name, region=ref.region))  # AWS names the function only
        config = self.require(ref)
        if config.is_published:  # that version alone, unless an alias sends invocations to it
            users = [
                a.name
                for a in self._registry.aliases(config.name)
                if config.version in a.versions()
            ]
            if users:
                raise LambdaError(
                    LambdaErrorCode.RESOURCE_CONFLICT,
                    "Unable to delete version because the following aliases reference it: "
                    f"[{', '.join(users)}]",
                )
            try:
                self._registry.delete_version(config.name, int(config.version))
            except FunctionMissing:
                raise not_found(
                    f"Function not found: {self.arn(ref.name, ref.qualifier)}"
                ) from None
            self._pool.retire(config.pool_key, keep_revision=None, reason=StopReason.DELETED)
            self.qualifier_deleted(config.name, config.version)
            if config.image is not None:
                await self._release_if_unused(config.image.image_id)
            log.info("version deleted", extra={"function": config.name, "version": config.version})
            return
        images = {
            c.image.image_id for c in [config, *self._registry.versions(config.name)] if c.image
        }
        try:
            self._registry.delete(config.name)
        except FunctionMissing:
            raise not_found(f"Function not found: {self.arn(config.name)}") from None
        self._pool.retire_function(config.name, reason=StopReason.DELETED)
        for image_id in images:
            await self._release_if_unused(image_id)
        for hook in self.deleted_hooks:
            hook(config.name)
        log.info("function deleted", extra={"function": config.name})

    def _tagged(self, arn: str) -> FunctionConfig:
        """Tags belong to the function: AWS refuses them on a version's or an alias's ARN."""
        ref = parse_function_ref(validation.tagged_resource(arn))
        if ref.qualifier is not None:
            raise invalid_parameter(
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN."
            )
        return self.require(ref)

    def tag(self, arn: str, body: Any) -> None:
        config = self._tagged(arn)
        if not isinstance(body, dict) or not isinstance(body.get("Tags"), dict):
            raise invalid_parameter('Tags is required: {"Tags": {"key": "value"}}.')
        if not body["Tags"]:  # AWS's words for an empty Tags
            raise invalid_parameter("An error occurred and the request cannot be processed.")
        tags = {**config.tags, **validation.tags(body["Tags"])}
        validation.tag_count(tags)
        validate_tags(tags)
        _check_debug_tag(tags, config.runtime)
        self._retag(config, tags)

    def untag(self, arn: str, keys: list[str]) -> None:
        config = self._tagged(arn)
        if not keys:
            raise constraint(None, "tagKeys", "Member must not be null")
        self._retag(config, {k: v for k, v in config.tags.items() if k not in keys})

    def _retag(self, config: FunctionConfig, tags: dict[str, str]) -> None:
        # Tags are not part of the function's revision: instances keep running, but for the
        # debugger's, which instances start with (debugging.py): idle ones go now, busy ones
        # once they finish, so the next invocation starts with the debugger, or without it.
        self._registry.replace(
            dataclasses.replace(config, tags=tags), expected_revision=config.revision_id
        )
        if debug_setup(tags, config.runtime) != debug_setup(config.tags, config.runtime):
            self._pool.retire_function(config.name, reason=StopReason.UPDATE)

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self._tagged(arn).tags)

    def files_for(self, config: FunctionConfig) -> FunctionFiles:
        """A zip function's code and merged layers on this host (unpacked again if wiped); a
        hot-reload function's code is its folder."""
        code = (
            Path(config.code_folder)
            if config.code_folder
            else self._code.get(config.code_sha256_hex).path
        )
        return FunctionFiles(code, self._layers.opt_path(config.layers))

    def hot_reload_folders(self) -> dict[Path, list[str]]:
        """Each folder functions (or their versions) are served from -> those functions."""
        folders: dict[Path, list[str]] = {}
        for config in self._registry.every_config():
            if config.code_folder:
                names = folders.setdefault(Path(config.code_folder), [])
                if config.name not in names:
                    names.append(config.name)
        return folders

    def collect_unused_code(self) -> int:
        """Remove stored code no function refers to. Run while no instance uses old code."""
        unused = self._code.known() - self._registry.code_in_use() - self._layers.code_in_use()
        self._layers.collect_unused(self._registry.every_config())
        for sha in unused:
            self._code.remove(sha)
        return len(unused)


def _check_debug_tag(tags: dict[str, str], runtime: str) -> None:
    try:
        validate_debug_tag(tags, runtime)
    except DebugTagInvalid as exc:
        raise invalid_parameter(str(exc)) from None

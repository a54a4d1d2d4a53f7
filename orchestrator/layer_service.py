"""The layers service: PublishLayerVersion, Get/List/Delete, the permissions policy, and what a
function's `Layers` resolve to (its /opt, within Lambda's unzipped size limit)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import layers as rules
from .code_store import CodeError, CodeStore
from .errors import LambdaError, LambdaErrorCode, invalid_parameter, not_found
from .function_config import FunctionConfig, now_timestamp
from .layer_assembly import LayerAssembly, LayersRefused, tree_size
from .layer_registry import (
    LayerRegistry,
    PolicyRevisionChanged,
    StatementExists,
    StatementMissing,
)
from .layers import FunctionLayer, LayerVersion
from .validation import decode_zip

log = logging.getLogger(__name__)

MAX_UNZIPPED = 262_144_000  # code and layers together, as Lambda counts them


class LayerService:
    def __init__(
        self,
        registry: LayerRegistry,
        code_store: CodeStore,
        assembly: LayerAssembly,
        region: str,
        account_id: str,
    ) -> None:
        self._registry = registry
        self._code = code_store
        self._assembly = assembly
        self._region = region
        self._account = account_id

    def close(self) -> None:
        self._registry.close()

    # -- the API -------------------------------------------------------------------------------

    async def publish(self, name_or_arn: str, body: dict[str, Any]) -> LayerVersion:
        name = rules.layer_name(name_or_arn)
        request = rules.publish_request(body)
        content = body.get("Content")
        if not isinstance(content, dict) or not content:
            raise invalid_parameter('Content is required: {"ZipFile": <the zip, base64>}.')
        if "ZipFile" not in content:
            raise invalid_parameter(
                "Content.ZipFile is required: this server takes a layer as a base64 zip only "
                "(there is no S3 to read S3Bucket and S3Key from)."
            )
        zip_bytes = decode_zip(content["ZipFile"])
        try:
            code = await asyncio.to_thread(self._code.put, zip_bytes)
        except CodeError as exc:
            raise LambdaError(LambdaErrorCode(exc.error_code), exc.message) from None
        created = now_timestamp()

        def make(number: int) -> LayerVersion:
            return LayerVersion(
                name=name,
                version=number,
                code_sha256_hex=code.sha256_hex,
                code_sha256=code.code_sha256,
                code_size=code.size,
                created_date=created,
                description=request.description,
                license_info=request.license_info,
                compatible_runtimes=request.compatible_runtimes,
                compatible_architectures=request.compatible_architectures,
            )

        layer = self._registry.publish(name, make)
        log.info("layer version published", extra={"layer": name, "version": layer.version})
        return layer

    def render(self, layer: LayerVersion, location: str) -> dict[str, Any]:
        return layer.render(self._region, self._account, location)

    def get(self, name_or_arn: str, version: str) -> LayerVersion:
        name, number = rules.layer_name(name_or_arn), rules.version_number(version)
        layer = self._registry.version(name, number)
        if layer is None:
            raise not_found(rules.NOT_FOUND)
        return layer

    def get_by_arn(self, arn: str | None) -> LayerVersion:
        ref = rules.parse_version_arn(arn or "")
        if ref is None or len(arn or "") > rules.NAME_MAX:
            raise rules.constraint_failures(
                [
                    (
                        str(arn),
                        "arn",
                        "Member must satisfy regular expression pattern: "
                        + rules.VERSION_ARN_PATTERN,
                    )
                ]
            )
        layer = self._registry.version(ref.name, ref.version)
        if layer is None or ref.region != self._region or ref.account_id != self._account:
            raise not_found(rules.NOT_FOUND)
        return layer

    def delete(self, name_or_arn: str, version: str) -> None:
        """Gone from the API at once; its content stays for the functions that use it (AWS's
        rule), until start-up finds no function holding it. Deleting nothing succeeds."""
        name, number = rules.layer_name(name_or_arn), rules.version_number(version)
        if self._registry.delete(name, number) is not None:
            log.info("layer version deleted", extra={"layer": name, "version": number})

    def list_versions(
        self,
        name_or_arn: str,
        runtime: str | None,
        architecture: str | None,
        marker: str | None,
        max_items: str | None,
    ) -> dict[str, Any]:
        name = rules.layer_name(name_or_arn)
        rules.list_filters(runtime, architecture)
        limit = rules.page_limit(max_items)
        found = [
            v for v in self._registry.versions(name) if rules.matches(v, runtime, architecture)
        ]
        start = _start_after(marker, [str(v.version) for v in found])
        page = found[start : start + limit]
        result: dict[str, Any] = {
            "LayerVersions": [v.render_item(self._region, self._account) for v in page]
        }
        if start + limit < len(found):
            result["NextMarker"] = str(page[-1].version)
        return result

    def list_layers(
        self,
        runtime: str | None,
        architecture: str | None,
        marker: str | None,
        max_items: str | None,
    ) -> dict[str, Any]:
        """Each layer with its newest version that passes the filters."""
        rules.list_filters(runtime, architecture)
        limit = rules.page_limit(max_items)
        items = []
        for name in self._registry.names():
            latest = next(
                (
                    v
                    for v in self._registry.versions(name)
                    if rules.matches(v, runtime, architecture)
                ),
                None,
            )
            if latest is not None:
                items.append((name, latest))
        start = _start_after(marker, [name for name, _ in items])
        page = items[start : start + limit]
        result: dict[str, Any] = {
            "Layers": [
                {
                    "LayerName": name,
                    "LayerArn": rules.layer_arn(self._region, self._account, name),
                    "LatestMatchingVersion": latest.render_item(self._region, self._account),
                }
                for name, latest in page
            ]
        }
        if start + limit < len(items):
            result["NextMarker"] = page[-1][0]
        return result

    # -- the permissions policy ----------------------------------------------------------------

    def _existing(self, name_or_arn: str, version: str) -> LayerVersion:
        name, number = rules.layer_name(name_or_arn), rules.version_number(version)
        layer = self._registry.version(name, number)
        if layer is None:
            arn = rules.version_arn(self._region, self._account, name, number)
            raise not_found(f"Layer version {arn} does not exist.")
        return layer

    def add_permission(
        self, name_or_arn: str, version: str, body: dict[str, Any], revision_id: str | None
    ) -> dict[str, Any]:
        layer = self._existing(name_or_arn, version)
        statement = rules.statement(body, layer.arn(self._region, self._account))
        try:
            policy = self._registry.add_statement(
                layer.name, layer.version, statement, revision_id or body.get("RevisionId")
            )
        except StatementExists:
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT,
                f"The statement id ({statement['Sid']}) provided already exists. Please provide "
                "a new statement id, or remove the existing statement.",
            ) from None
        except PolicyRevisionChanged:
            raise _policy_revision_mismatch() from None
        return {"Statement": json.dumps(statement), "RevisionId": policy.revision_id}

    def get_policy(self, name_or_arn: str, version: str) -> dict[str, Any]:
        layer = self._existing(name_or_arn, version)
        policy = self._registry.policy(layer.name, layer.version)
        if policy is None:
            raise not_found("No policy is associated with the given resource.")
        return policy.render()

    def remove_permission(
        self, name_or_arn: str, version: str, sid: str, revision_id: str | None
    ) -> None:
        layer = self._existing(name_or_arn, version)
        try:
            self._registry.remove_statement(layer.name, layer.version, sid, revision_id)
        except StatementMissing:
            raise not_found(f"Statement {sid} is not found in resource policy.") from None
        except PolicyRevisionChanged:
            raise _policy_revision_mismatch() from None

    # -- functions' layers ---------------------------------------------------------------------

    async def for_function(self, value: Any) -> tuple[FunctionLayer, ...]:
        """What a function's `Layers` name, checked as AWS checks them, each version existing
        now; and their merged /opt built (so a conflict between them is refused here)."""
        refs = rules.function_layers(value, self._region)
        resolved = []
        for ref, arn in zip(refs, value, strict=True):
            layer = self._registry.version(ref.name, ref.version)
            if layer is None or ref.account_id != self._account:
                raise invalid_parameter(f"Layer version {arn} does not exist.")
            resolved.append(FunctionLayer(arn, layer.code_size, layer.code_sha256_hex))
        chosen = tuple(resolved)
        if chosen:
            await asyncio.to_thread(self.opt_path, chosen)
        return chosen

    async def check_size(self, code_sha256_hex: str, chosen: Sequence[FunctionLayer]) -> None:
        """Lambda's limit on code and layers together, unzipped."""
        if not chosen:
            return
        hexes = [code_sha256_hex, *(layer.code_sha256_hex for layer in chosen)]

        def total() -> int:
            return sum(tree_size(self._code.get(h).path) for h in hexes)

        size = await asyncio.to_thread(total)
        if size > MAX_UNZIPPED:
            raise invalid_parameter(
                "Function code combined with layers exceeds the maximum allowed size of "
                f"{MAX_UNZIPPED} bytes. The actual size is {size} bytes."
            )

    def opt_path(self, chosen: Sequence[FunctionLayer]) -> Path | None:
        """The function's merged /opt on this host (None without layers), built if missing."""
        if not chosen:
            return None
        hexes = [layer.code_sha256_hex for layer in chosen]
        try:
            unpacked = [self._code.get(h).path for h in hexes]
            return self._assembly.build(unpacked, hexes)
        except LayersRefused as exc:
            raise invalid_parameter(str(exc)) from None

    def code_in_use(self) -> set[str]:
        """The code of every layer version that exists (functions hold their layers' too)."""
        return {v.code_sha256_hex for v in self._registry.every_version()}

    def collect_unused(self, configs: Sequence[FunctionConfig]) -> int:
        """Drop merged /opt directories no function or version needs (start-up)."""
        return self._assembly.keep_only(
            [layer.code_sha256_hex for layer in c.layers] for c in configs if c.layers
        )


def _start_after(marker: str | None, keys: list[str]) -> int:
    if not marker:
        return 0
    return keys.index(marker) + 1 if marker in keys else len(keys)


def _policy_revision_mismatch() -> LambdaError:
    return LambdaError(
        LambdaErrorCode.PRECONDITION_FAILED,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetLayerPolicy API to retrieve the latest Revision Id",
    )

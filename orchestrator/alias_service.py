"""The alias API: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases, with AWS's
rules (the versions must exist; weighted routing between two published versions; RevisionId
preconditions). Routing itself happens where an invocation resolves its function
(FunctionService.require_for_invoke)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from . import aliases
from .aliases import Alias
from .arns import LATEST, FunctionRef
from .errors import LambdaError, LambdaErrorCode, invalid_parameter, not_found
from .function_config import FunctionConfig
from .functions import FunctionService
from .registry import FunctionExists, FunctionMissing, Registry, RevisionChanged

log = logging.getLogger(__name__)


class AliasService:
    def __init__(self, registry: Registry, functions: FunctionService) -> None:
        self._registry = registry
        self._functions = functions

    def render(self, name: str, alias: Alias) -> dict[str, Any]:
        return alias.render(self._functions.arn(name))

    def _function(self, ref: FunctionRef) -> FunctionConfig:
        if ref.qualifier is not None:
            raise invalid_parameter("Aliases belong to the function: name it without a qualifier.")
        return self._functions.require(ref)

    def _require(self, ref: FunctionRef, name: str) -> Alias:
        config = self._function(ref)
        alias = self._registry.alias(config.name, name)
        if alias is None:
            raise not_found(f"Cannot find alias arn: {self._functions.arn(config.name, name)}")
        return alias

    def _check_versions(self, config: FunctionConfig, alias: Alias) -> None:
        for version in [alias.function_version, *sorted(alias.weights)]:  # as AWS checks them
            if version != LATEST and self._registry.version(config.name, int(version)) is None:
                raise not_found(f"Function not found: {self._functions.arn(config.name, version)}")

    def create(self, ref: FunctionRef, body: Any) -> Alias:
        if ref.qualifier is not None:
            raise invalid_parameter("Aliases belong to the function: name it without a qualifier.")
        body = _object(body)
        name = aliases.alias_name(body.get("Name"))
        version = aliases.function_version(body.get("FunctionVersion"))
        alias = Alias(
            name,
            version,
            aliases.description(body.get("Description", "")),
            aliases.routing(body.get("RoutingConfig"), version),
        )
        try:
            config = self._functions.require(ref)
        except LambdaError as exc:  # AWS names the version the alias was to point to
            if exc.code is LambdaErrorCode.RESOURCE_NOT_FOUND and exc.message.startswith(
                "Function not found"
            ):
                raise not_found(
                    f"Function not found: {self._functions.arn(ref.name, version)}"
                ) from None
            raise
        self._check_versions(config, alias)
        try:
            self._registry.put_alias(config.name, alias, expected_revision=None)
        except FunctionExists:
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT,
                f"Alias already exists: {self._functions.arn(config.name, name)}",
            ) from None
        except FunctionMissing:
            raise not_found(f"Function not found: {self._functions.arn(config.name)}") from None
        log.info("alias created", extra={"function": config.name, "alias": name})
        return alias

    def get(self, ref: FunctionRef, name: str) -> Alias:
        return self._require(ref, aliases.alias_name(name))

    def list(self, ref: FunctionRef, function_version: str | None) -> list[Alias]:
        config = self._function(ref)
        found = self._registry.aliases(config.name)
        if function_version is not None:
            found = [a for a in found if a.function_version == function_version]
        return found

    def update(self, ref: FunctionRef, name: str, body: Any) -> Alias:
        config = self._function(ref)
        name = aliases.alias_name(name)
        found = self._registry.alias(config.name, name)
        if found is None:
            raise not_found(f"Alias not found: {self._functions.arn(config.name, name)}")
        current = found
        body = _object(body)
        expected = body.get("RevisionId")
        if expected is not None and expected != current.revision_id:
            raise _revision_mismatch()
        version = current.function_version
        if body.get("FunctionVersion") is not None:
            version = aliases.function_version(body["FunctionVersion"])
        weights = current.weights
        if "RoutingConfig" in body:
            weights = aliases.routing(body["RoutingConfig"], version)
        elif version != current.function_version and version in weights:
            weights = {}  # the additional version became the primary: nothing left to share
        alias = dataclasses.replace(
            current,
            function_version=version,
            description=aliases.description(body.get("Description", current.description)),
            weights=weights,
            revision_id=aliases.new_revision_id(),
        )
        self._check_versions(config, alias)
        try:
            self._registry.put_alias(config.name, alias, expected_revision=current.revision_id)
        except RevisionChanged:
            raise _revision_mismatch() from None
        log.info("alias updated", extra={"function": config.name, "alias": name})
        return alias

    def delete(self, ref: FunctionRef, name: str) -> None:
        config = self._function(ref)
        name = aliases.alias_name(name)
        if self._registry.alias(config.name, name) is not None:
            self._registry.delete_alias(config.name, name)
            self._functions.qualifier_deleted(config.name, name)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise LambdaError(
            LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
        )
    return body


def _revision_mismatch() -> LambdaError:
    return LambdaError(
        LambdaErrorCode.PRECONDITION_FAILED,
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )

"""The scaling service: reserved concurrency and provisioned concurrency of functions."""

from __future__ import annotations

import dataclasses
from typing import Any

from .aliases import is_alias_name
from .arns import LATEST, FunctionRef
from .concurrency import ConcurrencyLimiter, ReservationTooLarge
from .errors import (
    LambdaError,
    LambdaErrorCode,
    constraint,
    invalid_parameter,
    not_found,
    validation,
)
from .functions import FunctionService
from .provisioned import Provisioner
from .registry import Registry

RESERVED_SETTING = "reserved_concurrency"


def _non_negative_int(body: Any, key: str) -> int:
    if not isinstance(body, dict) or key not in body:
        raise invalid_parameter(f"{key} is required.")
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(key, "Member must be an integer")
    if value < 0:
        raise validation(key, "Member must have value greater than or equal to 0")
    return value


class ScalingService:
    def __init__(
        self,
        functions: FunctionService,
        registry: Registry,
        limiter: ConcurrencyLimiter,
        provisioner: Provisioner,
    ) -> None:
        self._functions = functions
        self._registry = registry
        self._limiter = limiter
        self._provisioner = provisioner
        for name, value in registry.settings_named(RESERVED_SETTING).items():
            limiter.set_reserved(name, int(value))

    def put_reserved(self, ref: FunctionRef, body: Any) -> dict[str, int]:
        # Reserved concurrency is the function's, shared by all its versions (as on AWS).
        if ref.qualifier is not None:
            raise invalid_parameter(
                "This operation is permitted on Lambda functions only. Aliases and versions do "
                "not support this operation. Please specify either a function name or an "
                "unqualified function ARN."
            )
        config = self._functions.require(dataclasses.replace(ref, qualifier=LATEST))
        value = _non_negative_int(body, "ReservedConcurrentExecutions")
        try:
            self._limiter.check_reservation(config.name, value)
        except ReservationTooLarge as exc:
            raise invalid_parameter(str(exc)) from None
        self._registry.set_setting(config.name, RESERVED_SETTING, value)
        self._limiter.set_reserved(config.name, value)
        return {"ReservedConcurrentExecutions": value}

    def unreserved(self) -> int:
        """The account's concurrency no function has reserved (GetAccountSettings)."""
        return self._limiter.unreserved_capacity()

    def get_reserved(self, ref: FunctionRef) -> dict[str, int]:
        config = self._functions.require(ref)
        value = self._limiter.reserved(config.name)
        return {} if value is None else {"ReservedConcurrentExecutions": value}

    def delete_reserved(self, ref: FunctionRef) -> None:
        config = self._functions.require(ref)
        self._registry.set_setting(config.name, RESERVED_SETTING, None)
        self._limiter.set_reserved(config.name, None)

    def forget(self, function: str) -> None:
        """The function was deleted: its reservation no longer counts."""
        self._limiter.set_reserved(function, None)

    def _provisioned_ref(
        self, ref: FunctionRef, qualifier: str | None, putting: bool = False
    ) -> tuple[str, str]:
        """(function, qualifier) of a provisioned-concurrency call: a published version or an
        alias, as AWS allows; never $LATEST. A missing alias (or the function of one) is
        "Cannot find alias arn", a missing version "Function not found", as AWS words them."""
        qualifier = qualifier or ref.qualifier
        if not qualifier:
            raise invalid_parameter(
                "Qualifier is required for provisioned concurrency: a published version or an "
                "alias (PublishVersion, CreateAlias)."
            )
        self._functions.require_region(ref)
        config = self._registry.get(ref.name)
        if config is not None and qualifier == LATEST:
            raise invalid_parameter(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions."
                if putting
                else "The function resource provided must be an alias or a published version."
            )
        if config is None or self._provisioner.target(config.name, qualifier) is None:
            arn = self._functions.arn(ref.name, qualifier)
            if is_alias_name(qualifier):
                raise not_found(f"Cannot find alias arn: {arn}")
            self._functions.require(FunctionRef(ref.name, qualifier))  # Function not found
        return ref.name, qualifier

    def put_provisioned(self, ref: FunctionRef, qualifier: str | None, body: Any) -> dict[str, Any]:
        requested = _non_negative_int(body, "ProvisionedConcurrentExecutions")
        if requested < 1:
            raise constraint(
                str(requested),
                "provisionedConcurrentExecutions",
                "Member must have value greater than or equal to 1",
            )
        name, qualifier = self._provisioned_ref(ref, qualifier, putting=True)
        alias = self._registry.alias(name, qualifier)
        if alias is not None and alias.weights:
            raise invalid_parameter(
                "Provisioned Concurrency Configs cannot be applied to an alias with weighted "
                "routing: put one on each of its versions instead."
            )
        reserved = self._limiter.reserved(name)
        total = self._provisioner.total(name, without=qualifier) + requested
        if reserved is not None and total > reserved:
            raise invalid_parameter(
                "Requested Provisioned Concurrency should not be greater than the "
                f"reservedConcurrentExecution for function ({reserved})."
            )
        return self._provisioner.put(name, qualifier, requested)

    def _not_found(self, name: str, qualifier: str) -> LambdaError:
        return LambdaError(
            LambdaErrorCode.PROVISIONED_CONFIG_NOT_FOUND,
            "No Provisioned Concurrency Config found for this function",
        )

    def get_provisioned(self, ref: FunctionRef, qualifier: str | None) -> dict[str, Any]:
        name, qualifier = self._provisioned_ref(ref, qualifier)
        described = self._provisioner.describe(name, qualifier)
        if described is None:
            raise self._not_found(name, qualifier)
        return described

    def list_provisioned(self, ref: FunctionRef) -> dict[str, Any]:
        config = self._functions.require(FunctionRef(ref.name, region=ref.region))
        configs = []
        for qualifier in sorted(self._provisioner.configured(config.name)):
            described = self._provisioner.describe(config.name, qualifier)
            if described is not None:
                arn = self._functions.arn(config.name, qualifier)
                configs.append({"FunctionArn": arn, **described})
        return {"ProvisionedConcurrencyConfigs": configs}

    def delete_provisioned(self, ref: FunctionRef, qualifier: str | None) -> None:
        name, qualifier = self._provisioned_ref(ref, qualifier)
        self._provisioner.delete(name, qualifier)  # none to delete: done, as AWS answers

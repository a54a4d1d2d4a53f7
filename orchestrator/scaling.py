"""The scaling service: reserved concurrency and provisioned concurrency of functions."""

from __future__ import annotations

from typing import Any

from .arns import LATEST, FunctionRef
from .concurrency import ConcurrencyLimiter, ReservationTooLarge
from .errors import LambdaError, LambdaErrorCode, invalid_parameter, validation
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
        config = self._functions.require(ref)
        value = _non_negative_int(body, "ReservedConcurrentExecutions")
        try:
            self._limiter.check_reservation(config.name, value)
        except ReservationTooLarge as exc:
            raise invalid_parameter(str(exc)) from None
        self._registry.set_setting(config.name, RESERVED_SETTING, value)
        self._limiter.set_reserved(config.name, value)
        return {"ReservedConcurrentExecutions": value}

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

    def _provisioned_ref(self, ref: FunctionRef, qualifier: str | None) -> tuple[str, str]:
        if not qualifier:
            raise invalid_parameter(
                "Qualifier is required for provisioned concurrency (e.g. $LATEST or an alias name)."
            )
        config = self._functions.require(FunctionRef(ref.name, LATEST))
        return config.name, qualifier

    def put_provisioned(self, ref: FunctionRef, qualifier: str | None, body: Any) -> dict[str, Any]:
        name, qualifier = self._provisioned_ref(ref, qualifier)
        requested = _non_negative_int(body, "ProvisionedConcurrentExecutions")
        if requested < 1:
            raise validation(
                "provisionedConcurrentExecutions",
                "Member must have value greater than or equal to 1",
            )
        reserved = self._limiter.reserved(name)
        if reserved is not None and requested > reserved:
            raise invalid_parameter(
                "Requested Provisioned Concurrency should not be greater than the "
                f"reservedConcurrentExecution for function ({reserved})."
            )
        return self._provisioner.put(name, qualifier, requested)

    def get_provisioned(self, ref: FunctionRef, qualifier: str | None) -> dict[str, Any]:
        name, qualifier = self._provisioned_ref(ref, qualifier)
        described = self._provisioner.describe(name)
        if described is None or self._provisioner.qualifier(name) != qualifier:
            raise LambdaError(
                LambdaErrorCode.PROVISIONED_CONFIG_NOT_FOUND,
                "No Provisioned Concurrency Config found for this function: "
                f"{self._functions.arn(name, qualifier)}",
            )
        return described

    def delete_provisioned(self, ref: FunctionRef, qualifier: str | None) -> None:
        name, qualifier = self._provisioned_ref(ref, qualifier)
        if self._provisioner.qualifier(name) != qualifier or not self._provisioner.delete(name):
            raise LambdaError(
                LambdaErrorCode.PROVISIONED_CONFIG_NOT_FOUND,
                "No Provisioned Concurrency Config found for this function: "
                f"{self._functions.arn(name, qualifier)}",
            )

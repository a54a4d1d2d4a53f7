"""Errors, in two layers.

`LambdaErrorCode` is the closed list of error types a client may see (botocore maps each to a
modeled exception through the `x-amzn-ErrorType` header). `LambdaError` is the one exception
the API edge (`api/errors.py`) turns into an AWS-shaped response. Internal failures (driver,
agent, pool) are ordinary exceptions defined next to their concept and translated by the
service that catches them.
"""

from __future__ import annotations

from enum import StrEnum


class LambdaErrorCode(StrEnum):
    """Client-visible error types, with the HTTP status Lambda gives each."""

    VALIDATION = "ValidationException"
    INVALID_PARAMETER_VALUE = "InvalidParameterValueException"
    INVALID_REQUEST_CONTENT = "InvalidRequestContentException"
    RESOURCE_NOT_FOUND = "ResourceNotFoundException"
    RESOURCE_CONFLICT = "ResourceConflictException"
    REQUEST_TOO_LARGE = "RequestEntityTooLargeException"
    PRECONDITION_FAILED = "PreconditionFailedException"
    PROVISIONED_CONFIG_NOT_FOUND = "ProvisionedConcurrencyConfigNotFoundException"
    TOO_MANY_REQUESTS = "TooManyRequestsException"
    SERVICE = "ServiceException"
    UNKNOWN_OPERATION = "UnknownOperationException"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    LambdaErrorCode.VALIDATION: 400,
    LambdaErrorCode.INVALID_PARAMETER_VALUE: 400,
    LambdaErrorCode.INVALID_REQUEST_CONTENT: 400,
    LambdaErrorCode.RESOURCE_NOT_FOUND: 404,
    LambdaErrorCode.RESOURCE_CONFLICT: 409,
    LambdaErrorCode.REQUEST_TOO_LARGE: 413,
    LambdaErrorCode.PRECONDITION_FAILED: 412,
    LambdaErrorCode.PROVISIONED_CONFIG_NOT_FOUND: 404,
    LambdaErrorCode.TOO_MANY_REQUESTS: 429,
    LambdaErrorCode.SERVICE: 500,
    LambdaErrorCode.UNKNOWN_OPERATION: 404,
}


class LambdaError(Exception):
    """An error the client sees: status, `x-amzn-ErrorType` and a message saying what to do."""

    def __init__(self, code: LambdaErrorCode, message: str, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra  # additional body fields, e.g. Reason for throttles


def invalid_parameter(message: str) -> LambdaError:
    return LambdaError(LambdaErrorCode.INVALID_PARAMETER_VALUE, message)


def validation(field: str, message: str) -> LambdaError:
    """A model constraint failure, worded as AWS words it."""
    return LambdaError(
        LambdaErrorCode.VALIDATION, f"'{field}' value failed to satisfy constraint: {message}"
    )


def constraint_failure(value: str | None, field: str, constraint: str) -> str:
    """One model constraint failure, as AWS lists it: `Value 'x' at 'field' failed to ...`
    (a missing value reads `Value null`)."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{field}' failed to satisfy constraint: {constraint}"


def constraints_failed(
    failures: list[str], code: LambdaErrorCode = LambdaErrorCode.VALIDATION
) -> LambdaError:
    """AWS's answer to model constraint failures: `1 validation error detected: <failure>`,
    or `<n> validation errors detected: ` and the failures joined by `; `."""
    count = len(failures)
    noun = "error" if count == 1 else "errors"
    return LambdaError(code, f"{count} validation {noun} detected: {'; '.join(failures)}")


def constraint(value: str | None, field: str, constraint: str) -> LambdaError:
    """One model constraint failure, answered as AWS answers it (ValidationException)."""
    return constraints_failed([constraint_failure(value, field, constraint)])


def not_found(message: str) -> LambdaError:
    return LambdaError(LambdaErrorCode.RESOURCE_NOT_FOUND, message)

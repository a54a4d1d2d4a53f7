"""The `context` object handed to the handler, with awslambdaric's attributes.

The function's static facts are read from the environment once (`FunctionMeta`); each
invocation adds its own (`LambdaContext`). One departure from awslambdaric, on purpose:
`memory_limit_in_mb` is an int (awslambdaric hands over the environment string).
"""

from __future__ import annotations

import json
import sys
import time

from .errors import CONTEXT_UNMARSHAL_ERROR, FaultError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class FunctionMeta:
    """The function's facts that do not change between invocations."""

    __slots__ = (
        "function_name",
        "function_version",
        "memory_limit_in_mb",
        "log_group_name",
        "log_stream_name",
    )

    def __init__(self, environ: Mapping[str, str]) -> None:
        memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = int(memory) if memory and memory.isdigit() else None
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, identity: Mapping[str, Any] | None = None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )
    # Whatever the client context JSON holds (strings, from the AWS mobile SDKs), or None.
    installation_id: Any
    app_title: Any
    app_version_name: Any
    app_version_code: Any
    app_package_name: Any

    def __init__(self, client: Mapping[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, client.get(name))

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, context: Mapping[str, Any]) -> None:
        client = context.get("client")
        self.client = Client(client) if client is not None else None
        self.custom = context.get("custom")
        self.env = context.get("env")

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


def _parse_json_header(value: str, what: str) -> Any:
    try:
        return json.loads(value)
    except Exception as exc:
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {what} JSON: {exc}") from None


class LambdaContext:
    """What the handler sees as `context` for one invocation."""

    def __init__(
        self,
        meta: FunctionMeta,
        aws_request_id: str,
        deadline_ms: int,
        invoked_function_arn: str | None = None,
        client_context_json: str | None = None,
        cognito_identity_json: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = meta.function_name
        self.function_version = meta.function_version
        self.memory_limit_in_mb = meta.memory_limit_in_mb
        self.log_group_name = meta.log_group_name
        self.log_stream_name = meta.log_stream_name
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = (
            ClientContext(_parse_json_header(client_context_json, "Client Context"))
            if client_context_json
            else None
        )
        self.identity = CognitoIdentity(
            _parse_json_header(cognito_identity_json, "Cognito Identity")
            if cognito_identity_json
            else None
        )
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message: Any) -> None:
        """Write to the function's log as is (no newline added), like awslambdaric."""
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )

"""Function URL configurations (pure): what one is, how AWS validates and renders it, and how a
request's host or path names one.

A URL belongs to a function (`$LATEST`) or to one of its aliases, never to a version: AWS's
qualifier pattern for URLs refuses numbers and `$LATEST`. Its id is 32 lower-case letters and
digits, as AWS's; its public address comes from a template (`LAMBKIN_FUNCTION_URL_TEMPLATE`),
by default `http://<id>.lambda-url.<region>.localhost:<port>/` (curl and browsers resolve
`*.localhost` to loopback), and every URL is also served at `/lambkin/urls/<id>/...` for
clients that cannot set a host.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .errors import constraint, constraint_failure, constraints_failed

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
_QUALIFIER = re.compile(r"(?!\d+$)[0-9a-zA-Z\-_]+")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID = re.compile(r"[a-z0-9]{32}")
# `<id>.lambda-url.<region>.<anything>`, port or not.
_HOST = re.compile(r"(?P<id>[a-z0-9]{32})\.lambda-url\.(?P<region>[a-z0-9-]+)\.[^:]+(:\d+)?")
PATH_PREFIX = "/lambkin/urls/"
NOT_FOUND = "The resource you requested does not exist."
MISSING_FUNCTION = "Function does not exist"
FORBIDDEN = (
    "Forbidden. For troubleshooting Function URL authorization issues, see: "
    "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
)
DEFAULT_TEMPLATE = "http://{url_id}.lambda-url.{region}.localhost:{port}/"

_CORS_LISTS = {
    # key: (most items, longest item)
    "AllowHeaders": (100, 1024),
    "AllowMethods": (6, 6),
    "AllowOrigins": (100, 253),
    "ExposeHeaders": (100, 1024),
}
_MAX_AGE = (0, 86400)


def new_url_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


def now_iso() -> str:
    """AWS's CreationTime / LastModifiedTime form: 2026-12-02T17:03:11.624233Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def url_qualifier(qualifier: str | None) -> str | None:
    """A URL's qualifier: none (the function) or an alias name; AWS refuses versions and
    `$LATEST` with its URL pattern."""
    if qualifier is None:
        return None
    if not _QUALIFIER.fullmatch(qualifier):
        raise constraint(
            qualifier,
            "qualifier",
            f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}",
        )
    return qualifier


@dataclass(frozen=True)
class UrlConfig:
    function: str
    qualifier: str | None
    url_id: str
    auth_type: str
    invoke_mode: str = "BUFFERED"
    cors: dict[str, Any] | None = None
    creation_time: str = ""
    last_modified_time: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UrlConfig:
        return cls(**data)

    def updated(self, fields: dict[str, Any]) -> UrlConfig:
        return replace(self, last_modified_time=now_iso(), **fields)

    def render(
        self, function_arn: str, public_url: str, *, keys: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """The FunctionUrlConfig shape; `keys` limits the optional members to those AWS sends in
        that answer (Create and Update answer InvokeMode only when it was given)."""
        rendered: dict[str, Any] = {
            "FunctionUrl": public_url,
            "FunctionArn": function_arn,
            "AuthType": self.auth_type,
            "CreationTime": self.creation_time,
        }
        optional = {
            "Cors": self.cors,
            "InvokeMode": self.invoke_mode,
            "LastModifiedTime": self.last_modified_time,
        }
        for key, value in optional.items():
            if value is not None and (keys is None or key in keys):
                rendered[key] = value
        return rendered


def config_fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """UrlConfig fields from a Create or Update body, validated as AWS's model constrains them
    (every failure in one ValidationException, as AWS answers)."""
    failures: list[str] = []
    fields: dict[str, Any] = {}
    auth = body.get("AuthType")
    if auth is not None or creating:
        if auth not in AUTH_TYPES:
            failures.append(
                constraint_failure(
                    None if auth is None else str(auth),
                    "authType",
                    "Member must not be null" if auth is None else _enum(AUTH_TYPES),
                )
            )
        fields["auth_type"] = auth
    mode = body.get("InvokeMode")
    if mode is not None:
        if mode not in INVOKE_MODES:
            failures.append(
                constraint_failure(str(mode), "invokeMode", _enum(("RESPONSE_STREAM", "BUFFERED")))
            )
        fields["invoke_mode"] = mode
    if "Cors" in body:
        cors, cors_failures = _cors(body["Cors"])
        failures += cors_failures
        fields["cors"] = cors
    if failures:
        raise constraints_failed(failures)
    return fields


def _enum(values: tuple[str, ...]) -> str:
    return f"Member must satisfy enum value set: [{', '.join(values)}]"


def _cors(value: Any) -> tuple[dict[str, Any] | None, list[str]]:
    if value is None or value == {}:
        return None, []
    if not isinstance(value, dict):
        return None, [constraint_failure(str(value), "cors", "Member must be a structure")]
    failures: list[str] = []
    cors: dict[str, Any] = {}
    for key, item in value.items():
        member = f"cors.{key[0].lower()}{key[1:]}"
        if key in _CORS_LISTS:
            most, longest = _CORS_LISTS[key]
            if not isinstance(item, list) or not all(isinstance(v, str) for v in item):
                failures.append(constraint_failure(str(item), member, "Member must be a list"))
                continue
            if len(item) > most:
                failures.append(
                    constraint_failure(
                        f"[{', '.join(item)}]",
                        member,
                        f"Member must have length less than or equal to {most}",
                    )
                )
            elif any(not 1 <= len(v) <= longest for v in item):
                failures.append(
                    constraint_failure(
                        f"[{', '.join(item)}]",
                        member,
                        "Member must satisfy constraint: [Member must have length less than or "
                        f"equal to {longest}, Member must have length greater than or equal to 1]",
                    )
                )
            cors[key] = list(item)
        elif key == "AllowCredentials":
            if not isinstance(item, bool):
                failures.append(constraint_failure(str(item), member, "Member must be a boolean"))
            cors[key] = item
        elif key == "MaxAge":
            if (
                not isinstance(item, int)
                or isinstance(item, bool)
                or not (_MAX_AGE[0] <= item <= _MAX_AGE[1])
            ):
                failures.append(
                    constraint_failure(
                        str(item),
                        member,
                        f"Member must have value less than or equal to {_MAX_AGE[1]}",
                    )
                )
            cors[key] = item
        else:
            failures.append(constraint_failure(str(item), member, "Member is not a Cors field"))
    return (cors or None), failures


def public_url(template: str, url_id: str, region: str, port: int) -> str:
    return template.format(url_id=url_id, region=region, port=port)


@dataclass(frozen=True)
class UrlTarget:
    """Which URL a request is for, and the path it asks for under it."""

    url_id: str
    raw_path: bytes


def target_of(host: str | None, raw_path: bytes) -> UrlTarget | None:
    """The URL a request names by its Host (`<id>.lambda-url.<region>.<...>`) or by the path
    form (`/lambkin/urls/<id>/<path>`); None for any other request (the API's)."""
    if host is not None:
        match = _HOST.fullmatch(host.lower())
        if match is not None:
            return UrlTarget(match["id"], raw_path or b"/")
    prefix = PATH_PREFIX.encode()
    if raw_path.startswith(prefix):
        rest = raw_path[len(prefix) :]
        url_id, slash, tail = rest.partition(b"/")
        if _ID.fullmatch(url_id.decode("latin-1")):
            return UrlTarget(url_id.decode(), b"/" + tail if slash else b"/")
    return None

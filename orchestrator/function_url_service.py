"""Function URL configurations and functions' resource-based policies: the API's operations,
stored as per-function settings (`url:<qualifier>`, `policy:<qualifier>`; they go with the
function), and the index by URL id that the URL endpoint looks requests up in."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from . import function_urls as urls
from . import resource_policy
from .aliases import is_alias_name
from .arns import LATEST, FunctionRef, parse_function_ref
from .errors import LambdaError, LambdaErrorCode, invalid_parameter, not_found
from .function_config import FunctionConfig
from .functions import FunctionService
from .registry import FunctionMissing, Registry
from .settings import Settings

log = logging.getLogger(__name__)

URL_SETTING = "url:"
POLICY_SETTING = "policy:"
LIST_MAX = 50


def _key(prefix: str, qualifier: str | None) -> str:
    return prefix + (qualifier or LATEST)


@dataclass(frozen=True)
class Policy:
    revision_id: str
    statements: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"revision_id": self.revision_id, "statements": self.statements}


class FunctionUrlService:
    def __init__(self, registry: Registry, functions: FunctionService, settings: Settings) -> None:
        self._registry = registry
        self._functions = functions
        self._settings = settings
        self._template = settings.function_url_template or urls.DEFAULT_TEMPLATE.replace(
            "http://", "https://" if settings.tls_cert else "http://"
        )
        # url id -> (function, qualifier): every stored config, rebuilt from the settings.
        self._by_id: dict[str, tuple[str, str | None]] = {}
        for (name, _), value in registry.settings_with_prefix(URL_SETTING).items():
            config = urls.UrlConfig.from_json(value)
            self._by_id[config.url_id] = (name, config.qualifier)
        functions.deleted_hooks.append(self._forget)

    # -- URL configurations --------------------------------------------------------------------

    def public_url(self, config: urls.UrlConfig) -> str:
        return urls.public_url(
            self._template, config.url_id, self._settings.region, self._settings.port
        )

    def render(self, config: urls.UrlConfig, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        arn = self._functions.arn(config.function, config.qualifier)
        return config.render(arn, self.public_url(config), keys=keys)

    def _ref(self, function_name: str, qualifier: str | None) -> FunctionRef:
        urls.url_qualifier(qualifier)
        ref = parse_function_ref(function_name, qualifier)
        urls.url_qualifier(ref.qualifier)
        return ref

    def _exists(self, ref: FunctionRef) -> FunctionConfig | None:
        if ref.region is not None and ref.region != self._settings.region:
            return None
        return self._registry.resolve(ref.name, ref.qualifier)

    def _stored(self, ref: FunctionRef) -> urls.UrlConfig:
        if self._exists(ref) is None and not self._registry.get(ref.name):
            raise not_found(urls.NOT_FOUND)
        value = self._registry.setting(ref.name, _key(URL_SETTING, ref.qualifier))
        if value is None:
            raise not_found(urls.NOT_FOUND)
        return urls.UrlConfig.from_json(value)

    def create(
        self, function_name: str, qualifier: str | None, body: dict[str, Any]
    ) -> urls.UrlConfig:
        ref = self._ref(function_name, qualifier)
        fields = urls.config_fields(body, creating=True)
        if self._exists(ref) is None:
            raise not_found(urls.MISSING_FUNCTION)
        key = _key(URL_SETTING, ref.qualifier)
        if self._registry.setting(ref.name, key) is not None:
            arn = self._functions.arn(ref.name, ref.qualifier)
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT,
                f"Failed to create function url config for [functionArn = {arn}]. Error message: "
                " FunctionUrlConfig exists for this Lambda function",
            )
        now = urls.now_iso()
        config = urls.UrlConfig(
            function=ref.name, qualifier=ref.qualifier, url_id=urls.new_url_id(),
            creation_time=now, last_modified_time=now, **fields,
        )  # fmt: skip
        self._store(config)
        log.info("function URL created", extra={"function": ref.name, "url_id": config.url_id})
        return config

    def get(self, function_name: str, qualifier: str | None) -> urls.UrlConfig:
        return self._stored(self._ref(function_name, qualifier))

    def update(
        self, function_name: str, qualifier: str | None, body: dict[str, Any]
    ) -> urls.UrlConfig:
        ref = self._ref(function_name, qualifier)
        fields = urls.config_fields(body, creating=False)
        config = self._stored(ref).updated(fields)
        self._store(config)
        return config

    def delete(self, function_name: str, qualifier: str | None) -> None:
        config = self._stored(self._ref(function_name, qualifier))
        self._registry.set_setting(config.function, _key(URL_SETTING, config.qualifier), None)
        self._by_id.pop(config.url_id, None)

    def list_configs(
        self, function_name: str, marker: str | None, max_items: str | None
    ) -> dict[str, Any]:
        ref = parse_function_ref(function_name)
        if self._registry.get(ref.name) is None:
            raise not_found(urls.MISSING_FUNCTION)
        limit = LIST_MAX if max_items is None or not max_items.isdigit() else int(max_items)
        limit = max(1, min(limit, LIST_MAX))
        configs = sorted(
            (
                urls.UrlConfig.from_json(v)
                for k, v in self._registry.settings_of(ref.name).items()
                if k.startswith(URL_SETTING)
            ),
            key=lambda c: (c.qualifier is not None, c.qualifier or ""),
        )
        start = int(marker) if marker and marker.isdigit() else 0
        page = configs[start : start + limit]
        result: dict[str, Any] = {"FunctionUrlConfigs": [self.render(c) for c in page]}
        if start + limit < len(configs):
            result["NextMarker"] = str(start + limit)
        return result

    def _store(self, config: urls.UrlConfig) -> None:
        try:
            self._registry.set_setting(
                config.function, _key(URL_SETTING, config.qualifier), config.to_json()
            )
        except FunctionMissing:
            raise not_found(urls.NOT_FOUND) from None
        self._by_id[config.url_id] = (config.function, config.qualifier)

    def _forget(self, function: str) -> None:
        for url_id in [i for i, (name, _) in self._by_id.items() if name == function]:
            del self._by_id[url_id]

    def by_id(self, url_id: str) -> urls.UrlConfig | None:
        """The URL a request names, as stored now (None: no such URL)."""
        found = self._by_id.get(url_id)
        if found is None:
            return None
        name, qualifier = found
        value = self._registry.setting(name, _key(URL_SETTING, qualifier))
        return urls.UrlConfig.from_json(value) if value is not None else None

    # -- resource-based policies ---------------------------------------------------------------

    def _policy_ref(self, function_name: str, qualifier: str | None) -> FunctionRef:
        return parse_function_ref(function_name, qualifier)

    def policy_of(self, name: str, qualifier: str | None) -> Policy | None:
        value = self._registry.setting(name, _key(POLICY_SETTING, qualifier))
        return Policy(value["revision_id"], value["statements"]) if value else None

    def add_permission(
        self, function_name: str, qualifier: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self._policy_ref(function_name, qualifier or body.get("Qualifier"))
        if ref.qualifier == LATEST:
            raise invalid_parameter("We currently do not support adding policies for $LATEST.")
        config = self._require_for_policy(ref)
        statement = resource_policy.statement(body, self._functions.arn(config.name, ref.qualifier))
        current = self.policy_of(config.name, ref.qualifier)
        expected = body.get("RevisionId")
        if expected is not None and (current is None or current.revision_id != expected):
            raise resource_policy.revision_mismatch()
        statements = current.statements if current else []
        if any(s["Sid"] == statement["Sid"] for s in statements):
            raise LambdaError(
                LambdaErrorCode.RESOURCE_CONFLICT,
                f"The statement id ({statement['Sid']}) provided already exists. Please provide a "
                "new statement id, or remove the existing statement.",
            )
        self._store_policy(config.name, ref.qualifier, [*statements, statement])
        return statement

    def _require_for_policy(self, ref: FunctionRef) -> FunctionConfig:
        """The function or version a policy is for; a missing alias of an existing function is
        "Cannot find alias arn" here (AWS's words for the policy operations)."""
        qualifier = ref.qualifier
        if (
            qualifier is not None
            and is_alias_name(qualifier)
            and self._registry.get(ref.name) is not None
            and self._registry.alias(ref.name, qualifier) is None
        ):
            raise not_found(f"Cannot find alias arn: {self._functions.arn(ref.name, qualifier)}")
        return self._functions.require(ref)

    def get_policy(self, function_name: str, qualifier: str | None) -> Policy:
        ref = self._policy_ref(function_name, qualifier)
        if self._exists(ref) is None:
            raise not_found(urls.NOT_FOUND)
        policy = self.policy_of(ref.name, ref.qualifier)
        if policy is None or not policy.statements:
            raise not_found(urls.NOT_FOUND)
        return policy

    def remove_permission(
        self, function_name: str, sid: str, qualifier: str | None, revision_id: str | None
    ) -> None:
        ref = self._policy_ref(function_name, qualifier)
        if self._registry.get(ref.name) is None:
            arn = self._functions.arn(ref.name, ref.qualifier)
            raise not_found(f"No policy found for: {arn}")
        if ref.qualifier is not None and is_alias_name(ref.qualifier):
            self._require_for_policy(ref)
        policy = self.policy_of(ref.name, ref.qualifier)
        if policy is None or not policy.statements:
            raise not_found("No policy is associated with the given resource.")
        if revision_id is not None and revision_id != policy.revision_id:
            raise resource_policy.revision_mismatch()
        remaining = [s for s in policy.statements if s["Sid"] != sid]
        if len(remaining) == len(policy.statements):
            raise not_found(f"Statement {sid} is not found in resource policy.")
        self._store_policy(ref.name, ref.qualifier, remaining)

    def _store_policy(
        self, name: str, qualifier: str | None, statements: list[dict[str, Any]]
    ) -> None:
        value = Policy(str(uuid.uuid4()), statements).to_json() if statements else None
        try:
            self._registry.set_setting(name, _key(POLICY_SETTING, qualifier), value)
        except FunctionMissing:
            raise not_found(f"Function not found: {self._functions.arn(name)}") from None

    def public(self, config: urls.UrlConfig) -> bool:
        """Whether a NONE URL's function lets anyone call it (its policy's grant)."""
        policy = self.policy_of(config.function, config.qualifier)
        return policy is not None and resource_policy.allows_public_url(policy.statements)

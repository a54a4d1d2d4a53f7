"""Every route of the server as the IAM action it performs and the resource it acts on: the one
table the access layer (`api/access.py`) consults, pure and tested with tables.

A request that matches no route here needs `admin` (fail closed: a route added to the app but not
to this table is refused to everyone else; `tests/unit/test_actions.py` checks each of the app's
routes has its row). CloudWatch Logs calls all arrive as `POST /`; their action is the
`X-Amz-Target` operation and their resource the log group named in the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .arns import function_arn, parse_function_ref
from .errors import LambdaError
from .layers import layer_arn, layer_name
from .log_names import function_of_log_group
from .permissions import ActionKind

LOGS_TARGET_PREFIX = "Logs_20140328."
# Open to anyone: load balancers and orchestrators probe health without keys.
PUBLIC_PATHS = frozenset({"/healthz"})

# The web console signs its users in itself (orchestrator/console/) and calls the API in-process,
# signed as them: its pages are not API calls, and every API call they make is judged here.
CONSOLE_PREFIX = "/console"
# Prometheus cannot sign requests: /metrics has a bearer token of its own (api/access.py).
METRICS_PATH = "/metrics"


def is_console_path(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


class Protocol(StrEnum):
    """How a refusal is worded: Lambda's rest-json (`x-amzn-ErrorType`) or CloudWatch Logs'
    JSON 1.1 (`__type`)."""

    REST_JSON = "rest-json"
    JSON_11 = "json-1.1"


@dataclass(frozen=True)
class Action:
    name: str  # as IAM names it: lambda:CreateFunction, logs:GetLogEvents, lambkin:ListInstances
    kind: ActionKind
    mutates: bool  # recorded in the audit trail

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class Call:
    """One request as the access layer judges it."""

    action: Action
    function: str | None  # the function acted on, when there is exactly one
    protocol: Protocol
    log_group: str | None = None  # CloudWatch Logs calls on one group
    layer: str | None = None  # layer calls on one layer

    @property
    def named(self) -> str | None:
        """The name a deploy or invoke pattern is matched against: the function's, or the
        layer's (a team's `deploy:orders-*` publishes the `orders-*` layers too)."""
        return self.function if self.function is not None else self.layer

    def resource(self, region: str, account_id: str) -> str:
        if self.log_group is not None:
            return f"arn:aws:logs:{region}:{account_id}:log-group:{self.log_group}"
        if self.layer is not None:
            return layer_arn(region, account_id, self.layer)
        if self.function is not None:
            return function_arn(region, account_id, self.function)
        return "*"


def _action(name: str, kind: ActionKind, mutates: bool | None = None) -> Action:
    return Action(name, kind, kind is not ActionKind.READ if mutates is None else mutates)


READ, DEPLOY, INVOKE = ActionKind.READ, ActionKind.DEPLOY, ActionKind.INVOKE
INVOKE_FUNCTION = _action("lambda:InvokeFunction", INVOKE, mutates=False)

_FN = "/2015-03-31/functions/{function}"
_CONCURRENCY = "/2017-10-31/functions/{function}/concurrency"
_CONCURRENCY_READ = "/2019-09-30/functions/{function}/concurrency"
_PROVISIONED = "/2019-09-30/functions/{function}/provisioned-concurrency"
_TAGS = "/2017-03-31/tags/{function}"  # the function's ARN
_EVENT_CONFIG = "/2019-09-25/functions/{function}/event-invoke-config"
_URL = "/2021-10-31/functions/{function}/url"
_LAYERS = "/2018-10-31/layers"
_LAYER_VERSIONS = "/2018-10-31/layers/{layer}/versions"
_LAYER_POLICY = _LAYER_VERSIONS + "/{version}/policy"
# GetLayerVersionByArn is ListLayers' path with `?find=LayerVersion`: both read-only.
_LIST_LAYERS = _action("lambda:ListLayers", READ)
_CREATE = _action("lambda:CreateFunction", DEPLOY)
_LIST = _action("lambda:ListFunctions", READ)
_DOCS = _action("lambkin:ReadApiDocs", READ)

# (method, path template, action). `{function}` names the function (a name, `name:qualifier` or
# an ARN); other `{...}` parameters match one path segment. CreateFunction names its function in
# the body (`BODY_NAMED`).
ROUTES: tuple[tuple[str, str, Action], ...] = (
    ("POST", f"{_FN}/invocations", INVOKE_FUNCTION),
    ("POST", "/2021-11-15/functions/{function}/response-streaming-invocations", INVOKE_FUNCTION),
    ("POST", "/2015-03-31/functions", _CREATE),
    ("POST", "/2015-03-31/functions/", _CREATE),
    ("GET", "/2015-03-31/functions", _LIST),
    ("GET", "/2015-03-31/functions/", _LIST),
    ("GET", _FN, _action("lambda:GetFunction", READ)),
    ("GET", f"{_FN}/configuration", _action("lambda:GetFunctionConfiguration", READ)),
    ("PUT", f"{_FN}/code", _action("lambda:UpdateFunctionCode", DEPLOY)),
    ("POST", f"{_FN}/versions", _action("lambda:PublishVersion", DEPLOY)),
    ("GET", f"{_FN}/versions", _action("lambda:ListVersionsByFunction", READ)),
    ("GET", "/2016-08-19/account-settings", _action("lambda:GetAccountSettings", READ)),
    ("GET", "/2016-08-19/account-settings/", _action("lambda:GetAccountSettings", READ)),
    ("POST", f"{_FN}/aliases", _action("lambda:CreateAlias", DEPLOY)),
    ("GET", f"{_FN}/aliases", _action("lambda:ListAliases", READ)),
    ("GET", f"{_FN}/aliases/{{alias}}", _action("lambda:GetAlias", READ)),
    ("PUT", f"{_FN}/aliases/{{alias}}", _action("lambda:UpdateAlias", DEPLOY)),
    ("DELETE", f"{_FN}/aliases/{{alias}}", _action("lambda:DeleteAlias", DEPLOY)),
    ("PUT", f"{_FN}/configuration", _action("lambda:UpdateFunctionConfiguration", DEPLOY)),
    ("DELETE", _FN, _action("lambda:DeleteFunction", DEPLOY)),
    ("PUT", _CONCURRENCY, _action("lambda:PutFunctionConcurrency", DEPLOY)),
    ("GET", _CONCURRENCY_READ, _action("lambda:GetFunctionConcurrency", READ)),
    ("DELETE", _CONCURRENCY, _action("lambda:DeleteFunctionConcurrency", DEPLOY)),
    ("PUT", _PROVISIONED, _action("lambda:PutProvisionedConcurrencyConfig", DEPLOY)),
    ("GET", _PROVISIONED, _action("lambda:GetProvisionedConcurrencyConfig", READ)),
    ("DELETE", _PROVISIONED, _action("lambda:DeleteProvisionedConcurrencyConfig", DEPLOY)),
    ("POST", _TAGS, _action("lambda:TagResource", DEPLOY)),
    ("DELETE", _TAGS, _action("lambda:UntagResource", DEPLOY)),
    ("GET", _TAGS, _action("lambda:ListTags", READ)),
    ("PUT", _EVENT_CONFIG, _action("lambda:PutFunctionEventInvokeConfig", DEPLOY)),
    ("POST", _EVENT_CONFIG, _action("lambda:UpdateFunctionEventInvokeConfig", DEPLOY)),
    ("GET", _EVENT_CONFIG, _action("lambda:GetFunctionEventInvokeConfig", READ)),
    ("GET", f"{_EVENT_CONFIG}/list", _action("lambda:ListFunctionEventInvokeConfigs", READ)),
    ("DELETE", _EVENT_CONFIG, _action("lambda:DeleteFunctionEventInvokeConfig", DEPLOY)),
    ("POST", _LAYER_VERSIONS, _action("lambda:PublishLayerVersion", DEPLOY)),
    ("GET", _LAYER_VERSIONS, _action("lambda:ListLayerVersions", READ)),
    ("GET", f"{_LAYER_VERSIONS}/{{version}}", _action("lambda:GetLayerVersion", READ)),
    ("DELETE", f"{_LAYER_VERSIONS}/{{version}}", _action("lambda:DeleteLayerVersion", DEPLOY)),
    ("GET", _LAYERS, _LIST_LAYERS),
    ("GET", _LAYERS + "/", _LIST_LAYERS),
    ("POST", _LAYER_POLICY, _action("lambda:AddLayerVersionPermission", DEPLOY)),
    ("GET", _LAYER_POLICY, _action("lambda:GetLayerVersionPolicy", READ)),
    (
        "DELETE",
        f"{_LAYER_POLICY}/{{sid}}",
        _action("lambda:RemoveLayerVersionPermission", DEPLOY),
    ),
    ("POST", _URL, _action("lambda:CreateFunctionUrlConfig", DEPLOY)),
    ("GET", _URL, _action("lambda:GetFunctionUrlConfig", READ)),
    ("PUT", _URL, _action("lambda:UpdateFunctionUrlConfig", DEPLOY)),
    ("DELETE", _URL, _action("lambda:DeleteFunctionUrlConfig", DEPLOY)),
    (
        "GET",
        "/2021-10-31/functions/{function}/urls",
        _action("lambda:ListFunctionUrlConfigs", READ),
    ),
    ("POST", f"{_FN}/policy", _action("lambda:AddPermission", DEPLOY)),
    ("GET", f"{_FN}/policy", _action("lambda:GetPolicy", READ)),
    ("DELETE", f"{_FN}/policy/{{sid}}", _action("lambda:RemovePermission", DEPLOY)),
    ("GET", "/lambkin/code/{sha}.zip", _action("lambkin:GetFunctionCode", READ)),
    ("GET", "/lambkin/dlq/{function}", _action("lambkin:ListDeadLetters", READ)),
    # Replaying failed events runs the function again: the right to invoke it.
    ("POST", "/lambkin/dlq/{function}/replay", _action("lambkin:ReplayDeadLetters", INVOKE, True)),
    ("GET", "/lambkin/async", _action("lambkin:GetAsyncStatus", READ)),
    ("GET", "/lambkin/instances", _action("lambkin:ListInstances", READ)),
    ("GET", "/lambkin/vacancies", _action("lambkin:ListVacancies", READ)),
    ("GET", "/lambkin/traces", _action("lambkin:ListTraces", READ)),
    ("GET", "/lambkin/metrics/history", _action("lambkin:GetMetricHistory", READ)),
    ("GET", "/lambkin/traces/{trace_id}", _action("lambkin:GetTrace", READ)),
    ("GET", "/lambkin/docs", _DOCS),
    ("GET", "/lambkin/openapi.json", _DOCS),
    ("GET", "/docs/oauth2-redirect", _DOCS),
    ("GET", "/redoc", _DOCS),
)
BODY_NAMED = frozenset({_CREATE})

# CloudWatch Logs operations (X-Amz-Target Logs_20140328.<operation>). Changing a log group is a
# deploy right on its function (`/aws/lambda/<fn>`); on any other group, admin's.
LOGS_ACTIONS: dict[str, Action] = {
    "DescribeLogGroups": _action("logs:DescribeLogGroups", READ),
    "DescribeLogStreams": _action("logs:DescribeLogStreams", READ),
    "GetLogEvents": _action("logs:GetLogEvents", READ),
    "FilterLogEvents": _action("logs:FilterLogEvents", READ),
    "PutRetentionPolicy": _action("logs:PutRetentionPolicy", DEPLOY),
    "DeleteRetentionPolicy": _action("logs:DeleteRetentionPolicy", DEPLOY),
    "DeleteLogGroup": _action("logs:DeleteLogGroup", DEPLOY),
}


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = pattern.replace(r"\{function\}", r"(?P<function>[^/]+)")
    pattern = pattern.replace(r"\{layer\}", r"(?P<layer>[^/]+)")
    pattern = re.sub(r"\\\{[a-z_]+\\\}", r"[^/]+", pattern)
    return re.compile(pattern)


_COMPILED = tuple((method, _compile(template), action) for method, template, action in ROUTES)


def _function_name(reference: str) -> str | None:
    """The function a (percent-decoded) path or a body names (a name, `name:qualifier`, an
    ARN); None when it names none validly (the route refuses it anyway; only admin may ask)."""
    try:
        return parse_function_ref(reference).name
    except LambdaError:
        return None


def _layer_name(reference: str) -> str | None:
    """The layer a path names (a name or a layer ARN); None when it names none validly."""
    try:
        return layer_name(reference)
    except LambdaError:
        return None


def unknown(method: str, path: str) -> Call:
    """A request no row names: admin's alone."""
    return Call(
        Action(f"lambkin:{method} {path}", ActionKind.ADMIN, True), None, Protocol.REST_JSON
    )


def resolve_rest(method: str, path: str, body: dict[str, Any] | None) -> Call:
    """The Lambda REST (or Lambkin) call a request makes; `body` is the parsed JSON body, read
    only for the routes that name their function there."""
    wanted = "GET" if method == "HEAD" else method  # HEAD is GET without the body
    for route_method, pattern, action in _COMPILED:
        if route_method != wanted:
            continue
        match = pattern.fullmatch(path)
        if match is None:
            continue
        function: str | None = None
        if action in BODY_NAMED:
            named = (body or {}).get("FunctionName")
            function = _function_name(named) if isinstance(named, str) else None
        elif "function" in pattern.groupindex:
            function = _function_name(match.group("function"))
        layer = _layer_name(match.group("layer")) if "layer" in pattern.groupindex else None
        return Call(action, function, Protocol.REST_JSON, layer=layer)
    return unknown(method, path)


def resolve_logs(target: str, body: dict[str, Any] | None) -> Call:
    """The CloudWatch Logs call a `POST /` makes, from its X-Amz-Target and body."""
    operation = (
        target.removeprefix(LOGS_TARGET_PREFIX) if target.startswith(LOGS_TARGET_PREFIX) else None
    )
    action = LOGS_ACTIONS.get(operation or "")
    if action is None:
        return Call(
            Action(f"logs:{operation or target}", ActionKind.ADMIN, True), None, Protocol.JSON_11
        )
    group = (body or {}).get("logGroupName")
    if not isinstance(group, str):
        return Call(action, None, Protocol.JSON_11)
    function = function_of_log_group(group)
    if function is not None and _function_name(function) != function:
        function = None  # `/aws/lambda/a:b` names no function
    return Call(action, function, Protocol.JSON_11, log_group=group)


def needs_body(method: str, path: str) -> bool:
    """Whether the action of a request depends on its body (to read it when nothing else does)."""
    return method == "POST" and path in ("/", "/2015-03-31/functions", "/2015-03-31/functions/")

"""The route -> action table: each route's IAM action, kind and function, as tables; and every
route the app serves has its row (a route missing here would be admin's alone)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from orchestrator import actions
from orchestrator.actions import PUBLIC_PATHS, Protocol, resolve_logs, resolve_rest
from orchestrator.app import create_app
from orchestrator.permissions import ActionKind
from orchestrator.settings import Settings

ARN = "arn:aws:lambda:us-east-1:000000000000:function:orders-a"
FN = "/2015-03-31/functions/orders-a"
LOG_GROUP = "arn:aws:logs:us-east-1:000000000000:log-group:"
ORDERS_GROUP = {"logGroupName": "/aws/lambda/orders-a"}


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "kind", "function"),
    [
        ("POST", f"{FN}/invocations", None, "lambda:InvokeFunction", "invoke", "orders-a"),
        (
            "POST",
            f"/2015-03-31/functions/{ARN}:live/invocations",
            None,
            "lambda:InvokeFunction",
            "invoke",
            "orders-a",
        ),
        ("POST", f"{FN}:3/invocations", None, "lambda:InvokeFunction", "invoke", "orders-a"),
        (
            "POST",
            "/2021-11-15/functions/orders-a:live/response-streaming-invocations",
            None,
            "lambda:InvokeFunction",
            "invoke",
            "orders-a",
        ),
        (
            "POST",
            "/2015-03-31/functions",
            {"FunctionName": "orders-a"},
            "lambda:CreateFunction",
            "deploy",
            "orders-a",
        ),
        (
            "POST",
            "/2015-03-31/functions/",
            {"FunctionName": ARN},
            "lambda:CreateFunction",
            "deploy",
            "orders-a",
        ),
        ("POST", "/2015-03-31/functions", None, "lambda:CreateFunction", "deploy", None),
        (
            "POST",
            "/2015-03-31/functions",
            {"FunctionName": 7},
            "lambda:CreateFunction",
            "deploy",
            None,
        ),
        ("GET", "/2015-03-31/functions", None, "lambda:ListFunctions", "read", None),
        ("GET", "/2015-03-31/functions/", None, "lambda:ListFunctions", "read", None),
        ("GET", f"{FN}", None, "lambda:GetFunction", "read", "orders-a"),
        ("GET", f"{FN}/configuration", None, "lambda:GetFunctionConfiguration", "read", "orders-a"),
        ("PUT", f"{FN}/code", None, "lambda:UpdateFunctionCode", "deploy", "orders-a"),
        (
            "PUT",
            f"{FN}/configuration",
            None,
            "lambda:UpdateFunctionConfiguration",
            "deploy",
            "orders-a",
        ),
        ("DELETE", f"{FN}", None, "lambda:DeleteFunction", "deploy", "orders-a"),
        (
            "DELETE",
            "/2015-03-31/functions/not a name",
            None,
            "lambda:DeleteFunction",
            "deploy",
            None,
        ),
        (
            "PUT",
            "/2017-10-31/functions/orders-a/concurrency",
            None,
            "lambda:PutFunctionConcurrency",
            "deploy",
            "orders-a",
        ),
        (
            "GET",
            "/2019-09-30/functions/orders-a/concurrency",
            None,
            "lambda:GetFunctionConcurrency",
            "read",
            "orders-a",
        ),
        (
            "DELETE",
            "/2017-10-31/functions/orders-a/concurrency",
            None,
            "lambda:DeleteFunctionConcurrency",
            "deploy",
            "orders-a",
        ),
        (
            "PUT",
            "/2019-09-30/functions/orders-a/provisioned-concurrency",
            None,
            "lambda:PutProvisionedConcurrencyConfig",
            "deploy",
            "orders-a",
        ),
        (
            "GET",
            "/2019-09-30/functions/orders-a/provisioned-concurrency",
            None,
            "lambda:GetProvisionedConcurrencyConfig",
            "read",
            "orders-a",
        ),
        (
            "DELETE",
            "/2019-09-30/functions/orders-a/provisioned-concurrency",
            None,
            "lambda:DeleteProvisionedConcurrencyConfig",
            "deploy",
            "orders-a",
        ),
        ("POST", f"/2017-03-31/tags/{ARN}", None, "lambda:TagResource", "deploy", "orders-a"),
        ("DELETE", f"/2017-03-31/tags/{ARN}", None, "lambda:UntagResource", "deploy", "orders-a"),
        ("GET", f"/2017-03-31/tags/{ARN}", None, "lambda:ListTags", "read", "orders-a"),
        (
            "PUT",
            "/2019-09-25/functions/orders-a/event-invoke-config",
            None,
            "lambda:PutFunctionEventInvokeConfig",
            "deploy",
            "orders-a",
        ),
        (
            "POST",
            "/2019-09-25/functions/orders-a/event-invoke-config",
            None,
            "lambda:UpdateFunctionEventInvokeConfig",
            "deploy",
            "orders-a",
        ),
        (
            "GET",
            "/2019-09-25/functions/orders-a/event-invoke-config",
            None,
            "lambda:GetFunctionEventInvokeConfig",
            "read",
            "orders-a",
        ),
        (
            "GET",
            "/2019-09-25/functions/orders-a/event-invoke-config/list",
            None,
            "lambda:ListFunctionEventInvokeConfigs",
            "read",
            "orders-a",
        ),
        (
            "DELETE",
            "/2019-09-25/functions/orders-a/event-invoke-config",
            None,
            "lambda:DeleteFunctionEventInvokeConfig",
            "deploy",
            "orders-a",
        ),
        ("GET", "/lambkin/code/abc123.zip", None, "lambkin:GetFunctionCode", "read", None),
        ("GET", "/lambkin/dlq/orders-a", None, "lambkin:ListDeadLetters", "read", "orders-a"),
        (
            "POST",
            "/lambkin/dlq/orders-a/replay",
            None,
            "lambkin:ReplayDeadLetters",
            "invoke",
            "orders-a",
        ),
        ("GET", "/lambkin/async", None, "lambkin:GetAsyncStatus", "read", None),
        ("GET", "/lambkin/instances", None, "lambkin:ListInstances", "read", None),
        ("GET", "/lambkin/vacancies", None, "lambkin:ListVacancies", "read", None),
        ("GET", "/lambkin/traces", None, "lambkin:ListTraces", "read", None),
        ("GET", "/lambkin/traces/1-abc-def", None, "lambkin:GetTrace", "read", None),
        ("GET", "/lambkin/openapi.json", None, "lambkin:ReadApiDocs", "read", None),
        ("HEAD", f"{FN}", None, "lambda:GetFunction", "read", "orders-a"),
        # Nothing names these: admin's alone.
        ("PATCH", f"{FN}", None, "lambkin:PATCH /2015-03-31/functions/orders-a", "admin", None),
        (
            "GET",
            "/lambkin/secret-new-route",
            None,
            "lambkin:GET /lambkin/secret-new-route",
            "admin",
            None,
        ),
        (
            "POST",
            "/2015-03-31/functions/a/b/invocations",
            None,
            "lambkin:POST /2015-03-31/functions/a/b/invocations",
            "admin",
            None,
        ),
    ],
)
def test_rest_routes(
    method: str,
    path: str,
    body: dict[str, object] | None,
    action: str,
    kind: str,
    function: str | None,
) -> None:
    call = resolve_rest(method, path, body)
    assert (call.action.name, call.action.kind.value, call.function) == (action, kind, function)
    assert call.protocol is Protocol.REST_JSON


@pytest.mark.parametrize(
    ("action", "mutates"),
    [
        ("lambda:InvokeFunction", False),
        ("lambda:GetFunction", False),
        ("lambda:CreateFunction", True),
        ("lambda:TagResource", True),
        ("lambkin:ReplayDeadLetters", True),
        ("lambkin:ListInstances", False),
    ],
)
def test_what_the_audit_trail_records(action: str, mutates: bool) -> None:
    (row,) = {a for _, _, a in actions.ROUTES if a.name == action}
    assert row.mutates is mutates


@pytest.mark.parametrize(
    ("target", "body", "action", "kind", "function", "resource"),
    [
        ("Logs_20140328.DescribeLogGroups", {}, "logs:DescribeLogGroups", "read", None, "*"),
        (
            "Logs_20140328.FilterLogEvents",
            ORDERS_GROUP,
            "logs:FilterLogEvents",
            "read",
            "orders-a",
            f"{LOG_GROUP}/aws/lambda/orders-a",
        ),
        (
            "Logs_20140328.GetLogEvents",
            ORDERS_GROUP,
            "logs:GetLogEvents",
            "read",
            "orders-a",
            f"{LOG_GROUP}/aws/lambda/orders-a",
        ),
        (
            "Logs_20140328.DeleteLogGroup",
            ORDERS_GROUP,
            "logs:DeleteLogGroup",
            "deploy",
            "orders-a",
            f"{LOG_GROUP}/aws/lambda/orders-a",
        ),
        (
            "Logs_20140328.PutRetentionPolicy",
            {"logGroupName": "/other/group"},
            "logs:PutRetentionPolicy",
            "deploy",
            None,
            f"{LOG_GROUP}/other/group",
        ),
        (
            "Logs_20140328.DeleteRetentionPolicy",
            {"logGroupName": "/aws/lambda/a:b"},
            "logs:DeleteRetentionPolicy",
            "deploy",
            None,
            f"{LOG_GROUP}/aws/lambda/a:b",
        ),
        ("Logs_20140328.PutLogEvents", {}, "logs:PutLogEvents", "admin", None, "*"),
        (
            "DynamoDB_20120810.ListTables",
            {},
            "logs:DynamoDB_20120810.ListTables",
            "admin",
            None,
            "*",
        ),
    ],
)
def test_logs_operations(
    target: str,
    body: dict[str, object],
    action: str,
    kind: str,
    function: str | None,
    resource: str,
) -> None:
    call = resolve_logs(target, body)
    assert (call.action.name, call.action.kind.value, call.function) == (action, kind, function)
    assert call.resource("us-east-1", "000000000000") == resource
    assert call.protocol is Protocol.JSON_11


def test_a_function_resource_is_its_unqualified_arn() -> None:
    call = resolve_rest("POST", f"/2015-03-31/functions/{ARN}:live/invocations", None)
    assert call.resource("us-east-1", "000000000000") == ARN
    assert resolve_rest("GET", "/2015-03-31/functions", None).resource("r", "a") == "*"


def _example(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "x", path)


def test_every_route_of_the_app_has_its_row(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    served: list[tuple[str, str]] = []
    for route in app.router.routes:
        inner = getattr(route, "original_router", None)
        for leaf in inner.routes if inner is not None else [route]:
            if isinstance(leaf, APIRoute | Route):
                for method in sorted((leaf.methods or set()) - {"HEAD"}):
                    served.append((method, leaf.path))
    assert len(served) > 30
    for method, path in served:
        if path in PUBLIC_PATHS or path == actions.METRICS_PATH or actions.is_console_path(path):
            continue
        if path == "/":  # CloudWatch Logs: by X-Amz-Target (test_logs_operations)
            assert method == "POST"
            continue
        call = resolve_rest(method, _example(path), None)
        assert call.action.kind is not ActionKind.ADMIN, f"{method} {path} has no row in actions.py"


LAYER_ARN = "arn:aws:lambda:us-east-1:000000000000:layer:orders-libs"


@pytest.mark.parametrize(
    ("method", "path", "action", "kind", "layer"),
    [
        ("POST", "/2018-10-31/layers/orders-libs/versions", "PublishLayerVersion", "deploy",
         "orders-libs"),
        ("POST", f"/2018-10-31/layers/{LAYER_ARN}/versions", "PublishLayerVersion", "deploy",
         "orders-libs"),
        ("GET", "/2018-10-31/layers/orders-libs/versions", "ListLayerVersions", "read",
         "orders-libs"),
        ("GET", "/2018-10-31/layers/orders-libs/versions/3", "GetLayerVersion", "read",
         "orders-libs"),
        ("DELETE", "/2018-10-31/layers/orders-libs/versions/3", "DeleteLayerVersion", "deploy",
         "orders-libs"),
        ("POST", "/2018-10-31/layers/orders-libs/versions/3/policy", "AddLayerVersionPermission",
         "deploy", "orders-libs"),
        ("GET", "/2018-10-31/layers/orders-libs/versions/3/policy", "GetLayerVersionPolicy",
         "read", "orders-libs"),
        ("DELETE", "/2018-10-31/layers/orders-libs/versions/3/policy/s1",
         "RemoveLayerVersionPermission", "deploy", "orders-libs"),
        ("GET", "/2018-10-31/layers", "ListLayers", "read", None),
        ("POST", "/2018-10-31/layers/bad name/versions", "PublishLayerVersion", "deploy", None),
    ],
)  # fmt: skip
def test_layer_routes_name_their_layer(
    method: str, path: str, action: str, kind: str, layer: str | None
) -> None:
    call = resolve_rest(method, path, None)
    assert (call.action.name, call.action.kind.value, call.function, call.layer) == (
        f"lambda:{action}", kind, None, layer,
    )  # fmt: skip
    # A deploy pattern matches layer names too; the resource is the layer's ARN.
    assert call.named == layer
    if layer is not None:
        assert call.resource("us-east-1", "000000000000") == LAYER_ARN

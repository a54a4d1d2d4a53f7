"""Permissions: parsing their written form, and the one decision `allows`, as tables."""

from __future__ import annotations

import pytest

from orchestrator.permissions import ActionKind, Grant, Permission, allows, parse_permission

READ, DEPLOY, INVOKE, ADMIN = (
    ActionKind.READ,
    ActionKind.DEPLOY,
    ActionKind.INVOKE,
    ActionKind.ADMIN,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("admin", Permission(Grant.ADMIN)),
        ("read", Permission(Grant.READ)),
        ("deploy:orders-*", Permission(Grant.DEPLOY, "orders-*")),
        ("invoke:*", Permission(Grant.INVOKE, "*")),
        ("invoke:report-[0-9]?", Permission(Grant.INVOKE, "report-[0-9]?")),
    ],
)
def test_parses_each_written_form(text: str, expected: Permission) -> None:
    assert parse_permission(text) == expected
    assert str(parse_permission(text)) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("write", "unknown permission 'write'"),
        ("Admin", "unknown permission"),
        ("deploy", "needs a function-name pattern"),
        ("invoke:", "needs a function-name pattern"),
        ("read:orders-*", "read takes no pattern"),
        ("admin:x", "admin takes no pattern"),
        ("deploy:orders/*", "only a function name's characters"),
        ("invoke:a b", "only a function name's characters"),
    ],
)
def test_refuses_what_it_cannot_mean(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("[", r"\[")):
        parse_permission(text)


def grants(*texts: str) -> list[Permission]:
    return [parse_permission(text) for text in texts]


@pytest.mark.parametrize(
    ("permissions", "kind", "function", "allowed"),
    [
        (grants("admin"), ADMIN, None, True),
        (grants("admin"), DEPLOY, "anything", True),
        (grants("admin"), DEPLOY, None, True),
        (grants("read"), READ, None, True),
        (grants("read"), READ, "orders-a", True),
        (grants("read"), DEPLOY, "orders-a", False),
        (grants("read"), INVOKE, "orders-a", False),
        (grants("read"), ADMIN, None, False),
        (grants("invoke:orders-*"), INVOKE, "orders-a", True),
        (grants("invoke:orders-*"), INVOKE, "billing", False),
        (grants("invoke:orders-*"), DEPLOY, "orders-a", False),
        (grants("invoke:orders-*"), READ, "orders-a", False),
        (grants("invoke:orders-*"), INVOKE, None, False),
        (grants("deploy:orders-*"), DEPLOY, "orders-a", True),
        (grants("deploy:orders-*"), DEPLOY, "Orders-a", False),  # case-sensitive
        (grants("deploy:orders-*"), DEPLOY, "orders", False),
        (grants("deploy:orders-*"), DEPLOY, None, False),  # e.g. a log group of no function
        (grants("deploy:orders-*"), INVOKE, "orders-a", False),
        (grants("deploy:orders-*"), ADMIN, None, False),
        (grants("deploy:report-?"), DEPLOY, "report-1", True),
        (grants("deploy:report-?"), DEPLOY, "report-12", False),
        (grants("deploy:*"), DEPLOY, "x", True),
        (grants("deploy:orders-*", "invoke:orders-*", "read"), INVOKE, "orders-b", True),
        (grants("deploy:orders-*", "invoke:orders-*", "read"), DEPLOY, "billing", False),
        (grants("deploy:orders-*", "invoke:orders-*", "read"), READ, "billing", True),
        ([], READ, None, False),
    ],
)
def test_allows(
    permissions: list[Permission], kind: ActionKind, function: str | None, allowed: bool
) -> None:
    assert allows(permissions, kind, function) is allowed

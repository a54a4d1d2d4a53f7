"""The pure parts of layers: how layers merge into /opt (later ones win), and what a function's
`Layers` may name."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import LambdaError
from orchestrator.layer_assembly import Entry, LayersRefused, check, merge
from orchestrator.layers import function_layers, layer_name, version_number

D, F = Entry("dir"), Entry("file", source=Path("/src"))


def link(target: str) -> Entry:
    return Entry("link", target=target)


def f(tag: str) -> Entry:
    return Entry("file", source=Path(f"/{tag}"))


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([[("a", f("1"))], [("a", f("2"))]], {"a": f("2")}),  # later wins
        ([[("d", D), ("d/x", f("1"))], [("d", D), ("d/y", f("2"))]],
         {"d": D, "d/x": f("1"), "d/y": f("2")}),  # directories merge
        ([[("d", D), ("d/x", f("1"))], [("d", f("2"))]], {"d": f("2")}),  # a file drops a dir
        ([[("d", D), ("d/x", f("1"))], [("d", link("e"))]], {"d": link("e")}),
        ([[("d", f("1"))], [("d", D), ("d/x", f("2"))]], {"d": D, "d/x": f("2")}),
        ([[("d", link("e"))], [("d", D), ("d/x", f("2"))]], {"d": D, "d/x": f("2")}),
        ([[("dx", f("1"))], [("d", f("2"))]], {"dx": f("1"), "d": f("2")}),  # prefix, not parent
    ],
)  # fmt: skip
def test_merge(layers: list[list[tuple[str, Entry]]], expected: dict[str, Entry]) -> None:
    assert merge(layers) == expected


@pytest.mark.parametrize(
    ("merged", "refused"),
    [
        ({"x": D, "x/y": link(".."), "z": link("x/y/..")}, True),  # out of /opt together
        ({"x": D, "x/y": link(".."), "x/y2": D}, False),
        ({"extensions": D, "extensions/agent": F}, True),
        ({"extensions": D}, False),  # an empty extensions/ runs nothing
        ({"python": D, "python/a.py": F, "python/b.py": link("a.py")}, False),
    ],
)  # fmt: skip
def test_check(merged: dict[str, Entry], refused: bool) -> None:
    if refused:
        with pytest.raises(LayersRefused):
            check(merged)
    else:
        check(merged)


ARN = "arn:aws:lambda:us-east-1:000000000000:layer:{}:{}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([ARN.format("a", 1)] * 1, None),
        ([ARN.format(n, 1) for n in "abcde"], None),
        ([ARN.format(n, 1) for n in "abcdef"], "Cannot reference more than 5 layers."),
        ([ARN.format("a", 1), ARN.format("a", 2)], "Two different versions of the same layer"),
        ([ARN.format("a", 1).replace("us-east-1", "eu-west-1")], "Layers are not in the same"),
        (["arn:aws:lambda:us-east-1:000000000000:layer:a"], "1 validation error detected"),
        (["not-an-arn"], "1 validation error detected"),
        ("not-a-list", "Layers must be a list"),
    ],
)
def test_function_layers(value: object, message: str | None) -> None:
    if message is None:
        assert len(function_layers(value, "us-east-1")) == len(value)  # type: ignore[arg-type]
    else:
        with pytest.raises(LambdaError) as refused:
            function_layers(value, "us-east-1")
        assert refused.value.message.startswith(message), refused.value.message


@pytest.mark.parametrize(
    ("value", "name"),
    [("deps", "deps"), ("arn:aws:lambda:us-east-1:000000000000:layer:deps", "deps"),
     ("bad name", None), ("x" * 141, None)],
)  # fmt: skip
def test_layer_name(value: str, name: str | None) -> None:
    if name is None:
        with pytest.raises(LambdaError):
            layer_name(value)
    else:
        assert layer_name(value) == name


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("0", False), ("-1", False), ("x", False)])
def test_version_number(value: str, ok: bool) -> None:
    if ok:
        assert version_number(value) == int(value)
    else:
        with pytest.raises(LambdaError):
            version_number(value)

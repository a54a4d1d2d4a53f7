"""Reading a SAM or CloudFormation template: JSON, or YAML with CloudFormation's short tags.

PyYAML does the parsing; CloudFormation's tags (`!Ref`, `!GetAtt`, `!Sub`, ...) are turned into
the long forms the JSON syntax uses (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), as AWS's own
tools do, so everything after this module sees one shape. Dates stay strings (CloudFormation's
`AWSTemplateFormatVersion: 2010-09-09` is a string, not a date).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

# Tags whose long form is `Fn::<name>`; `!Ref` and `!Condition` are not functions.
_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "ToJsonString",
    "Length",
)


class TemplateError(ValueError):
    """The template cannot be read; the message says where and what to fix."""


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) with CloudFormation's tags and no implicit dates."""


def _node_value(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


def _long_form(name: str) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> Any:
        return {name: _node_value(loader, node)}

    return construct


def _get_att(loader: _Loader, node: yaml.Node) -> Any:
    value = _node_value(loader, node)
    if isinstance(value, str):  # !GetAtt Resource.Attribute (the attribute may contain dots)
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


_Loader.add_constructor("!Ref", _long_form("Ref"))
_Loader.add_constructor("!Condition", _long_form("Condition"))
_Loader.add_constructor("!GetAtt", _get_att)
for _name in _FUNCTIONS:
    _Loader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))
# YAML 1.1 would read 2010-09-09 as a date and `on` as True; CloudFormation reads strings.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_template(text: str, source: str = "template") -> dict[str, Any]:
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            document = json.loads(text)
        else:
            document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{source}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"{source}: not valid YAML{where}: {problem}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(
            f"{source}: a template is a mapping with a Resources section; this one has none"
        )
    return document


def load_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    return parse_template(text, str(path))

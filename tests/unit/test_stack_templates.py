"""Templates as `deploy --template` reads them, as tables: CloudFormation's short tags, the
intrinsic functions and conditions, the dependency order, names, parameter overrides, and what
counts as a change of a function."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.stacks import stack_model as model
from orchestrator.stacks.deploy_code import function_changes
from orchestrator.stacks.intrinsics import (
    REMOVED,
    IntrinsicError,
    NotYetKnown,
    Scope,
    evaluate,
    evaluate_conditions,
    references,
)
from orchestrator.stacks.stack_command import StackError, parse_overrides
from orchestrator.stacks.template_files import TemplateError, parse_template


def resources_of(yaml_body: str) -> dict[str, Any]:
    document = parse_template("Resources:\n  X:\n    Type: T\n    Properties:\n" + yaml_body)
    properties: dict[str, Any] = document["Resources"]["X"]["Properties"]
    return properties


@pytest.mark.parametrize(
    ("yaml_body", "expected"),
    [
        ("      A: !Ref Name\n", {"A": {"Ref": "Name"}}),
        ("      A: !GetAtt Fn.Arn\n", {"A": {"Fn::GetAtt": ["Fn", "Arn"]}}),
        ("      A: !GetAtt Fn.Outputs.Deep\n", {"A": {"Fn::GetAtt": ["Fn", "Outputs.Deep"]}}),
        ("      A: !GetAtt [Fn, Arn]\n", {"A": {"Fn::GetAtt": ["Fn", "Arn"]}}),
        ('      A: !Sub "${AWS::Region}-x"\n', {"A": {"Fn::Sub": "${AWS::Region}-x"}}),
        ("      A: !Join [',', [a, b]]\n", {"A": {"Fn::Join": [",", ["a", "b"]]}}),
        ("      A: !If [IsProd, 1, 2]\n", {"A": {"Fn::If": ["IsProd", 1, 2]}}),
        (
            "      A: !Select [0, !Split [',', 'a,b']]\n",
            {"A": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}},
        ),
        ("      A: !Condition IsProd\n", {"A": {"Condition": "IsProd"}}),
        ("      A: 2010-09-09\n", {"A": "2010-09-09"}),  # a string, not a date
    ],
)
def test_short_tags_become_long_forms(yaml_body: str, expected: dict[str, Any]) -> None:
    assert resources_of(yaml_body) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Resources: [unclosed", "not valid YAML at line 1"),
        ('{"Resources": ', "not valid JSON at line 1"),
        ("Description: x\n", "a Resources section"),
        ("- a list\n", "a Resources section"),
        ("Resources: !!python/object:os.system x\n", "not valid YAML"),  # SafeLoader
    ],
)
def test_unreadable_templates_say_where(text: str, words: str) -> None:
    with pytest.raises(TemplateError, match=words):
        parse_template(text)


SCOPE = Scope(
    {"Stage": "prod", "AWS::Region": "eu-west-1", "AWS::StackName": "shop"},
    {"IsProd": True, "IsDev": False},
    refs={"Fn": "shop-Fn"},
    attributes={"Fn": {"Arn": "arn:fn"}},
    resources=frozenset({"Fn", "Later"}),
    mappings={"Sizes": {"prod": {"Memory": 1024}}},
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "prod"),
        ({"Ref": "Fn"}, "shop-Fn"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, "arn:fn"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Fn.Arn}"}, "shop-prod-arn:fn"),
        ({"Fn::Sub": ["${A}/${Stage}", {"A": {"Ref": "Fn"}}]}, "shop-Fn/prod"),
        ({"Fn::Sub": "literal ${!NotAVar}"}, "literal ${NotAVar}"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-prod"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsDev", "big", {"Ref": "AWS::NoValue"}]}, REMOVED),
        ({"A": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}, {"B": 2}),
        ([1, {"Ref": "AWS::NoValue"}, 3], [1, 3]),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 1024),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, True),
        ({"Fn::GetAZs": ""}, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ],
)
def test_intrinsic_functions(value: Any, expected: Any) -> None:
    assert evaluate(value, SCOPE) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"Ref": "Nope"}, "no parameter or resource of that name"),
        ({"Fn::GetAtt": ["Fn", "Nope"]}, r"it has \['Arn'\]"),
        ({"Fn::GetAtt": "NoDot"}, "takes \\[resource, attribute\\]"),
        ({"Fn::If": ["Unknown", 1, 2]}, "no condition named"),
        ({"Fn::Select": [5, ["a"]]}, "no item 5"),
        ({"Fn::Join": ["-", "not a list"]}, "must be a list"),
        ({"Fn::FindInMap": ["Sizes", "dev", "Memory"]}, "no Sizes.dev.Memory"),
    ],
)
def test_misused_functions_are_named(value: Any, words: str) -> None:
    with pytest.raises(IntrinsicError, match=words):
        evaluate(value, SCOPE)


def test_a_resource_not_deployed_yet_is_signalled() -> None:
    with pytest.raises(NotYetKnown) as later:
        evaluate({"Fn::Sub": "${Later.Arn}"}, SCOPE)
    assert later.value.logical_id == "Later"


def test_conditions_may_name_one_another_in_any_order() -> None:
    definitions = {
        "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsDev"}]}]},
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "Both"}]},
    }
    assert evaluate_conditions(definitions, Scope({"Stage": "prod"})) == {
        "Both": True,
        "IsProd": True,
        "IsDev": False,
        "Either": True,
    }
    with pytest.raises(IntrinsicError, match="refers to itself"):
        evaluate_conditions({"A": {"Condition": "A"}}, Scope({}))


def test_references_find_every_name_used() -> None:
    value = {
        "A": {"Ref": "X"},
        "B": [{"Fn::GetAtt": "Y.Arn"}, {"Fn::Sub": "${Z}-${AWS::Region}-${W.Arn}"}],
        "C": {"Fn::Sub": ["${local}-${V}", {"local": {"Ref": "U"}}]},
    }
    assert set(references(value)) == {"X", "Y", "Z", "AWS::Region", "W", "V", "U"}


def stack(*entries: tuple[str, Any, list[str]]) -> list[model.StackResource]:
    return [model.StackResource(lid, "T", props, tuple(deps), None) for lid, props, deps in entries]


def test_deploy_order_puts_what_is_referred_to_first_and_keeps_the_rest() -> None:
    ordered = model.deploy_order(
        stack(
            ("Alias", {"V": {"Fn::GetAtt": ["Version", "Version"]}}, []),
            ("Unrelated", {}, []),
            ("Version", {"F": {"Ref": "Fn"}}, []),
            ("Fn", {"L": [{"Ref": "Layer"}]}, ["Role"]),
            ("Layer", {}, []),
            ("Role", {}, []),
        )
    )
    assert [r.logical_id for r in ordered] == [
        "Layer",
        "Role",
        "Fn",
        "Version",
        "Alias",
        "Unrelated",
    ]


def test_cycles_and_unknown_dependencies_are_refused() -> None:
    with pytest.raises(TemplateError, match="in a circle: A -> B -> A"):
        model.deploy_order(stack(("A", {"x": {"Ref": "B"}}, []), ("B", {}, ["A"])))
    with pytest.raises(TemplateError, match="DependsOn names no resource"):
        model.deploy_order(stack(("A", {}, ["Ghost"])))


@pytest.mark.parametrize(
    ("stack_name", "logical_id", "limit", "expected"),
    [
        ("shop", "Orders", 64, "shop-Orders"),
        ("s" * 70, "Orders", 64, "s" * 57 + "-Orders"),
        ("shop", "L" * 80, 64, ("s-" + "L" * 80)[:64]),
    ],
)
def test_physical_names(stack_name: str, logical_id: str, limit: int, expected: str) -> None:
    name = model.physical_name(stack_name, logical_id, limit)
    assert name == expected and len(name) <= limit


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        (["Stage=prod"], {"Stage": "prod"}),
        (["Stage=prod Size=2"], {"Stage": "prod", "Size": "2"}),
        (["ParameterKey=Stage,ParameterValue=prod"], {"Stage": "prod"}),
        (["Url=https://x?a=b"], {"Url": "https://x?a=b"}),
        (["Empty="], {"Empty": ""}),
    ],
)
def test_parameter_overrides(items: list[str], expected: dict[str, str]) -> None:
    assert parse_overrides(items) == expected


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_bad_parameter_overrides_say_the_form(bad: str) -> None:
    with pytest.raises(StackError, match="write Key=Value"):
        parse_overrides([bad])


CURRENT = {
    "Runtime": "python3.11",
    "Handler": "app.handler",
    "MemorySize": 128,
    "Timeout": 3,
    "Description": "",
    "Environment": {"Variables": {"A": "1"}},
    "Layers": [{"Arn": "arn:layer:1", "CodeSize": 10}],
    "Role": "arn:role",
    "TracingConfig": {"Mode": "PassThrough"},
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
}


@pytest.mark.parametrize(
    ("desired", "changed"),
    [
        (
            {
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Environment": {"Variables": {"A": "1"}},
                "Layers": ["arn:layer:1"],
                "Role": "arn:role",
            },
            [],
        ),
        (
            {
                "Runtime": "python3.11",
                "Environment": {"Variables": {"A": "1"}},
                "Layers": ["arn:layer:2"],
            },
            ["Layers"],
        ),
        (
            {
                "Environment": {"Variables": {"A": "1"}},
                "Layers": ["arn:layer:1"],
                "MemorySize": 256,
            },
            ["MemorySize"],
        ),
        ({"Layers": ["arn:layer:1"]}, ["Environment"]),  # removed from the template: cleared
        ({"Environment": {"Variables": {"A": "1"}}}, ["Layers"]),
        ({"Environment": {"Variables": {"A": "1"}}, "Layers": ["arn:layer:1"], "Timeout": 3}, []),
    ],
)
def test_what_counts_as_a_changed_function(desired: dict[str, Any], changed: list[str]) -> None:
    assert function_changes(desired, CURRENT) == changed

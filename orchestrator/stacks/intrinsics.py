"""CloudFormation's intrinsic functions, evaluated (pure): Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
Fn::Select, Fn::Split, Fn::If with Conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or),
Fn::FindInMap, Fn::Base64 and Fn::GetAZs.

`Scope` holds what a reference can name: parameters and pseudo parameters, the conditions'
values, and each deployed resource's `Ref` value and attributes. A reference to a resource not
deployed yet raises `NotYetKnown`, which is how the planner finds what depends on what.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = "AWS::NoValue"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class IntrinsicError(ValueError):
    """The template uses a function wrongly; the message names it."""


class NotYetKnown(Exception):  # noqa: N818 (a signal, not an error)
    def __init__(self, logical_id: str) -> None:
        super().__init__(logical_id)
        self.logical_id = logical_id


class _Removed:
    """AWS::NoValue: the property it is the value of is dropped."""


REMOVED = _Removed()


@dataclass
class Scope:
    parameters: dict[str, Any]  # template parameters and pseudo parameters (AWS::Region, ...)
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)  # logical id -> its Ref value
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()  # every logical id of the template
    mappings: dict[str, Any] = field(default_factory=dict)


def references(value: Any) -> Iterator[str]:
    """Every logical id `value` refers to (Ref, Fn::GetAtt, ${Name} in Fn::Sub)."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            yield argument
            return
        if key == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                yield parts[0]
            return
        if key == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) and argument else argument
            local = argument[1] if isinstance(argument, list) and len(argument) > 1 else {}
            if isinstance(text, str):
                for name in _SUB_VARIABLE.findall(text):
                    head = name.split(".", 1)[0]
                    if not isinstance(local, dict) or head not in local:
                        yield head
            if isinstance(local, dict):
                yield from references(local)
            return
    for item in value.values():
        yield from references(item)


def evaluate(value: Any, scope: Scope) -> Any:
    """`value` with every intrinsic function applied; AWS::NoValue properties dropped."""
    if isinstance(value, list):
        items = [evaluate(item, scope) for item in value]
        return [item for item in items if item is not REMOVED]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        handler = _FUNCTIONS.get(key)
        if handler is not None:
            return handler(argument, scope)
    out = {}
    for key, item in value.items():
        evaluated = evaluate(item, scope)
        if evaluated is not REMOVED:
            out[key] = evaluated
    return out


def _ref(name: Any, scope: Scope) -> Any:
    if not isinstance(name, str):
        raise IntrinsicError(f"Ref takes a name, not {name!r}")
    if name == NO_VALUE:
        return REMOVED
    if name in scope.parameters:
        return scope.parameters[name]
    if name in scope.refs:
        return scope.refs[name]
    if name in scope.resources:
        raise NotYetKnown(name)
    raise IntrinsicError(f"Ref {name}: no parameter or resource of that name in the template")


def _get_att(argument: Any, scope: Scope) -> Any:
    parts = argument.split(".", 1) if isinstance(argument, str) else argument
    if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
        raise IntrinsicError(f"Fn::GetAtt takes [resource, attribute], not {argument!r}")
    logical_id, attribute = parts
    if logical_id in scope.attributes:
        attributes = scope.attributes[logical_id]
        if attribute not in attributes:
            raise IntrinsicError(
                f"Fn::GetAtt {logical_id}.{attribute}: it has {sorted(attributes)}"
            )
        return attributes[attribute]
    if logical_id in scope.resources:
        raise NotYetKnown(logical_id)
    raise IntrinsicError(f"Fn::GetAtt {logical_id}: no resource of that name in the template")


def _sub(argument: Any, scope: Scope) -> Any:
    if isinstance(argument, str):
        text, local = argument, {}
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        text, local = argument[0], evaluate(argument[1], scope)
    else:
        raise IntrinsicError(f"Fn::Sub takes a string or [string, variables], not {argument!r}")

    def value_of(match: re.Match[str]) -> str:
        name = match[1]
        if name in local:
            return str(local[name])
        if "." in name:
            return str(_get_att(name.split(".", 1), scope))
        return str(_ref(name, scope))

    return _SUB_VARIABLE.sub(value_of, text).replace("${!", "${")


def _join(argument: Any, scope: Scope) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        raise IntrinsicError(f"Fn::Join takes [delimiter, list], not {argument!r}")
    items = evaluate(argument[1], scope)
    if not isinstance(items, list):
        raise IntrinsicError("Fn::Join: its second argument must be a list")
    return argument[0].join(str(item) for item in items)


def _select(argument: Any, scope: Scope) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise IntrinsicError(f"Fn::Select takes [index, list], not {argument!r}")
    index, items = evaluate(argument[0], scope), evaluate(argument[1], scope)
    try:
        return items[int(index)]
    except (ValueError, TypeError, IndexError):
        raise IntrinsicError(f"Fn::Select: no item {index!r} in {items!r}") from None


def _split(argument: Any, scope: Scope) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        raise IntrinsicError(f"Fn::Split takes [delimiter, string], not {argument!r}")
    return str(evaluate(argument[1], scope)).split(argument[0])


def condition_value(name: Any, scope: Scope) -> bool:
    if not isinstance(name, str) or name not in scope.conditions:
        raise IntrinsicError(f"no condition named {name!r} in the template's Conditions")
    return scope.conditions[name]


def _if(argument: Any, scope: Scope) -> Any:
    if not (isinstance(argument, list) and len(argument) == 3):
        raise IntrinsicError(f"Fn::If takes [condition, if true, if false], not {argument!r}")
    chosen = argument[1] if condition_value(argument[0], scope) else argument[2]
    return evaluate(chosen, scope)


def _equals(argument: Any, scope: Scope) -> bool:
    if not (isinstance(argument, list) and len(argument) == 2):
        raise IntrinsicError(f"Fn::Equals takes two values, not {argument!r}")
    left, right = (evaluate(a, scope) for a in argument)
    return str(left) == str(right)


def _truth(value: Any, scope: Scope) -> bool:
    if isinstance(value, dict) and set(value) == {"Condition"}:
        return condition_value(value["Condition"], scope)
    result = evaluate(value, scope)
    if not isinstance(result, bool):
        raise IntrinsicError(f"a condition must be true or false, not {result!r}")
    return result


def _not(argument: Any, scope: Scope) -> bool:
    if not (isinstance(argument, list) and len(argument) == 1):
        raise IntrinsicError("Fn::Not takes a list of one condition")
    return not _truth(argument[0], scope)


def _and(argument: Any, scope: Scope) -> bool:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise IntrinsicError("Fn::And takes 2 to 10 conditions")
    return all(_truth(a, scope) for a in argument)


def _or(argument: Any, scope: Scope) -> bool:
    if not (isinstance(argument, list) and 2 <= len(argument) <= 10):
        raise IntrinsicError("Fn::Or takes 2 to 10 conditions")
    return any(_truth(a, scope) for a in argument)


def _find_in_map(argument: Any, scope: Scope) -> Any:
    if not (isinstance(argument, list) and len(argument) == 3):
        raise IntrinsicError(f"Fn::FindInMap takes [map, key, key], not {argument!r}")
    name, first, second = (evaluate(a, scope) for a in argument)
    try:
        return scope.mappings[name][first][second]
    except (KeyError, TypeError):
        raise IntrinsicError(f"Fn::FindInMap: no {name}.{first}.{second} in Mappings") from None


def _base64(argument: Any, scope: Scope) -> Any:
    return base64.b64encode(str(evaluate(argument, scope)).encode()).decode()


def _get_azs(argument: Any, scope: Scope) -> Any:
    region = evaluate(argument, scope) or scope.parameters.get("AWS::Region", "us-east-1")
    return [f"{region}a", f"{region}b", f"{region}c"]


def _condition(argument: Any, scope: Scope) -> Any:
    return condition_value(argument, scope)


_FUNCTIONS = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Condition": _condition,
}


def evaluate_conditions(definitions: dict[str, Any], scope: Scope) -> dict[str, bool]:
    """The template's Conditions, each evaluated once (they may name one another)."""
    done: dict[str, bool] = {}
    visiting: set[str] = set()

    def value(name: str) -> bool:
        if name in done:
            return done[name]
        if name in visiting:
            raise IntrinsicError(f"condition {name} refers to itself")
        if name not in definitions:
            raise IntrinsicError(f"no condition named {name!r} in the template's Conditions")
        visiting.add(name)
        inner = Scope(scope.parameters, _LazyConditions(value), mappings=scope.mappings)
        done[name] = _truth(definitions[name], inner)
        visiting.discard(name)
        return done[name]

    for name in definitions:
        value(name)
    return done


class _LazyConditions(dict[str, bool]):
    """Conditions evaluated on first use (so one may name another defined later)."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self._value = value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __getitem__(self, name: str) -> bool:
        result: bool = self._value(name)
        return result

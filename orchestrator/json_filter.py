"""CloudWatch Logs' JSON filter patterns: `{ $.level = "ERROR" && $.duration > 100 }`.

A pattern is parsed once into a small tree (`Or`, `And`, `Compare`, `Check`) and then matched
against each event's message. An event whose message is not a JSON object never matches, as in
CloudWatch, whatever the pattern (even `NOT EXISTS`).

The forms, as CloudWatch's filter pattern syntax defines them:
- selectors: `$.a`, `$.a.b`, `$.a[0]`, `$.a.b[0].c`;
- `=` / `!=` with a string, quoted or not, where `*` matches any run of characters
  (`{ $.ip != 10.0.* }`); the value must be a JSON string;
- `=`, `!=`, `<`, `<=`, `>`, `>=` with a number (`1`, `-2.5`, `1e-3`); the value must be a JSON
  number;
- `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`;
- `&&`, `||` (`&&` binds tighter) and parentheses.
Every comparison needs the field to exist: `{ $.a != "x" }` does not match an event without `a`.
A malformed pattern raises `InvalidJsonFilter` with CloudWatch's message.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

MUST_END = "If a filter pattern starts with '{' it must end with '}'"
INVALID = "Invalid filter pattern"

_MISSING = object()
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SPECIAL = set('(){}&|=!<>"')
_KEY_END = set('(){}&|=!<>".[] \t\r\n')
_OPERATORS = ("!=", "<=", ">=", "&&", "||", "=", "<", ">", "(", ")")

Op = Literal["=", "!=", "<", "<=", ">", ">="]
Step = str | int


class InvalidJsonFilter(ValueError):
    pass


@dataclass(frozen=True)
class Compare:
    path: tuple[Step, ...]
    op: Op
    value: str | float  # a str is a wildcard pattern, a float a number

    def matches(self, doc: Any) -> bool:
        found = _resolve(doc, self.path)
        if isinstance(self.value, str):
            if not isinstance(found, str):
                return False
            equal = _glob(self.value).fullmatch(found) is not None
            return equal if self.op == "=" else not equal
        if isinstance(found, bool) or not isinstance(found, int | float):
            return False
        a, b = float(found), self.value
        return {
            "=": a == b,
            "!=": a != b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[self.op]


@dataclass(frozen=True)
class Check:
    path: tuple[Step, ...]
    what: Literal["TRUE", "FALSE", "NULL", "NOT EXISTS"]

    def matches(self, doc: Any) -> bool:
        found = _resolve(doc, self.path)
        if self.what == "NOT EXISTS":
            return found is _MISSING
        if self.what == "NULL":
            return found is None
        return found is (self.what == "TRUE")


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]

    def matches(self, doc: Any) -> bool:
        return all(part.matches(doc) for part in self.parts)


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]

    def matches(self, doc: Any) -> bool:
        return any(part.matches(doc) for part in self.parts)


Node = Compare | Check | And | Or


@dataclass(frozen=True)
class JsonFilter:
    """A parsed JSON filter pattern; `matches(message)` never raises."""

    root: Node

    @classmethod
    def parse(cls, pattern: str) -> JsonFilter:
        text = pattern.strip()
        if not text.startswith("{"):
            raise InvalidJsonFilter(INVALID)
        if not text.endswith("}"):
            raise InvalidJsonFilter(MUST_END)
        parser = _Parser(_tokens(text[1:-1]))
        root = parser.expression()
        if not parser.done():
            raise InvalidJsonFilter(INVALID)
        return cls(root)

    def matches(self, message: str) -> bool:
        text = message.strip()
        if not text.startswith("{"):
            return False
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return False
        return isinstance(doc, dict) and self.root.matches(doc)


def _resolve(doc: Any, path: tuple[Step, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return _MISSING
        elif not isinstance(doc, dict) or step not in doc:
            return _MISSING
        doc = doc[step]
    return doc


_GLOBS: dict[str, re.Pattern[str]] = {}


def _glob(pattern: str) -> re.Pattern[str]:
    compiled = _GLOBS.get(pattern)
    if compiled is None:
        compiled = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.S)
        if len(_GLOBS) < 1024:
            _GLOBS[pattern] = compiled
    return compiled


# -- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["op", "path", "string", "word"]
    text: str
    path: tuple[Step, ...] = ()


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            out.append(_Token("op", op))
            i += len(op)
        elif char == "$":
            i = _path(text, i + 1, out)
        elif char == '"':
            i = _quoted(text, i + 1, out)
        elif char in _SPECIAL:
            raise InvalidJsonFilter(INVALID)
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            out.append(_Token("word", text[start:i]))
    return out


def _path(text: str, i: int, out: list[_Token]) -> int:
    steps: list[Step] = []
    while i < len(text) and text[i] in ".[":
        if text[i] == ".":
            start = i = i + 1
            while i < len(text) and text[i] not in _KEY_END:
                i += 1
            if i == start:
                raise InvalidJsonFilter(INVALID)
            steps.append(text[start:i])
        else:
            end = text.find("]", i)
            index = text[i + 1 : end] if end > 0 else ""
            if not index.isdigit() or not index.isascii():
                raise InvalidJsonFilter(INVALID)
            steps.append(int(index))
            i = end + 1
    if not steps or (i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL):
        raise InvalidJsonFilter(INVALID)
    out.append(_Token("path", "$", tuple(steps)))
    return i


def _quoted(text: str, i: int, out: list[_Token]) -> int:
    value = []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        value.append(text[i])
        i += 1
    if i >= len(text):
        raise InvalidJsonFilter(INVALID)
    out.append(_Token("string", "".join(value)))
    return i + 1


# -- grammar: expression := and ('||' and)*; and := primary ('&&' primary)* ----------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0

    def done(self) -> bool:
        return self.at == len(self.tokens)

    def _peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise InvalidJsonFilter(INVALID)
        self.at += 1
        return token

    def _take_op(self, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "op" and token.text == text:
            self.at += 1
            return True
        return False

    def expression(self) -> Node:
        parts = [self._conjunction()]
        while self._take_op("||"):
            parts.append(self._conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _conjunction(self) -> Node:
        parts = [self._primary()]
        while self._take_op("&&"):
            parts.append(self._primary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _primary(self) -> Node:
        if self._take_op("("):
            inner = self.expression()
            if not self._take_op(")"):
                raise InvalidJsonFilter(INVALID)
            return inner
        token = self._take()
        if token.kind != "path":
            raise InvalidJsonFilter(INVALID)
        return self._condition(token.path)

    def _condition(self, path: tuple[Step, ...]) -> Node:
        token = self._take()
        if token.kind == "word" and token.text.upper() in ("IS", "NOT"):
            word = self._take()
            what = f"{token.text} {word.text}".upper() if word.kind == "word" else ""
            if what == "NOT EXISTS":
                return Check(path, "NOT EXISTS")
            if what in ("IS TRUE", "IS FALSE", "IS NULL"):
                return Check(path, what[3:])  # type: ignore[arg-type]
            raise InvalidJsonFilter(INVALID)
        if token.kind != "op" or token.text not in ("=", "!=", "<", "<=", ">", ">="):
            raise InvalidJsonFilter(INVALID)
        op: Op = token.text  # type: ignore[assignment]
        value = self._take()
        if value.kind == "word" and _NUMBER.fullmatch(value.text):
            number = float(value.text)
            if not math.isfinite(number):
                raise InvalidJsonFilter(INVALID)
            return Compare(path, op, number)
        if value.kind not in ("word", "string") or op not in ("=", "!="):
            raise InvalidJsonFilter(INVALID)
        return Compare(path, op, value.text)

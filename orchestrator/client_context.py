"""The caller's client context (and cognito identity) as the runtime receives it.

The agent (runtime-images/agent/, `pyjson.go`) re-serialises these JSON objects for the
`Lambda-Runtime-Client-Context` and `-Cognito-Identity` headers exactly as `runtime_json_header`
does; the control plane validates with this function before an invocation starts, so whatever
passes here the agent takes. `tests/integration/test_go_agent.py` checks that both agree on a
table of inputs.
"""

from __future__ import annotations

import json
import math


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond a double's range")
    return value


def runtime_json_header(text: str) -> str:
    """A JSON object as `Lambda-Runtime-Client-Context` and `-Cognito-Identity` carry it.

    Compact and ASCII-only (non-ASCII characters as \\u escapes), so no caller's byte can end
    the header, and a runtime client that decodes header bytes as Latin-1 (Python's http.client,
    Node.js) still parses the strings the caller sent. ValueError unless `text` is a JSON object;
    NaN, Infinity, numbers beyond a double's range and nesting too deep to parse are refused.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return json.dumps(value, separators=(",", ":"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None

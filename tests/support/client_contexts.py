"""One table of client contexts: what the control plane's validator (orchestrator/client_context.py)
renders, byte for byte, and what it refuses. tests/unit/test_client_context.py checks the
validator against it; tests/integration/test_go_agent.py checks the agent agrees on every row."""

from __future__ import annotations

# (the caller's JSON text, the Lambda-Runtime-Client-Context header the runtime gets)
RENDERED = [
    ('{"custom": {"k": "v"}}', '{"custom":{"k":"v"}}'),
    ('{"custom":\r\n\r\n{"k":"v"}}', '{"custom":{"k":"v"}}'),  # CR/LF between tokens
    (
        '\n{\t"a" :\r[1, 2.5, -0, 1e5, 12345678901234567890]\n}\n',
        '{"a":[1,2.5,0,100000.0,12345678901234567890]}',
    ),
    ("[1E-7, 0.1, 1.0, -1e308]".join(('{"f": ', "}")), '{"f":[1e-07,0.1,1.0,-1e+308]}'),
    ('{"k":"€"}', '{"k":"\\u20ac"}'),  # non-ASCII as escapes: the header stays ASCII
    ('{"k":"😀"}', '{"k":"\\ud83d\\ude00"}'),
    ('{"k":"a\\nb\\u0000c"}', '{"k":"a\\nb\\u0000c"}'),  # escaped controls stay escaped
    ('{"k":"\\"\\\\\\/"}', '{"k":"\\"\\\\/"}'),
    ('{"k":"\\ud800"}', '{"k":"\\ud800"}'),  # a lone surrogate, escaped, is still JSON
    ('{"a": 1, "a": 2}', '{"a":2}'),  # the last duplicate wins
    ('{"n": null, "t": true, "e": [], "o": {}}', '{"n":null,"t":true,"e":[],"o":{}}'),
    ("{}", "{}"),
]

REFUSED = [
    " ",
    "[1]",
    '"text"',
    "null",
    "{nope",
    '{"a": NaN}',
    '{"a": -Infinity}',
    '{"a": 1e400}',
    '{"k": "raw\nline"}',  # a raw control character inside a string is not JSON
    '{"a": ' + "[" * 2_000 + "]" * 2_000 + "}",  # nested too deeply to parse
    '{"a": 1} {"b": 2}',
]

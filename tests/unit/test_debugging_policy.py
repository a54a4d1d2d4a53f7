"""debugging.py's rules, as tables: which runtimes get which debugger, which tag values are
accepted, and how each debugger is put into the runtime's command and environment."""

from __future__ import annotations

import pytest

from orchestrator.debugging import (
    DEBUGPY_LISTEN,
    Debugger,
    DebugSetup,
    DebugTagInvalid,
    debug_setup,
    debugged_launch,
    validate_debug_tag,
    vscode_attach,
)


@pytest.mark.parametrize(
    ("tags", "runtime", "expected"),
    [
        ({}, "python3.11", None),
        ({"lambkin:debug": "on"}, "python3.11", DebugSetup(Debugger.DEBUGPY, 5678)),
        ({"lambkin:debug": "TRUE"}, "python3.14", DebugSetup(Debugger.DEBUGPY, 5678)),
        ({"lambkin:debug": "6000"}, "python3.11", DebugSetup(Debugger.DEBUGPY, 6000)),
        ({"lambkin:debug": "on"}, "nodejs20.x", DebugSetup(Debugger.INSPECTOR, 9229)),
        ({"lambkin:debug": " 9230 "}, "nodejs18.x", DebugSetup(Debugger.INSPECTOR, 9230)),
        ({"lambkin:debug": "yes"}, "java21", DebugSetup(Debugger.JDWP, 5005)),
        ({"lambkin:debug": "on"}, "ruby3.1", None),  # no debugger for it
        ({"lambkin:debug": "on"}, "", None),  # an image function
        ({"lambkin:debug": "80"}, "python3.11", None),  # refused when tagged; ignored here
        ({"lambkin:debug": "off"}, "python3.11", None),
    ],
)
def test_debug_setup(tags: dict[str, str], runtime: str, expected: DebugSetup | None) -> None:
    assert debug_setup(tags, runtime) == expected


@pytest.mark.parametrize(
    ("value", "runtime", "refusal"),
    [
        ("on", "python3.11", None),
        ("1024", "nodejs24.x", None),
        ("65535", "java17", None),
        ("1023", "python3.11", "a port from 1024 to 65535"),
        ("65536", "python3.11", "a port from 1024 to 65535"),
        ("off", "python3.11", "must be 'on' or a port"),
        ("", "python3.11", "must be 'on' or a port"),
        ("5678", "ruby3.3", "no debugger for runtime ruby3.3"),
        ("on", "provided.al2023", "no debugger for runtime provided.al2023"),
        ("on", "", "no debugger for image functions"),
    ],
)
def test_validate_debug_tag(value: str, runtime: str, refusal: str | None) -> None:
    if refusal is None:
        validate_debug_tag({"lambkin:debug": value}, runtime)
        return
    with pytest.raises(DebugTagInvalid, match=refusal):
        validate_debug_tag({"lambkin:debug": value}, runtime)


def test_untagged_is_valid_for_any_runtime() -> None:
    validate_debug_tag({"other": "x"}, "ruby3.1")


LAUNCHES = [
    # debugpy: its folder first on PYTHONPATH, the address for the hook.
    (
        Debugger.DEBUGPY,
        ["python3", "-m", "lambkin_runtime"],
        {"PYTHONPATH": "/var/runtime"},
        ["python3", "-m", "lambkin_runtime"],
        {
            "PYTHONPATH": "/hook:/var/runtime",
            DEBUGPY_LISTEN: "0.0.0.0:7000",
            "PYDEVD_USE_CYTHON": "NO",
            "PYDEVD_USE_FRAME_EVAL": "NO",
        },
    ),
    # node: on the command line, so the function's node children do not inherit it.
    (
        Debugger.INSPECTOR,
        ["node", "/var/runtime/index.mjs"],
        {"NODE_OPTIONS": "--max-old-space-size=100"},
        ["node", "--inspect-brk=0.0.0.0:7000", "/var/runtime/index.mjs"],
        {"NODE_OPTIONS": "--max-old-space-size=100"},
    ),
    (
        Debugger.INSPECTOR,
        ["/usr/bin/node", "x.mjs"],
        {},
        ["/usr/bin/node", "--inspect-brk=0.0.0.0:7000", "x.mjs"],
        {},
    ),
    # a command that is not node itself: NODE_OPTIONS, ahead of the function's own.
    (
        Debugger.INSPECTOR,
        ["/var/task/start.sh"],
        {"NODE_OPTIONS": "--enable-source-maps"},
        ["/var/task/start.sh"],
        {"NODE_OPTIONS": "--inspect-brk=0.0.0.0:7000 --enable-source-maps"},
    ),
    (
        Debugger.JDWP,
        ["/var/runtime/java.sh"],
        {},
        ["/var/runtime/java.sh"],
        {
            "JAVA_TOOL_OPTIONS": "-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,"
            "address=0.0.0.0:7000"
        },
    ),
]


@pytest.mark.parametrize(("debugger", "command", "env", "want_command", "want_env"), LAUNCHES)
def test_debugged_launch(
    debugger: Debugger,
    command: list[str],
    env: dict[str, str],
    want_command: list[str],
    want_env: dict[str, str],
) -> None:
    before = dict(env)
    got_command, got_env = debugged_launch(
        DebugSetup(debugger, 7000), command, env, "0.0.0.0", "/hook"
    )
    assert (got_command, got_env) == (want_command, want_env)
    assert env == before  # the caller's mapping is left as it was


@pytest.mark.parametrize(
    ("debugger", "kind", "address_key"),
    [(Debugger.DEBUGPY, "debugpy", "connect"), (Debugger.INSPECTOR, "node", "address"),
     (Debugger.JDWP, "java", "hostName")],
)  # fmt: skip
def test_vscode_attach_points_at_loopback(debugger: Debugger, kind: str, address_key: str) -> None:
    entry = vscode_attach(DebugSetup(debugger, 7000))
    assert entry["type"] == kind and entry["request"] == "attach"
    assert "127.0.0.1" in str(entry[address_key]) and "7000" in str(entry)

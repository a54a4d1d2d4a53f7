"""`module.function` (or `dir/module.function`) -> the handler callable, or an init error.

Same rules, error types and messages as awslambdaric: split on the last dot, `/` in the module
path becomes `.`, modules are searched in LAMBDA_TASK_ROOT first.
"""

from __future__ import annotations

import importlib
import sys

from .errors import (
    BUILT_IN_MODULE_CONFLICT,
    HANDLER_NOT_FOUND,
    IMPORT_MODULE_ERROR,
    MALFORMED_HANDLER_NAME,
    USER_CODE_SYNTAX_ERROR,
    FaultError,
)

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[Any, Any], Any]


def parse_handler(handler: str) -> tuple[str, str]:
    """`(module path, function name)`; the module path may still contain `/`."""
    module_path, dot, function_name = handler.rpartition(".")
    if not dot:
        raise FaultError(
            MALFORMED_HANDLER_NAME,
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
        )
    return module_path, function_name


def module_name(module_path: str) -> str:
    return module_path.replace("/", ".")


def put_task_root_first(task_root: str | None) -> None:
    if task_root:
        if task_root in sys.path:
            sys.path.remove(task_root)
        sys.path.insert(0, task_root)


def load_handler(handler: str) -> Handler:
    """Import the handler's module (running its top-level code) and return the function.

    Raises FaultError for the runtime's own init errors; any other exception raised by the
    module's top-level code propagates as is (it is reported under its own class name).
    """
    module_path, function_name = parse_handler(handler)
    if module_path.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {module_path} as a handler module",
        )
    try:
        module = importlib.import_module(module_name(module_path))
    except ImportError as exc:
        raise FaultError(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_path}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_path}': {exc}", trace
        ) from None
    try:
        function: Handler = getattr(module, function_name)
        return function
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_path}'"
        ) from None

"""The template commands of `lambkin`: `deploy --template` (a plan, then the changes),
`delete --template`, and `dev` (deploy with hot reload, rebuild compiled code on save).

`lambkin dev` serves each function's local folder live (the server needs `--hot-reload-root`
over them); a function whose template resource has `Metadata: {BuildCommand: ...}` (or every
function, with `--build-command`) is rebuilt in its folder when one of its files changes, and
the server's watcher then retires its instances: the next invocation runs the new build.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import typer
import watchfiles
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import stack_command, stack_model
from .deploy_walk import Change
from .sam_transform import local_code_of

console = Console(stderr=True)
_ACTION_STYLE = {"create": "green", "update": "yellow", "unchanged": "dim", "not created": "red"}


def _fail(exc: Exception, code: int) -> typer.Exit:
    console.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
    return typer.Exit(code)


def load(template: Path, overrides: list[str], stack_name: str | None, region: str) -> Any:
    try:
        return stack_command.load_stack(
            template,
            stack_command.stack_name_for(template, stack_name),
            stack_command.parse_overrides(overrides),
            region,
            stack_command.DEFAULT_ACCOUNT,
        )
    except stack_command.StackError as exc:
        raise _fail(exc, 2) from None


def _print_plan(stack_name: str, plan: list[Change]) -> None:
    table = Table(title=f"plan for stack {stack_name}", title_justify="left", expand=True)
    for column in ("action", "type", "logical id", "what"):
        table.add_column(column, overflow="fold")
    for change in plan:
        style = _ACTION_STYLE.get(change.action, "")
        table.add_row(
            f"[{style}]{change.action}[/{style}]",
            change.type,
            change.logical_id,
            escape(change.detail),
        )
    console.print(table)


def deploy_template(
    template: Path,
    overrides: list[str],
    stack_name: str | None,
    plan_only: bool,
    strict: bool,
    endpoint: str,
    region: str,
    hot_reload: bool = False,
) -> Any:
    """Plan, print, and (unless plan_only) deploy; returns the loaded stack."""
    stack = load(template, overrides, stack_name, region)
    client = stack_command.lambda_client(endpoint, region)
    try:
        with console.status(f"planning stack {stack.name} ..."):
            plan = stack_command.run(stack, client, False, console.print, hot_reload)
    except stack_command.StackError as exc:
        raise _fail(exc, 1) from None
    _print_plan(stack.name, plan)
    skipped = [c for c in plan if c.action == "not created" and c.type != stack_model.ROLE]
    if skipped:
        console.print(
            f"[red]{len(skipped)} resource(s) Lambkin does not create: "
            f"{', '.join(f'{c.logical_id} ({c.type})' for c in skipped)}[/red]"
        )
        if strict:
            console.print("[red]--strict: nothing deployed; remove them or drop --strict[/red]")
            raise typer.Exit(1)
    if plan_only:
        return stack
    if all(c.action in ("unchanged", "not created") for c in plan):
        console.print("[green]nothing to change[/green]")
        return stack
    try:
        applied = stack_command.run(
            stack, client, True, lambda line: console.print(f"  {line}"), hot_reload
        )
    except stack_command.StackError as exc:
        raise _fail(exc, 1) from None
    done = [c for c in applied if c.action in ("create", "update")]
    console.print(f"[green]stack {stack.name}: {len(done)} resource(s) created or updated[/green]")
    return stack


def delete_template(
    template: Path, overrides: list[str], stack_name: str | None, endpoint: str, region: str
) -> None:
    stack = load(template, overrides, stack_name, region)
    client = stack_command.lambda_client(endpoint, region)
    try:
        removed = stack_command.delete(stack, client, say=lambda line: console.print(f"  {line}"))
    except stack_command.StackError as exc:
        raise _fail(exc, 1) from None
    console.print(f"[green]stack {stack.name}: removed {len(removed)} resource(s)[/green]")


def build_commands(stack: Any, default: str | None) -> dict[Path, str]:
    """Each function folder -> the command that builds it (its resource's Metadata
    BuildCommand, else `default`); folders without one are served as they are."""
    commands: dict[Path, str] = {}
    for resource in stack.resources:
        if resource.type != stack_model.FUNCTION:
            continue
        code = resource.properties.get("Code")
        folder = local_code_of(code, stack.local_code) if isinstance(code, dict) else None
        if folder is None or not folder.is_dir():
            continue
        command = resource.metadata.get("BuildCommand") or default
        if isinstance(command, str) and command.strip():
            commands[folder.resolve()] = command
    return commands


def run_build(folder: Path, command: str) -> set[Path]:
    """Build in `folder`; returns the files the build wrote (their changes are not edits)."""
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    started = time.monotonic()
    done = subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True)
    took = time.monotonic() - started
    if done.returncode == 0:
        console.print(f"  built {folder.name} in {took:.2f} s: {command}")
    else:
        console.print(
            f"[red]  build of {folder.name} failed ({done.returncode}): {command}[/red]\n"
            + escape((done.stdout + done.stderr)[-2000:])
        )
    return {p for p in folder.rglob("*") if p.is_file() and before.get(p) != p.stat().st_mtime_ns}


def watch_and_build(commands: dict[Path, str]) -> None:
    """Rebuild a folder when a file in it changes, until Ctrl-C."""
    outputs = {folder: run_build(folder, command) for folder, command in commands.items()}
    if not commands:
        console.print("no build commands: interpreted code is live as you save it (Ctrl-C to stop)")
        watchfiles_wait_forever()
        return
    console.print(f"watching {len(commands)} folder(s) to rebuild on save (Ctrl-C to stop)")
    for changes in watchfiles.watch(*commands, debounce=100, step=50, rust_timeout=0):
        touched = {Path(path) for _, path in changes}
        for folder, command in commands.items():
            edits = {p for p in touched if folder in p.parents} - outputs[folder]
            if edits:
                outputs[folder] = run_build(folder, command)


def watchfiles_wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return

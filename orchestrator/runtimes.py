"""Runtime identifiers (Lambda's names) and how each one starts inside an instance."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeSpec:
    identifier: str
    image: str
    # The runtime command; `{task_root}` and `{runtime_dir}` are filled in by the driver, which
    # knows where code and runtime clients live in its sandboxes.
    command: tuple[str, ...]
    # Directory under runtime-images/ holding this runtime's client (None: the code brings it).
    client_dir: str | None = None
    python_path: bool = False
    handler_format: str = ""

    def resolve_command(self, task_root: str, runtime_dir: str) -> list[str]:
        return [part.format(task_root=task_root, runtime_dir=runtime_dir) for part in self.command]


RUNTIMES: dict[str, RuntimeSpec] = {
    spec.identifier: spec
    for spec in (
        RuntimeSpec(
            identifier="python3.11",
            image="lambkin/python3.11",
            command=("python3", "-m", "lambkin_runtime"),
            client_dir="python",
            python_path=True,
            handler_format="module.function (also dir/module.function)",
        ),
        RuntimeSpec(
            identifier="provided.al2023",
            image="lambkin/provided.al2023",
            command=("{task_root}/bootstrap",),
            handler_format="free-form; passed to your bootstrap as _HANDLER",
        ),
        RuntimeSpec(
            identifier="provided.al2",
            image="lambkin/provided.al2023",
            command=("{task_root}/bootstrap",),
            handler_format="free-form; passed to your bootstrap as _HANDLER",
        ),
    )
}


def runtime_spec(identifier: str) -> RuntimeSpec:
    return RUNTIMES[identifier]

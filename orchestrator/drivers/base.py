"""The driver interface: the only thing the pool knows about where instances run.

A driver starts one instance (an agent plus its runtime) from an `InstanceSpec`, stops it, lists
and reaps what it owns, and reports the runtimes it can run. It never decides anything: which
instance to start or stop is the pool's business.
"""

from __future__ import annotations

import abc
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..agent_client import Dial
from ..container_images import (
    ImageUnavailable,
    ResolvedImage,
    handler_of,
    image_environment,
    runtime_command,
    working_directory,
)
from ..debugging import AGENT_DEBUG_PORT, DebugSetup, debugged_launch
from ..function_config import FunctionConfig
from ..function_credentials import SessionCredentials
from ..log_files import InstanceLogs
from ..log_names import log_stream_name
from ..log_shipping import LogTarget
from ..runtimes import RuntimeSpec
from ..vacancy_policy import Shape

AGENT_CONTROL_PORT = 9002

LABEL_MANAGED = "org.lambkin.managed"
LABEL_SERVER = "org.lambkin.server"
LABEL_FUNCTION = "org.lambkin.function"
LABEL_REVISION = "org.lambkin.revision"
LABEL_INSTANCE = "org.lambkin.instance"
LABEL_LOG_STREAM = "org.lambkin.log-stream"
LABEL_VACANT = "org.lambkin.vacant"  # the shape of an instance started with no function


class DriverUnavailable(Exception):
    """The driver cannot work here (e.g. no Docker engine); the message says what to do."""


class DriverMisconfigured(Exception):
    """The driver could run here but its configuration is unsafe; never silently replaced by
    another driver. The message says how to fix it."""


class StartFailed(Exception):
    """An instance could not be started; the message says why and what to do."""


class VacancyUnusable(Exception):
    """A vacant instance cannot take this function (its image was rebuilt since, or it died):
    the pool stops it and starts the instance the ordinary way."""


def ownership_labels(server_id: str, instance_id: str) -> dict[str, str]:
    """What every container of ours carries: how a server finds (and reaps) its own."""
    return {LABEL_MANAGED: "true", LABEL_SERVER: server_id, LABEL_INSTANCE: instance_id}


@dataclass(frozen=True)
class ApiAccess:
    """The function's way to the platform's API: its execution role's temporary credentials
    and the endpoint the SDKs read (AWS_ENDPOINT_URL_<SERVICE>), an address its instance can
    reach. A function's own variables may point the endpoints elsewhere; the credentials are
    reserved keys, as on Lambda."""

    credentials: SessionCredentials
    endpoint: str

    def environment(self) -> dict[str, str]:
        return {
            **self.credentials.environment(),
            "AWS_ENDPOINT_URL_LAMBDA": self.endpoint,
            # The SDKs name CloudWatch Logs' variable after its service id ("CloudWatch Logs");
            # the short name is what people type, so both.
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": self.endpoint,
            "AWS_ENDPOINT_URL_LOGS": self.endpoint,
        }


@dataclass(frozen=True)
class FunctionFiles:
    """A zip function's files on the host: its unpacked code (/var/task) and its merged layers
    (/opt; None when it has none)."""

    code: Path
    layers: Path | None = None


@dataclass(frozen=True)
class InstanceSpec:
    """Everything a driver needs to start one instance of one function revision."""

    instance_id: str
    server_id: str
    config: FunctionConfig
    runtime: RuntimeSpec | None  # None for an image function: the image is its runtime
    code_path: Path | None  # the unpacked zip (None for an image function)
    region: str
    init_timeout_s: float = 10.0
    initialization_type: str = "on-demand"
    started_on: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The instance's control secret: its agent answers only requests carrying it.
    control_token: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # How the function calls the platform's API, when it may (a server with credentials).
    api_access: ApiAccess | None = field(default=None, repr=False)
    # Its layers merged (layer_assembly.py): /opt in a container. None without layers.
    layers_path: Path | None = None
    # The debugger it starts with (debugging.py); None for an ordinary instance.
    debug: DebugSetup | None = None

    @property
    def labels(self) -> dict[str, str]:
        return {
            **ownership_labels(self.server_id, self.instance_id),
            LABEL_FUNCTION: self.config.name,
            LABEL_REVISION: self.config.revision_id,
            LABEL_LOG_STREAM: self.log_stream_name,
        }

    @property
    def log_stream_name(self) -> str:
        return log_stream_name(self.started_on, self.config.version, self.instance_id)

    def log_target(self, node: str = "") -> LogTarget:
        """Where this instance's log goes; `node`: the machine it runs on (a swarm node)."""
        return LogTarget(
            self.config.name,
            self.log_stream_name,
            self.instance_id,
            self.config.log_group or "",
            node,
        )

    def runtime_environment(
        self, task_root: str, runtime_dir: str, path: str, opt: str = "/opt"
    ) -> dict[str, str]:
        """The runtime's whole environment, as Lambda sets it, plus the function's variables.
        `opt` is where the layers are (/opt in a container)."""
        config = self.config
        env = {
            **self._lambda_variables(path, config.handler, task_root, runtime_dir),
            "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
            f"{task_root}:{task_root}/lib:{opt}/lib",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        }
        if self.runtime is not None:
            env.update(self.runtime.search_environment(task_root, runtime_dir, opt))
        env.update(config.environment)
        return env

    def runtime_command(self, task_root: str, runtime_dir: str, opt: str = "/opt") -> list[str]:
        """The runtime's command. A custom runtime's bootstrap may come from a layer: Lambda
        runs /opt/bootstrap when the code has none."""
        assert self.runtime is not None, "an image function runs its image's command"
        command = self.runtime.resolve_command(task_root, runtime_dir, opt)
        bootstrap = f"{task_root}/bootstrap"
        if (
            command == [bootstrap]
            and self.code_path is not None
            and self.layers_path is not None
            and not os.path.lexists(self.code_path / "bootstrap")
            and os.path.lexists(self.layers_path / "bootstrap")
        ):
            return [f"{opt}/bootstrap"]
        return command

    def debugged(
        self, command: list[str], env: dict[str, str], listen_host: str, python_hook_dir: str
    ) -> tuple[list[str], dict[str, str], dict[str, str]]:
        """The runtime's command and environment with its debugger, when it has one, plus
        what the agent needs to know of it: (command, environment, agent settings)."""
        if self.debug is None:
            return command, env, {}
        command, env = debugged_launch(self.debug, command, env, listen_host, python_hook_dir)
        return command, env, {AGENT_DEBUG_PORT: str(self.debug.port)}

    def image_launch(self, path: str) -> tuple[ResolvedImage, list[str], dict[str, str], str]:
        """An image function's instance: (image, command, environment, working directory).

        The image's ENV stays beneath Lambda's variables; the library path and execution
        environment are the image's business, as on Lambda.
        """
        config = self.config
        image = config.image
        assert image is not None, "image_launch of a zip function"
        settings = config.image_settings
        lambda_env = self._lambda_variables(
            path, handler_of(image, settings), "/var/task", "/var/runtime"
        )
        return (
            image,
            runtime_command(image, settings),
            image_environment(image.env, lambda_env, config.environment),
            working_directory(image, settings),
        )

    def _lambda_variables(
        self, path: str, handler: str, task_root: str, runtime_dir: str
    ) -> dict[str, str]:
        """What Lambda sets for every runtime, zip or image: its function and instance."""
        config = self.config
        return {
            "PATH": path,
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": runtime_dir,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name,
            "AWS_LAMBDA_INITIALIZATION_TYPE": self.initialization_type,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **self._logging_variables(),
            **(self.api_access.environment() if self.api_access else {}),
        }

    def _logging_variables(self) -> dict[str, str]:
        """LoggingConfig, for the runtime client (format, level) and the agent (system level,
        which the agent takes out of the runtime's environment)."""
        config = self.config
        if config.log_format != "JSON":
            return {}
        return {
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": config.application_log_level or "INFO",
            "LAMBKIN_SYSTEM_LOG_LEVEL": config.system_log_level or "INFO",
        }

    def agent_environment(
        self,
        runtime_cmd: list[str],
        runtime_env: dict[str, str],
        cwd: str | None = None,
        **extra: str,
    ) -> dict[str, str]:
        return {
            "LAMBKIN_RUNTIME_CMD": json.dumps(runtime_cmd),
            "LAMBKIN_RUNTIME_ENV": json.dumps(runtime_env),
            "LAMBKIN_RUNTIME_CWD": cwd or runtime_env["LAMBDA_TASK_ROOT"],
            "LAMBKIN_INSTANCE_ID": self.instance_id,
            "LAMBKIN_SERVER_ID": self.server_id,
            "LAMBKIN_INIT_TIMEOUT_S": str(self.init_timeout_s),
            "LAMBKIN_CONTROL_TOKEN": self.control_token,
            **extra,
        }


@dataclass(frozen=True)
class VacantSpec:
    """An instance started with no function: its agent waits for `Driver.specialise`."""

    instance_id: str
    server_id: str
    shape: Shape
    control_token: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    @property
    def labels(self) -> dict[str, str]:
        return {**ownership_labels(self.server_id, self.instance_id), LABEL_VACANT: str(self.shape)}

    def agent_environment(self, **extra: str) -> dict[str, str]:
        return {
            "LAMBKIN_VACANT": "1",
            "LAMBKIN_INSTANCE_ID": self.instance_id,
            "LAMBKIN_SERVER_ID": self.server_id,
            "LAMBKIN_CONTROL_TOKEN": self.control_token,
            **extra,
        }


def specialisation(
    command: list[str], env: dict[str, str], cwd: str, init_timeout_s: float
) -> dict[str, str]:
    """The body of a vacant agent's POST /specialise: the settings a configured agent reads
    from its environment, under the same names and in the same form."""
    return {
        "LAMBKIN_RUNTIME_CMD": json.dumps(command),
        "LAMBKIN_RUNTIME_ENV": json.dumps(env),
        "LAMBKIN_RUNTIME_CWD": cwd,
        "LAMBKIN_INIT_TIMEOUT_S": str(init_timeout_s),
    }


@dataclass
class InstanceHandle:
    """Where a started instance's agent listens, the token it wants on every control request,
    plus the driver's own reference to it."""

    instance_id: str
    host: str
    port: int
    ref: Any = None
    token: str = field(default="", repr=False)
    # How to open a connection to host:port when it cannot be reached directly (the swarm
    # driver's gateway, tunnel.py); None: directly.
    dial: Dial | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OwnedInstance:
    instance_id: str
    function_name: str
    ref: Any = None


# Called on the event loop when an instance dies on its own: (instance id, reason or None).
ExitListener = Callable[[str, "str | None"], None]


class Driver(abc.ABC):
    """Starts and stops instances; gives each one a log file (log_files.py) to write to.

    Log contract: once `follow_logs` was called, every instance started gets a log file and a
    feed (LAMBKIN_LOG_PATH tells the agent where; without `follow_logs`, /dev/null); `stop`
    (and a death on its own) finishes the file only once the agent is gone, so stopping never
    loses a line that was printed; `reap_owned` stores what files crashed servers left.
    """

    name: str
    log_files: InstanceLogs | None = None
    log_dir: Path  # where this driver's instances' log files live (set by each driver)

    def follow_logs(self, logs: Callable[[Path], InstanceLogs]) -> None:
        """Give each instance started from now on a log file, from `logs(self.log_dir)`."""
        self.log_files = logs(self.log_dir)

    def close_logs(self) -> None:
        if self.log_files is not None:
            self.log_files.close()

    @abc.abstractmethod
    async def watch(self, listener: ExitListener) -> None:
        """Start telling `listener` about instances that die (crash, kill, OOM)."""

    @abc.abstractmethod
    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        """Start the instance; return once its agent can be reached (readiness is the pool's)."""

    async def prepare(self, spec: InstanceSpec) -> None:  # noqa: B027 (most need nothing)
        """What `start(spec)` needs once per image, done before the instance's start budget
        runs (the pool awaits it unbounded by the start timeout): the swarm driver publishes
        the image on its first instance, a push of seconds. StartFailed when it cannot be."""

    @abc.abstractmethod
    async def stop(self, handle: InstanceHandle) -> None:
        """Stop and remove the instance, forcibly; idempotent."""

    @abc.abstractmethod
    async def list_owned(self) -> list[OwnedInstance]:
        """Instances this server owns (by label or record), including ones from a previous run."""

    @abc.abstractmethod
    async def reap_owned(self) -> int:
        """Remove every instance this server owns (after a crash, or at shutdown); count them."""

    @abc.abstractmethod
    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        """Why a dead instance died, when the driver knows ("oom"), else None."""

    @abc.abstractmethod
    def available_runtimes(self) -> list[str]:
        """Runtime identifiers this driver can run now (e.g. whose images exist)."""

    # Vacant instances (vacancies.py): drivers that can start an instance before knowing its
    # function say so here and implement the two methods below.
    supports_vacancies = False

    async def start_vacant(self, spec: VacantSpec) -> InstanceHandle:
        """Start an instance of `spec.shape` with no function; return once its agent can be
        reached. Stopped with `stop`, like any other."""
        raise NotImplementedError(f"the {self.name} driver keeps no vacant instances")

    async def specialise(self, handle: InstanceHandle, spec: InstanceSpec) -> dict[str, str]:
        """Make the vacant instance `handle` the instance `spec` describes (its code in place,
        its log file named): what to POST to its agent's /specialise. VacancyUnusable when it
        cannot be."""
        raise NotImplementedError(f"the {self.name} driver keeps no vacant instances")

    async def adopted(self, handle: InstanceHandle, spec: InstanceSpec) -> None:  # noqa: B027
        """A vacancy now serves `spec`'s function: make what can still change say so (the
        docker driver renames the container after it). Best effort, off the cold start's path."""

    async def resolve_image(self, uri: str) -> ResolvedImage:
        """Find (or pull) the image `uri` names and pin it, so that retagging or removing the
        tag cannot change or take what a function runs; raises ImageUnavailable."""
        raise ImageUnavailable(
            f"the {self.name} driver runs no container images: start the server with "
            "--driver docker to use PackageType Image"
        )

    async def release_image(self, image_id: str) -> None:  # noqa: B027 (nothing to drop here)
        """No function runs `image_id` any more: drop the pin `resolve_image` made."""

    def node_of(self, handle: InstanceHandle) -> str:
        """The machine the instance runs on, for drivers that place instances on several (the
        swarm driver: the node's hostname); "" for a driver of one machine. Never waits."""
        return ""

    @abc.abstractmethod
    def api_host_for_instances(self) -> str:
        """This host's address as the driver's instances see it: where the platform's API
        listens for functions that call it with their credentials."""

    @abc.abstractmethod
    async def allow_api_port(self, port: int) -> None:
        """Let the instances open connections to `port` at `api_host_for_instances()`."""

    # Whether the instances are processes of this host, on its loopback (the process driver):
    # then the main listener may serve them; isolated ones get a listener of their own.
    instances_are_host_processes = False

    def api_endpoint_for_instances(self) -> str | None:
        """The URL the instances call the API at, when it is not where it listens for them
        (the swarm driver's call their node's gateway, which relays to it); None: there."""
        return None

    async def close(self) -> None:
        """Release the driver's own resources (not the instances): by default its log reader."""
        self.close_logs()

"""Server settings, read from `LAMBKIN_*` environment variables or given by the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .container_images import MAX_IMAGE_BYTES

DriverName = Literal["auto", "docker", "process", "swarm"]

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAMBKIN_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 9000
    driver: DriverName = "auto"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".lambkin")
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # Bounded so that a burst of cold starts does not fork-bomb the host.
    max_concurrent_starts: int = 8
    instance_start_timeout_s: float = 30.0
    # How long a runtime's init may take (Lambda: 10 s); it does not count against the timeout.
    init_timeout_s: float = 10.0
    # Extra time the control plane waits for an agent beyond the function timeout before it
    # declares the instance broken (the agent enforces the timeout itself).
    agent_grace_s: float = 5.0
    # How long an instance under a debugger (debugging.py) may wait for its client and stay in
    # one init or invocation: the bound that replaces the function's timeout there.
    debug_session_s: float = Field(default=3600.0, gt=0)
    # Scaling and recycling (per function overridable with the tags in limits.py).
    idle_timeout_s: float = 600.0
    max_lifetime_s: float = 4 * 3600.0
    # Each instance retires somewhere in [max_lifetime * (1 - jitter), max_lifetime], so a
    # fleet started together does not retire together.
    lifetime_jitter: float = 0.1
    max_invocations_per_instance: int = 0  # 0: no limit
    instance_stop_timeout_s: float = 10.0
    maintenance_interval_s: float = 0.5
    # Vacant instances (vacancies.py): started with no function, each handed to one cold start
    # of its runtime, memory size and /tmp size, where cold starts happened in the last
    # `vacancy_window_s`; at most `vacancies_per_shape` of one shape, and their memory sizes
    # together at most `vacancy_memory_mb` (0: none are kept).
    vacancy_memory_mb: int = Field(default=1024, ge=0)
    vacancies_per_shape: int = Field(default=2, ge=0)
    vacancy_window_s: float = Field(default=900.0, gt=0)
    # Concurrency: Lambda's account limit and the unreserved floor it keeps for other functions.
    concurrency_limit: int = 1000
    unreserved_concurrency_floor: int = 100
    # 0 (Lambda semantics): over the limit is an immediate 429. Above 0: wait up to this long
    # for a slot before throttling.
    throttle_wait_s: float = 0.0
    # Asynchronous invocation: queued events may use at most this many concurrent executions
    # (the rest of the limit stays for synchronous callers).
    async_max_in_flight: int = 100
    # Delays before the 1st and 2nd retry of an event whose function failed (Lambda: ~1, ~2 min).
    async_retry_delays_s: list[float] = [60.0, 120.0]
    # Longest back-off between retries of a throttled event (retried until its maximum age).
    async_platform_retry_max_s: float = 60.0
    runtime_images_dir: Path = REPO_ROOT / "runtime-images"
    # Instances' network. Lambkin creates it when missing (a bridge with inter-container
    # communication off, so instances cannot reach one another); an existing network of this
    # name must have it off too, or the docker driver refuses to start.
    docker_network: str = "lambkin"
    # The runtime images' repository prefix: `<prefix>/python3.11`, ... (built by
    # `lambkin images build` under the same setting).
    image_prefix: str = Field(default="lambkin", pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    # The swarm driver (drivers/swarm.py; scripts/swarm-cluster.sh env prints these for the test
    # cluster): the manager's Engine API, every node's (a template on {hostname}: the gateways,
    # drivers/swarm_gateways.py), the registry as this host pushes to it and as the nodes pull
    # from it, and the overlay networks' address pool (Swarm's default-addr-pool), the only
    # addresses the gateways connect to.
    swarm_engine: str | None = None
    swarm_node_engine: str | None = None
    swarm_push_registry: str | None = None
    swarm_pull_registry: str | None = None
    swarm_address_pool: str = Field(default="10.0.0.0/8", pattern=r"^[0-9./,]+$")
    # The swarm driver offers every runtime whose image this host has, each published to the
    # registry (with the agent) on its first instance. These are published at start-up instead,
    # so that not even their first cold start waits for a push: seconds each, a minute for a
    # large image into an empty registry.
    swarm_publish_at_start: list[str] = []
    # Gone (it listed the runtimes offered and published at start-up): the driver warns when it
    # is set, naming swarm_publish_at_start.
    swarm_runtimes: list[str] | None = None
    # Container-image functions: the largest image accepted (AWS: 10 GiB, uncompressed).
    max_image_bytes: int = MAX_IMAGE_BYTES
    # What instances may reach on this host itself (docker driver; drivers/host_firewall.py):
    # "restricted" refuses every new connection from an instance to any of the host's addresses
    # except to `instance_host_ports` (a JSON list, e.g. [5432]); "open" leaves Docker's
    # default, where every port of the host is reachable from every function.
    instance_host_access: Literal["restricted", "open"] = "restricted"
    instance_host_ports: list[Annotated[int, Field(ge=1, le=65535)]] = []
    # Function logs (per function overridable with tags lambkin:log-retention-days / -bytes).
    store_logs: bool = True  # False: instances' output is not followed or stored (benchmarks)
    log_retention_days: int = 30  # 0: keep forever
    log_retention_bytes: int = 1024**3  # per function; the oldest events go first
    log_retention_interval_s: float = 60.0
    # Traces: exported over OTLP/HTTP when set (else OTEL_EXPORTER_OTLP_ENDPOINT); the most
    # recent ones are always kept in memory for /lambkin/traces.
    otlp_endpoint: str | None = None
    recent_traces: int = 1000
    # Access (api/access.py): requests must be signed (AWS SigV4) by a user of this file; without
    # it nothing is authenticated and the server listens on loopback only (serve_safety.py),
    # unless `insecure_no_auth` says the network is trusted.
    credentials_file: Path | None = None
    # Folders functions may take their code from, live (hot_reload.py); none: hot reload is off.
    hot_reload_roots: tuple[Path, ...] = ()
    insecure_no_auth: bool = False
    # When set, /metrics answers only `Authorization: Bearer <token>`.
    metrics_token: str | None = None
    # HTTPS: both or neither.
    # Function URLs' public address: `{url_id}`, `{region}` and `{port}` are filled in; unset,
    # http(s)://{url_id}.lambda-url.{region}.localhost:{port}/ (loopback for curl and browsers).
    function_url_template: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "lambkin.db"

    @property
    def logs_path(self) -> Path:
        return self.data_dir / "logs.db"

    @property
    def events_path(self) -> Path:
        return self.data_dir / "events.db"

    @property
    def code_dir(self) -> Path:
        return self.data_dir / "code"

    @property
    def instances_dir(self) -> Path:
        return self.data_dir / "instances"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.jsonl"

"""The `lambkin` command: serve, build images, deploy and invoke functions, run the demo."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .settings import REPO_ROOT
from .zip_folder import package

app = typer.Typer(
    help="Lambkin: run AWS-Lambda-style functions on your own machine.", no_args_is_help=True
)
images_app = typer.Typer(help="Build and list runtime images.", no_args_is_help=True)
app.add_typer(images_app, name="images")
dlq_app = typer.Typer(
    help="The dead-letter store of failed asynchronous events.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")
console = Console(stderr=True)

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(9000, help="Port to listen on."),
    driver: str = typer.Option(
        "auto",
        help="auto | docker | process | swarm (auto: docker when an engine answers; swarm: "
        "the cluster LAMBKIN_SWARM_ENGINE names).",
    ),
    data_dir: Path | None = typer.Option(
        None, help="Where functions and code are stored (default ~/.lambkin)."
    ),
    log_level: str = typer.Option("info", help="debug | info | warning"),
    credentials_file: Path | None = typer.Option(
        None,
        envvar="LAMBKIN_CREDENTIALS_FILE",
        help="TOML file of users (access keys, permissions) and roles: every request must then "
        "be signed (AWS SigV4), as the AWS SDKs and CLI sign them.",
    ),
    insecure_no_auth: bool = typer.Option(
        False,
        "--insecure-no-auth",
        envvar="LAMBKIN_INSECURE_NO_AUTH",
        help="Listen on a non-loopback address without authentication (a trusted network only).",
    ),
    metrics_token: str | None = typer.Option(
        None,
        envvar="LAMBKIN_METRICS_TOKEN",
        help="/metrics then answers only `Authorization: Bearer <token>`.",
    ),
    tls_cert: Path | None = typer.Option(
        None, envvar="LAMBKIN_TLS_CERT", help="Serve HTTPS with this PEM certificate (chain)."
    ),
    tls_key: Path | None = typer.Option(
        None, envvar="LAMBKIN_TLS_KEY", help="The PEM private key of --tls-cert."
    ),
    hot_reload_root: list[Path] = typer.Option(
        [],
        help="A folder functions may take their code from, live (S3Bucket hot-reload, S3Key "
        "the code's folder); repeatable. None: hot reload is off.",
    ),
) -> None:
    """Run the control plane (the AWS Lambda API) until SIGTERM or Ctrl-C."""
    import ssl

    import uvicorn

    from . import server_logging
    from .app import create_app
    from .credentials import CredentialsError
    from .http_protocol import CoalescingHttpToolsProtocol
    from .serve_safety import refusal
    from .settings import Settings

    if driver not in ("auto", "docker", "process", "swarm"):
        raise typer.BadParameter("choose auto, docker, process or swarm", param_hint="--driver")
    refused = refusal(host, credentials_file, insecure_no_auth, tls_cert, tls_key)
    if refused:
        console.print(f"[bold red]lambkin serve:[/] {escape(refused)}", highlight=False)
        raise typer.Exit(2)
    if tls_cert is not None and tls_key is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls_cert, tls_key)
        except (ssl.SSLError, OSError) as exc:
            problem = (
                f"cannot use --tls-cert {tls_cert} with --tls-key {tls_key}: {exc} "
                "(both PEM; the key must be the certificate's, unencrypted)"
            )
            console.print(f"[bold red]lambkin serve:[/] {escape(problem)}", highlight=False)
            raise typer.Exit(2) from None
    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "driver": driver,
        "credentials_file": credentials_file,
        "insecure_no_auth": insecure_no_auth,
        "metrics_token": metrics_token or None,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
    }
    if hot_reload_root:
        missing = [str(root) for root in hot_reload_root if not root.is_dir()]
        if missing:
            problem = f"--hot-reload-root {', '.join(missing)}: not a folder on this machine"
            console.print(f"[bold red]lambkin serve:[/] {escape(problem)}", highlight=False)
            raise typer.Exit(2)
        overrides["hot_reload_roots"] = tuple(root.resolve() for root in hot_reload_root)
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)
    server_logging.configure(log_level)
    try:
        application = create_app(settings)
    except CredentialsError as exc:
        console.print(f"[bold red]lambkin serve:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
        timeout_graceful_shutdown=15,
        http=CoalescingHttpToolsProtocol,  # one write per response (http_protocol.py)
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )


@images_app.command("build")
def images_build(force: bool = typer.Option(False, help="Rebuild even when current.")) -> None:
    """Build every runtime image (offline Debian base first), showing progress."""
    from . import images_cli

    raise typer.Exit(images_cli.main(["build", *(["--force"] if force else [])]))


@images_app.command("list")
def images_list() -> None:
    """Show each runtime image and whether it is missing, stale or current."""
    from . import images_cli

    raise typer.Exit(images_cli.main(["list"]))


@app.command()
def runtimes() -> None:
    """List the runtimes: identifier, handler format, image, its status and language version."""
    from . import images, images_cli

    out = Console()
    if not out.is_terminal:
        out.width = 160  # keep each row on one line in logs
    try:
        out.print(images_cli.runtimes_table())
    except images.ImageBuildError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, emoji=False)
        raise typer.Exit(1) from None


def _call(
    endpoint: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 960,
) -> tuple[int, dict[str, str], bytes]:
    data = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else None)
    )
    from .client_signing import signed_headers

    url = f"{endpoint}{path}"
    service = "logs" if path == "/" else "lambda"
    signed = signed_headers(method, url, data, headers or {}, service)
    request = urllib.request.Request(url, data=data, method=method, headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except urllib.error.URLError as exc:
        console.print(
            f"[red]cannot reach Lambkin at {endpoint}: {exc.reason}. "
            "Start it with `lambkin serve`.[/red]"
        )
        raise typer.Exit(2) from None


def _fail_on_error(status: int, headers: dict[str, str], raw: bytes) -> None:
    if status >= 400:
        # Header names arrive as the server wrote them (lower-case from Starlette).
        lowered = {name.lower(): value for name, value in headers.items()}
        error_type = lowered.get("x-amzn-errortype", "Error")
        message = json.loads(raw or b"{}").get("Message", raw.decode(errors="replace"))
        console.print(f"[red]{error_type}: {message}[/red]")
        raise typer.Exit(1)


@app.command()
def deploy(
    name: str | None = typer.Argument(None, help="Function name (without --template)."),
    source: Path | None = typer.Argument(
        None, help="Directory with the function's code (zipped for you) or a .zip."
    ),
    image: str | None = typer.Option(
        None,
        help="Instead of code: a container image on the server's Docker engine "
        "(PackageType Image), e.g. orders:1.",
    ),
    runtime: str = typer.Option("python3.11", help="Runtime identifier (zip functions)."),
    handler: str = typer.Option("app.handler", help="Handler, e.g. app.handler (zip functions)."),
    memory: int = typer.Option(128, help="MemorySize in MB."),
    timeout: int = typer.Option(3, help="Timeout in seconds."),
    env: list[str] = typer.Option([], help="NAME=VALUE environment variable (repeatable)."),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
    template: Path | None = typer.Option(
        None, "--template", "-t", help="A SAM or CloudFormation template: deploy its resources."
    ),
    parameter_overrides: list[str] = typer.Option(
        [], help="Template parameters: Key=Value (or SAM's ParameterKey=K,ParameterValue=V)."
    ),
    stack_name: str | None = typer.Option(
        None, help="The stack's name (default: the template's folder name)."
    ),
    plan_only: bool = typer.Option(False, help="Print the plan, change nothing."),
    hot_reload: bool = typer.Option(
        False,
        help="With --template: serve the functions' local folders live instead of zips "
        "(the server needs --hot-reload-root over them).",
    ),
    strict: bool = typer.Option(
        False, help="Refuse a template with resources Lambkin does not create."
    ),
    region: str = typer.Option("us-east-1", envvar="AWS_REGION"),
) -> None:
    """Create the function, or update its code and configuration when it exists; with
    --template, a template's functions, layers, versions, aliases, URLs and the rest."""
    if template is not None:
        if name is not None or source is not None or image is not None:
            console.print(
                "[red]--template deploys the template's functions: give no name or code[/red]"
            )
            raise typer.Exit(2)
        from .stacks.stack_cli import deploy_template

        deploy_template(
            template,
            parameter_overrides,
            stack_name,
            plan_only,
            strict,
            endpoint,
            region,
            hot_reload,
        )
        return
    if name is None:
        console.print("[red]give the function's name and its code, or --template[/red]")
        raise typer.Exit(2)
    if (source is None) == (image is None):
        console.print("[red]give either the code (a directory or a .zip) or --image[/red]")
        raise typer.Exit(2)
    variables = dict(item.split("=", 1) for item in env)
    config: dict[str, Any] = {
        "MemorySize": memory,
        "Timeout": timeout,
        "Environment": {"Variables": variables},
    }
    if image is not None:
        code: dict[str, Any] = {"ImageUri": image}
        created: dict[str, Any] = {"PackageType": "Image", "Code": code}
        what = f"image {image}"
    else:
        assert source is not None
        zip_bytes = package(source)
        code = {"ZipFile": base64.b64encode(zip_bytes).decode()}
        config |= {"Runtime": runtime, "Handler": handler}
        created = {"Code": code}
        what = f"{len(zip_bytes)} bytes of code"
    with console.status(f"deploying {name} ({what})..."):
        status, headers, raw = _call(endpoint, "GET", f"/2015-03-31/functions/{name}/configuration")
        if status == 404:
            body = {
                "FunctionName": name,
                "Role": "arn:aws:iam::000000000000:role/lambkin",
                **created,
                **config,
            }
            status, headers, raw = _call(endpoint, "POST", "/2015-03-31/functions", body)
        else:
            _fail_on_error(status, headers, raw)
            status, headers, raw = _call(
                endpoint, "PUT", f"/2015-03-31/functions/{name}/code", code
            )
            _fail_on_error(status, headers, raw)
            status, headers, raw = _call(
                endpoint, "PUT", f"/2015-03-31/functions/{name}/configuration", config
            )
    _fail_on_error(status, headers, raw)
    result = json.loads(raw)
    kind = (
        "image"
        if result.get("PackageType") == "Image"
        else f"{result['Runtime']}, {result['Handler']}"
    )
    console.print(
        f"[green]deployed {result['FunctionName']}[/green] "
        f"({kind}, CodeSha256 {result['CodeSha256']})"
    )


@app.command("delete")
def delete_stack(
    template: Path = typer.Option(..., "--template", "-t", help="The template deployed."),
    parameter_overrides: list[str] = typer.Option([], help="As given to deploy."),
    stack_name: str | None = typer.Option(None, help="As given to deploy."),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
    region: str = typer.Option("us-east-1", envvar="AWS_REGION"),
) -> None:
    """Remove what `deploy --template` made: the stack's functions and its layers' versions."""
    from .stacks.stack_cli import delete_template

    delete_template(template, parameter_overrides, stack_name, endpoint, region)


@app.command()
def dev(
    template: Path = typer.Option(
        ..., "--template", "-t", help="The SAM or CloudFormation template."
    ),
    parameter_overrides: list[str] = typer.Option([], help="Key=Value template parameters."),
    stack_name: str | None = typer.Option(None, help="Default: the template's folder name."),
    build_command: str | None = typer.Option(
        None,
        help="Rebuild a function's folder with this on save (default: its resource's "
        "Metadata BuildCommand; none: the folder is served as it is).",
    ),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
    region: str = typer.Option("us-east-1", envvar="AWS_REGION"),
) -> None:
    """Deploy the template with hot reload (each function's folder is its code, live), then
    rebuild compiled functions on save until Ctrl-C. The server needs --hot-reload-root."""
    from .stacks import stack_cli

    # Ctrl-C is how it stops: a shell that starts a command in the background without job
    # control (a script's `lambkin dev &`, a CI runner) hands it SIGINT ignored, and Python
    # then installs no KeyboardInterrupt of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = stack_cli.load(template, parameter_overrides, stack_name, region)
    commands = stack_cli.build_commands(stack, build_command)
    for folder, command in commands.items():  # built first: the first deploy runs the build
        stack_cli.run_build(folder, command)
    stack_cli.deploy_template(
        template, parameter_overrides, stack_name, False, False, endpoint, region, True
    )
    try:
        stack_cli.watch_and_build(commands)
    except KeyboardInterrupt:
        console.print("stopped; the functions keep their folders as code")


@app.command()
def invoke(
    name: str = typer.Argument(..., help="Function name or ARN."),
    payload: str = typer.Option("{}", help="JSON payload."),
    log_tail: bool = typer.Option(True, help="Print the invocation's log tail."),
    debug: bool = typer.Option(
        False,
        "--debug",
        help="Start the instance with its debugger (debugpy, node's inspector or JDWP) on a "
        "loopback port and wait for you to attach; the timeout stops while you are attached.",
    ),
    debug_port: int | None = typer.Option(
        None, help="The debugger's port (default: 5678 Python, 9229 Node.js, 5005 Java)."
    ),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
) -> None:
    """Invoke a function and print its response (and its log tail)."""
    headers = {"X-Amz-Log-Type": "Tail"} if log_tail else {}
    path = f"/2015-03-31/functions/{name}/invocations"
    if debug or debug_port is not None:
        status, response_headers, raw = _invoke_debugged(
            endpoint, name, path, payload.encode(), headers, debug_port
        )
    else:
        status, response_headers, raw = _call(endpoint, "POST", path, payload.encode(), headers)
    _fail_on_error(status, response_headers, raw)
    tail = response_headers.get("X-Amz-Log-Result") or response_headers.get("x-amz-log-result")
    if tail:
        console.print(
            base64.b64decode(tail).decode(errors="replace").rstrip(), style="dim", markup=False
        )
    function_error = response_headers.get("X-Amz-Function-Error") or response_headers.get(
        "x-amz-function-error"
    )
    print(raw.decode(errors="replace"))
    if function_error:
        raise typer.Exit(1)


def _invoke_debugged(
    endpoint: str,
    name: str,
    path: str,
    payload: bytes,
    headers: dict[str, str],
    port: int | None,
) -> tuple[int, dict[str, str], bytes]:
    """One invocation under the debugger: the function is tagged lambkin:debug for it (its
    instances restart with the debugger), and untagged afterwards unless it was tagged before."""
    from .debugging import TAG_DEBUG, debug_setup, vscode_attach

    status, got_headers, raw = _call(endpoint, "GET", f"/2015-03-31/functions/{name}")
    _fail_on_error(status, got_headers, raw)
    function = json.loads(raw)
    arn, runtime = function["Configuration"]["FunctionArn"], function["Configuration"]["Runtime"]
    tags_path = f"/2017-03-31/tags/{urllib.parse.quote(arn, safe='')}"
    before = (function.get("Tags") or {}).get(TAG_DEBUG)
    wanted = str(port) if port is not None else (before or "on")
    setup = debug_setup({TAG_DEBUG: wanted}, runtime or "")
    if wanted != before:
        status, got_headers, raw = _call(endpoint, "POST", tags_path, {"Tags": {TAG_DEBUG: wanted}})
        _fail_on_error(status, got_headers, raw)
    assert setup is not None  # the server refused the tag otherwise
    console.print(
        f"[bold]{name}[/bold] waits for a debugger ({setup.debugger}) on "
        f"127.0.0.1:{setup.port}; its timeout stops while one is attached. VS Code's "
        "launch.json entry:",
        markup=True,
    )
    print(json.dumps(vscode_attach(setup), indent=2), flush=True)
    try:
        return _call(endpoint, "POST", path, payload, headers, timeout_s=24 * 3600)
    finally:
        if before is None:
            _call(endpoint, "DELETE", f"{tags_path}?tagKeys={urllib.parse.quote(TAG_DEBUG)}")
        elif wanted != before:
            _call(endpoint, "POST", tags_path, {"Tags": {TAG_DEBUG: before}})


@app.command()
def logs(
    function: str = typer.Argument(..., help="Function name."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing new lines as they are stored."
    ),
    since: str | None = typer.Option(None, help="Only lines from this long ago, e.g. 10m, 2h, 1d."),
    request_id: str | None = typer.Option(
        None, "--request-id", help="Only lines of one invocation."
    ),
    node: str | None = typer.Option(
        None, help="Only lines of instances that ran on this node (a swarm node's hostname)."
    ),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
) -> None:
    """Print a function's log lines (all its instances, in time order); --follow for new ones.
    Each line says when, which instance (on a swarm, `node/instance`), and whose it is: the
    platform's (START, END, REPORT, ...) or the function's."""
    from . import log_follow

    try:
        since_ms = log_follow.parse_since(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None

    def emit(line: str) -> None:
        print(line, flush=True)

    try:
        log_follow.run(endpoint, function, since_ms, request_id, follow, emit, node=node)
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError) as exc:
        console.print(f"[red]cannot read logs from {endpoint}: {exc}[/red]")
        raise typer.Exit(1) from None


@app.command()
def instances(
    function: str | None = typer.Argument(None, help="Only this function's instances."),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
) -> None:
    """List running instances with their state, age and invocations served."""

    status, headers, raw = _call(
        endpoint, "GET", "/lambkin/instances" + (f"?function={function}" if function else "")
    )
    _fail_on_error(status, headers, raw)
    listed = json.loads(raw)["Instances"]
    on_nodes = any(i.get("Node") for i in listed)  # a driver of several machines
    columns = ["instance", "function", "state", "age s", "invocations", "idle s"]
    columns += ["max memory MB", "provisioned"] + (["node"] if on_nodes else [])
    table = Table(*columns)
    for i in listed:
        row = [
            i["InstanceId"],
            i["FunctionName"],
            i["State"],
            f"{i['AgeSeconds']:.1f}",
            str(i["Invocations"]),
            f"{i['IdleSeconds']:.1f}",
            str(i.get("MaxMemoryUsedMB") or "-"),
            "yes" if i.get("Provisioned") else "",
        ]
        table.add_row(*row, *([i.get("Node") or ""] if on_nodes else []))
    Console().print(table)


@dlq_app.command("list")
def dlq_list(
    function: str = typer.Argument(..., help="Function name."),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
) -> None:
    """Failed asynchronous events of a function: request id, why it failed, attempts."""

    status, headers, raw = _call(endpoint, "GET", f"/lambkin/dlq/{function}")
    _fail_on_error(status, headers, raw)
    table = Table("request id", "condition", "attempts", "last error")
    for event in json.loads(raw)["Events"]:
        table.add_row(
            event["RequestId"],
            event["Condition"] or "",
            str(event["Attempts"]),
            (event["LastError"] or "")[:80],
        )
    Console().print(table)


@dlq_app.command("replay")
def dlq_replay(
    function: str = typer.Argument(..., help="Function name."),
    request_id: list[str] = typer.Option(
        [], help="Only these request ids (repeatable); default all."
    ),
    endpoint: str = typer.Option(DEFAULT_ENDPOINT, envvar="LAMBKIN_ENDPOINT"),
) -> None:
    """Queue failed events again (same request ids, fresh retries and age)."""
    status, headers, raw = _call(
        endpoint, "POST", f"/lambkin/dlq/{function}/replay", {"RequestIds": request_id}
    )
    _fail_on_error(status, headers, raw)
    console.print(f"[green]{json.loads(raw)['Replayed']} event(s) queued again[/green]")


@app.command()
def audit(
    since: str | None = typer.Option(
        None, help="Only calls since then: 10m, 2h, 1d, or an ISO time (UTC by default)."
    ),
    principal: str | None = typer.Option(None, help="Only this user's calls."),
    action: str | None = typer.Option(
        None, help="Only this action: lambda:CreateFunction, or just CreateFunction."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line, as stored."),
    data_dir: Path | None = typer.Option(
        None, envvar="LAMBKIN_DATA_DIR", help="The server's data dir (default ~/.lambkin)."
    ),
) -> None:
    """Show the audit trail: every call that changed something, who made it, and its result."""
    from datetime import UTC, datetime

    from . import audit as trail
    from .settings import Settings

    path = (data_dir or Settings().data_dir) / trail.FILE_NAME
    try:
        selection = trail.AuditFilter(
            since=trail.parse_since(since, time.time()) if since else None,
            principal=principal,
            action=action,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None
    if not path.exists():
        console.print(f"[yellow]no audit trail at {escape(str(path))} (nothing changed yet?)")
    records = trail.select(trail.read(path), selection)
    if as_json:
        for record in records:
            sys.stdout.write(record.to_line().decode())
        return
    table = Table(
        "time (UTC)", "principal", "access key", "action", "resource", "status", "refused as"
    )
    for record in records:
        table.add_row(
            datetime.fromtimestamp(record.time, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            record.principal,
            record.access_key_id,
            record.action,
            record.resource,
            str(record.status),
            record.error or "",
        )
    out = Console()
    if not out.is_terminal:
        out.width = 200  # keep each row on one line in logs and pipes
    out.print(table)


def _wait_healthy(endpoint: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            console.print("[red]the server exited during start-up; see its output above[/red]")
            raise typer.Exit(1)
        try:
            with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    console.print(f"[red]the server did not answer on {endpoint} within {timeout_s:.0f} s[/red]")
    raise typer.Exit(1)


@app.command()
def demo(
    port: int = typer.Option(9000, help="Port for the demo server."),
    driver: str = typer.Option("auto", help="auto | docker | process"),
    keep: bool = typer.Option(False, help="Leave the server running afterwards."),
) -> None:
    """Start a server, deploy the example function, invoke it twice (cold, then warm)."""
    endpoint = f"http://127.0.0.1:{port}"
    console.rule("[bold]Lambkin demo")
    console.print(f"starting `lambkin serve --port {port} --driver {driver}` ...")
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "serve", "--port", str(port), "--driver", driver]
    )
    try:
        _wait_healthy(endpoint, server)
        deploy(
            name="hello",
            source=REPO_ROOT / "examples" / "hello",
            image=None,
            runtime="python3.11",
            handler="app.handler",
            memory=128,
            timeout=3,
            env=["GREETING=Hello"],
            endpoint=endpoint,
            # called as a function, not through typer: every option must be given its value
            template=None,
            parameter_overrides=[],
            stack_name=None,
            plan_only=False,
            hot_reload=False,
            strict=False,
            region="us-east-1",
        )
        for attempt in ("cold", "warm"):
            console.rule(f"invoke #{attempt}")
            started = time.perf_counter()
            try:
                invoke(
                    name="hello",
                    payload=json.dumps({"name": "Lambkin"}),
                    log_tail=True,
                    debug=False,
                    debug_port=None,
                    endpoint=endpoint,
                )
            finally:
                console.print(
                    f"[bold]{attempt} invocation took "
                    f"{1000 * (time.perf_counter() - started):.0f} ms[/bold]"
                )
        if keep:
            console.print(
                f"server left running on {endpoint} (pid {server.pid}); "
                f"stop it with `kill {server.pid}`; its web console: {endpoint}/console"
            )
            return
        console.print(f"(with --keep the server stays up, its web console at {endpoint}/console)")
    except BaseException:
        keep = False
        raise
    finally:
        if not keep:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()

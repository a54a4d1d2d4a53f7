"""Builds the FastAPI app: wires settings, storage, driver, pool and routers. Nothing more."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from .alias_service import AliasService
from .api import (
    admin,
    concurrency,
    dead_letters,
    errors,
    event_invoke_config,
    function_urls,
    functions,
    invoke,
    invoke_stream,
    tags,
)
from .api import aliases as aliases_routes
from .api import (
    layers as layers_routes,
)
from .api import logs as logs_routes
from .api import observability as observability_routes
from .api.access import AccessControl, Gate
from .api.deps import Services
from .api.url_endpoint import FunctionUrlEndpoint
from .audit import AuditTrail
from .code_store import CodeStore
from .concurrency import ConcurrencyLimiter
from .console import routes as console
from .credentials import load as load_credentials
from .dispatcher import Dispatcher
from .drivers import load_driver
from .event_queue import EventQueue
from .function_credentials import FunctionCredentials, load_or_create_key
from .function_url_service import FunctionUrlService
from .functions import FunctionService
from .hot_reload import HotReload
from .instance import StopReason
from .instance_listener import InstanceListener, endpoint, own_listener_port
from .invoker import Invoker
from .layer_assembly import LayerAssembly
from .layer_registry import LayerRegistry
from .layer_service import LayerService
from .observability import Observability
from .pool import Pool
from .provisioned import Provisioner
from .registry import Registry
from .scaling import ScalingService
from .serve_safety import warnings as exposure_warnings
from .settings import Settings

log = logging.getLogger(__name__)


async def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = Registry(settings.database_path)
    server_id = registry.server_id()
    code_store = CodeStore(settings.code_dir)
    layers = LayerService(
        LayerRegistry(settings.database_path),
        code_store,
        LayerAssembly(settings.code_dir / "opt"),
        settings.region,
        settings.account_id,
    )
    driver = load_driver(settings, server_id)
    pool = Pool(driver, settings, server_id)
    observability = Observability.build(settings, registry.get)
    observability.attach(driver, pool)
    function_service = FunctionService(
        registry, code_store, pool, settings, driver.available_runtimes, driver, layers
    )
    limiter = ConcurrencyLimiter(settings.concurrency_limit, settings.unreserved_concurrency_floor)
    invoker = Invoker(
        function_service, code_store, pool, limiter, settings, observability.telemetry
    )
    provisioner = Provisioner(pool, registry, invoker.code_path_for)
    function_service.qualifier_deleted_hooks.append(provisioner.forget)
    scaling = ScalingService(function_service, registry, limiter, provisioner)
    function_service.deleted_hooks.append(scaling.forget)
    queue = EventQueue(settings.events_path)
    dispatcher = Dispatcher(
        queue, invoker, registry, settings, function_service.arn, metrics=observability.metrics
    )
    function_service.deleted_hooks.append(queue.drop_function)
    hot_reload = HotReload(
        function_service.hot_reload_folders,
        lambda name: pool.retire_function(name, StopReason.UPDATE),
    )
    function_service.code_hooks.append(hot_reload.sync)
    function_service.deleted_hooks.append(lambda name: hot_reload.sync())
    observability.metrics.watch_queue_depth(queue.depth)
    return Services(
        settings,
        registry,
        code_store,
        driver,
        pool,
        function_service,
        invoker,
        scaling,
        queue,
        dispatcher,
        observability,
        AliasService(registry, function_service),
        layers,
        FunctionUrlService(registry, function_service, settings),
        hot_reload,
    )


def _mode(path: Path | None) -> int | None:
    try:
        return path.stat().st_mode if path is not None else None
    except OSError:
        return None


async def _open_api_to_functions(
    app: FastAPI, svc: Services, settings: Settings, sessions: FunctionCredentials
) -> InstanceListener | None:
    """Functions call the API where their instances can reach it (a listener of their own on
    the instances' side of the host when the main one is not there), with their roles'
    credentials; returns that listener, if one was needed."""
    host = svc.driver.api_host_for_instances()
    port = own_listener_port(
        settings.host,
        settings.port,
        settings.tls_cert is not None,
        host,
        svc.driver.instances_are_host_processes,
    )
    listener = None
    if port is None:
        port = settings.port
    else:
        listener = InstanceListener(app, host, port)
        await listener.start()
        port = listener.port
    await svc.driver.allow_api_port(port)
    url = svc.driver.api_endpoint_for_instances() or endpoint(host, port)
    svc.pool.grant_api_access(sessions, url)
    return listener


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; a bad credentials file raises credentials.CredentialsError here, before any
    request is served."""
    settings = settings or Settings()
    credentials = load_credentials(settings.credentials_file) if settings.credentials_file else None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    audit = AuditTrail(settings.audit_path)
    # Functions get temporary credentials for their roles (and an endpoint) only where requests
    # are authenticated: on an open server they would mean nothing.
    sessions = FunctionCredentials(load_or_create_key(settings.data_dir)) if credentials else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = await build_services(settings)
        reaped = await svc.pool.reap_previous()
        if reaped:
            log.warning("removed %d instance(s) left behind by a previous run", reaped)
        svc.functions.collect_unused_code()
        listener = await _open_api_to_functions(app, svc, settings, sessions) if sessions else None
        await svc.pool.start_housekeeping()
        svc.dispatcher.start()
        svc.observability.start()
        svc.hot_reload.start()
        log.info(
            "lambkin ready: driver=%s runtimes=%s data=%s",
            svc.driver.name,
            ",".join(svc.driver.available_runtimes()) or "none (run `make images`)",
            settings.data_dir,
        )
        if credentials is not None:
            log.info(
                "requests must be signed (AWS SigV4): %d user(s) from %s",
                len(credentials.users),
                settings.credentials_file,
            )
        for loud in exposure_warnings(
            settings.host,
            settings.credentials_file,
            settings.insecure_no_auth,
            settings.metrics_token,
            _mode(settings.credentials_file),
        ):
            log.warning(loud)
        app.state.services = svc
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await svc.dispatcher.stop()
            await svc.hot_reload.close()
            await svc.pool.shutdown()
            await svc.observability.close()
            svc.queue.close()
            await svc.driver.close()
            svc.registry.close()
            svc.layers.close()
            audit.close()  # last: a request still finishing records its change until here
            log.info("lambkin stopped; all instances removed")

    app = FastAPI(
        title="Lambkin",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url="/lambkin/docs",
        openapi_url="/lambkin/openapi.json",
    )
    errors.install(app)
    app.include_router(invoke.router)
    app.include_router(invoke_stream.router)
    app.include_router(functions.router)
    app.include_router(aliases_routes.router)
    app.include_router(layers_routes.router)
    app.include_router(function_urls.router)
    app.include_router(concurrency.router)
    app.include_router(tags.router)
    app.include_router(event_invoke_config.router)
    app.include_router(dead_letters.router)
    app.include_router(admin.router)
    app.include_router(logs_routes.router)
    app.include_router(observability_routes.router)
    console.install(app, credentials, settings.region, tls=settings.tls_cert is not None)
    gate = (
        Gate(credentials, settings.region, settings.account_id, sessions=sessions)
        if credentials is not None
        else None
    )
    app.add_middleware(
        AccessControl,
        gate=gate,
        audit=audit,
        metrics_token=settings.metrics_token,
        region=settings.region,
        account_id=settings.account_id,
    )
    # Outermost: a function URL request never reaches the API's access layer or routes.
    app.add_middleware(FunctionUrlEndpoint, gate=gate, account_id=settings.account_id)
    return app

"""The service bundle every surface uses, and the runtime that swaps it on SIGHUP."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot import wiring
from bot.audit import AuditLog
from bot.auth import Authorizer, GroupMembers, no_groups
from bot.commands.service import CommandService
from bot.config import Settings
from bot.config_load import load_settings
from bot.config_reader import ConfigError
from bot.dispatch import Dispatcher
from bot.processes import ProcessService
from bot.redact import Redactor
from bot.reload import ReloadService
from bot.scheduler.jobs import JobService
from bot.scheduler.laravel_jobs import LaravelJobs
from bot.secret_values import secret_values
from bot.state import Store
from bot.supervisor.fleet import Fleet

log = logging.getLogger("supbot")


@dataclass
class Services:
    settings: Settings
    store: Store
    audit: AuditLog
    fleet: Fleet
    redactor: Redactor
    processes: ProcessService
    reload: ReloadService
    dispatcher: Dispatcher
    authorizer: Authorizer
    jobs: JobService
    commands: CommandService
    laravel: LaravelJobs

    @classmethod
    def build(
        cls, settings: Settings, group_members: GroupMembers = no_groups, node: str = ""
    ) -> Services:
        """`node`: an agent's (`supbot agent`): its jobs are those addressed to that node."""
        store = Store(settings.storage)
        audit = AuditLog(store)
        # serve's workers (and any other supbot process of this host) share reads in flight
        reads = settings.storage.dir / "reads"
        fleet = Fleet(settings.nodes, cache_ttl=settings.status_cache_ttl, shared_reads=reads)
        redactor = Redactor(settings.redaction_patterns, secret_values(settings))
        processes = ProcessService(fleet, audit, redactor, settings.log_search_bytes)
        reload = ReloadService(fleet, audit, settings)
        jobs = JobService(settings, store, audit, redactor, node)
        commands = CommandService(settings, audit, redactor, store)
        laravel = LaravelJobs(settings, commands)
        dispatcher = wiring.build_dispatcher(
            processes, reload, store, audit, jobs, commands, laravel, settings
        )
        wiring.install_renderers()
        return cls(
            settings=settings,
            store=store,
            audit=audit,
            fleet=fleet,
            redactor=redactor,
            processes=processes,
            reload=reload,
            dispatcher=dispatcher,
            authorizer=Authorizer(settings, group_members),
            jobs=jobs,
            commands=commands,
            laravel=laravel,
        )

    def close(self) -> None:
        self.fleet.close()


class Runtime:
    """Holds the current Services; SIGHUP re-reads the config, a bad file keeps the old one."""

    def __init__(
        self,
        config: str | None,
        build: Callable[[Settings], Services] = Services.build,
    ) -> None:
        self.config = config
        self._build = build
        self.services = build(load_settings(config))
        self._lock = threading.Lock()
        self.on_reload: list[Callable[[Services], None]] = []

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def reload_config(self) -> bool:
        """Re-read the file; return True when the new settings are in force."""
        try:
            settings = load_settings(self.config)
            services = self._build(settings)
        except ConfigError as exc:
            log.error("config reload failed, keeping the previous configuration:\n%s", exc.report())
            return False
        with self._lock:
            old, self.services = self.services, services
        for callback in self.on_reload:
            callback(services)
        old.close()
        log.info("configuration reloaded from %s", settings.source)
        return True

    def install_sighup(self) -> None:
        """Only the main thread may set signal handlers."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, lambda *_: self.reload_config())

"""The one place that assembles behaviour. Importing a module never registers anything; these
functions do, when called:

- `build_dispatcher` (from `Services.build`): the `/sup` verbs of every feature, the snoozes
  `status` shows, and the alerts' expected-stop hooks;
- `install_renderers` (from `Services.build` and `bot.cli.main`): each reply type's terminal
  text, buttons and Slack blocks, from the tables at the bottom of the render modules;
- `cli_commands` (from `bot.cli.main`): the CLI subcommands beyond the `/sup` verbs, importing
  only the plugin module a command needs.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from bot import choices as core_choices
from bot.alerts.expected_stops import ExpectedStops
from bot.alerts.oncall import OnCallService
from bot.alerts.pagers import Pager
from bot.alerts.silences import SilenceService
from bot.alerts.snooze import SnoozeService, in_force
from bot.audit import AuditLog
from bot.commands import render as commands_render
from bot.commands import render_slack as commands_slack
from bot.commands.service import CommandService
from bot.commands.verbs import CommandVerbs
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.processes import ProcessService
from bot.reload import ReloadService
from bot.render import blocks, blocks_actions, blocks_process, blocks_status, text
from bot.samples import SampleReader
from bot.scheduler import render as scheduler_render
from bot.scheduler import render_slack as scheduler_slack
from bot.scheduler.jobs import JobService
from bot.scheduler.laravel_jobs import LaravelJobs
from bot.scheduler.verbs import Verbs as JobVerbs
from bot.state import Store
from bot.storage.alerts.store import AlertStore

if TYPE_CHECKING:
    from bot.cli import CliCommand


def build_dispatcher(
    processes: ProcessService,
    reload: ReloadService,
    store: Store,
    audit: AuditLog,
    jobs: JobService,
    commands: CommandService,
    laravel: LaravelJobs,
    settings: Settings,
) -> Dispatcher:
    """The dispatcher with every feature's verbs, and the alerts' hooks on actions."""
    alerts = AlertStore(store)
    snoozes = SnoozeService(alerts, processes, audit)
    samples = SampleReader(store)
    processes.usage = samples.process
    processes.restarts = samples.restarts
    dispatcher = Dispatcher(
        processes,
        reload,
        store.health,
        snoozes=lambda: in_force(alerts),
        usage=samples.nodes,
        state_known=lambda: store.known_problem,
    )
    for handlers in (
        JobVerbs(jobs, laravel).handlers(),
        CommandVerbs(commands).handlers(),
        snoozes.handlers(),
        OnCallService(alerts, processes, audit, Pager(settings)).handlers(),
        SilenceService(store, processes, audit).handlers(),
    ):
        for verb, handler in handlers.items():
            dispatcher.register(verb, handler)
    expected = ExpectedStops(alerts)
    processes.before_action.append(expected.before)
    audit.listeners.append(expected.after)
    return dispatcher


def install_renderers() -> None:
    """Give every reply type its text, buttons and blocks (installing twice changes nothing)."""
    for module in (text, scheduler_render, commands_render):
        for cls, render in module.TEXT_RENDERERS.items():
            text.render_text.register(cls, render)
    for module in (core_choices, scheduler_render, commands_render):
        for cls, listed in module.CHOICES.items():
            core_choices.choices.register(cls, listed)
    for module in (
        blocks,
        blocks_actions,
        blocks_process,
        blocks_status,
        scheduler_slack,
        commands_slack,
    ):
        for cls, draw in module.BLOCK_RENDERERS.items():
            blocks.render_blocks.register(cls, draw)
    for cls, summary in blocks_status.FALLBACK_TEXTS.items():
        blocks.fallback_text.register(cls, summary)


# Subcommands beyond the `/sup` verbs: the module that declares them (in its `COMMANDS`).
CLI_PLUGINS = {
    "bot.slack.serve": ("serve",),
    "bot.alerts.cli": ("listen", "alerts", "deploy"),
    "bot.scheduler.cli": ("scheduler", "jobs", "job", "schedule", "commands", "run"),
    "bot.api.cli": ("api",),
    "bot.storage.cli": ("db",),
    "bot.agent.cli": ("agent",),
}


def cli_commands(argv: list[str] | None, core: set[str]) -> dict[str, CliCommand]:
    """The plugin subcommands, importing only the module a command needs when it is named.

    `supbot status` must not pay for importing Bolt and uvicorn; `--help` (or no command, or
    none of `core`) loads them all. A plugin module absent from this installation is left out.
    """
    words = set(sys.argv[1:] if argv is None else argv)
    wanted = [m for m, names in CLI_PLUGINS.items() if words & set(names)]
    if not wanted and not words & core:
        wanted = list(CLI_PLUGINS)
    found: dict[str, CliCommand] = {}
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        found.update(module.COMMANDS)
    return found

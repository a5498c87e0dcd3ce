"""`[[job_sources]]`: the schedule an application keeps itself (Laravel's `schedule:list`).

Read by bot/config.py. supbot lists these tasks (`/sup jobs`); it runs them only on request:
`schedule run @node` runs the source's `schedule:run`, `job run <task>` its `schedule:test
--name=<task>`. The two commands are the listing command's words before `schedule:list` plus
the Laravel command, unless `run` / `test` say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config_reader import Reader, argv, check_timezone

LISTING = "schedule:list"


@dataclass(frozen=True)
class JobSource:
    name: str
    command: tuple[str, ...]
    cwd: str | None = None
    nodes: tuple[str, ...] = ()  # the [[nodes]] this application runs on (for `@node`)
    timezone: str | None = None  # None: what the listing says, else the global timezone
    timeout: float = 30.0  # the listing
    run_timeout: float = 600.0  # schedule:run and schedule:test
    run: tuple[str, ...] = ()
    test: tuple[str, ...] = ()

    @property
    def prefix(self) -> tuple[str, ...]:
        """`php artisan` of `php artisan schedule:list --json`."""
        words = list(self.command)
        return tuple(words[: words.index(LISTING)] if LISTING in words else words[:-1])

    @property
    def run_argv(self) -> tuple[str, ...]:
        return self.run or (*self.prefix, "schedule:run")

    def test_argv(self, task: str) -> tuple[str, ...]:
        return (*(self.test or (*self.prefix, "schedule:test")), f"--name={task}")

    def serves(self, node: str) -> bool:
        """`@node` names this source: one of its nodes, or its own name."""
        return node == self.name or node in self.nodes


KNOWN = {"name", "command", "cwd", "nodes", "timezone", "timeout", "run_timeout", "run", "test"}


def read_job_sources(top: Reader, node_names: set[str]) -> tuple[JobSource, ...]:
    out = []
    for path, table in top.table_list("job_sources"):
        r = Reader(table, path, top.problems, KNOWN)
        command = argv(r, "command")
        if command and LISTING not in command and "run" not in table:
            r.problem("command", f"should call `{LISTING}` (or set `run` and `test`)")
        nodes = r.strings("nodes")
        for node in nodes:
            if node_names and node not in node_names:
                r.problem("nodes", f"no [[nodes]] entry is named {node!r}")
        tz = r.text("timezone")
        if tz is not None:
            check_timezone(r, "timezone", tz)
        out.append(
            JobSource(
                name=r.text("name", "", required=True),
                command=command,
                cwd=r.text("cwd"),
                nodes=nodes,
                timezone=tz,
                timeout=r.duration("timeout", 30.0),
                run_timeout=r.duration("run_timeout", 600.0),
                run=argv(r, "run") if "run" in table else (),
                test=argv(r, "test") if "test" in table else (),
            )
        )
    return tuple(out)

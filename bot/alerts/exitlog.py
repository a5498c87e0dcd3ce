"""Why did a process restart between two polls? supervisord resets a process's exit status
when it spawns it again, so the watcher asks supervisord's own log: its last line about the
process says `exited: NAME (exit status 5; not expected)` or `stopped: NAME (…)`. One small
read, only when a restart was missed (a crash, or a stop + start through supervisorctl)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import errors
from bot.supervisor.client import NodeClient

TAIL_BYTES = 32768


@dataclass(frozen=True)
class Verdict:
    crash: bool
    exitstatus: int | None
    reason: str  # "exit status 5; not expected", "terminated by SIGKILL; not expected", …


def last_exit(log_text: str, name: str) -> Verdict | None:
    """The last exit of `name` (the program's process name, without group) in the log text."""
    pattern = re.compile(rf" (exited|stopped): {re.escape(name)} \((.*)\)\s*$")
    for line in reversed(log_text.splitlines()):
        m = pattern.search(line)
        if not m:
            continue
        kind, reason = m.groups()
        status = re.search(r"exit status (-?\d+)", reason)
        exitstatus = int(status.group(1)) if status else -1
        crash = kind == "exited" and reason.endswith("not expected")
        return Verdict(crash, exitstatus, reason)
    return None


def verdict(client: NodeClient, name: str) -> Verdict | None:
    """None when the log cannot tell (no main log file, line rotated away, node busy)."""
    windows = [-(TAIL_BYTES - shrink) for shrink in range(4)]
    try:
        text = client.nudged(windows, lambda start: client.call("readLog", start, 0))
    except errors.SupbotError:
        return None  # NO_FILE (supervisord logs to syslog or nowhere), or the node is busy
    return last_exit(text, name)

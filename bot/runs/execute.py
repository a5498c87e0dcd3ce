"""Run one argv (never a shell) in its own process group, with a timeout that kills the group.

Output goes to a file, not a pipe: a job keeps working (and its output is kept) when the
process that started it dies, and nothing blocks on a full pipe. The file is capped at
`[scheduler] max_output` by dropping its oldest bytes (bot/runs/spool.py); the tail shown
to users starts with "… N bytes dropped …" when that happened. When the main process exits,
anything it left in its group is terminated too, so no stray grandchild outlives its run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import errors
from bot.redact import Redactor
from bot.runs.alive import group_alive
from bot.runs.spool import Spool, SpoolFull, dropped

TAIL_BYTES = 64 * 1024
TAIL_LINES = 100
MESSAGE_OUTPUT = 2500  # characters of an output tail that fit one Slack section
TERM_GRACE = 3.0  # SIGTERM → SIGKILL
DEFAULT_MAX_OUTPUT = 1024 * 1024  # [scheduler] max_output


class ProgramMissing(errors.SupbotError):
    """The program of a job or command cannot be started on this host (missing, not
    executable, bad working directory, or the OS refused to start it)."""


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    output: str  # redacted tail
    duration: float
    error: str = ""  # why it did not simply exit: timeout, cancelled

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error


def resolve(argv: tuple[str, ...], env: Mapping[str, str], cwd: str | None) -> str:
    """The program's path; ProgramMissing with a clear sentence when it is not there."""
    program = argv[0]
    if cwd and not Path(cwd).is_dir():
        raise ProgramMissing(f"working directory `{cwd}` does not exist on this host.")
    if os.sep in program:
        path = Path(cwd or ".", program) if not os.path.isabs(program) else Path(program)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise ProgramMissing(f"`{program}` does not exist or is not executable on this host.")
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if not found:
        raise ProgramMissing(f"`{program}` was not found on this host (PATH={env.get('PATH')}).")
    return found


def environment(extra: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """Our environment minus supbot's own secrets (a job needs no Slack token), plus `extra`."""
    hidden = {s for s in secrets if s}
    env = {k: v for k, v in os.environ.items() if v not in hidden and not k.startswith("SLACK_")}
    return env | dict(extra)


def read_tail(path: str | Path, redactor: Redactor) -> str:
    """The last ~100 lines / 64 KB of a log file, redacted, after a note of any bytes the
    spool dropped."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            gone = dropped(f.fileno(), size)
            f.seek(max(gone, size - TAIL_BYTES))
            data = f.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size - gone > TAIL_BYTES and lines:
        lines = lines[1:]  # cut mid-line
    text = "\n".join(redactor.redact_lines(lines[-TAIL_LINES:]))
    if gone:
        note = f"… {gone:,} bytes dropped (output over [scheduler] max_output) …"
        text = f"{note}\n{text}" if text else note
    return text


def start(
    argv: tuple[str, ...], cwd: str | None, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Start argv with its output to `log_path`; ProgramMissing (one sentence) when the OS
    will not start it, whatever the reason."""
    program = resolve(argv, env, cwd)
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            return subprocess.Popen(
                [program, *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,  # its own group: a timeout kills grandchildren too
                close_fds=True,
            )
    except OSError as exc:  # permission denied, exec format error, no space for its spool…
        raise ProgramMissing(f"cannot start `{argv[0]}`: {exc.strerror or exc}.") from None
    except (ValueError, subprocess.SubprocessError) as exc:  # e.g. a NUL byte in argv/env
        raise ProgramMissing(f"cannot start `{argv[0]}`: {exc}.") from None


def kill_group(pgid: int, grace: float = TERM_GRACE) -> None:
    """SIGTERM the group, SIGKILL what is left after `grace`, wait until it is gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return
            time.sleep(0.05)


def _trim(spool: Spool) -> str:
    """'' while the spool is within its limit (dropping old output as needed), else why not."""
    try:
        spool.trim()
    except SpoolFull as exc:
        return f"output passed {spool.limit:,} bytes and {exc}; its process group was killed"
    return ""


def supervise(
    proc: subprocess.Popen[bytes],
    log_path: Path,
    redactor: Redactor,
    timeout: float | None,
    on_output: Callable[[str], None] | None = None,
    interval: float = 2.0,
    cancel: threading.Event | None = None,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> Outcome:
    """Wait for the process; kill its group on timeout or `cancel`; keep its spool within
    `max_output` bytes; report the tail."""
    began = time.monotonic()
    error = ""
    last_report, last_size = began, 0
    spool = Spool(log_path, max_output)
    while proc.poll() is None:
        now = time.monotonic()
        overflow = _trim(spool)
        if overflow:
            kill_group(proc.pid)
            error = overflow
        elif timeout is not None and now - began > timeout:
            kill_group(proc.pid)
            error = f"timed out after {timeout:g}s; its process group was killed"
        elif cancel is not None and cancel.is_set():
            kill_group(proc.pid)
            error = "killed: the scheduler was shutting down and its grace period ran out"
        elif on_output and now - last_report >= interval:
            size = log_path.stat().st_size if log_path.exists() else 0
            if size != last_size:
                on_output(read_tail(log_path, redactor))
                last_size = size
            last_report = now
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)
    kill_group(proc.pid, grace=1.0)  # leftovers: children the job did not wait for
    exit_code = proc.returncode
    output = read_tail(log_path, redactor)
    if on_output:
        on_output(output)
    return Outcome(exit_code, output, time.monotonic() - began, error)

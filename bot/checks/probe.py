"""One sample of a process (psutil: RSS with children, CPU %) and one HTTP probe."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import psutil

from bot.sizes import format_size


@dataclass(frozen=True)
class Sample:
    rss: int  # bytes, the process and its children
    cpu: float  # percent of one core since the previous sample (0 on the first)


class Sampler:
    """Keeps psutil.Process objects between samples: CPU % is measured between two calls.
    `new_round()` reads the process tree once: psutil's `children()` scans every process of
    the host on each call, which for 500 programs made a round cost seconds of CPU."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._children: dict[int, list[int]] = {}

    def new_round(self) -> None:
        children: dict[int, list[int]] = {}
        for proc in psutil.process_iter(["ppid"]):
            children.setdefault(proc.info["ppid"] or 0, []).append(proc.pid)
        self._children = children

    def _family(self, pid: int) -> list[int]:
        family, i = [pid], 0
        while i < len(family):
            family.extend(self._children.get(family[i], ()))
            i += 1
        return family

    def sample(self, pid: int) -> Sample | None:
        """None when the process is gone (it exited since the status read)."""
        try:
            if pid not in self._procs:
                self._procs[pid] = psutil.Process(pid)
        except (psutil.Error, OSError):
            return None
        rss, cpu = 0, 0.0
        for member_pid in self._family(pid):
            try:
                member = self._procs.get(member_pid) or self._procs.setdefault(
                    member_pid, psutil.Process(member_pid)
                )
                rss += member.memory_info().rss
                cpu += member.cpu_percent(None)
            except (psutil.Error, OSError):
                continue  # a child that exited meanwhile
        return Sample(rss, cpu)

    def forget_except(self, pids: set[int]) -> None:
        """Drop processes no longer sampled (and their children's) to bound the cache."""
        for pid in list(self._procs):
            if pid not in pids and not _alive(self._procs[pid]):
                del self._procs[pid]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running()
    except psutil.Error:
        return False


def over_limits(sample: Sample, memory_max: int | None, cpu_max: float | None) -> str:
    """The figure that is over a limit (`RSS 612.0 MiB > 512.0 MiB`), or ""."""
    if memory_max is not None and sample.rss > memory_max:
        return f"RSS {format_size(sample.rss)} > {format_size(memory_max)}"
    if cpu_max is not None and sample.cpu > cpu_max:
        return f"CPU {sample.cpu:.0f}% > {cpu_max:.0f}%"
    return ""


def probe(url: str, timeout: float) -> str:
    """ "" when `url` answers 2xx/3xx within `timeout`, else why not (one short phrase)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - config URL
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} from {url}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{url} did not answer ({reason})"
    return "" if status < 400 else f"HTTP {status} from {url}"

"""Memory and CPU figures as both terminal text and Slack show them (`info`, `status`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.durations import format_duration
from bot.processes import ProcessDetails
from bot.render.sparkline import sparkline
from bot.samples_records import NodeUsage, RecentHistory
from bot.sizes import format_size


def node_usage_line(u: NodeUsage) -> str:
    """`app2: RSS 1.2 GiB · CPU 35% over 250 processes (sampled 4s ago)`."""
    return (
        f"{u.node}: RSS {format_size(u.rss)} · CPU {u.cpu:.0f}% over {u.count} processes "
        f"(sampled {format_duration(u.age)} ago)"
    )


def sampled_note(d: ProcessDetails) -> str:
    """` (sampled 4s ago)` when the figures come from the node's host, else ""."""
    if not d.sampled or d.usage is None:
        return ""
    return f" (sampled {format_duration(d.usage.age)} ago)"


def history_lines(d: ProcessDetails) -> list[tuple[str, str]]:
    """(label, figure) for RSS and CPU over the last hour, when two samples or more (as
    sparklines), and the restarts of the last 24 h when the node's events are recorded."""
    lines = []
    if d.usage is not None and len(d.usage.history) >= 2:
        rss = [u.rss for u in d.usage.history]
        cpu = [u.cpu for u in d.usage.history]
        lines += [
            ("rss, last hour", rss_sparkline(rss)),
            ("cpu, last hour", f"{sparkline(cpu)} {min(cpu):.0f}–{max(cpu):.0f}%"),
        ]
    if d.restarts is not None:
        lines.append(("restarts, 24 h", str(d.restarts)))
    return lines


def rss_sparkline(rss: Sequence[int]) -> str:
    """`▁▂▅█ 120.0 MiB–180.0 MiB`."""
    return f"{sparkline(rss)} {format_size(min(rss))}–{format_size(max(rss))}"


def recent_line(h: RecentHistory) -> str:
    """App Home's line under a process: `rss ▁▂▅█ 120.0 MiB–180.0 MiB · 2 restarts (24 h)`."""
    parts = [f"rss `{rss_sparkline(h.rss)}`"] if len(h.rss) >= 2 else []
    if h.restarts is not None:
        parts.append(f"{h.restarts} restart{'' if h.restarts == 1 else 's'} (24 h)")
    return " · ".join(parts)

"""Memory and CPU figures as both terminal text and Slack show them (`info`, `status`)."""

from __future__ import annotations

from bot.durations import format_duration
from bot.processes import ProcessDetails
from bot.render.sparkline import sparkline
from bot.samples_records import NodeUsage
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
    """(label, sparkline) for RSS and CPU over the last hour, when two samples or more."""
    if d.usage is None or len(d.usage.history) < 2:
        return []
    rss = [u.rss for u in d.usage.history]
    cpu = [u.cpu for u in d.usage.history]
    return [
        ("rss, last hour", f"{sparkline(rss)} {format_size(min(rss))}–{format_size(max(rss))}"),
        ("cpu, last hour", f"{sparkline(cpu)} {min(cpu):.0f}–{max(cpu):.0f}%"),
    ]

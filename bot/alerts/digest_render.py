"""The digest as Block Kit: a pure function of the gathered Digest, no network."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, SectionBlock

from bot.alerts.records import Digest, Interval
from bot.alerts.render import Message, when
from bot.alerts.silence_records import Deploy
from bot.names import node_label
from bot.render.blocks import escape

BARS = "▁▂▃▄▅▆▇█"
BUCKETS = 24


def sparkline(down: list[Interval], since: float, until: float) -> str:
    """One bar per bucket, its height the share of the bucket the process was up."""
    width = max(1.0, (until - since) / BUCKETS)
    bars = []
    for i in range(BUCKETS):
        start, end = since + i * width, since + (i + 1) * width
        lost = sum(max(0.0, min(end, b) - max(start, a)) for a, b in down)
        up = max(0.0, 1.0 - lost / width)
        bars.append(BARS[min(len(BARS) - 1, int(up * (len(BARS) - 1) + 0.5))])
    return "".join(bars)


def digest_message(d: Digest) -> Message:
    """Header, the period, crashes and restarts per process, what is not running, jobs."""
    lines = []
    for key in sorted(set(d.crashes) | set(d.starts), key=lambda k: -d.crashes.get(k, 0)):
        name = escape(node_label(*key))
        spark = sparkline(d.down.get(key, []), d.since, d.until)
        lines.append(
            f"`{spark}` *{name}* — {d.crashes.get(key, 0)} crashes, {d.starts.get(key, 0)} starts"
        )
    stopped = [f"{escape(p.display_name)}@{p.node} {p.state}" for p in d.stopped]
    blocks: list[Any] = [
        HeaderBlock(text="supbot digest"),
        _section(f"Since {when(d.since)} → {when(d.until)}"),
        _section("*Crashes and restarts*\n" + ("\n".join(lines) or "No crashes. 🎉")),
    ]
    not_running = ", ".join(stopped) or "everything is running"
    if d.unreachable:
        not_running += f"\nUnreachable nodes: {', '.join(d.unreachable)}"
    blocks.append(_section("*Not running now*\n" + not_running))
    if d.jobs is not None:
        blocks.append(_section("*Jobs*\n" + _jobs(d.jobs)))
    if d.deploys:
        blocks.append(_section("*Deploys*\n" + "\n".join(_deploy(x) for x in d.deploys[:30])))
    total = sum(d.crashes.values())
    text = f"supbot digest: {total} crashes, {len(stopped)} processes not running"
    return text, [b.to_dict() for b in blocks]


def _jobs(jobs: list[tuple[str, str, int]]) -> str:
    if not jobs:
        return "No failed or missed jobs."
    return "\n".join(f"{escape(job)}: {n} {status}" for job, status, n in jobs)


def _deploy(d: Deploy) -> str:
    by = f" by {escape(d.by)}" if d.by else ""
    return f"🚀 {escape(d.what)} {escape(d.version)}{by} — {when(d.at)}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:2900]))

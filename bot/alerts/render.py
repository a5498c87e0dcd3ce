"""Alert messages as Block Kit: pure functions of incident records, no network."""

from __future__ import annotations

import time
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.alerts.records import Incident, Snooze
from bot.alerts.silence_records import Deploy
from bot.durations import format_duration
from bot.grammar import quote
from bot.names import node_label
from bot.render.blocks import action_blocks, escape, preformatted
from bot.replies import Choice

Message = tuple[str, list[dict[str, Any]]]  # (fallback text, blocks)

ICON = {"EXITED": "🔴", "BACKOFF": "🟠", "FATAL": "🔴", "NODE_DOWN": "🔴", "LISTENER_SILENT": "🟠"}


def when(epoch: float) -> str:
    """A date each reader sees in their own timezone (fallback: UTC)."""
    fallback = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{{date_short_pretty}} {{time_secs}}|{fallback}>"


def mention_text(mention: str | None) -> str:
    if not mention:
        return ""
    if mention.startswith("S"):
        return f"<!subteam^{mention}> "
    if mention.startswith(("U", "W")):
        return f"<@{mention}> "
    if mention in ("here", "channel", "everyone"):
        return f"<!{mention}> "
    return ""


def counter(inc: Incident) -> str:
    n = inc.crashes
    span = format_duration(inc.last - inc.opened) if n > 1 else ""
    text = f"crashed {n}×" + (f" in {span}" if span else "")
    return text + (" — flapping" if n >= 3 else "")


def _open_for(inc: Incident) -> float:
    """How long a closed incident was open."""
    return (inc.closed or inc.opened) - inc.opened


def _headline(inc: Incident) -> str:
    who = f"*{escape(node_label(inc.node, inc.process))}*"
    kind, state = inc.kind, inc.state
    if kind == "node":
        who = f"node *{escape(inc.node)}*"
        if inc.status == "recovered":
            return f"✅ {who} reachable again after {format_duration(_open_for(inc))}"
        return f"🔴 {who} is unreachable"
    if kind == "listener":
        if inc.status == "recovered":
            return f"✅ the event listener on *{escape(inc.node)}* is back"
        return f"🟠 the event listener on *{escape(inc.node)}* has gone silent (watcher took over)"
    if inc.status == "recovered":
        after = format_duration(_open_for(inc))
        pid = f", pid {inc.recovered_pid}" if inc.recovered_pid else ""
        return f"✅ {who} recovered after {after}{pid}"
    if inc.status == "stopped":
        return f"⏹ {who} was stopped"
    if inc.status == "resolved":
        return f"☑️ {who}: incident {inc.id} resolved"
    if state == "UNHEALTHY":
        return f"🟠 {who} fails its health check: {escape(inc.from_state)}"
    if state == "FATAL":
        return f"🔴 {who} is FATAL (gave up restarting)"
    if state == "BACKOFF":
        return f"🟠 {who} keeps failing to start (BACKOFF)"
    return f"🔴 {who} crashed"


def _facts(inc: Incident) -> str:
    parts = []
    if inc.kind == "process" and inc.state == "UNHEALTHY":
        parts.append(f"*Check:* {escape(inc.from_state)}")
    elif inc.kind == "process":
        parts.append(f"*Transition:* {inc.from_state or '?'} → {inc.state}")
        if inc.exitstatus is not None:
            parts.append(f"*Exit status:* {inc.exitstatus} (unexpected)")
        if inc.tries:
            parts.append(f"*Start tries:* {inc.tries}")
    parts.append(f"*When:* {when(inc.opened)}")
    if inc.kind == "process":
        parts.append(f"*{counter(inc)}*")
    return " · ".join(parts)


def buttons(node: str, process: str) -> list[Choice]:
    target = node_label(node, process)
    return [
        Choice("Restart", quote("restart", target), "primary", f"Restart {target}?"),
        Choice("Logs", quote("tail", target)),
        Choice("Snooze 1 h", quote("snooze", target, "1h")),
        Choice("Snooze 24 h", quote("snooze", target, "24h")),
    ]


def owner_buttons(inc: Incident) -> list[Choice]:
    """Ack (or Unack) and Resolve, while the incident is open."""
    if inc.status != "open":
        return []
    ref = str(inc.id)
    own = Choice("Unack", quote("unack", ref)) if inc.acked_by else Choice("Ack", quote("ack", ref))
    return [own, Choice("Resolve", quote("resolve", ref), "", f"Resolve incident {ref}?")]


def ownership_note(inc: Incident) -> str:
    if inc.status == "resolved":
        note = f": {escape(inc.note)}" if inc.note else ""
        return f"☑️ resolved by hand {when(inc.closed or inc.last)}{note}"
    if inc.acked_by and inc.status == "open":
        by = inc.acked_by
        who = f"<@{by}>" if by.startswith(("U", "W")) else escape(by)
        return f"👀 acked by {who} {when(inc.acked_at or inc.opened)}"
    return ""


def incident_message(
    inc: Incident,
    mention: str | None = None,
    first: bool = False,
    snoozed: Snooze | None = None,
    deploy: Deploy | None = None,
) -> Message:
    headline = _headline(inc)
    top = (mention_text(mention) if first else "") + headline
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=top))]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_facts(inc))]))
    if snoozed is not None and inc.status == "open":
        by = snoozed.by
        who = f"<@{by}>" if by.startswith(("U", "W")) else escape(by)
        note = f"🔕 snoozed until {when(snoozed.until)} by {who}; crashes are still counted"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    if deploy is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=deploy_note(inc, deploy))]))
    owned = ownership_note(inc)
    if owned:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=owned)]))
    lines = inc.log or []
    if inc.kind == "process" and lines:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=preformatted("\n".join(lines)))))
    choices = buttons(inc.node, inc.process) if inc.kind == "process" else []
    choices += owner_buttons(inc)
    if choices:
        blocks += action_blocks(choices, block_prefix="alert")
    plain = headline.replace("*", "")
    if inc.kind == "process":
        plain += f" — {counter(inc)}"
    return plain, [b.to_dict() for b in blocks]


def deploy_note(inc: Incident, deploy: Deploy) -> str:
    """ "🚀 crashed 2m after deploy 1.4.2 (web, by ci)"."""
    after = format_duration(max(0.0, inc.opened - deploy.at)).removesuffix(" 0s")
    by = f", by {escape(deploy.by)}" if deploy.by else ""
    what = "failed" if inc.state == "UNHEALTHY" else "crashed"
    return f"🚀 {what} {after} after deploy {escape(deploy.version)} ({escape(deploy.what)}{by})"


def thread_message(inc: Incident, payload: dict[str, Any]) -> Message:
    n = payload.get("count", 1)
    what = "crashed again" if n == 1 else f"crashed {n} more times"
    exit_part = f", exit {payload['exitstatus']}" if payload.get("exitstatus") is not None else ""
    state = payload.get("state", "EXITED")
    text = f"{what} ({state}{exit_part}) — last {when(payload.get('last', time.time()))}"
    plain = f"{node_label(inc.node, inc.process)} {what}"
    return plain, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def escalation_message(inc: Incident, to: str, after: float, level: int = 1) -> Message:
    """The thread reply that hands an unacked incident to the next group."""
    target = escape(node_label(inc.node, inc.process)) if inc.kind == "process" else inc.node
    delay = format_duration(after).removesuffix(" 0s")  # "10m", not "10m 0s"
    which = f" (level {level})" if level > 1 else ""
    text = (
        f"{mention_text(to)}⏫ incident {inc.id} ({target}) has not been acknowledged "
        f"in {delay} — escalating{which}. Ack it on the message above."
    )
    plain = f"escalated: incident {inc.id} not acknowledged in {delay}"
    return plain, [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def rollup_message(incidents: list[Incident]) -> Message:
    """'12 more processes crashed: …' with every crash counted."""
    procs = len(incidents)
    crashes = sum(max(1, i.crashes) for i in incidents)
    recovered = sum(i.status != "open" for i in incidents)
    names = [f"{escape(node_label(i.node, i.process))} ×{max(1, i.crashes)}" for i in incidents]
    shown = ", ".join(names[:60]) + (f", … and {len(names) - 60} more" if len(names) > 60 else "")
    head = f"🌩 {procs} more process{'es' if procs != 1 else ''} crashed: {crashes} crashes in all"
    if recovered:
        head += f" ({recovered} since recovered or stopped)"
    text = head + "\n" + shown
    plain = f"{procs} more processes crashed ({crashes} crashes)"
    block = SectionBlock(text=MarkdownTextObject(text=text[:2900]))
    return plain, [block.to_dict()]

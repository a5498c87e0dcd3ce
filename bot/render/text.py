"""Terminal rendering of replies (console and CLI): plain text, tables by tabulate."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import singledispatch

from tabulate import tabulate

from bot.domain import ActionOutcome, LogSearch, ProcessInfo, Totals
from bot.durations import format_duration
from bot.render.usage import history_lines, node_usage_line, sampled_note
from bot.replies import (
    ActionReply,
    ConfirmReply,
    DetailsReply,
    HelpReply,
    MessageReply,
    ReloadPreviewReply,
    ReloadReply,
    Reply,
    StatusReply,
    TailReply,
)
from bot.sizes import format_size
from bot.usertext import quote

STATE_MARK = {"RUNNING": "●", "STARTING": "◐", "BACKOFF": "✖", "FATAL": "✖", "EXITED": "○"}


def totals_line(t: Totals) -> str:
    return f"{t.total} total · {t.running} running · {t.stopped} stopped · {t.crashed} crashed"


def state_word(p: ProcessInfo) -> str:
    word = p.state
    if p.state == "EXITED" and p.expected_exit is False:
        word += f" (exit {p.exitstatus}, unexpected)"
    elif p.state == "EXITED":
        word += f" (exit {p.exitstatus})"
    return f"{STATE_MARK.get(p.state, '○')} {word}"


def status_rows(
    processes: tuple[ProcessInfo, ...] | list[ProcessInfo], multi: bool
) -> list[list[str]]:
    rows = []
    for p in processes:
        row = [p.display_name, state_word(p), str(p.pid or "-"), format_duration(p.uptime)]
        rows.append(([p.node] if multi else []) + row)
    return rows


@singledispatch
def render_text(reply: Reply) -> str:
    return str(reply)


STATE_CONSEQUENCE = "(until then crashes are not alerted and actions are refused)"


def status_text(reply: StatusReply) -> str:
    view = reply.view
    multi = len(view.nodes) > 1
    lines = [totals_line(view.totals)]
    if multi:
        for node, totals in view.totals_by_node().items():
            lines.append(f"  {node}: {totals_line(totals)}")
    lines += [f"  {node_usage_line(u)}" for u in reply.usage]
    for n in view.nodes:
        if n.error:
            lines.append(f"! node `{n.node}` unreachable ({n.error})")
    if reply.state_problem:
        lines.append(f"! {reply.state_problem} {STATE_CONSEQUENCE}")
    headers = (["node"] if multi else []) + ["name", "state", "pid", "uptime"]
    if view.processes:
        lines += ["", tabulate(status_rows(view.processes, multi), headers=headers)]
    elif not any(n.error for n in view.nodes):
        lines.append("No processes to show.")
    for label, until in reply.snoozed:
        lines.append(f"🔕 {label}: alerts snoozed until {_when(int(until))}")
    if view.cache_age >= 1 and not reply.fresh:
        lines.append(f"(as of {view.cache_age:.0f}s ago; `status --fresh` to re-read)")
    return "\n".join(lines)


def details_text(reply: DetailsReply) -> str:
    d = reply.details
    p = d.process
    rows = [
        ("process", p.display_name),
        ("node", p.node),
        ("state", state_word(p)),
        ("pid", p.pid or "-"),
        ("uptime", format_duration(p.uptime)),
        ("started", _when(p.start)),
        ("stopped", _when(p.stop)),
        ("last exit", _exit(p)),
        ("spawn error", p.spawnerr or "-"),
        ("description", p.description or "-"),
        ("command", p.command or "-"),
    ]
    if p.memory_rss is not None:
        rows.append(("memory", f"{p.memory_rss / 1048576:.1f} MiB{sampled_note(d)}"))
    if p.cpu_percent is not None:
        rows.append(("cpu", f"{p.cpu_percent:.1f}%{sampled_note(d)}"))
    rows += history_lines(d)
    out = tabulate(rows, tablefmt="plain")
    if d.log_preview:
        out += "\n\nlast log lines:\n" + "\n".join(f"  {line}" for line in d.log_preview)
    return out


def _when(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "-"


def _exit(p: ProcessInfo) -> str:
    if not p.stop:
        return "-"
    expected = {True: "expected", False: "unexpected", None: ""}[p.expected_exit]
    return f"{p.exitstatus} {expected}".strip()


def tail_text(reply: TailReply) -> str:
    t = reply.tail
    group, _, name = t.process.partition(":")
    shown = group if name in ("", group) else t.process
    if t.search is not None:
        head = f"== {shown}@{t.node} {t.stream}, {search_summary(t.search)} =="
        return "\n".join((head, *t.lines))
    head = f"== {shown}@{t.node} {t.stream}, last {len(t.lines)} lines =="
    body = "\n".join(t.lines) if t.lines else "(log is empty)"
    return f"{head}\n{body}"


def search_summary(s: LogSearch) -> str:
    """`3 lines match /ERROR/i — searched the last 8.0 MiB (of 1.2 GiB)`."""
    found = f"{s.matches} matching line{'' if s.matches == 1 else 's'}" if s.matches else "no match"
    scope = "the whole log" if s.searched >= s.size else f"the last {format_size(s.searched)}"
    of = f" ({format_size(s.size)})" if s.searched >= s.size else f" (of {format_size(s.size)})"
    flags = " (ignoring case)" if s.ignore_case else ""
    return f"{found} for {quote(s.pattern, 60)}{flags} — searched {scope}{of}"


def confirm_text(reply: ConfirmReply) -> str:
    return reply.question + "\n" + "\n".join(f"  - {t}" for t in reply.targets)


def outcome_line(o: ActionOutcome) -> str:
    mark = "ok" if o.ok else "FAILED"
    line = f"{o.process}@{o.node}: {mark} — {o.message} ({o.seconds:.1f}s)"
    if not o.ok and o.spawnerr:
        line += f"\n    spawn error: {o.spawnerr}"
    if not o.ok and o.log_tail:
        line += "\n" + "\n".join(f"    | {x}" for x in o.log_tail.splitlines()[-20:])
    return line


def action_text(reply: ActionReply) -> str:
    r = reply.report
    verb = {
        "stop": "Stopped",
        "start": "Started",
        "restart": "Restarted",
        "signal": "Signalled",
        "clear": "Cleared",
    }
    head = f"{verb.get(r.action, r.action)} by {r.actor} ({r.seconds:.1f}s):"
    return head + "\n" + "\n".join(f"  {outcome_line(o)}" for o in r.outcomes)


def reload_preview_text(reply: ReloadPreviewReply) -> str:
    if reply.empty:
        return "No changes: the configuration on disk matches what is running."
    lines = ["reload would change:"]
    for d in reply.diffs:
        for label, groups in (("added", d.added), ("changed", d.changed), ("removed", d.removed)):
            for g in groups:
                lines.append(f"  {d.node}: {label:8} {g}")
    return "\n".join(lines)


def reload_text(reply: ReloadReply) -> str:
    if not reply.results:
        return "No changes applied."
    lines = []
    for r in reply.results:
        lines.append(f"{r.diff.node}: {'applied' if r.ok else 'FAILED'}")
        lines += [f"  {m}" for m in r.messages]
    return "\n".join(lines)


def help_text(reply: HelpReply) -> str:
    return reply.text


def message_text(reply: MessageReply) -> str:
    return reply.text


# What bot/wiring.py installs: the renderer of each reply type defined above.
TEXT_RENDERERS: dict[type, Callable[..., str]] = {
    StatusReply: status_text,
    DetailsReply: details_text,
    TailReply: tail_text,
    ConfirmReply: confirm_text,
    ActionReply: action_text,
    ReloadPreviewReply: reload_preview_text,
    ReloadReply: reload_text,
    HelpReply: help_text,
    MessageReply: message_text,
}

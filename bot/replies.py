"""What a command answers, before rendering: one dataclass per kind of answer.

`Choice` is a button in Slack and a numbered choice in the console; its `command` is `/sup`
text, so a click goes through the same parser and the same authorization as typing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import LogTail, ReloadDiff, ReloadResult
from bot.processes import ActionReport, ProcessDetails, StatusView
from bot.samples_records import NodeUsage


@dataclass(frozen=True)
class Choice:
    label: str
    command: str
    style: str = ""  # "primary" | "danger" | ""
    confirm: str = ""  # a question to confirm first (Slack confirm dialog)


@dataclass(frozen=True)
class Reply:
    """Base: `public` answers go to the channel (actions), others only to the asker."""

    @property
    def public(self) -> bool:
        return False


@dataclass(frozen=True)
class PublicReply(Reply):
    """An action's answer: posted in the channel, so everyone sees what was done and by whom."""

    @property
    def public(self) -> bool:
        return True


@dataclass(frozen=True)
class StatusReply(Reply):
    view: StatusView
    fresh: bool = False
    page: int = 1  # 1-based; large fleets are paged ("Show more" asks for the next page)
    snoozed: tuple[tuple[str, float], ...] = ()  # (process label, until epoch) of shown processes
    state_problem: str = ""  # the state database cannot record (alerts, audit): say so on top
    usage: tuple[NodeUsage, ...] = ()  # memory and CPU per shown node, sampled on its host


@dataclass(frozen=True)
class DetailsReply(Reply):
    details: ProcessDetails


@dataclass(frozen=True)
class TailReply(Reply):
    tail: LogTail
    follow: bool = False


@dataclass(frozen=True)
class ConfirmReply(Reply):
    question: str
    targets: tuple[str, ...]
    confirm_command: str


@dataclass(frozen=True)
class ActionReply(PublicReply):
    report: ActionReport
    actor_mention: str = ""


@dataclass(frozen=True)
class ReloadPreviewReply(Reply):
    diffs: tuple[ReloadDiff, ...]

    @property
    def empty(self) -> bool:
        return all(d.empty for d in self.diffs)


@dataclass(frozen=True)
class ReloadReply(PublicReply):
    results: tuple[ReloadResult, ...]
    actor_mention: str = ""


@dataclass(frozen=True)
class HelpReply(Reply):
    text: str


@dataclass(frozen=True)
class MessageReply(Reply):
    """A short sentence: an error the user can act on, or a plain notice."""

    text: str
    error: bool = False
    choices: tuple[Choice, ...] = field(default_factory=tuple)

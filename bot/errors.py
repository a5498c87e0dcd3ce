"""Expected failures. Each carries one sentence a user can act on; surfaces print `str(exc)`."""

from __future__ import annotations

from enum import IntEnum

from bot.usertext import quote


class ExitStatus(IntEnum):
    """What `supbot` exits with (README, CLI)."""

    OK = 0
    ERROR = 1  # an action failed (including partly), or supbot itself did
    USAGE = 2  # a usage or configuration error: nothing was done
    NODE_UNREACHABLE = 3
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT
    TERMINATED = 143  # SIGTERM, as a shell reports it


class SupbotError(Exception):
    """Base of every expected failure; the message is shown to the user as is."""

    exit_code = ExitStatus.ERROR


class UsageError(SupbotError):
    """The command could not be understood."""

    exit_code = ExitStatus.USAGE


class NodeUnreachable(SupbotError):
    """supervisord did not answer (down, refused, timed out, socket missing)."""

    exit_code = ExitStatus.NODE_UNREACHABLE

    def __init__(self, node: str, reason: str) -> None:
        self.node, self.reason = node, reason
        super().__init__(f"node `{node}` unreachable ({reason})")


class ServerError(NodeUnreachable):
    """supervisord answered HTTP 500 — e.g. a log window whose edge splits a UTF-8 character."""


class NodeMisconfigured(NodeUnreachable):
    """supervisord answered but cannot be used: wrong credentials, no rpcinterface."""

    def __init__(self, node: str, reason: str) -> None:
        super().__init__(node, reason)
        self.args = (f"node `{node}`: {reason}",)

    def __str__(self) -> str:
        return f"node `{self.node}`: {self.reason}"


class NoSuchProcess(SupbotError):
    def __init__(self, name: str, suggestions: list[str] | tuple[str, ...] = ()) -> None:
        self.name, self.suggestions = name, list(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"No process matches {quote(name)}.{hint} Try `status` to list processes.")


class AmbiguousName(SupbotError):
    def __init__(self, name: str, matches: list[str]) -> None:
        self.name, self.matches = name, matches
        shown = ", ".join(matches[:10]) + (" …" if len(matches) > 10 else "")
        super().__init__(
            f"{quote(name)} matches {len(matches)} processes ({shown}); name one of them."
        )


class AlreadyRunning(SupbotError):
    pass


class NotRunning(SupbotError):
    pass


class SpawnFailed(SupbotError):
    pass


class BadSignal(SupbotError):
    pass


class NoLogFile(SupbotError):
    pass


class ReloadFailed(SupbotError):
    pass


class ReloadChanged(SupbotError):
    """The configuration changed between the preview and Apply."""


class Forbidden(SupbotError):
    """The asker may not do this here."""


class NotConfigured(SupbotError):
    """The channel or feature is not set up."""


class StateUnavailable(SupbotError):
    """The shared state database cannot be used: not a database, full, read-only, unreadable.
    Nothing is recorded until it is fixed, so the action is refused rather than run unaudited."""

    exit_code = ExitStatus.USAGE


class StorageNotSupported(SupbotError):
    """The configured database cannot hold the runtime state in this version (PostgreSQL)."""

    exit_code = ExitStatus.USAGE

    def __init__(self) -> None:
        super().__init__(
            "state on PostgreSQL is not available yet in this version: "
            "only `supbot db upgrade|status` use it"
        )

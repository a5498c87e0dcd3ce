"""One allow-listed command, and the argument rules checked before anything runs.

Arguments are accepted only when the command declares an `args` pattern; each must match it
in full, and `;`, `|`, `$(`, backticks and newlines are refused whatever the pattern says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.usertext import char_name, hidden_char, quote

FORBIDDEN = re.compile(r"[;|`\n\r\x00]|\$\(")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    command: tuple[str, ...]
    description: str = ""
    args: str | None = None  # a regex each argument must fullmatch; None = no arguments
    timeout: float = 300.0
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    source: str = "config"  # or the [[command_sources]] name
    nodes: tuple[str, ...] = ()  # () = this host; else node name patterns run by agents


def check_args(spec: CommandSpec, args: tuple[str, ...]) -> str:
    """'' when the arguments are acceptable, else one sentence saying why not."""
    if not args:
        return ""
    if spec.args is None:
        return f"`{spec.name}` takes no arguments."
    for arg in args:
        if FORBIDDEN.search(arg):
            return (
                f"Argument {quote(arg, 40)} was refused: `;`, `|`, `$(`, backticks and "
                "newlines are never accepted."
            )
        hidden = hidden_char(arg)
        if hidden is not None:
            return (
                f"Argument {quote(arg, 40)} was refused: it contains {char_name(hidden)}, a "
                "control, invisible or non-text character. Type arguments as plain text."
            )
        if not re.fullmatch(spec.args, arg):
            return f"Argument {quote(arg, 40)} was refused: `{spec.name}` accepts `{spec.args}`."
    return ""

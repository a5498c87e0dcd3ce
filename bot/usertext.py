"""Text someone typed, made inert before supbot repeats it anywhere.

A name, argument or reason echoed in a reply, the audit log or the audit channel must not be
able to pass for supbot's own words: a newline would start a fake audit line, a backtick would
end the code span around it, `*bold*` or `<!channel>` would format or ping, and an RTL override
or a zero-width character would make it read differently from what it is. `visible()` shows
every such character as an escape (`\\n`, `\\u202e`) and keeps the text on one line; `quote()`
puts that in a code span, where Slack applies no formatting. Both are surface-neutral: the
Slack renderer still escapes `&`, `<` and `>` of whole messages.
"""

from __future__ import annotations

import unicodedata

# Cc controls, Cf format characters (bidi overrides, zero-width), Cs lone surrogates, Co
# private use, Zl/Zp line and paragraph separators: nothing a reader can see for what it is.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
BACKTICK_STANDIN = "ˋ"  # U+02CB looks like a backtick but does not end a code span


def hidden_char(text: str) -> str | None:
    """The first character of `text` a reader could not see for what it is, or None."""
    return next((c for c in text if unicodedata.category(c) in HIDDEN_CATEGORIES), None)


def char_name(char: str) -> str:
    """`U+202E` style name of one character, for messages that refuse it."""
    return f"U+{ord(char):04X}"


def _shown(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in HIDDEN_CATEGORIES:
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def visible(text: str, limit: int | None = None) -> str:
    """`text` on one line with every hidden character written as an escape; cut to `limit`."""
    shown = "".join(_shown(c) for c in text) if hidden_char(text) is not None else text
    if limit is not None and len(shown) > limit:
        return shown[: max(0, limit - 1)] + "…"
    return shown


def quote(text: str, limit: int = 60) -> str:
    """User text inside a message: `visible(text)` in a code span that nothing can close."""
    return f"`{visible(text, limit).replace('`', BACKTICK_STANDIN)}`"

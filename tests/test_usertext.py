"""One function makes typed text inert wherever it is echoed."""

from __future__ import annotations

import pytest

from bot.render.blocks import code
from bot.usertext import hidden_char, quote, visible


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("web\n`restart` `db` by <@U0ADMIN> — ok", "`web\\nˋrestartˋ ˋdbˋ by <@U0ADMIN> — ok`"),
        ("*bold* _it_ ~s~", "`*bold* _it_ ~s~`"),  # inside a code span Slack formats nothing
        ("abc\u202edef", "`abc\\u202edef`"),
        ("a\u200bb\ufeff", "`a\\u200bb\\ufeff`"),
        ("caf\udce9", "`caf\\udce9`"),
        ("\x1b[2J\x7f\r", "`\\x1b[2J\\x7f\\r`"),
        ("line\u2028sep", "`line\\u2028sep`"),
        ("café ✓ 日本", "`café ✓ 日本`"),
    ],
)
def test_quote_keeps_typed_text_on_one_line_inside_one_code_span(typed: str, shown: str) -> None:
    assert quote(typed, 200) == shown


def test_code_also_escapes_mrkdwn_specials_so_nothing_pings() -> None:
    assert code("<!channel> & <@U1>") == "`&lt;!channel&gt; &amp; &lt;@U1&gt;`"


def test_visible_cuts_after_escaping_and_stays_encodable() -> None:
    assert visible("\ud800" * 10, 13) == "\\ud800\\ud800…"
    visible("\ud800").encode("utf-8")  # a lone surrogate no longer breaks UTF-8 writers
    assert hidden_char("plain text") is None and hidden_char("a\tb") == "\t"

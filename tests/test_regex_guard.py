"""The `--grep` words and the pattern guard: pure units."""

from __future__ import annotations

import pytest

from bot import errors, grammar
from bot.regex_guard import compile_user_regex, risky


@pytest.mark.parametrize(
    "pattern",
    ["ERROR", "ERROR.*timeout", r"\w+\s*=\s*\w+", "(GET|POST) /api", "(ab){1,3}", r"(?:ab)+",
     r"(?P<n>x+)y", r"\(a+\)+", "[(]a+[)]+", "(a|b){2}"],
)  # fmt: skip
def test_ordinary_patterns_pass_the_guard(pattern: str) -> None:
    assert risky(pattern) == ""


@pytest.mark.parametrize(
    "pattern", ["(a+)+", "(a*)*", "(a|aa)*", "((a+))+", "(a{2,})*", "(x+y)+z", "(a|b){2,}"]
)
def test_nested_repetition_is_refused_with_a_reason(pattern: str) -> None:
    with pytest.raises(errors.UsageError, match="repeats a group that itself repeats"):
        compile_user_regex(pattern)


def test_a_long_or_multiline_or_invalid_pattern_is_refused() -> None:
    with pytest.raises(errors.UsageError, match="201 characters; at most 200"):
        compile_user_regex("a" * 201)
    with pytest.raises(errors.UsageError, match="one line"):
        compile_user_regex("a\nb")
    with pytest.raises(errors.UsageError, match="not a valid regular expression"):
        compile_user_regex("[a-")


def test_tail_grep_words_parse_with_count_case_and_context() -> None:
    c = grammar.parse("tail web --grep 'conn refused' -i -C 2 20")
    assert (c.grep, c.flag("-i"), c.context, c.lines) == ("conn refused", True, 2, 20)
    assert grammar.parse("tail web").grep is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tail web --grep", "`--grep` needs a value"),
        ("tail web -i", "go with `--grep`"),
        ("tail web --grep x --follow", "do not go together"),
    ],
)
def test_tail_grep_misuse_is_explained(text: str, says: str) -> None:
    with pytest.raises(errors.UsageError, match=says):
        grammar.parse(text)


def test_context_out_of_range_is_explained() -> None:
    with pytest.raises(errors.UsageError, match="use 0 to 10"):
        _ = grammar.parse("tail web --grep x -C 11").context

"""Secret redaction: no secret leaves the machine, key names stay visible, innocent text is kept."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from bot.redact import REDACTED, Redactor

CORPUS_FILE = Path(__file__).parent / "payloads" / "secrets_corpus.txt"


def _load_corpus() -> list[tuple[int, str, str]]:
    """(line number, secret, line) for every `<secret> :: <line>` entry of the corpus file."""
    entries = []
    for number, raw in enumerate(CORPUS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip() and not raw.startswith("#"):
            secret, line = raw.split(" :: ", 1)
            entries.append((number, secret, line))
    return entries


CORPUS = _load_corpus()
CORPUS_PARAMS = [pytest.param(s, line, id=f"corpus:{n}") for n, s, line in CORPUS]
REDACTOR = Redactor()


def _fragments(secret: str, size: int = 8) -> set[str]:
    """Every `size`-character slice of the secret (the whole secret when shorter)."""
    return {secret[i : i + size] for i in range(max(1, len(secret) - size + 1))}


def _fake_key(kind: str = "RSA PRIVATE KEY", lines: int = 6) -> tuple[str, list[str]]:
    """A PEM-shaped block of random (meaningless) base64 and its body lines."""
    blob = base64.b64encode(random.Random(kind).randbytes(48 * lines)).decode()
    body = [blob[i : i + 64] for i in range(0, len(blob), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *body, f"-----END {kind}-----"]), body


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_has_about_forty_lines_each_containing_its_secret() -> None:
    assert len(CORPUS) >= 40
    for _, secret, line in CORPUS:
        assert secret in line


@pytest.mark.parametrize(("secret", "line"), CORPUS_PARAMS)
def test_no_part_of_a_corpus_secret_survives(secret: str, line: str) -> None:
    out = REDACTOR.redact(line)
    assert [f for f in _fragments(secret) if f in out] == []


@pytest.mark.parametrize(("secret", "line"), CORPUS_PARAMS)
def test_corpus_line_keeps_key_names_and_everything_but_the_secret(secret: str, line: str) -> None:
    assert REDACTOR.redact(line) == line.replace(secret, REDACTED)


def test_whole_corpus_redacted_as_one_log_keeps_every_line() -> None:
    lines = [line for _, _, line in CORPUS]
    assert REDACTOR.redact_lines(lines) == [line.replace(s, REDACTED) for _, s, line in CORPUS]


@pytest.mark.parametrize(("secret", "line"), CORPUS_PARAMS)
def test_redacting_twice_changes_nothing_more(secret: str, line: str) -> None:
    once = REDACTOR.redact(line)
    assert REDACTOR.redact(once) == once


# --- behaviour, one rule at a time ---------------------------------------------------------------


def test_slack_bot_token_is_redacted() -> None:
    line = "posting as xoxb-2718281828-3141592653589-Zq8RkT4mWv2YpL9sXc1NbH7d"
    assert REDACTOR.redact(line) == f"posting as {REDACTED}"


def test_slack_webhook_url_is_redacted() -> None:
    line = (
        "POST https://hooks.slack.com/services/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 ok"
    )
    assert REDACTOR.redact(line) == f"POST {REDACTED} ok"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("password=hunter2x", f"password={REDACTED}"),
        ("PASSWD=hunter2x", f"PASSWD={REDACTED}"),
        ("Pwd: hunter2x", f"Pwd: {REDACTED}"),
        ('{"password": "hunter2x"}', f'{{"password": "{REDACTED}"}}'),
        ("  password: hunter2x", f"  password: {REDACTED}"),
        ("secret=s3cr3t token=t0k3n", f"secret={REDACTED} token={REDACTED}"),
        (
            "api_key=k1 apikey=k2 access_token=k3",
            f"api_key={REDACTED} apikey={REDACTED} access_token={REDACTED}",
        ),
        ("client_secret='cs-42'", f"client_secret='{REDACTED}'"),
    ],
)
def test_secret_values_are_redacted_and_key_names_stay_visible(line: str, expected: str) -> None:
    assert REDACTOR.redact(line) == expected


def test_query_string_secret_is_redacted_without_touching_other_parameters() -> None:
    line = "GET /export?user=bob&token=f3a9c2e17b5d&limit=5 200"
    assert REDACTOR.redact(line) == f"GET /export?user=bob&token={REDACTED}&limit=5 200"


@pytest.mark.parametrize("scheme", ["Bearer", "Basic", "Digest", "token"])
def test_authorization_header_keeps_its_scheme(scheme: str) -> None:
    line = f"Authorization: {scheme} dXNlcjpzM2NyM3RQYXNzd29yZA=="
    assert REDACTOR.redact(line) == f"Authorization: {scheme} {REDACTED}"


def test_url_credentials_keep_user_and_host() -> None:
    line = "DATABASE_URL=postgres://app_user:Zr7p!Kq2vX9m@db01.internal:5432/orders"
    expected = f"DATABASE_URL=postgres://app_user:{REDACTED}@db01.internal:5432/orders"
    assert REDACTOR.redact(line) == expected


def test_aws_access_key_id_and_secret_key_are_redacted() -> None:
    line = "aws_access_key_id=AKIAZ7Q4RX2M5NV3KL8P aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    expected = f"aws_access_key_id={REDACTED} aws_secret_access_key={REDACTED}"
    assert REDACTOR.redact(line) == expected


def test_jwt_is_redacted_including_its_signature() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.Qm3vX8kL2pT7wR9zN4cF1hJ6dS0aY5uE8iO3gB7nK2M"
    assert REDACTOR.redact(f"session {jwt} expired") == f"session {REDACTED} expired"


def test_stripe_key_longer_than_the_detect_secrets_pattern_is_redacted_whole() -> None:
    key = "sk_live_51Hx9KQ2eZvKYlo2C7pR4tY8wB1nC5dF3gH6jK9mL2qS4vX7zA0"
    assert REDACTOR.redact(f"stripe key {key}") == f"stripe key {REDACTED}"


def test_utf8_text_around_a_secret_is_preserved() -> None:
    line = "café € naïve 日本語 password=crème-brûlée-42 ✓"
    assert REDACTOR.redact(line) == f"café € naïve 日本語 password={REDACTED} ✓"


# --- innocent lines ------------------------------------------------------------------------------

INNOCENT = [
    "GET /login 200 12ms",
    "token bucket refilled",
    "password reset email sent to bob",
    "café € crème brûlée, naïve 日本語",
    "2024-05-14 09:12:03,114 INFO supervisord started with pid 4211",
    "web:web_00                       RUNNING   pid 4242, uptime 3 days, 4:05:06",
    "Authorization failed for user bob (invalid credentials)",
    "token_type=bearer expires_in=3600",
    "GET /api/v1/users?page=2&per_page=50 HTTP/1.1 200 1532",
    "proxying to https://example.com:8443/path/to/resource?q=a@b",
    "git fetch ssh://git@github.com/ops/supbot.git",
    "Enter password: ",
    "secrets manager rotation completed for 3 keys",
    "cache key=user:42 hit_ratio=0.97 tokens_used=1532",
    "starting worker --password-file /run/secrets/db --verbose",
    "xoxo-hugs-and-kisses from the release team",
    "AKIA is the prefix of long-term AWS access key IDs",
    'Traceback (most recent call last):\n  File "/opt/supbot/bot/slack.py", line 42, in handle',
    "disk /dev/sda1 at 91% (warning threshold 90%)",
    "ssh -p 2222 deploy@bastion",
    "mkdir -p /var/run/app",
    "wrong password for user bob",
    "password authentication failed for user app",
    "cookie: consent banner shown",
    "GET https://example.com/health 200",
]


@pytest.mark.parametrize("line", INNOCENT)
def test_innocent_line_comes_out_unchanged(line: str) -> None:
    assert REDACTOR.redact(line) == line


def test_innocent_lines_come_out_unchanged_through_redact_lines() -> None:
    assert REDACTOR.redact_lines(["", *INNOCENT, ""]) == ["", *"\n".join(INNOCENT).split("\n"), ""]


def test_redact_lines_of_nothing_is_nothing() -> None:
    assert REDACTOR.redact_lines([]) == []
    assert REDACTOR.redact_lines(iter([""])) == [""]


# --- extra patterns from config ------------------------------------------------------------------


def test_extra_pattern_without_a_group_redacts_the_whole_match() -> None:
    redactor = Redactor([r"corp_[0-9a-f]{32}"])
    line = "internal key corp_4f1c9e2a7b3d5f8e0a6c4b2d9e7f1a3c loaded"
    assert redactor.redact(line) == f"internal key {REDACTED} loaded"


def test_extra_pattern_with_a_group_redacts_only_group_one() -> None:
    redactor = Redactor([r"X-Internal-Sig: (\S+)"])
    assert redactor.redact("X-Internal-Sig: a1b2c3d4 next") == f"X-Internal-Sig: {REDACTED} next"


def test_extra_patterns_apply_alongside_the_builtin_rules() -> None:
    redactor = Redactor([r"member-\d{8}", r"(?i)pin=(\d+)"])
    line = "member-12345678 PIN=4321 password=hunter2x"
    assert redactor.redact(line) == f"{REDACTED} PIN={REDACTED} password={REDACTED}"
    assert Redactor().redact("member-12345678 PIN=4321") == "member-12345678 PIN=4321"


def test_extra_pattern_anchors_match_each_line_of_multiline_text() -> None:
    redactor = Redactor([r"^LICENSE (\S+)$"])
    text = "boot\nLICENSE ab12-cd34\nready"
    assert redactor.redact(text) == f"boot\nLICENSE {REDACTED}\nready"


def test_extra_pattern_matching_the_empty_string_changes_nothing() -> None:
    assert Redactor([r"z*"]).redact("GET /login 200 12ms") == "GET /login 200 12ms"


# --- private keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ],
)
def test_multiline_private_key_block_is_redacted_whole(kind: str) -> None:
    block, body = _fake_key(kind)
    text = f"loading deploy key\n{block}\nkey loaded"
    out = REDACTOR.redact(text)
    assert out == f"loading deploy key\n{REDACTED}\nkey loaded"
    assert not any(line in out for line in body)


def test_private_key_block_across_lines_of_redact_lines_becomes_one_line() -> None:
    block, _ = _fake_key("OPENSSH PRIVATE KEY")
    lines = ["$ cat ~/.ssh/id_ed25519", *block.split("\n"), "$ exit"]
    assert REDACTOR.redact_lines(lines) == ["$ cat ~/.ssh/id_ed25519", REDACTED, "$ exit"]


def test_private_key_cut_off_before_its_end_is_redacted_to_the_end() -> None:
    block, _ = _fake_key()
    head = block.split("\n")[:4]
    out = REDACTOR.redact_lines(["dumping env", *head])
    assert out == ["dumping env", REDACTED]


def test_private_key_tail_without_its_begin_line_is_redacted() -> None:
    block, body = _fake_key()
    tail = block.split("\n")[-4:]
    out = REDACTOR.redact_lines(["worker exited", *tail, "restarting"])
    assert out == ["worker exited", REDACTED, "restarting"]
    assert not any(line in "\n".join(out) for line in body)


# --- the secrets supbot knows: hidden literally, whatever their shape ---------------------------

KNOWN_TOML = """
[[api_tokens]]
name = "deploy"
token_env = "TOK_DEPLOY"
role = "operator"

[[jobs]]
name = "backup"
schedule = "0 3 * * *"
command = ["true"]
env = { DB_PASSWORD = "job-db-P4ss", APP_ENV = "production" }

[[commands]]
name = "warm"
command = ["true"]
env = { STRIPE_KEY = "cmd-stripe-K3y" }
"""
KNOWN_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-11-22-botTokenValue",
    "SLACK_SIGNING_SECRET": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "SLACK_APP_TOKEN": "xapp-1-A0-77-appTokenValue",
    "NODE_PW": "n0de-pw-Secret",
    "TOK_DEPLOY": "deploy-token-9f8e7d6c",
}


@pytest.fixture
def known(tmp_path: Path) -> tuple[Redactor, frozenset[str]]:
    """A redactor built as supbot builds it, from a config with every kind of secret."""
    from bot.secret_values import secret_values
    from tests.conftest import make_settings

    nodes = (
        '[[nodes]]\nname = "n"\nurl = "http://h:9001"\nusername = "u"\npassword_env = "NODE_PW"\n'
    )
    settings = make_settings(tmp_path, nodes + KNOWN_TOML, KNOWN_ENV)
    values = secret_values(settings)
    return Redactor(settings.redaction_patterns, values), values


def test_every_secret_value_of_the_config_is_known(known) -> None:
    _, values = known
    expected = {*KNOWN_ENV.values(), "job-db-P4ss", "cmd-stripe-K3y"}
    assert values == expected  # APP_ENV's "production" is not a secret: its name says so


@pytest.mark.parametrize("secret", [*KNOWN_ENV.values(), "job-db-P4ss", "cmd-stripe-K3y"])
def test_a_known_secret_printed_bare_is_redacted(known, secret: str) -> None:
    redactor, _ = known
    assert redactor.redact(f"debug: using {secret} now") == f"debug: using {REDACTED} now"
    assert redactor.redact("APP_ENV=production") == "APP_ENV=production"


def test_a_known_secret_split_over_two_lines_is_redacted_and_the_lines_stay(known) -> None:
    redactor, _ = known
    secret = KNOWN_ENV["SLACK_SIGNING_SECRET"]
    lines = ["wrapped: " + secret[:13], secret[13:] + " (end)", "next"]
    assert redactor.redact_lines(lines) == [f"wrapped: {REDACTED}", f"{REDACTED} (end)", "next"]
    crlf = redactor.redact(f"x {secret[:5]}\r\n{secret[5:]} y")
    assert crlf == f"x {REDACTED}\r\n{REDACTED} y"


@pytest.mark.parametrize("prefix", [b"", b"u:", b"ab:", b"user="])
def test_base64_of_a_known_secret_is_redacted_at_any_alignment(known, prefix: bytes) -> None:
    redactor, _ = known
    secret = KNOWN_ENV["NODE_PW"].encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        blob = encode(prefix + secret + b"&x=1").decode()
        assert redactor.redact(f"header {blob} sent") == f"header {REDACTED} sent"


@pytest.mark.parametrize(
    "plain", [b"password=hunter2", b"u=bob&password=hunter2", b'{"password":"x1"}']
)
def test_base64_that_decodes_to_a_password_is_redacted(plain: bytes) -> None:
    blob = base64.b64encode(plain).decode()
    assert REDACTOR.redact(f"state={blob};") == f"state={REDACTED};"


def test_cookie_values_go_and_names_stay() -> None:
    line = "Cookie: sid=abc123; theme=dark"
    assert REDACTOR.redact(line) == f"Cookie: sid={REDACTED}; theme={REDACTED}"


def test_short_known_values_are_not_redacted_everywhere() -> None:
    assert Redactor(known=["admin"]).redact("admin login ok") == "admin login ok"


# --- following a log: pieces cut anywhere ---------------------------------------------------------


def test_follow_shows_a_secret_cut_between_two_pieces_redacted_whole() -> None:
    from bot.redact_follow import FollowRedactor

    follower = FollowRedactor(Redactor(), hold=15)
    first = follower.feed("ok\nconnecting with password=hun", 0.0)
    second = follower.feed("ter2secret now\n", 1.0)
    assert first == ["ok"] and second == [f"connecting with password={REDACTED} now"]


def test_follow_holds_a_line_ending_in_the_start_of_a_known_secret(known) -> None:
    from bot.redact_follow import FollowRedactor

    redactor, _ = known
    secret = KNOWN_ENV["SLACK_SIGNING_SECRET"]
    follower = FollowRedactor(redactor, hold=15)
    assert follower.feed(f"wrapped {secret[:10]}\n", 0.0) == []
    assert follower.feed(f"{secret[10:]}\n", 1.0) == [f"wrapped {REDACTED}", REDACTED]


def test_follow_hides_a_private_key_spread_over_pieces() -> None:
    from bot.redact_follow import FollowRedactor

    block, body = _fake_key(lines=9)
    text = f"loading\n{block}\nkey loaded\n"
    follower = FollowRedactor(Redactor(), hold=15)
    shown = [
        line for at in range(0, len(text), 97) for line in follower.feed(text[at : at + 97], 0)
    ]
    shown += follower.finish()
    assert shown == ["loading", REDACTED, "key loaded"]
    assert not any(line in "\n".join(shown) for line in body)


def test_follow_shows_a_held_partial_line_after_a_while_and_at_the_end() -> None:
    from bot.redact_follow import FollowRedactor

    follower = FollowRedactor(Redactor(), hold=5)
    assert follower.feed("Enter password: ", 0.0) == []
    assert follower.feed("", 4.0) == []
    assert follower.feed("", 5.0) == ["Enter password: "]
    assert follower.feed("token=abc", 6.0) == []
    assert follower.finish() == [f"token={REDACTED}"]

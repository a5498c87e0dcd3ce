"""Configuration: every problem listed with its key path; unknown keys are errors."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config_load import load_settings, parse_settings, read_secrets
from bot.config_reader import ConfigError

ROOT = Path(__file__).resolve().parent.parent

MINIMAL = """
[[nodes]]
name = "local"
url = "unix:///tmp/none.sock"
"""


def parse(text: str, tmp: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    source = tmp / "conf" / "supbot.toml"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text)
    return parse_settings(tomllib.loads(text), source, env or {})


def problems(text: str, tmp: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse(text, tmp, env)
    return exc.value.problems


def test_minimal_file_gives_defaults(tmp_path: Path) -> None:
    s = parse(MINIMAL, tmp_path)
    assert s.timezone == "UTC"
    assert s.nodes[0].timeout == 5.0
    assert s.nodes[0].username is None and s.nodes[0].password is None
    assert s.storage.retention == 90 * 86400
    assert s.status_cache_ttl == 5.0


def test_example_file_is_valid(tmp_path: Path) -> None:
    text = (ROOT / "supbot.example.toml").read_text()
    s = parse(text, tmp_path)
    assert s.nodes[0].name == "local"
    assert s.channels[0].operators == ("U0ALICE", "S0ONCALL")


def test_relative_storage_dir_is_relative_to_the_config_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    s = parse('[storage]\ndir = "state/db"\n' + MINIMAL, tmp_path)
    assert s.storage.dir == (tmp_path / "conf" / "state" / "db").resolve()


def test_absolute_storage_dir_is_kept(tmp_path: Path) -> None:
    s = parse(f'[storage]\ndir = "{tmp_path}/abs"\n' + MINIMAL, tmp_path)
    assert s.storage.dir == tmp_path / "abs"


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    text = """
timezone = "Mars/Olympus"

[storage]
retention = "forever"

[[nodes]]
name = "a"
url = "unix:///tmp/a.sock"
timeout = "soon"

[[nodes]]
name = "b"
url = "ftp://example.com"
password_env = "SUP_B_PW"

[[jobs]]
name = "backup"
schedule = "every night"
command = ["true"]
timezone = "Nowhere/City"
"""
    found = problems(text, tmp_path)
    expected = [
        "timezone: unknown timezone 'Mars/Olympus'",
        "storage.retention: 'forever' is not a duration",
        "nodes[0].timeout: 'soon' is not a duration",
        "nodes[1].url: unsupported scheme 'ftp'",
        "nodes[1].password_env: environment variable SUP_B_PW is not set",
        "jobs[0].schedule: invalid cron expression 'every night'",
        "jobs[0].timezone: unknown timezone 'Nowhere/City'",
    ]
    for prefix in expected:
        assert any(p.startswith(prefix) for p in found), (prefix, found)
    assert len(found) == len(expected), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[channels]]\nid = "C0OPS"\noperator = ["U0A"]\n',
            "channels[0].operator: unknown key (did you mean 'operators'?)",
        ),
        ('timezon = "UTC"\n', "timezon: unknown key (did you mean 'timezone'?)"),
        ('[storage]\ndirr = "x"\n', "storage.dirr: unknown key (did you mean 'dir'?)"),
        ("[[nodes]]\nname='x'\nurl='unix:///a'\ntimout = 3\n", "nodes[0].timout: unknown key"),
        ('[storag]\ndir = "x"\n', "storag: unknown key (did you mean 'storage'?)"),
    ],
)
def test_unknown_keys_are_errors_with_a_did_you_mean(
    tmp_path: Path, text: str, expected: str
) -> None:
    found = problems(text + MINIMAL if "[[nodes]]" not in text else text, tmp_path)
    assert any(p.startswith(expected) for p in found), found


def test_unknown_key_far_from_any_known_one_has_no_suggestion(tmp_path: Path) -> None:
    found = problems("zzzqqq = 1\n" + MINIMAL, tmp_path)
    assert found == ["zzzqqq: unknown key"]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('url = "ftp://x"', "nodes[0].url: unsupported scheme 'ftp'"),
        ('url = "/run/supervisor.sock"', "nodes[0].url: unsupported scheme ''"),
        ('url = "unix:///a"\ntimeout = 0', "nodes[0].timeout: must be more than 0"),
        ('url = "unix:///a"\ntimeout = "-3s"', "nodes[0].timeout: '-3s' is not a duration"),
        ('url = "unix:///a"\ntimeout = true', "nodes[0].timeout: expected a duration"),
        ('url = "unix:///a"\nusername = 5', "nodes[0].username: expected a string, got int"),
        ('url = "unix:///a"\npassword_env = "NOPE_PW"', "nodes[0].password_env: environment"),
    ],
)
def test_bad_node_settings_name_the_key(tmp_path: Path, snippet: str, expected: str) -> None:
    found = problems(f'[[nodes]]\nname = "n"\n{snippet}\n', tmp_path)
    assert any(p.startswith(expected) for p in found), found


def test_password_comes_from_the_named_environment_variable(tmp_path: Path) -> None:
    text = '[[nodes]]\nname="h"\nurl="http://127.0.0.1:9001"\nusername="ops"\npassword_env="PW"\n'
    s = parse(text, tmp_path, {"PW": "s3cret"})
    assert (s.nodes[0].username, s.nodes[0].password) == ("ops", "s3cret")
    assert "s3cret" not in repr(s.nodes[0])


def test_missing_nodes_and_node_fields_are_reported(tmp_path: Path) -> None:
    assert problems("", tmp_path) == ["nodes: at least one [[nodes]] table is required"]
    found = problems("[[nodes]]\n", tmp_path)
    assert "nodes[0].name: is required" in found and "nodes[0].url: is required" in found


def test_duplicate_names_are_reported(tmp_path: Path) -> None:
    found = problems(MINIMAL + MINIMAL, tmp_path)
    assert any(p.startswith("nodes[1].name: duplicate node name 'local'") for p in found)


def test_channel_ids_and_members_are_checked(tmp_path: Path) -> None:
    text = MINIMAL + '[[channels]]\nid = "ops"\nviewers = ["alice"]\nadmins = ["U0BOB"]\n'
    found = problems(text, tmp_path)
    assert any(p.startswith("channels[0].id: 'ops' is not a Slack channel ID") for p in found)
    assert any(p.startswith("channels[0].viewers: 'alice' is not a user ID") for p in found)
    assert len(found) == 2


def test_bad_cron_in_alert_digest_and_bad_regexes(tmp_path: Path) -> None:
    text = MINIMAL + (
        '[alerts]\ndigest = "61 * * * *"\n[redaction]\npatterns = ["("]\n'
        '[[commands]]\nname = "c"\ncommand = ["true"]\nargs = "[a-"\n'
    )
    found = problems(text, tmp_path)
    assert any(p.startswith("alerts.digest: invalid cron expression") for p in found)
    assert any(p.startswith("redaction.patterns: invalid regular expression '('") for p in found)
    assert any(p.startswith("commands[0].args: invalid regular expression") for p in found)


def test_job_choices_and_empty_command(tmp_path: Path) -> None:
    text = MINIMAL + '[[jobs]]\nname="j"\nschedule="0 3 * * *"\ncommand=[]\noverlap="queue"\n'
    found = problems(text, tmp_path)
    assert any(p.startswith("jobs[0].command: must name a program") for p in found)
    assert any(p.startswith("jobs[0].overlap: must be one of skip, allow") for p in found)


def test_wrong_types_for_tables_are_reported(tmp_path: Path) -> None:
    found = problems('nodes = "local"\nstorage = 3\n', tmp_path)
    assert "nodes: expected [[nodes]] tables" in found
    assert "storage: expected a [storage] table" in found


def test_slack_api_url_gets_a_trailing_slash() -> None:
    assert read_secrets({"SLACK_API_URL": "http://127.0.0.1:8080/api"}).api_url == (
        "http://127.0.0.1:8080/api/"
    )
    assert read_secrets({}).api_url == "https://slack.com/api/"


def test_load_settings_reports_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(str(tmp_path / "nope.toml"), env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[[nodes]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(bad), env={})


def test_load_settings_reads_supbot_config_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(MINIMAL)
    s = load_settings(env={"SUPBOT_CONFIG": str(path)})
    assert s.source == path


def test_cli_with_a_bad_file_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "supbot.toml"
    path.write_text('timezone = "Nope/Nope"\n[[nodes]]\nname = "a"\nurl = "ftp://x"\ntimout = 1\n')
    env = {**os.environ, "SUPBOT_CONFIG": str(path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"configuration error in {path}" in proc.stderr
    assert "timezone: unknown timezone 'Nope/Nope'" in proc.stderr
    assert "nodes[0].url: unsupported scheme 'ftp'" in proc.stderr
    assert "nodes[0].timout: unknown key (did you mean 'timeout'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sighup_rereads_the_file_and_a_bad_file_keeps_the_old_one(tmp_path: Path) -> None:
    import signal

    from bot.services import Runtime

    path = tmp_path / "supbot.toml"
    path.write_text('[storage]\ndir = "s"\n' + MINIMAL)
    runtime = Runtime(str(path))
    previous = signal.getsignal(signal.SIGHUP)
    try:
        runtime.install_sighup()
        path.write_text('[storage]\ndir = "s"\n[console]\nuser = "U0NEW"\n' + MINIMAL)
        os.kill(os.getpid(), signal.SIGHUP)
        assert runtime.settings.console_user == "U0NEW"
        good = runtime.services
        path.write_text('[storage]\ndir = "s"\n[console]\nusr = "U0BAD"\n' + MINIMAL)
        os.kill(os.getpid(), signal.SIGHUP)
        assert runtime.services is good and runtime.settings.console_user == "U0NEW"
        assert runtime.reload_config() is False
    finally:
        signal.signal(signal.SIGHUP, previous)
        runtime.services.close()


TOKENS = """
[[api_tokens]]
name = "ci"
token_env = "CI_TOKEN"
role = "viewer"

[[api_tokens]]
name = "ops"
token_env = "OPS_TOKEN"
role = "admin"
"""


def test_two_api_tokens_with_the_same_value_are_an_error_naming_both(tmp_path: Path) -> None:
    env = {"CI_TOKEN": "same-value-1234567890", "OPS_TOKEN": "same-value-1234567890"}
    found = problems(MINIMAL + TOKENS, tmp_path, env)
    assert found == [
        "api_tokens[1].token_env: holds the same token as api_tokens[0].token_env; every token "
        "must be different (a request would get the first one's rights)"
    ]
    assert not any("same-value" in p for p in found)


def test_duplicate_api_token_names_and_channel_ids_are_errors(tmp_path: Path) -> None:
    text = MINIMAL + TOKENS.replace('"ops"', '"ci"')
    text += '[[channels]]\nid = "C0OPS"\n[[channels]]\nid = "C0OPS"\n'
    text += '[[command_sources]]\nname = "artisan"\ncommand = ["a"]\n' * 2
    found = problems(text, tmp_path, {"CI_TOKEN": "one-token-value", "OPS_TOKEN": "another-one"})
    assert sorted(found) == [
        "api_tokens[1].name: duplicate 'ci' (also api_tokens[0].name)",
        "channels[1].id: duplicate 'C0OPS' (also channels[0].id)",
        "command_sources[1].name: duplicate 'artisan' (also command_sources[0].name)",
    ]

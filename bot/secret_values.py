"""The secret values supbot knows from its configuration, for literal redaction and for keeping
them out of the environment of jobs and commands."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.config import Settings

# A job/command `env` entry is a secret when its NAME says so (DB_PASSWORD, API_KEY, SENTRY_DSN…).
SECRET_ENV_NAME = re.compile(r"pass|pwd|secret|token|key|credential|auth|dsn|cookie", re.I)


def secret_env_values(env: Mapping[str, str]) -> list[str]:
    """The values of `env` whose names mark them secret."""
    return [value for name, value in env.items() if SECRET_ENV_NAME.search(name)]


def own_secret_values(settings: Settings) -> frozenset[str]:
    """supbot's own secrets: the SLACK_* tokens and signing secret, node passwords, API tokens
    (what jobs and commands must not inherit)."""
    s = settings.secrets
    values = [s.bot_token, s.signing_secret, s.app_token]
    values += [n.password or "" for n in settings.nodes]
    values += [t.token for t in settings.api_tokens]
    return frozenset(v for v in values if v)


def secret_values(settings: Settings) -> frozenset[str]:
    """Every secret value in `settings` (what redaction hides literally): supbot's own, and the
    secret `env` values of [[jobs]] and [[commands]]."""
    envs = [job.env for job in settings.jobs] + [command.env for command in settings.commands]
    env = [value for env in envs for value in secret_env_values(env)]
    return own_secret_values(settings) | frozenset(v for v in env if v)

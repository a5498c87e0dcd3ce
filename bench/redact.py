"""Redaction cost: milliseconds per 1,000 log lines, the way tails are redacted (one call for the
lines together), with the known secrets of a config (Slack tokens, node passwords, API tokens,
secret env values) and without. Lines are realistic: ~120 characters, one in ten holding a
secret. Target: ≤ 10 ms per 1,000 lines (median of the runs; exit code 1 when it fails).

    .venv/bin/python bench/redact.py [--runs 21] [--lines 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.redact import Redactor  # noqa: E402
from bot.redact_follow import FollowRedactor  # noqa: E402

TARGET_MS = 10.0
KNOWN = [
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "xapp-1-A05QWERTY12-5829163740251-8f3c2a9e7b6d5c4f1a0e9d8c",
    "8f742231b10e8888abcd99yyyzzz85a5",
    "node-one-Password-42",
    "node-two-Password-43",
    "tok-admin-0123456789abcdef",
    "tok-deploy-0123456789abcdef",
    "tok-viewer-0123456789abcdef",
    "s3cr3t-db-Pa55word",
    "api-key-7Qw2Er4Ty6Ui8Op0As1Df3Gh",
]
PLAIN = [
    "2024-05-14 09:12:{s:02d},114 INFO app.http GET /api/v1/orders?page={n}&per_page=50 200 {n}ms",
    "2024-05-14 09:12:{s:02d},114 DEBUG worker.queue job {n} picked up by worker_03 after {n}ms",
    "2024-05-14 09:12:{s:02d},114 WARNING cache miss for key user:{n}:profile (ttl 300s) café €",
    "web:web_00 RUNNING pid {n}, uptime 3 days, 4:05:06 /usr/local/bin/python3 -m app.server",
    '{{"level":"info","ts":"2024-05-14T09:12:{s:02d}Z","msg":"request done","status":200,"n":{n}}}',
]
SECRET = [
    "2024-05-14 09:12:{s:02d} ERROR db connect failed host=db01 user=app password=Tr0ub4dor&3x",
    "2024-05-14 09:12:{s:02d} DEBUG slack client token xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "2024-05-14 09:12:{s:02d} DEBUG signing with 8f742231b10e8888abcd99yyyzzz85a5 ({n})",
    "> Authorization: Bearer 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b request {n}",
    "Set-Cookie: session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.Qm3vX8kL2pT7wR9zN4cF; HttpOnly",
]


def log_lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        template = rng.choice(SECRET if i % 10 == 0 else PLAIN)
        lines.append(template.format(s=i % 60, n=rng.randrange(100000)))
    return lines


def per_thousand(work: list[str], call, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call(work)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000 * 1000 / len(work)


def follow_all(redactor: Redactor, lines: list[str]) -> None:
    """The same lines through a follow redactor, in 10 polls that cut lines in half."""
    text = "\n".join(lines) + "\n"
    follower, step = FollowRedactor(redactor), len(text) // 10 + 1
    for at in range(0, len(text), step):
        follower.feed(text[at : at + step], 0.0)
    follower.finish()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    lines = log_lines(args.lines)
    bare, known = Redactor(), Redactor(known=KNOWN)
    rows = [
        ("patterns only, redact_lines", per_thousand(lines, bare.redact_lines, args.runs)),
        (
            f"+ {len(KNOWN)} known secrets, redact_lines",
            per_thousand(lines, known.redact_lines, args.runs),
        ),
        (
            "+ known secrets, one line at a time",
            per_thousand(lines, lambda ls: [known.redact(x) for x in ls], args.runs),
        ),
        (
            "+ known secrets, follow in 10 polls",
            per_thousand(lines, lambda ls: follow_all(known, ls), args.runs),
        ),
    ]
    print(f"ms per 1,000 lines (median of {args.runs} runs of {args.lines} lines)")
    for name, ms in rows:
        print(f"  {name:<44} {ms:7.2f}")
    worst = max(rows[1][1], rows[3][1])
    verdict = "PASS" if worst <= TARGET_MS else "FAIL"
    print(f"{verdict}  tail and follow redaction ≤ {TARGET_MS:g} ms per 1,000 lines: {worst:.2f}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())

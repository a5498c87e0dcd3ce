"""`supbot console`: a line-oriented chat speaking the `/sup` grammar, as `[console] user`.

Buttons are numbered choices: type the number to click. Works with piped input.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import TextIO

from bot import errors
from bot.auth import Access
from bot.choices import choices
from bot.errors import ExitStatus
from bot.log_follow import follow_log
from bot.render.text import render_text
from bot.replies import Choice, MessageReply, Reply, TailReply
from bot.services import Runtime

BANNER = "supbot console — the /sup commands, as in Slack. `help` lists them, `quit` leaves."
FOLLOW_SECONDS = 300.0


class Console:
    def __init__(self, runtime: Runtime, stdin: TextIO, stdout: TextIO, tour: str = "") -> None:
        self.runtime, self.stdin, self.stdout = runtime, stdin, stdout
        self.pending: list[Choice] = []
        self.interactive = stdin.isatty()
        self.tour = tour  # the demo's suggested first commands, shown above `help`
        # Held while one answer is printed: a channel feed (the demo's) waits for its end.
        self.output = threading.RLock()

    def say(self, text: str) -> None:
        with self.output:
            self.stdout.write(text + "\n")
            self.stdout.flush()

    def access(self) -> Access:
        services = self.runtime.services
        return services.authorizer.for_console()

    def run(self) -> int:
        self.say(BANNER)
        while True:
            if self.interactive:
                self.stdout.write("sup> ")
                self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                return ExitStatus.OK
            text = line.strip()
            if text.startswith("/sup"):
                text = text[4:].strip()
            if text in ("quit", "exit", "q"):
                return ExitStatus.OK
            if not text:
                continue
            if not self.interactive:
                self.say(f"sup> {text}")
            if text.split()[0] == "watch":
                self.watch(text)
                continue
            with self.output:
                if text == "help" and self.tour:
                    self.say(self.tour)
                self.handle(text)

    def handle(self, text: str) -> None:
        if text.isdigit():
            index = int(text) - 1
            if not 0 <= index < len(self.pending):
                more = f"pick 1–{len(self.pending)} or " if self.pending else ""
                self.say(f"No choice {text} on the last answer; {more}type a command (`help`).")
                return
            choice = self.pending[index]
            if choice.confirm and not self.confirmed(choice.confirm):
                self.say("Cancelled; nothing was changed.")
                return
            text = choice.command
            self.say(f"> {text}")
        try:
            reply = self.runtime.services.dispatcher.run_text(self.access(), text)
        except errors.SupbotError as exc:
            reply = MessageReply(str(exc), error=True)
        self.show(reply)
        if isinstance(reply, TailReply) and reply.follow:
            self.follow(reply)

    def watch(self, text: str) -> None:
        """`watch [N]`: N seconds (default 60) for the channel feed; Ctrl-C stops."""
        raw = (text.split() + ["60"])[1]
        if not raw.isdigit() or not 0 < int(raw) <= 3600:
            self.say(f"`watch` takes seconds from 1 to 3600, e.g. `watch 60` (not {raw!r}).")
            return
        self.say(f"(watching the channel feed for {raw}s; Ctrl-C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(int(raw))  # the feed prints from its own thread meanwhile
        self.say("(done watching)")

    def confirmed(self, question: str) -> bool:
        """The console's confirm dialog: the next line must be y or yes."""
        self.stdout.write(f"{question} [y/N] ")
        self.stdout.flush()
        answer = self.stdin.readline().strip().lower()
        if not self.interactive:
            self.say(answer)
        return answer in ("y", "yes")

    def show(self, reply: Reply) -> None:
        self.say(render_text(reply))
        self.pending = choices(reply)
        if self.pending:
            self.say("  " + "  ".join(f"[{i}] {c.label}" for i, c in enumerate(self.pending, 1)))

    def follow(self, reply: TailReply) -> None:
        """Print new lines every second until Ctrl-C or five minutes."""
        self.say("(following; Ctrl-C stops)")
        processes = self.runtime.services.processes
        if follow_log(processes, self.access(), reply.tail, self.say, FOLLOW_SECONDS):
            self.say("(stopped following)")


def run_console(runtime: Runtime) -> int:
    runtime.install_sighup()
    return Console(runtime, sys.stdin, sys.stdout).run()

"""A lean stand-in for Slack's response_url, for benches that time many answers at once.

tests/fakes/slack.py's FakeSlack (a thread per request, every call parsed and recorded, every
waiter woken on each new call) is right for tests; timing 20 answers at once on 2 cores, its
own CPU competes with the bot being measured. This one is a single asyncio thread that notes
when each answer's last byte arrived and wakes only the waiter of that response_url.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass


@dataclass
class Answer:
    at: float  # time.monotonic() when the whole body had arrived
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._answers: dict[str, Answer] = {}
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def response_url(self) -> str:
        path = f"/response/{next(self._ids)}"
        with self._lock:
            self._events[path] = threading.Event()
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, response_url: str, timeout: float = 60.0) -> Answer:
        path = "/" + response_url.split("/", 3)[3]
        if not self._events[path].wait(timeout):
            raise TimeoutError(f"nothing was posted to {response_url} within {timeout}s")
        return self._answers[path]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=256)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                path = request_line.split(" ")[1]
                length = 0
                for line in lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                answer = Answer(time.monotonic(), body)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                with self._lock:
                    self._answers[path] = answer
                    event = self._events.get(path)
                if event is not None:
                    event.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

"""An embedded supervisord in a directory of its own: used by `supbot demo` and by the tests.

It is a real supervisord (the pip package), started with `python -m supervisor.supervisord`,
listening on a unix socket (and optionally on 127.0.0.1 with basic auth).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

from bot.config import NodeSettings
from bot.supervisor.transport import new_proxy

DEMO_SCRIPTS = {
    "web.py": """
import random, sys, time
paths = ["/", "/login", "/api/orders", "/café", "/health"]
n = 0
while True:
    n += 1
    path = random.choice(paths)
    print(f"GET {path} 200 {random.randint(2, 80)}ms", flush=True)
    if n % 7 == 0:
        print(f"POST /login user=alice password=hunter2-{n} 302", flush=True)
    if n % 11 == 0:
        print("upstream slow: 1.2s — retrying €", file=sys.stderr, flush=True)
    time.sleep(1)
""",
    "worker.py": """
import os, time
n = 0
while True:
    n += 1
    print(f"worker {os.getpid()} processed job #{n}", flush=True)
    time.sleep(2)
""",
    "flaky.py": """
import random, sys, time
print("flaky starting", flush=True)
time.sleep(random.uniform(15, 40))
print("flaky: lost connection to database, exiting", file=sys.stderr, flush=True)
sys.exit(3)
""",
    "report.py": """
import time
print("report generated", flush=True)
time.sleep(3600)
""",
}


def demo_programs(scripts: Path) -> str:
    py = sys.executable
    return f"""
[program:web]
command={py} -u {scripts / "web.py"}
startsecs=1
stdout_logfile_maxbytes=1MB
stderr_logfile_maxbytes=1MB

[program:worker]
command={py} -u {scripts / "worker.py"}
process_name=%(program_name)s_%(process_num)02d
numprocs=2
startsecs=1

[program:flaky]
command={py} -u {scripts / "flaky.py"}
startsecs=1
autorestart=true
exitcodes=0

[program:report]
command={py} -u {scripts / "report.py"}
autostart=false
"""


@dataclass
class EmbeddedSupervisor:
    """A supervisord process rooted in `root`; programs are supervisord `[program:x]` text."""

    root: Path
    programs: str
    http_port: int | None = None
    http_host: str = "127.0.0.1"  # another loopback address stands for another host
    http_user: str = "ops"
    http_password: str = "secret"
    extra: str = ""
    rpcinterface: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def node(self, name: str = "local", timeout: float = 5.0) -> NodeSettings:
        return NodeSettings(name=name, url=self.url, timeout=timeout)

    def http_node(self, name: str = "http", timeout: float = 5.0) -> NodeSettings:
        return NodeSettings(
            name,
            f"http://{self.http_host}:{self.http_port}",
            self.http_user,
            self.http_password,
            timeout,
        )

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        inet = ""
        if self.http_port:
            inet = (
                f"[inet_http_server]\nport={self.http_host}:{self.http_port}\n"
                f"username={self.http_user}\npassword={self.http_password}\n"
            )
        rpc = (
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            if self.rpcinterface
            else ""
        )
        self.conf.write_text(
            f"""[unix_http_server]
file={self.socket}
chmod=0700

{inet}
[supervisord]
nodaemon=true
logfile={self.root / "supervisord.log"}
pidfile={self.root / "supervisord.pid"}
childlogdir={self.root / "logs"}
loglevel=info
minfds=1024
{rpc}
[supervisorctl]
serverurl=unix://{self.socket}

{self.extra}
{self.programs}
"""
        )

    def start(self, wait: float = 20.0) -> EmbeddedSupervisor:
        self.write_config()
        # config errors go to stderr before the log file exists: keep them for the report
        with (self.root / "supervisord.err").open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        self.wait_ready(wait)
        return self

    def wait_ready(self, wait: float = 20.0) -> None:
        deadline = time.monotonic() + wait
        while True:
            if self.process and self.process.poll() is not None:
                log = "".join(
                    (self.root / f).read_text(errors="replace")[-2000:]
                    for f in ("supervisord.err", "supervisord.log")
                    if (self.root / f).exists()
                )
                raise RuntimeError(f"supervisord exited at start-up:\n{log}")
            try:
                proxy, transport = new_proxy(self.node(timeout=2))
                proxy.system.listMethods()
                transport.close()
                return
            except (OSError, xmlrpc.client.Error):
                if time.monotonic() > deadline:
                    raise RuntimeError("supervisord did not answer in time") from None
                time.sleep(0.05)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> EmbeddedSupervisor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_demo_scripts(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in DEMO_SCRIPTS.items():
        (directory / name).write_text(body.lstrip())
    return directory

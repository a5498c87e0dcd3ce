"""A rolling restart (SIGTERM one replica, start it again, then the other) behind a balancer
that tries the next replica when one refuses the connection: every slash command is answered,
and the leader lease moves over to a running replica."""

from __future__ import annotations

import threading

from tests.conftest import wait_until
from tests.ha.conftest import HaEnv, MakeHa, Replica

SENDERS = 2  # users typing at once
PACE = 0.1  # seconds between one user's commands


class Balancer:
    """Round robin over `pool`; a replica that refuses (connect error, 5xx) → the next one."""

    def __init__(self, env: HaEnv, pool: list[Replica]) -> None:
        self.env, self.pool = env, pool
        self.acked: list[str] = []  # response_urls of the commands a replica took
        self.dropped: list[str] = []  # commands no replica took
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._turn = 0

    def send_one(self) -> None:
        with self._lock:
            self._turn += 1
            first = self._turn
        for k in range(len(self.pool)):
            replica = self.pool[(first + k) % len(self.pool)]
            status, url = replica.slash(self.env.slack, "status")
            if status == 200:
                with self._lock:
                    self.acked.append(url)
                return
        with self._lock:
            self.dropped.append(url)

    def run(self) -> None:
        while not self.stop.is_set():
            self.send_one()
            self.stop.wait(PACE)


def test_a_rolling_restart_of_two_replicas_drops_no_slash_command(ha_env: MakeHa) -> None:
    env = ha_env()
    pool = [env.start_replica(), env.start_replica()]
    balancer = Balancer(env, pool)
    senders = [threading.Thread(target=balancer.run) for _ in range(SENDERS)]
    for sender in senders:
        sender.start()
    try:
        for i, old in enumerate(list(pool)):
            before = len(balancer.acked)
            old.stop()  # SIGTERM: finish what it has, answer what it acked, exit
            assert old.proc.returncode == 0, old.stderr()[-2000:]
            pool[i] = env.start_replica(port=old.port)
            wait_until(lambda n=before: len(balancer.acked) > n + 5, 30, 0.05)
    finally:
        balancer.stop.set()
        for sender in senders:
            sender.join(30)
    assert balancer.dropped == []
    wait_until(lambda: not unanswered(env, balancer.acked), 30, 0.2)  # each acked: answered
    wait_until(lambda: env.leader(pool) is not None, 15, 0.1)
    print(f"\n{len(balancer.acked)} commands over the rolling restart, all answered")


def unanswered(env: HaEnv, urls: list[str]) -> list[str]:
    return [url for url in urls if not env.slack.responses(url)]

"""supbot's own reading of supervisord's bulk answers gives what xmlrpc.client gives, or steps
aside: generated bodies of every scalar kind, bodies it must refuse, and a real supervisord."""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from typing import Any
from urllib.parse import urlparse

import pytest

from bot import errors
from bot.embedded import EmbeddedSupervisor
from bot.supervisor import xmlrpc_rows
from bot.supervisor.client import NodeClient
from tests.conftest import PY, wait_until


def answer(value: Any) -> bytes:
    """A methodResponse as supervisord writes it (supervisor.xmlrpc uses xmlrpc.client.dumps)."""
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()


def stock(body: bytes) -> Any:
    return xmlrpc.client.loads(body, use_builtin_types=False)[0][0]


ROWS = [
    {
        "name": "web",
        "group": "web",
        "pid": 4242,
        "statename": "RUNNING",
        "spawnerr": "",
        "description": "pid 4242, uptime 1 day, 2:03:04",
        "exitstatus": 0,
    },
    {
        "name": "a&b <c> \"d\" 'e'",
        "group": "ünïcødé 😀",
        "pid": 0,
        "statename": "FATAL",
        "spawnerr": "can't find command '/no/such & </value>'",
        "description": "Exited too quickly (process log may have details)\n\tsecond line",
        "exitstatus": -1,
        "flag": True,
        "off": False,
        "ratio": 0.25,
        "nothing": None,
        "big": 2**31 - 1,
    },
]


@pytest.mark.parametrize(
    "value",
    [ROWS, [], [{}], [ROWS[0]] * 300],
    ids=["mixed", "empty array", "empty struct", "300 rows"],
)
def test_a_bulk_answer_reads_as_xmlrpc_client_reads_it(value: list[dict[str, Any]]) -> None:
    body = answer(value)
    assert xmlrpc_rows.rows(body) == stock(body) == value


def test_hand_written_variants_read_as_xmlrpc_client_reads_them() -> None:
    head = b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n"
    tail = b"</data></array></value>\n</param>\n</params>\n</methodResponse>\n"
    members = (
        b"<member><name>bare</name><value>just text</value></member>"
        b"<member>\n  <name>i4</name>\n  <value><i4>-7</i4></value>\n</member>"
        b"<member><name>empty</name><value><string/></value></member>"
        b"<member><name>ref</name><value><string>&#233;t&#xE9; &amp;co</string></value></member>"
    )
    body = head + b"<value><struct>" + members + b"</struct></value>\n" + tail
    assert xmlrpc_rows.rows(body) == stock(body)
    assert stock(body) == [{"bare": "just text", "i4": -7, "empty": "", "ref": "été &co"}]


@pytest.mark.parametrize(
    "body",
    [
        xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: nope"), methodresponse=True),
        xmlrpc.client.dumps(([{"nested": {"a": 1}}],), methodresponse=True),
        xmlrpc.client.dumps(([{"list": [1, 2]}],), methodresponse=True),
        xmlrpc.client.dumps(([1, 2, 3],), methodresponse=True),
        xmlrpc.client.dumps(({"not": "an array"},), methodresponse=True),
        xmlrpc.client.dumps(("a log tail",), methodresponse=True),
        xmlrpc.client.dumps(([{"crlf": "a\r\nb"}],), methodresponse=True),
        xmlrpc.client.dumps(([{"when": xmlrpc.client.DateTime(0)}],), methodresponse=True),
        xmlrpc.client.dumps(([{"b": xmlrpc.client.Binary(b"\0")}],), methodresponse=True),
        xmlrpc.client.dumps(([{"s": "x"}],), methodresponse=True, encoding="iso-8859-1"),
    ],
    ids=[
        "fault",
        "nested struct",
        "nested array",
        "array of scalars",
        "struct",
        "string",
        "carriage return",
        "dateTime",
        "base64",
        "declared encoding",
    ],
)
def test_anything_else_is_left_to_xmlrpc_client(body: str) -> None:
    assert xmlrpc_rows.rows(body.encode("latin-1", "replace")) is None


def test_broken_bodies_are_left_to_xmlrpc_client() -> None:
    good = answer(ROWS)
    cdata = good.replace(b"<string>web</string>", b"<string><![CDATA[web]]></string>", 1)
    assert b"CDATA" in cdata
    for body in (
        cdata,
        good.replace("😀".encode(), b"\xff\xfe"),  # not UTF-8
        good.replace(b"<int>4242</int>", b"<int>42x</int>"),
        good.replace(b"<boolean>1</boolean>", b"<boolean>yes</boolean>"),
        good[:-30],  # cut short
    ):
        assert xmlrpc_rows.rows(body) is None


def _raw_body(sv: EmbeddedSupervisor, method: str) -> bytes:
    """The bytes supervisord answers, over its unix socket, with no client of ours involved."""
    connection = http.client.HTTPConnection("localhost", timeout=10)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(urlparse(sv.url).path)
    connection.sock = sock
    request = xmlrpc.client.dumps((), f"supervisor.{method}").encode()
    connection.request("POST", "/RPC2", request, {"Content-Type": "text/xml"})
    try:
        return connection.getresponse().read()
    finally:
        connection.close()


def test_a_real_supervisords_answers_read_as_xmlrpc_client_reads_them(tmp_path: Any) -> None:
    programs = f"""
[program:odd]
command={PY} -c "import time; time.sleep(100000)"
process_name=odd_&_<%(process_num)d>
numprocs=3
startsecs=0

[program:missing]
command=/no/such/binary --flag
startsecs=0
startretries=0
"""
    sv = EmbeddedSupervisor(tmp_path / "sv", programs)
    sv.start(wait=30)
    try:
        client = NodeClient(sv.node("n", timeout=10))
        wait_until(lambda: client.process("missing:missing").state == "FATAL", 10)
        body = _raw_body(sv, "getAllProcessInfo")
        assert xmlrpc_rows.rows(body) == stock(body)
        assert b"&amp;" in body and b"&lt;" in body  # the names needed escaping
        # Its config holds arrays (exitcodes): xmlrpc.client reads it.
        body = _raw_body(sv, "getAllConfigInfo")
        assert xmlrpc_rows.rows(body) is None
        assert client.config_info(refresh=True)["odd:odd_&_<1>"]["exitcodes"] == [0]
        names = sorted(p.name for p in client.all_processes())
        assert names == ["missing", "odd_&_<0>", "odd_&_<1>", "odd_&_<2>"]
        # What supbot's transport returns for anything else is still xmlrpc.client's.
        assert client.call("getState") == {"statecode": 1, "statename": "RUNNING"}
        with pytest.raises(errors.NoSuchProcess, match="No process matches `nope`"):
            client.call("getProcessInfo", "nope")
    finally:
        sv.stop()

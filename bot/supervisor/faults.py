"""Map XML-RPC Faults and transport errors to supbot's domain errors."""

from __future__ import annotations

import http.client
import socket
import ssl
import xmlrpc.client
from xml.parsers.expat import ExpatError

from supervisor.xmlrpc import Faults

from bot import errors
from bot.usertext import quote

# What a node (or whatever answers at its address) can make a call raise. xmlrpc's
# ResponseError and expat's ExpatError mean the answer was not XML-RPC; OSError covers
# refused, reset, timed out, missing socket and TLS errors.
TRANSPORT_ERRORS = (
    OSError,
    http.client.HTTPException,
    xmlrpc.client.ProtocolError,
    xmlrpc.client.ResponseError,
    ExpatError,
)

NO_RPCINTERFACE = (
    "supervisord has no [rpcinterface:supervisor] section; add it "
    "(rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface) and restart supervisord"
)


def map_fault(node: str, fault: xmlrpc.client.Fault, target: str = "") -> errors.SupbotError:
    """One Fault → one domain error with a sentence the user can act on."""
    code, text = fault.faultCode, fault.faultString
    detail = text.split(":", 1)[1].strip() if ":" in text else text
    what = quote(target, 100) if target else "the process"
    table: dict[int, errors.SupbotError] = {
        Faults.BAD_NAME: errors.NoSuchProcess(target or detail),
        Faults.ALREADY_STARTED: errors.AlreadyRunning(f"{what} is already running."),
        Faults.NOT_RUNNING: errors.NotRunning(f"{what} is not running."),
        # supervisord's SPAWN_ERROR text is only the process name: say what it means instead
        Faults.SPAWN_ERROR: errors.SpawnFailed(
            f"{what} failed to start: it exited or could not be spawned before startsecs."
        ),
        Faults.ABNORMAL_TERMINATION: errors.SpawnFailed(f"{what} exited while starting."),
        Faults.BAD_SIGNAL: errors.BadSignal(
            f"{quote(detail, 30)} is not a signal supervisord knows; use a name like HUP, TERM, USR1."
        ),
        Faults.NO_FILE: errors.NoLogFile(
            f"{what} has no log file for that stream (stdout_logfile=NONE or redirect_stderr)."
        ),
        Faults.NOT_EXECUTABLE: errors.SpawnFailed(f"{what}: command is not executable ({detail})."),
        Faults.FAILED: errors.SupbotError(f"{what}: supervisord reported a failure ({detail})."),
        Faults.CANT_REREAD: errors.ReloadFailed(
            f"supervisord cannot read its configuration: {detail}. Fix the file and try again."
        ),
        Faults.SHUTDOWN_STATE: errors.NodeUnreachable(node, "supervisord is shutting down"),
        Faults.UNKNOWN_METHOD: errors.NodeMisconfigured(node, NO_RPCINTERFACE),
        Faults.STILL_RUNNING: errors.SupbotError(f"{what} is still running; stop it first."),
        Faults.ALREADY_ADDED: errors.SupbotError(f"{what} was already added."),
    }
    return table.get(code, errors.SupbotError(f"node `{node}`: supervisord answered {text}"))


def map_transport_error(
    node: str, url: str, timeout: float, exc: BaseException
) -> errors.SupbotError:
    """One of TRANSPORT_ERRORS → NodeUnreachable / NodeMisconfigured."""
    path = url[len("unix://") :] if url.startswith("unix://") else url
    if isinstance(exc, xmlrpc.client.ProtocolError):
        if exc.errcode == 401:
            return errors.NodeMisconfigured(
                node, "wrong username or password (check username and password_env)"
            )
        if exc.errcode in (400, 404, 405):  # supervisord answers 400 to a POST off /RPC2
            return errors.NodeMisconfigured(
                node, f"no XML-RPC endpoint at {url} (is this supervisord's address?)"
            )
        if exc.errcode == 500:
            return errors.ServerError(node, f"HTTP 500 {exc.errmsg}")
        return errors.NodeUnreachable(node, f"HTTP {exc.errcode} {exc.errmsg}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return errors.NodeUnreachable(node, f"no answer within {timeout:g}s")
    if isinstance(exc, FileNotFoundError):
        return errors.NodeUnreachable(node, f"socket {path} not found — is supervisord running?")
    if isinstance(exc, PermissionError):
        return errors.NodeUnreachable(
            node,
            f"permission denied on {path} — run supbot as a user allowed by "
            "[unix_http_server] chmod/chown",
        )
    if isinstance(exc, ConnectionRefusedError):
        return errors.NodeUnreachable(node, "connection refused")
    if isinstance(exc, ssl.SSLError):
        return errors.NodeUnreachable(node, f"TLS error: {exc.reason or exc}")
    if isinstance(exc, http.client.RemoteDisconnected):
        return errors.NodeUnreachable(node, "closed the connection without answering")
    if isinstance(exc, OSError):
        return errors.NodeUnreachable(node, exc.strerror or type(exc).__name__)
    # Something answered, but not supervisord's XML-RPC (another service on that port, a proxy
    # error page, garbage).
    return errors.NodeMisconfigured(
        node,
        f"the answer at {url} is not XML-RPC ({type(exc).__name__}: {_short(exc)}); "
        "is this supervisord's address?",
    )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:80] + ("…" if len(text) > 80 else "")

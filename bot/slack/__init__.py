"""Slack transport: the Bolt app and its wiring (app.py), serving in Socket Mode or over HTTP
(serve.py, web.py, signature.py), the fast path (fastpath.py), the Web API client and calls
(client.py, webapi.py, live.py), user groups, the link check, event retries, followed logs and
the audit channel feed. The listeners and their flow are in `handlers/`."""

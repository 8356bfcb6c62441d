"""Logs every mitmproxy 11 event by name, one `EVENT name` line each, in
Waylay's hook names, as runner/tests/fixtures/events does in Waylay. It acts
as that script does: a CONNECT to refuse.test is answered 403, and TLS whose
SNI is localhost passes through. A CONNECT to an upstream proxy gets
`x-upstream-hook: 1`."""
import logging

from mitmproxy import http

RENAMED = {
    "client_connected": "client_connect",
    "client_disconnected": "client_disconnect",
    "requestheaders": "request_headers",
    "responseheaders": "response_headers",
}


def _note(name):
    logging.warning("EVENT %s", RENAMED.get(name, name))


def _hook(name):
    return lambda *args: _note(name)


for _name in [
    "running", "client_connected", "client_disconnected", "server_connect",
    "server_connected", "server_disconnected", "server_connect_error",
    "http_connected", "http_connect_error",
    "requestheaders", "request", "responseheaders", "response", "error",
    "tls_start_client", "tls_start_server", "tls_established_client",
    "tls_established_server", "tls_failed_client", "tls_failed_server",
    "websocket_start", "websocket_message", "websocket_end", "tcp_start",
    "tcp_message", "tcp_end", "tcp_error", "update", "done",
]:
    globals()[_name] = _hook(_name)


def load(loader):
    _note("start")


def configure(updated):
    _note("configure")


def http_connect(flow):
    _note("http_connect")
    if flow.request.host == "refuse.test":
        flow.response = http.Response.make(403)


def tls_clienthello(data):
    _note(f"tls_clienthello sni={data.client_hello.sni}")
    if data.client_hello.sni == "localhost":
        data.ignore_connection = True


def http_connect_upstream(flow):
    _note("http_connect_upstream")
    flow.request.headers["x-upstream-hook"] = "1"

"""Interop checks against mitmproxy itself, driven by runner/tests/cli/interop.rs.

  compare.py added-header IN OUT NAME VALUE
      mitmproxy reads both files; OUT must hold the same flows as IN, state for
      state, except that every response has the header NAME: VALUE appended.
  compare.py same IN OUT
      mitmproxy reads both files and finds the same state, flow for flow.
  compare.py same-but-conn-ids IN OUT
      the same, except the connections' ids (which mitmproxy makes at random
      when it migrates 0.11 to 2.0 files).
  compare.py live FILE N NAME VALUE
      mitmproxy reads N flows from FILE, a live capture, and every response
      has the header NAME: VALUE.
  compare.py https FILE N
      mitmproxy reads N intercepted HTTPS flows from FILE with their TLS
      details: SNI, ALPN, version and cipher on both sides, and the server's
      certificates as mitmproxy's own Cert objects.
  compare.py websocket IN OUT FROM TO
      mitmproxy reads both files; OUT must hold the same flows as IN, state for
      state, except what examples/websocket-rewrite does to WebSocket messages:
      those mentioning spam dropped, FROM replaced with TO in the server's
      text messages.
  compare.py tcp IN OUT FROM TO
      mitmproxy reads both files; OUT must hold the same flows as IN, state for
      state, except that FROM is replaced with TO in every TCP message, as
      examples/tcp-simple does.
  compare.py write OUT GOLDEN...
      mitmproxy writes OUT: every flow of the GOLDEN files, re-serialized by
      mitmproxy, plus flows built by mitmproxy's own test factories.
"""

import sys

from mitmproxy import io
from mitmproxy.test import tflow


def load(path):
    with open(path, "rb") as f:
        return [flow.get_state() for flow in io.FlowReader(f).stream()]


def added_header(src, dst, name, value):
    before, after = load(src), load(dst)
    assert len(before) == len(after), f"{len(before)} flows in, {len(after)} out"
    for b, a in zip(before, after):
        if b["type"] == "http" and b.get("response"):
            b["response"]["headers"] = tuple(b["response"]["headers"]) + ((name.encode(), value.encode()),)
            a["response"]["headers"] = tuple(a["response"]["headers"])
        assert a == b, f"flow {b['id']} differs:\n{a}\n{b}"
    print(f"ok: {len(after)} flows")


def same(src, dst):
    before, after = load(src), load(dst)
    assert before == after, "states differ"
    print(f"ok: {len(after)} flows")


def same_but_conn_ids(src, dst):
    before, after = load(src), load(dst)
    for state in before + after:
        state["client_conn"]["id"] = state["server_conn"]["id"] = "-"
    assert before == after, "states differ"
    print(f"ok: {len(after)} flows")


def live(path, count, name, value):
    with open(path, "rb") as f:
        flows = list(io.FlowReader(f).stream())
    assert len(flows) == int(count), f"{len(flows)} flows, expected {count}"
    for flow in flows:
        assert flow.response is not None, f"flow {flow.id} has no response"
        assert flow.response.headers.get(name) == value, flow.response.headers
        assert flow.client_conn.peername and flow.server_conn.address, "connections recorded"
    print(f"ok: {len(flows)} flows")


def https(path, count):
    with open(path, "rb") as f:
        flows = list(io.FlowReader(f).stream())
    assert len(flows) == int(count), f"{len(flows)} flows, expected {count}"
    alpns = set()
    for flow in flows:
        assert flow.request.scheme == "https", flow.request.scheme
        assert flow.response is not None, f"flow {flow.id} has no response"
        for conn in (flow.client_conn, flow.server_conn):
            assert conn.tls and conn.tls_established, conn
            assert conn.sni == "localhost", conn.sni
            assert conn.tls_version == "TLSv1.3", conn.tls_version
            assert conn.cipher, conn
        assert flow.client_conn.alpn == flow.server_conn.alpn, flow.client_conn.alpn
        alpns.add(flow.client_conn.alpn)
        certs = flow.server_conn.certificate_list
        assert len(certs) == 2, certs
        assert [str(n.value) for n in certs[0].altnames] == ["localhost", "127.0.0.1"], certs[0].altnames
        assert certs[1].cn == "test origin CA", certs[1].cn
        assert certs[0].notafter > certs[0].notbefore
    assert alpns == {b"http/1.1", b"h2"}, alpns
    print(f"ok: {len(flows)} flows")


def websocket(src, dst, old, new):
    before, after = load(src), load(dst)
    assert len(before) == len(after), f"{len(before)} flows in, {len(after)} out"
    changed = 0
    for b, a in zip(before, after):
        if b["type"] != "http" or not b.get("websocket"):
            assert a == b, f"flow {b['id']} differs"
            continue
        messages = []
        for typ, from_client, content, timestamp, dropped, injected in b["websocket"]["messages"]:
            if b"spam" in content.lower():
                dropped = True
            elif typ == 1 and not from_client:
                content = content.replace(old.encode(), new.encode())
            messages.append((typ, from_client, content, timestamp, dropped, injected))
        changed += messages != [tuple(m) for m in b["websocket"]["messages"]]
        b["websocket"]["messages"] = messages
        a["websocket"]["messages"] = [tuple(m) for m in a["websocket"]["messages"]]
        assert a == b, f"flow {b['id']} differs:\n{a['websocket']}\n{b['websocket']}"
    assert changed, "no WebSocket was changed"
    print(f"ok: {len(after)} flows, {changed} WebSocket(s) rewritten")


def tcp(src, dst, old, new):
    before, after = load(src), load(dst)
    assert len(before) == len(after), f"{len(before)} flows in, {len(after)} out"
    changed = 0
    for b, a in zip(before, after):
        if b["type"] != "tcp":
            assert a == b, f"flow {b['id']} differs"
            continue
        messages = [
            (from_client, content.replace(old.encode(), new.encode()), timestamp)
            for from_client, content, timestamp in b["messages"]
        ]
        changed += messages != [tuple(m) for m in b["messages"]]
        b["messages"] = messages
        a["messages"] = [tuple(m) for m in a["messages"]]
        assert a == b, f"flow {b['id']} differs:\n{a['messages']}\n{b['messages']}"
    assert changed, "no TCP flow was changed"
    print(f"ok: {len(after)} flows, {changed} TCP flow(s) rewritten")


def write(dst, goldens):
    flows = []
    for path in goldens:
        with open(path, "rb") as f:
            flows.extend(io.FlowReader(f).stream())
    flows += [
        tflow.tflow(resp=True),
        tflow.tflow(err=True),
        tflow.tflow(resp=True, ws=True),
        tflow.ttcpflow(),
        tflow.tudpflow(),
        tflow.tdnsflow(resp=True),
    ]
    flows[-6].marked = ":default:"
    flows[-6].comment = "made by mitmproxy"
    flows[-6].metadata["from"] = "mitmproxy"
    with open(dst, "wb") as f:
        writer = io.FlowWriter(f)
        for flow in flows:
            writer.add(flow)
    print(f"ok: {len(flows)} flows")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"added-header": added_header, "same": same, "same-but-conn-ids": same_but_conn_ids, "live": live, "https": https, "websocket": websocket, "tcp": tcp, "write": lambda dst, *g: write(dst, g)}[cmd](*args)

"""Writes the golden files the filter and rewriting tests read, with
mitmproxy 11.0.2's own flow classes and writer:

  python make_golden.py filters OUT.mitm
      flows of every kind a filter term looks at: HTTP (HTTP/1 and HTTP/2,
      CONNECT, encoded bodies, odd Host headers, IPv6), WebSocket, TCP, UDP
      and DNS; marked, commented, replayed, with metadata of every type.
  python make_golden.py sticky OUT.mitm
      a browsing session for anticache, anticomp, stickycookie and
      stickyauth: cookies set, sent, expired; credentials sent once.

Run once by hand (`target/mitmproxy-venv/bin/python`); the outputs are
committed under testdata/flows/ and never regenerated.
"""

import gzip
import sys
import zlib

import brotli
import zstandard
from mitmproxy import dns, http, io
from mitmproxy.test import tflow, tutils
from mitmproxy.connection import Client, Server

T = 946681200


def req(**kw):
    return tutils.treq(**kw)


def resp(**kw):
    return tutils.tresp(**kw)


def hdrs(*pairs):
    return http.Headers([(k.encode(), v.encode()) for k, v in pairs])


def filters():
    flows = []
    flows.append(tflow.tflow(resp=True))
    flows.append(tflow.tflow(err=True))
    flows.append(tflow.tflow(resp=True, ws=True))
    flows.append(tflow.ttcpflow())
    flows.append(tflow.ttcpflow(err=True))
    flows.append(tflow.tudpflow())
    flows.append(tflow.tudpflow(err=True))
    flows.append(tflow.tdnsflow(resp=True))
    flows.append(tflow.tdnsflow())
    answers = [
        dns.ResourceRecord.AAAA("v6.example", __import__("ipaddress").IPv6Address("2001:db8::1")),
        dns.ResourceRecord.CNAME("alias.example", "canonical.example"),
        dns.ResourceRecord.TXT("txt.example", "v=spf1 -all"),
        dns.ResourceRecord("bad.example", dns.types.A, dns.classes.IN, 60, b"\x01\x02"),
        dns.ResourceRecord("raw.example", 99, dns.classes.IN, 60, b"\xbe\xef"),
    ]
    flows.append(tflow.tdnsflow(resp=tutils.tdnsresp(
        questions=[dns.Question("v6.example", dns.types.AAAA, dns.classes.IN)],
        answers=answers,
    )))

    marked = tflow.tflow(resp=True)
    marked.marked = ":default:"
    marked.comment = "first line\nsecond line: Waylay"
    marked.metadata = {
        "from": "mitmproxy",
        "n": 3,
        "ok": True,
        "nested": {"a": [1, "b", None]},
        "raw": b"\x00x'",
        "none": None,
        "pi": 3.25,
        "quote": "it's \"quoted\"",
    }
    flows.append(marked)
    star = tflow.tflow(resp=True)
    star.marked = ":star:"
    flows.append(star)

    replayq = tflow.tflow(resp=True)
    replayq.is_replay = "request"
    flows.append(replayq)
    replays = tflow.tflow(resp=True)
    replays.is_replay = "response"
    flows.append(replays)

    body = b'{"user": "alice", "role": "admin"}'
    post = tflow.tflow(
        req=req(
            method=b"POST",
            host="api.example.com",
            port=443,
            scheme=b"https",
            path=b"/v1/login?next=%2Fhome",
            headers=hdrs(
                ("Host", "api.example.com"),
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
                ("Authorization", "Bearer secret-token"),
            ),
            content=gzip.compress(body, mtime=0),
        ),
        resp=resp(
            status_code=201,
            reason=b"Created",
            headers=hdrs(
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Encoding", "br"),
                ("Set-Cookie", "session=abc123; Path=/; HttpOnly"),
            ),
            content=brotli.compress(b'{"ok": true, "token": "t0k3n"}'),
        ),
    )
    flows.append(post)

    image = tflow.tflow(
        req=req(
            host="93.184.216.34",
            port=8443,
            scheme=b"https",
            path=b"/images/Logo.PNG",
            headers=hdrs(("Host", "Example.COM:8443"), ("Accept", "image/*")),
            content=b"",
        ),
        resp=resp(headers=hdrs(("Content-Type", "image/png")), content=b"\x89PNG\r\n\x1a\n"),
    )
    flows.append(image)

    h2 = tflow.tflow(
        req=req(
            host="h2.example.org",
            port=443,
            scheme=b"https",
            authority=b"h2.example.org",
            http_version=b"HTTP/2.0",
            path=b"/static/site.css",
            headers=hdrs(("user-agent", "curl/8.0"), ("accept", "text/css")),
            content=b"",
        ),
        resp=resp(
            http_version=b"HTTP/2.0",
            headers=hdrs(("content-type", "text/css"), ("server", "h2o")),
            content=b"body { color: red }",
        ),
    )
    flows.append(h2)

    connect = tflow.tflow(
        req=req(
            method=b"CONNECT",
            host="tunnel.example.net",
            port=443,
            scheme=b"",
            authority=b"tunnel.example.net:443",
            path=b"",
            headers=hdrs(("Host", "tunnel.example.net:443")),
            content=b"",
        ),
        resp=resp(headers=hdrs(), content=b""),
    )
    flows.append(connect)

    badgzip = tflow.tflow(
        req=req(path=b"/broken", headers=hdrs(("Host", "address:22")), content=b""),
        resp=resp(
            headers=hdrs(("Content-Type", "text/plain"), ("Content-Encoding", "gzip")),
            content=b"not really gzip, needle inside",
        ),
    )
    flows.append(badgzip)

    cyrillic = tflow.tflow(
        req=req(
            host="пример.example",
            path="/поиск?q=%D0%BC%D0%B8%D1%80".encode(),
            headers=hdrs(("Host", "xn--e1afmkfd.example")),
            content=b"",
        ),
        resp=resp(
            headers=hdrs(("Content-Type", "text/html; charset=utf-8")),
            content="<p>привет мир, Äÿ 神</p>".encode(),
        ),
    )
    flows.append(cyrillic)

    streamed = tflow.tflow(req=req(content=None), resp=resp(content=None))
    flows.append(streamed)

    client = Client(
        peername=("::1", 5555), sockname=("::1", 8080), timestamp_start=T,
    )
    server = Server(address=("2001:db8::1", 443))
    v6 = tflow.tflow(
        client_conn=client,
        server_conn=server,
        req=req(
            host="2001:db8::1",
            port=443,
            scheme=b"https",
            path=b"/v6",
            headers=hdrs(("Host", "[2001:db8::1]:443")),
            content=b"",
        ),
        resp=resp(status_code=404, reason=b"Not Found", headers=hdrs(("content-type", "font/woff2")), content=b""),
    )
    flows.append(v6)

    multi = tflow.tflow(
        req=req(
            host="example.com",
            port=80,
            path=b"/search?q=Waylay&lang=en",
            headers=hdrs(
                ("Host", "example.com"),
                ("X-Multi", "a"),
                ("X-Multi", "b"),
                ("Cookie", "theme=dark"),
                ("If-None-Match", '"v1"'),
                ("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"),
                ("Accept-Encoding", "gzip, br"),
            ),
            content=b"",
        ),
        resp=resp(
            status_code=500,
            reason=b"Internal Server Error",
            headers=hdrs(("Content-Type", "application/x-javascript"), ("Content-Encoding", "zstd")),
            content=zstandard.ZstdCompressor().compress(b"throw new Error('boom');"),
        ),
    )
    flows.append(multi)

    weird_host = tflow.tflow(
        req=req(host="10.0.0.1", port=80, path=b"/", headers=hdrs(("Host", "bad host!:80")), content=b""),
        resp=resp(),
    )
    flows.append(weird_host)

    deflate = tflow.tflow(
        req=req(
            method=b"PUT",
            host="upload.example.com",
            port=8080,
            path=b"/files/a.txt",
            headers=hdrs(("Host", "upload.example.com:8080"), ("Content-Encoding", "deflate"), ("Content-Type", "text/plain")),
            content=zlib.compress(b"uploaded words: needle in a haystack"),
        ),
        resp=resp(status_code=204, reason=b"No Content", headers=hdrs(), content=b""),
    )
    flows.append(deflate)

    ws = tflow.twebsocketflow()
    ws.websocket.messages[1].content = b"buy spam now"
    ws.websocket.messages[2].dropped = True
    ws.websocket.messages[0].injected = True
    flows.append(ws)

    mixed = tflow.tflow(
        req=req(host="Mixed.Case.Example", port=80, method=b"delete", path=b"/Items/42",
                headers=hdrs(("Host", "Mixed.Case.Example")), content=b""),
        resp=resp(headers=hdrs(("CONTENT-TYPE", "Application/Font-Woff")), content=b"line1\nline2\n"),
        err=True,
    )
    flows.append(mixed)
    return flows


def cookie_flow(path, set_cookie=(), cookie=None, host="shop.example", port=80, auth=None, extra=()):
    headers = [("Host", host if port == 80 else f"{host}:{port}")]
    if cookie:
        headers.append(("Cookie", cookie))
    if auth:
        headers.append(("Authorization", auth))
    headers.extend(extra)
    response = [("Content-Type", "text/plain")] + [("Set-Cookie", c) for c in set_cookie]
    return tflow.tflow(
        req=req(host=host, port=port, path=path.encode(), headers=hdrs(*headers), content=b""),
        resp=resp(headers=hdrs(*response), content=b"ok"),
    )


def sticky():
    return [
        cookie_flow("/login", set_cookie=["sid=one; Path=/", "pref=\"a b\"; Path=/account; Domain=.shop.example"],
                    auth="Basic dXNlcjpwYXNz", extra=[("If-None-Match", '"x"'), ("Accept-Encoding", "gzip")]),
        cookie_flow("/account/orders", cookie="theme=dark"),
        cookie_flow("/other", host="other.example"),
        cookie_flow("/static/app.js", host="static.shop.example"),
        cookie_flow("/logout", set_cookie=["sid=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
                                           "late=1; Max-Age=3600", "flag"]),
        cookie_flow("/after", extra=[("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")]),
        cookie_flow("/port", port=8080, auth="Basic b3RoZXI6cGFzcw=="),
        cookie_flow("/port2", port=8080),
        cookie_flow("/again"),
        tflow.ttcpflow(),
    ]


if __name__ == "__main__":
    which, out = sys.argv[1:]
    flows = {"filters": filters, "sticky": sticky}[which]()
    with open(out, "wb") as f:
        w = io.FlowWriter(f)
        for flow in flows:
            w.add(flow)
    print(f"ok: {len(flows)} flows")

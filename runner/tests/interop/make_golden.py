"""Writes the golden files the filter and rewriting tests read, with
mitmproxy 11.0.2's own flow classes and writer:

  python make_golden.py filters OUT.mitm
      flows of every kind a filter term looks at: HTTP (HTTP/1 and HTTP/2,
      CONNECT, encoded bodies, odd Host headers, IPv6), WebSocket, TCP, UDP
      and DNS; marked, commented, replayed, with metadata of every type.
  python make_golden.py sticky OUT.mitm
      a browsing session for anticache, anticomp, stickycookie and
      stickyauth: cookies set, sent, expired; credentials sent once.
  python make_golden.py gallery OUT.mitm
      what mitmproxy's example addons act on (the gallery's differential
      test): example.com/path, example.org, forms, HTML pages, trailers
      over HTTP/1.1 and HTTP/2, cookies, a Latin-1 page, a WebSocket and a
      TCP flow with what the WebSocket and TCP examples look for.
  python make_golden.py accessors OUT.mitm
      what the SDK's accessors read and write (the accessors' differential
      test): duplicate query keys, `+` and `%20`, non-UTF-8 escapes, cookies
      with `=` in values over two Cookie fields, Set-Cookie with attributes,
      urlencoded (also non-UTF-8) and multipart forms, bodies in UTF-8,
      Latin-1, cp1252, HTML meta and CSS @charset, JSON, gzip, trailers, and
      one flow per setter, named by its path's first segment.

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


def page(url_host, path, body, content_type="text/html; charset=utf-8", method=b"GET",
         req_headers=(), req_body=b"", resp_headers=(), http_version=b"HTTP/1.1"):
    headers = [("Host", url_host)] + list(req_headers)
    request = req(host=url_host, port=80, method=method, path=path.encode(),
                  headers=hdrs(*headers), content=req_body, http_version=http_version)
    response = resp(headers=hdrs(("Content-Type", content_type), *resp_headers), content=body,
                    http_version=http_version)
    return tflow.tflow(req=request, resp=response)


def gallery():
    flows = [
        page("example.com", "/path", b"from the server"),
        page("example.org", "/", b"<html><body>org</body></html>"),
        page("example.org", "/login", b"welcome", method=b"POST",
             req_headers=[("Content-Type", "application/x-www-form-urlencoded")],
             req_body=b"user=alice&pass=s%26cret&pass=again"),
        page("example.net", "/search?q=waylay+proxy&lang=en", b"results"),
        page("example.net", "/index.html",
             b"<html><head><meta charset=\"utf-8\"><title>t</title></head>"
             b"<body><p>caf\xc3\xa9</p></body></html>"),
        page("example.net", "/latin.html", b"<html><body>caf\xe9</body></html>",
             content_type="text/html; charset=iso-8859-1"),
        page("example.net", "/inject_trailers", b"response body", method=b"POST",
             req_body=b"request body"),
        page("example.net", "/cookies", b"ok", content_type="text/plain",
             req_headers=[("Cookie", "a=1; b=2")],
             resp_headers=[("Set-Cookie", "sid=xyz; Path=/; HttpOnly"), ("Set-Cookie", "pref=dark")]),
    ]
    h2 = page("example.net", "/inject_trailers", b"h2 body", method=b"POST", req_body=b"h2 request",
              http_version=b"HTTP/2.0")
    h2.request.trailers = http.Headers([(b"x-sent-by", b"client")])
    h2.response.trailers = http.Headers([(b"grpc-status", b"0")])
    flows.append(h2)
    ws = tflow.twebsocketflow()
    ws.websocket.messages[0].content = b"Hello there"
    ws.websocket.messages[1].content = b"FOOBAR in the middle"
    ws.websocket.messages[2].content = b"a secret"
    flows.append(ws)
    tcp = tflow.ttcpflow()
    tcp.messages[0].content = b"foo and more foo"
    flows.append(tcp)
    return flows



def acc(path, body=b"", ctype="text/plain", method=b"GET", req_headers=(), req_body=b"",
        resp_headers=(), host="example.net", port=80, scheme=b"http", host_header=None,
        http_version=b"HTTP/1.1"):
    """One flow of the accessors' set: its request path names the setters."""
    headers = [] if http_version == b"HTTP/2.0" else [("Host", host_header or host)]
    request = req(host=host, port=port, scheme=scheme, method=method, path=path,
                  headers=hdrs(*headers, *req_headers), content=req_body,
                  http_version=http_version,
                  authority=(host_header or host).encode() if http_version == b"HTTP/2.0" else b"")
    response = resp(headers=hdrs(("Content-Type", ctype), *resp_headers), content=body,
                    http_version=http_version)
    return tflow.tflow(req=request, resp=response)


MULTIPART = "multipart/form-data; boundary=b0undary"
MULTIPART_BODY = (
    b"--b0undary\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue one\r\n"
    b"--b0undary\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.png\"\r\n"
    b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\xff\r\n--b0undary--\r\n"
)
FORM = ("Content-Type", "application/x-www-form-urlencoded")


def accessors():
    gz = lambda b: gzip.compress(b, mtime=0)  # noqa: E731
    flows = [
        # Reads: URLs and hosts.
        acc(b"/read/query?a=1&a=2&b=3&a=4"),
        acc(b"/read/plus?x=a+b%20c%2B&y=%2b+&e=&n&=v"),
        acc(b"/read/non-utf8?k=%FF%fe&%E9t%C3%A9=%C3"),
        acc(b"/read/p%20th/%C3%A9//x;p?q=1#frag"),
        acc(b"/read/host", host="10.0.0.1", port=8080, host_header="Example.COM:8443"),
        acc(b"/read/https", host="secure.example", port=443, scheme=b"https"),
        acc(b"/read/https-port", host="secure.example", port=8443, scheme=b"https",
            host_header="secure.example:8443"),
        acc(b"/read/h2?x=1", host="h2.example", port=443, scheme=b"https",
            http_version=b"HTTP/2.0"),
        # Cookies both ways.
        acc(b"/read/cookies", req_headers=[("Cookie", "a=1; b=x=y==; sp=a b"),
                                           ("Cookie", "c=3; d; e=\"q\"")]),
        acc(b"/read/set-cookie", resp_headers=[
            ("Set-Cookie", "sid=xyz; Path=/; HttpOnly; Secure; Max-Age=60"),
            ("Set-Cookie", "pref=dark=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; SameSite=Lax"),
            ("Set-Cookie", "empty=; Domain=example.net"),
            ("Set-Cookie", "flag"),
        ]),
        # Forms.
        acc(b"/read/form", method=b"POST", req_headers=[FORM],
            req_body=b"user=alice&pass=s%26cret&pass=again&sp=a+b%20c&novalue&=x"),
        acc(b"/read/form-non-utf8", method=b"POST", req_headers=[FORM],
            req_body=b"name=caf%E9&x=%FF&raw=\xe9"),
        acc(b"/read/form-charset", method=b"POST",
            req_headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            req_body=b"a=%C3%A9"),
        acc(b"/read/multipart", method=b"POST", req_headers=[("Content-Type", MULTIPART)],
            req_body=MULTIPART_BODY),
        # Charsets.
        acc(b"/read/utf8", "caf\u00e9 \u20ac".encode(), "text/plain; charset=utf-8"),
        acc(b"/read/latin1", b"caf\xe9", "text/plain; charset=iso-8859-1"),
        acc(b"/read/latin1-label", b"caf\xe9", "text/plain; charset=latin1"),
        acc(b"/read/cp1252", b"\x80 caf\xe9 \x93q\x94", "text/html; charset=windows-1252"),
        acc(b"/read/no-charset", b"caf\xe9", "text/plain"),
        acc(b"/read/meta",
            b"<html><head><meta charset=\"utf-8\"></head><body>caf\xc3\xa9</body></html>",
            "text/html"),
        acc(b"/read/meta-http-equiv",
            b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
            b"charset=iso-8859-1\"></head><body>caf\xe9</body></html>", "text/html"),
        acc(b"/read/css", b"@charset \"utf-8\";\nbody:after { content: \"\xc3\xa9\" }", "text/css"),
        acc(b"/read/json", '{"a": "\u00e9", "n": [1, 2.5, null, true]}'.encode(), "application/json",
            method=b"POST", req_headers=[("Content-Type", "application/json")],
            req_body=b'{"q": "caf\xc3\xa9"}'),
        acc(b"/read/bad-utf8", b"caf\xe9", "text/plain; charset=utf-8"),
        acc(b"/read/gzip", gz("gzipped caf\u00e9".encode()), "text/plain; charset=utf-8",
            method=b"POST",
            req_headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            req_body=gz(b'{"zipped": true}'), resp_headers=[("Content-Encoding", "gzip")]),
        acc(b"/read/bad-gzip", b"not gzip", resp_headers=[("Content-Encoding", "gzip")]),
        # Setters, one flow each.
        acc(b"/set-query/p;x?old=1"),
        acc(b"/query-mut?a=1&b=2&a=3&b=4"),
        acc(b"/set-url/x?y=1"),
        acc(b"/path-components/old?q=1"),
        acc(b"/form-mut", method=b"POST", req_headers=[FORM],
            req_body=b"user=alice&user=eve&z=%FF"),
        acc(b"/set-form"),
        acc(b"/multipart", method=b"POST", req_headers=[("Content-Type", MULTIPART)],
            req_body=MULTIPART_BODY),
        acc(b"/multipart-mut", method=b"POST", req_headers=[("Content-Type", MULTIPART)],
            req_body=MULTIPART_BODY),
        acc(b"/cookies", req_headers=[("Cookie", "a=1; b=2"), ("Cookie", "b=3; c=4")]),
        acc(b"/set-cookies", req_headers=[("Cookie", "old=1")]),
        acc(b"/text/latin1", method=b"POST", req_headers=[("Content-Type", "text/plain; charset=latin-1")],
            req_body=b"caf\xe9"),
        acc(b"/text/utf8", method=b"POST", req_headers=[("Content-Type", "text/plain; charset=utf-8")],
            req_body=b"x"),
        acc(b"/text/gzip", method=b"POST",
            req_headers=[("Content-Type", "text/plain; charset=utf-8"), ("Content-Encoding", "gzip")],
            req_body=gz(b"x")),
        acc(b"/text/none", method=b"POST"),
        acc(b"/encode", method=b"POST", req_headers=[("Content-Type", "text/plain")],
            req_body=b"hello hello hello"),
        acc(b"/decode", method=b"POST",
            req_headers=[("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
            req_body=gz(b"unzipped")),
        acc(b"/replace", method=b"POST", req_headers=[("Content-Type", "text/plain")],
            req_body=b"xab yab zac"),
        acc(b"/anticache", req_headers=[("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT"),
                                        ("If-None-Match", "\"etag\"")]),
        acc(b"/anticomp", req_headers=[("Accept-Encoding", "gzip, br")]),
        acc(b"/constrain-encoding",
            req_headers=[("Accept-Encoding", "gzip, br, zstd, deflate, compress, identity, sdch")]),
        acc(b"/req-trailers", method=b"POST", req_body=b"body"),
        acc(b"/respond"),
        acc(b"/resp-cookies", resp_headers=[
            ("Set-Cookie", "sid=xyz; Path=/; Secure; HttpOnly"),
            ("Set-Cookie", "pref=dark; secure; Max-Age=60"),
        ]),
        acc(b"/refresh", resp_headers=[
            ("Date", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("Expires", "Wed, 21 Oct 2015 08:28:00 GMT"),
            ("Last-Modified", "Tue, 20 Oct 2015 07:28:00 GMT"),
            ("Set-Cookie", "sid=1; Expires=Wed, 21 Oct 2015 09:28:00 GMT; Path=/"),
        ]),
        acc(b"/resp-text", b"caf\xe9", "text/html; charset=iso-8859-1"),
        acc(b"/resp-text/gzip", gz(b"x"), "text/plain; charset=utf-8",
            resp_headers=[("Content-Encoding", "gzip")]),
        acc(b"/resp-trailers", b"body"),
        # More edges.
        acc(b"/read/v6-host", host="::1", port=8080, host_header="[::1]:8080"),
        acc(b"/read/no-host-header", http_version=b"HTTP/1.0", host_header=""),
        acc(b"/read/set-cookie-comma", resp_headers=[
            ("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT, b=2; Path=/"),
            ("Set-Cookie", "q=\"quoted value\"; Path=/x"),
        ]),
        acc(b"/read/empty-cookie", req_headers=[("Cookie", "")]),
        acc(b"/read/utf8-label", "caf\u00e9".encode(), "text/plain; charset=UTF8"),
        acc(b"/read/json-bom", b"\xef\xbb\xbf{\"a\": 1}", "application/json"),
        acc(b"/read/json-utf16", '\ufeff{"a": "\u00e9"}'.encode("utf-16-le"), "application/json"),
        acc(b"/read/json-utf16be", '{"a": "\u00e9"}'.encode("utf-16-be"), "application/json"),
        acc(b"/read/json-utf32", '{"a": 1}'.encode("utf-32-le"), "application/json"),
        acc(b"/read/json-latin1", b'{"a": "caf\xe9"}', "application/json; charset=iso-8859-1"),
        acc(b"/read/xml", b'<?xml version="1.0" encoding="utf-8"?><a>caf\xc3\xa9</a>',
            "application/xml"),
        acc(b"/read/form-get?a=1", req_headers=[FORM], req_body=b"x=1"),
        acc(b"/set-query/h2?old=1", host="h2.example", port=443, scheme=b"https",
            http_version=b"HTTP/2.0"),
        acc(b"/set-url/h2", host="h2.example", port=443, scheme=b"https",
            http_version=b"HTTP/2.0"),
        acc(b"/set-url/host-differs", host="10.0.0.1", port=8080, host_header="example.com"),
        acc(b"/set-url-v6"),
        acc(b"/set-url-bad"),
        acc(b"/cookies/none"),
        acc(b"/set-cookies/none"),
        acc(b"/form-mut/none", method=b"POST"),
        acc(b"/form-mut/charset", method=b"POST",
            req_headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            req_body=b"a=1"),
        acc(b"/multipart-mut/none", method=b"POST"),
        acc(b"/text/cp1252", method=b"POST",
            req_headers=[("Content-Type", "text/plain; charset=windows-1252")], req_body=b"\x80"),
        acc(b"/text/html-meta", method=b"POST", req_headers=[("Content-Type", "text/html")],
            req_body=b'<meta charset="iso-8859-1">caf\xe9'),
        acc(b"/text/json", method=b"POST", req_headers=[("Content-Type", "application/json")],
            req_body=b"{}"),
        acc(b"/text-fits/cp1252", method=b"POST",
            req_headers=[("Content-Type", "text/plain; charset=windows-1252")], req_body=b"\x80"),
        acc(b"/text-fits/latin1", method=b"POST",
            req_headers=[("Content-Type", "text/plain; charset=iso-8859-1")], req_body=b"x"),
        acc(b"/text-fits/css", method=b"POST", req_headers=[("Content-Type", "text/css")],
            req_body=b'@charset "iso-8859-1"; a{}'),
        acc(b"/encode-deflate", method=b"POST", req_body=b"deflate me deflate me"),
        acc(b"/encode-br", method=b"POST", req_body=b"brotli me brotli me"),
        acc(b"/encode-zstd", method=b"POST", req_body=b"zstd me zstd me"),
        acc(b"/encode-bogus", method=b"POST", req_body=b"x"),
        acc(b"/encode/already", method=b"POST",
            req_headers=[("Content-Encoding", "gzip")], req_body=gz(b"twice")),
        acc(b"/decode/bad", method=b"POST", req_headers=[("Content-Encoding", "gzip")],
            req_body=b"not gzip"),
        acc(b"/decode/identity", method=b"POST", req_headers=[("Content-Encoding", "identity")],
            req_body=b"plain"),
        acc(b"/replace/headers", method=b"POST", req_headers=[("X-ab", "tab")],
            req_body=gz(b"ab ab"), ),
        acc(b"/anticomp/none"),
        acc(b"/constrain-encoding/none", req_headers=[("Accept-Encoding", "compress, sdch")]),
        acc(b"/resp-cookies/none"),
        acc(b"/resp-cookies/odd", resp_headers=[("Set-Cookie", "flag; HttpOnly"),
                                                ("Set-Cookie", "q=\"a b\"; Secure; Path=/")]),
        acc(b"/resp-text/meta", b'<meta charset="iso-8859-1">caf\xe9', "text/html"),
        acc(b"/refresh/none"),
    ]
    h2 = acc(b"/read/trailers", b"h2 body", method=b"POST", req_body=b"h2 request",
             host="h2.example", port=443, scheme=b"https", http_version=b"HTTP/2.0")
    h2.request.trailers = http.Headers([(b"x-sent-by", b"client")])
    h2.response.trailers = http.Headers([(b"grpc-status", b"0"), (b"grpc-message", b"fine")])
    flows.append(h2)
    return flows

if __name__ == "__main__":
    which, out = sys.argv[1:]
    flows = {"filters": filters, "sticky": sticky, "gallery": gallery,
             "accessors": accessors}[which]()
    with open(out, "wb") as f:
        w = io.FlowWriter(f)
        for flow in flows:
            w.add(flow)
    print(f"ok: {len(flows)} flows")

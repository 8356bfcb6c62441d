"""The mitmproxy side of runner/tests/cli/accessors.rs, as a mitmdump addon:
the same log lines as the fixture runner/tests/fixtures/accessors (one per
read accessor, `ACC <flow id> <hook> <accessor> <JSON>`, printed to stdout),
and the same setters for the same request paths, with mitmproxy 11's API.
Bytes (and surrogate-escaped strings) are a JSON string when they are UTF-8,
else {"hex": ...}."""

import json
import re

from mitmproxy import http
from mitmproxy.net.http.cookies import CookieAttrs

ERROR = {"error": True}


def b(x):
    if isinstance(x, str):
        x = x.encode("utf-8", "surrogateescape")
    try:
        return x.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": x.hex()}


def pairs(items):
    return [[b(k), b(v)] for k, v in items]


def headers(h):
    return [] if h is None else pairs(h.fields)


def text(m):
    try:
        return m.text
    except ValueError:
        return ERROR


def js(m):
    if m.raw_content is None:
        return None
    try:
        return m.json()
    except ValueError:
        return ERROR


def content(m):
    try:
        c = m.content
    except ValueError:
        return ERROR
    return None if c is None else b(c)


def log(flow, hook, name, value):
    line = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    print(f"ACC {flow.id} {hook} {name} {line}", flush=True)


def case(flow):
    path = flow.request.path.split("?")[0].split("#")[0]
    return path.lstrip("/").split("/")[0]


def replace(m, pattern, repl):
    # mitmproxy 11 has no message.replace: the seed's, over the decoded body
    # and each header field as "name: value".
    n = 0
    fields = []
    for k, v in m.headers.fields:
        new, c = re.subn(pattern, repl, k + b": " + v)
        n += c
        k2, _, v2 = new.partition(b": ")
        fields.append((k2, v2))
    m.headers.fields = tuple(fields)
    if m.content:
        m.content, c = re.subn(pattern, repl, m.content)
        n += c
    return n


def request(flow: http.HTTPFlow):
    r = flow.request
    log(flow, "request", "url", r.url)
    log(flow, "request", "pretty_host", r.pretty_host)
    log(flow, "request", "pretty_url", r.pretty_url)
    log(flow, "request", "host_header", r.host_header)
    log(flow, "request", "query", pairs(r.query.items(multi=True)))
    log(flow, "request", "path_components", list(r.path_components))
    log(flow, "request", "cookies", pairs(r.cookies.items(multi=True)))
    log(flow, "request", "urlencoded_form", pairs(r.urlencoded_form.items(multi=True)))
    log(flow, "request", "multipart_form", pairs(r.multipart_form.items(multi=True)))
    log(flow, "request", "text", text(r))
    log(flow, "request", "json", js(r))
    log(flow, "request", "trailers", headers(r.trailers))

    done = "ok"
    c = case(flow)
    try:
        if c == "set-query":
            r.query = [("x y", "1+2&="), ("\u00e9", ""), ("k", "\udcff/~")]
        elif c == "query-mut":
            r.query["a"] = "x"
            r.query.add("c", "3 4")
            del r.query["b"]
        elif c == "set-url":
            r.url = "https://other.example:8443/new/p%20ath?z=1&z=2"
        elif c == "path-components":
            r.path_components = ["a b", "c/d", "\u00e9"]
        elif c == "form-mut":
            r.urlencoded_form["user"] = "bob & co"
            r.urlencoded_form.add("new", "1")
        elif c == "set-form":
            r.urlencoded_form = [("a", "1 2"), ("b", "\u00e9")]
        elif c == "multipart":
            r.multipart_form = [(b"field", b"new value"), (b"upload", b"\x00\xffbin")]
        elif c == "multipart-mut":
            r.multipart_form.pop(b"field", None)
        elif c == "cookies":
            r.cookies["b"] = "new=val"
        elif c == "set-cookies":
            r.cookies = [("x", "1"), ("y", "a=b")]
        elif c == "text":
            r.text = "Gr\u00fc\u00dfe \u2713"
        elif c == "encode":
            r.encode("gzip")
        elif c == "encode-deflate":
            r.encode("deflate")
        elif c == "encode-br":
            r.encode("br")
        elif c == "encode-zstd":
            r.encode("zstd")
        elif c == "encode-bogus":
            r.encode("bogus")
        elif c == "set-url-v6":
            r.url = "http://[::1]:8080/v6?a=b"
        elif c == "set-url-bad":
            r.url = "not a url"
        elif c == "text-fits":
            r.text = "Gr\u00fc\u00dfe \u20ac"
        elif c == "decode":
            r.decode()
        elif c == "replace":
            # Python's `\1` for Waylay's `$1`.
            done = replace(r, rb"a(b)", rb"\1\1")
        elif c == "anticache":
            r.anticache()
        elif c == "anticomp":
            r.anticomp()
        elif c == "constrain-encoding":
            r.constrain_encoding()
        elif c == "req-trailers":
            if r.trailers is None:
                r.trailers = http.Headers()
            r.trailers["x-new"] = "1"
        elif c == "respond":
            flow.response = http.Response.make(200, b"hi", {"Content-Type": "text/plain"})
        else:
            return
    except ValueError:
        done = ERROR
    log(flow, "request", "set", done)
    log(flow, "request", "after.url", r.url)
    log(flow, "request", "after.headers", headers(r.headers))
    log(flow, "request", "after.content", content(r))


def set_cookie(name, value, attrs):
    return [b(name), None if value is None else b(value),
            [[b(k), None if v is None else b(v)] for k, v in attrs.fields]]


def response(flow: http.HTTPFlow):
    r = flow.response
    if r is None:
        return
    log(flow, "response", "cookies",
        [set_cookie(n, v, a) for n, (v, a) in r.cookies.items(multi=True)])
    log(flow, "response", "text", text(r))
    log(flow, "response", "json", js(r))
    log(flow, "response", "trailers", headers(r.trailers))
    done = "ok"
    c = case(flow)
    try:
        if c == "resp-cookies":
            cs = [
                (n, (v, CookieAttrs([(k, x) for k, x in a.fields if k.lower() != "secure"])))
                for n, (v, a) in r.cookies.items(multi=True)
            ]
            cs.append(("added", ("v=1", CookieAttrs([("Path", "/"), ("HttpOnly", None)]))))
            r.cookies = cs
        elif c == "refresh":
            r.refresh()
        elif c == "resp-text":
            r.text = "Gr\u00fc\u00dfe \u2713"
        elif c == "resp-trailers":
            if r.trailers is None:
                r.trailers = http.Headers()
            r.trailers["x-checked"] = "yes"
        else:
            return
    except ValueError:
        done = ERROR
    log(flow, "response", "set", done)
    log(flow, "response", "after.headers", headers(r.headers))
    log(flow, "response", "after.content", content(r))

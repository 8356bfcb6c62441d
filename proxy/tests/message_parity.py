"""The mitmproxy side of tests/message_parity.rs.

Reads a JSON list of cases (argv[1]); for each, builds the message with
mitmproxy's own `Request.make` / `Response.make`, sets its header fields and
raw body, records that state, runs the operation and prints, as one JSON
list, what each accessor returned and the state each setter left. Bytes and
surrogate-escaped strings travel as hex of their UTF-8 (surrogateescape)
bytes, so nothing is lost on the way.
"""

import json
import sys

from mitmproxy.http import Headers, Request, Response


def h(b):
    return None if b is None else b.hex()


def s(text):
    return None if text is None else text.encode("utf-8", "surrogateescape").hex()


def unh(x):
    return bytes.fromhex(x)


def uns(x):
    return None if x is None else bytes.fromhex(x).decode("utf-8", "surrogateescape")


def state(m):
    d = m.data
    out = {
        "http_version": h(d.http_version),
        "headers": [[h(k), h(v)] for k, v in m.headers.fields],
        "content": h(d.content),
    }
    if isinstance(m, Request):
        out.update(
            method=h(d.method),
            scheme=h(d.scheme),
            host=d.host,
            port=d.port,
            path=h(d.path),
            authority=h(d.authority),
        )
    else:
        out.update(status_code=d.status_code, reason=h(d.reason))
    return out


def run(m, op, arg):
    if op == "query":
        return [[s(k), s(v)] for k, v in m._get_query()]
    if op == "set_query":
        m.query = [(uns(k), uns(v)) for k, v in arg]
    elif op == "path_components":
        return [s(c) for c in m.path_components]
    elif op == "set_path_components":
        m.path_components = [uns(c) for c in arg]
    elif op == "cookies" and isinstance(m, Request):
        return [[s(k), s(v)] for k, v in m._get_cookies()]
    elif op == "set_cookies" and isinstance(m, Request):
        m.cookies = [(uns(k), uns(v)) for k, v in arg]
    elif op == "cookies":
        return [
            [s(name), s(value), [[s(k), s(v)] for k, v in attrs.fields]]
            for name, (value, attrs) in m._get_cookies()
        ]
    elif op == "set_cookies":
        m.cookies = [
            (uns(name), (uns(value), [(uns(k), uns(v)) for k, v in attrs]))
            for name, value, attrs in arg
        ]
    elif op == "urlencoded_form":
        return [[s(k), s(v)] for k, v in m._get_urlencoded_form()]
    elif op == "set_urlencoded_form":
        m.urlencoded_form = [(uns(k), uns(v)) for k, v in arg]
    elif op == "multipart_form":
        return [[h(k), h(v)] for k, v in m._get_multipart_form()]
    elif op == "set_multipart_form":
        m.multipart_form = [(unh(k), unh(v)) for k, v in arg]
    elif op == "text":
        return {"text": m.text}
    elif op == "set_text":
        m.text = arg
    elif op in ("anticache", "anticomp", "constrain_encoding"):
        getattr(m, op)()
    else:
        raise SystemExit(f"unknown operation {op!r}")
    return None


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    answers = []
    for case in cases:
        if case["kind"] == "request":
            m = Request.make(case["method"], case["url"])
        else:
            m = Response.make(case["status"])
        if "path" in case:
            m.path = unh(case["path"])
        m.headers = Headers([(unh(k), unh(v)) for k, v in case["headers"]])
        m.raw_content = None if case["content"] is None else unh(case["content"])
        before = state(m)
        try:
            result = run(m, case["op"], case.get("arg"))
            answer = {"before": before, "result": result, "after": state(m)}
        except ValueError as e:
            answer = {"before": before, "error": str(e)}
        answers.append(answer)
    json.dump(answers, sys.stdout)


main()

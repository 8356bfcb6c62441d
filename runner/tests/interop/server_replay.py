"""Server replay against mitmproxy: makes the recorded and request files,
the addon that ends mitmdump once -r is read (with flows left to replay
it would keep serving), and a summary of what each request got.

    python server_replay.py make DIR        # DIR/recorded.mitm, DIR/requests.mitm, DIR/stop.py
    python server_replay.py summary FILE    # one JSON line per flow, by id
"""

import json
import sys
import time

from mitmproxy import http, io
from mitmproxy.test import tflow

FORM = "application/x-www-form-urlencoded"
MP = "multipart/form-data; boundary=B"


def multipart(pairs):
    body = "".join(
        f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in pairs
    )
    return (body + "--B--\r\n").encode()


# (method, url, headers, body)
RECORDED = [
    ("GET", "http://example.com/dup?a=1&a=2", {}, b""),
    ("GET", "http://example.com/dup?a=2&a=1", {}, b""),
    ("GET", "http://example.com/p?x=1&t=5", {}, b""),
    ("POST", "http://example.com/form", {"content-type": FORM}, b"a=1&t=2"),
    ("POST", "http://example.com/mp", {"content-type": MP}, multipart([("a", "1"), ("t", "x")])),
    ("GET", "http://example.com:8080/hp", {}, b""),
    ("GET", "http://other.com/hp", {}, b""),
    ("GET", "http://example.com/twice", {}, b""),
    ("GET", "http://example.com/twice", {}, b""),
    ("GET", "http://example.com/missing", {}, None),  # no response
    ("GET", "http://example.com/missing", {}, b""),
    ("GET", "http://example.com/h", {"x-a": "1"}, b""),
    ("GET", "http://example.com/h;params?q=1&q=", {}, b""),
    ("PUT", "http://example.com/body", {}, b"abc"),
]

REQUESTS = [
    ("GET", "http://example.com/dup?a=1&a=2", {}, b""),
    ("GET", "http://example.com/dup?a=2&a=1", {}, b""),
    ("GET", "http://example.com/dup?a=1&a=2", {}, b""),
    ("GET", "http://example.com/p?x=1&t=6", {}, b""),
    ("GET", "http://example.com/p?t=9&x=1", {}, b""),
    ("POST", "http://example.com/form", {"content-type": FORM}, b"a=1&t=3"),
    ("POST", "http://example.com/form", {"content-type": FORM}, b"t=3&a=1"),
    ("POST", "http://example.com/mp", {"content-type": MP}, multipart([("a", "1"), ("t", "y")])),
    ("GET", "http://example.com:9090/hp", {}, b""),
    ("GET", "http://other.com:8080/hp", {}, b""),
    ("GET", "http://third.com/hp", {}, b""),
    ("GET", "http://example.com/twice", {}, b""),
    ("GET", "http://example.com/twice", {}, b""),
    ("GET", "http://example.com/twice", {}, b""),
    ("GET", "http://example.com/missing", {}, b""),
    ("GET", "http://example.com/missing", {}, b""),
    ("GET", "http://example.com/h", {"x-a": "2"}, b""),
    ("GET", "http://example.com/h", {"x-a": "1"}, b""),
    ("GET", "http://example.com/h;other?q=1&q", {}, b""),
    ("PUT", "http://example.com/body", {}, b"xyz"),
    ("GET", "http://example.com/nomatch", {}, b""),
]

STOP = '''
import asyncio
from mitmproxy import ctx


class Stop:
    seen = False
    task = None

    def requestheaders(self, flow):
        self.seen = True

    def running(self):
        self.task = asyncio.get_running_loop().create_task(self.watch())

    async def watch(self):
        while True:
            await asyncio.sleep(0.2)
            if self.seen and not ctx.master.commands.call("readfile.reading"):
                ctx.master.shutdown()
                return


addons = [Stop()]
'''


def write(path, specs, prefix):
    with open(path, "wb") as f:
        w = io.FlowWriter(f)
        for i, (method, url, headers, body) in enumerate(specs):
            req = http.Request.make(method, url, body or b"", headers)
            resp = False
            if body is not None:
                resp = http.Response.make(200, f"{prefix}-{i}".encode())
                resp.timestamp_start = time.time() - 60
            flow = tflow.tflow(req=req, resp=resp)
            flow.id = f"{prefix}-{i}"
            w.add(flow)


def main():
    if sys.argv[1] == "make":
        d = sys.argv[2]
        write(f"{d}/recorded.mitm", RECORDED, "rec")
        write(f"{d}/requests.mitm", REQUESTS, "orig")
        with open(f"{d}/stop.py", "w") as f:
            f.write(STOP)
    else:
        with open(sys.argv[2], "rb") as f:
            flows = {f.id: f for f in io.FlowReader(f).stream()}
        for id in sorted(flows, key=lambda i: int(i.split("-")[1])):
            f = flows[id]
            r = f.response
            print(json.dumps([
                id,
                r and r.status_code,
                r and r.content.decode(errors="replace"),
                f.is_replay,
                f.error and f.error.msg,
            ]))


main()

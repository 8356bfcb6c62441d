"""HAR checks against mitmproxy 11 itself (run with the venv's Python).

export OURS THEIRS        two HAR files: equal but for log.creator
import OURS THEIRS        two flow files made from one HAR: equal flows
count FILE N              mitmproxy reads N flows from FILE
"""

import json
import sys

from mitmproxy import io
from mitmproxy.net import encoding


def fail(msg):
    print(msg)
    sys.exit(1)


def diff(a, b, path="$"):
    if type(a) is not type(b):
        fail(f"{path}: {a!r} != {b!r}")
    if isinstance(a, dict):
        if list(a) != list(b):
            fail(f"{path}: keys {list(a)} != {list(b)}")
        for k in a:
            diff(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            fail(f"{path}: {len(a)} items != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]")
    elif a != b:
        fail(f"{path}: {a!r} != {b!r}")


def read(path):
    with open(path, "rb") as f:
        return list(io.FlowReader(f).stream())


def comparable(flow):
    state = flow.get_state()
    # Made at import, "now" and random in both tools.
    state.pop("id")
    state.pop("timestamp_created")
    state["client_conn"].pop("id")
    state["server_conn"].pop("id")
    for which in ("request", "response"):
        msg = state.get(which)
        if msg and msg["content"]:
            headers = dict((k.lower(), v) for k, v in msg["headers"])
            ce = headers.get(b"content-encoding", b"identity").decode().lower()
            # Compressors differ byte for byte (zlib vs miniz, brotli
            # versions): compare what the body decodes to.
            msg["content"] = encoding.decode(msg["content"], ce)
    return state


def main():
    mode, *args = sys.argv[1:]
    if mode == "export":
        ours, theirs = (json.load(open(p, encoding="utf-8")) for p in args)
        if ours["log"]["creator"]["name"] != "Waylay":
            fail(f"creator: {ours['log']['creator']}")
        for doc in (ours, theirs):
            del doc["log"]["creator"]
        diff(ours, theirs)
    elif mode == "import":
        ours, theirs = (read(p) for p in args)
        diff([comparable(f) for f in ours], [comparable(f) for f in theirs])
    elif mode == "count":
        n = len(read(args[0]))
        if n != int(args[1]):
            fail(f"{args[0]}: mitmproxy read {n} flows, not {args[1]}")
    else:
        fail(f"unknown mode {mode}")


main()

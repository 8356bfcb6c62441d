"""What Waylay and mitmdump wrote with the same filters and rewriting
options, compared by mitmproxy itself; driven by runner/tests/cli/rewrite*.rs.

  rewrite.py same OURS THEIRS
      Offline runs over the same input: the same flows, state for state.
  rewrite.py same-set OURS THEIRS
      The same, by flow id: mitmdump writes a flow when its last event
      fires (twice for one with a response and an error, at the end for one
      with neither), Waylay each flow once, in input order.
  rewrite.py live OURS THEIRS
      Live captures of the same requests, one proxy each: the same
      requests as the server saw them and the same responses as the client
      saw them. What differs between any two captures is left out (ids,
      timestamps, ports, connections), and so is the Server field of a
      response the proxy made itself (mitmproxy names itself there).
"""

import sys

from mitmproxy import io


def load(path):
    with open(path, "rb") as f:
        return list(io.FlowReader(f).stream())


def same(ours, theirs):
    a, b = [f.get_state() for f in load(ours)], [f.get_state() for f in load(theirs)]
    assert len(a) == len(b), f"{len(a)} flows from Waylay, {len(b)} from mitmdump"
    for x, y in zip(a, b):
        assert x == y, f"flow {x['id']} differs:\nwaylay:   {x}\nmitmdump: {y}"
    print(f"ok: {len(a)} flows")


def same_set(ours, theirs):
    a, b = {}, {}
    for flows, into in ((load(ours), a), (load(theirs), b)):
        for f in flows:
            state = f.get_state()
            assert into.setdefault(state["id"], state) == state, f"flow {state['id']} written twice, differently"
    assert a.keys() == b.keys(), f"Waylay wrote {sorted(a.keys() - b.keys())} more, mitmdump {sorted(b.keys() - a.keys())} more"
    for k in a:
        assert a[k] == b[k], f"flow {k} differs:\nwaylay:   {a[k]}\nmitmdump: {b[k]}"
    print(f"ok: {len(a)} flows")


def view(flow):
    req, resp = flow.request, flow.response
    out = {
        "request": (req.method, req.scheme, req.host, req.port, req.path, req.http_version,
                    [(k.lower(), v) for k, v in req.headers.fields], req.raw_content),
        "error": flow.error.msg if flow.error else None,
    }
    if resp is not None:
        fields = [(k.lower(), v) for k, v in resp.headers.fields
                  if not (k.lower() == b"server" and v.startswith((b"mitmproxy ", b"waylay ")))]
        out["response"] = (resp.status_code, resp.reason, resp.http_version, fields, resp.raw_content)
    return out


def live(ours, theirs):
    a, b = [view(f) for f in load(ours)], [view(f) for f in load(theirs)]
    assert len(a) == len(b), f"{len(a)} flows from Waylay, {len(b)} from mitmdump"
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"flow {i} differs:\nwaylay:   {x}\nmitmdump: {y}"
    print(f"ok: {len(a)} flows")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"same": same, "same-set": same_set, "live": live}[cmd](*args)

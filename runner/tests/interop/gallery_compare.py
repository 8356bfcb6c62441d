"""Compares two flow files flow by flow with mitmproxy's own reader:
every field of every flow's state, as mitmproxy reads it, flows matched by
id (mitmdump's -w writes a flow at each of its ends, so a flow with a
response and an error is written twice: the last is its final state).
Prints each difference and exits 1 if there is any."""

import sys

from mitmproxy import io


def read(path):
    with open(path, "rb") as f:
        return list(io.FlowReader(f).stream())


def diff(a, b, where, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            # Times are when each tool ran (a response a script made is
            # made "now"): left out.
            if str(key).startswith("timestamp"):
                continue
            diff(a.get(key), b.get(key), f"{where}.{key}", out)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{where}[{i}]", out)
    elif a != b:
        out.append(f"{where}: waylay {a!r} / mitmproxy {b!r}")


def main():
    ours = {f.id: f for f in read(sys.argv[1])}
    theirs = {f.id: f for f in read(sys.argv[2])}
    out = []
    if set(ours) != set(theirs):
        out.append(
            f"flows only waylay wrote: {sorted(set(ours) - set(theirs))}; "
            f"only mitmproxy: {sorted(set(theirs) - set(ours))}"
        )
    for id in ours:
        if id in theirs:
            diff(ours[id].get_state(), theirs[id].get_state(), f"flow {id}", out)
    for line in out:
        print(line)
    sys.exit(1 if out else 0)


main()

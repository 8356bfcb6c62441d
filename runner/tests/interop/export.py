"""What mitmproxy 11's export addon makes of each flow in a file, as JSON.

  export.py FILE
      one line: a list with, for each flow, {"curl", "httpie", "raw"}; each
      is the text (raw: latin-1 decoded bytes) or {"error": message}.
Driven by runner/tests/cli/web_export.rs.
"""

import json
import sys

from mitmproxy import exceptions, io
from mitmproxy.addons import export
from mitmproxy.test import taddons


def attempt(make):
    try:
        out = make()
    except (exceptions.CommandError, ValueError) as e:
        return {"error": str(e)}
    except AssertionError:
        # A DNS flow has a request but is no HTTPFlow: mitmproxy's export
        # fails on an assert. Waylay says this.
        return {"error": "only HTTP flows can be exported"}
    if isinstance(out, bytes):
        return out.decode("latin-1")
    return out


def main():
    with open(sys.argv[1], "rb") as f:
        flows = list(io.FlowReader(f).stream())
    results = []
    with taddons.context(export.Export()):
        for flow in flows:
            results.append(
                {
                    "curl": attempt(lambda: export.curl_command(flow)),
                    "httpie": attempt(lambda: export.httpie_command(flow)),
                    "raw": attempt(lambda: export.raw(flow)),
                }
            )
    print(json.dumps(results))


main()

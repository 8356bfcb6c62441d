"""mitmproxy 11's flowfilter over flow files, for the differential test in
proxy/tests/filter_interop.rs.

  filters.py EXPRESSIONS.json FLOWFILE...
      EXPRESSIONS.json is a JSON list of filter expressions. Prints a JSON
      list with one entry per expression: null when mitmproxy refuses it,
      else a list of booleans, one per flow of the files in order.
"""

import json
import sys

from mitmproxy import flowfilter, io


def main(expressions_path, *paths):
    with open(expressions_path, encoding="utf-8") as f:
        expressions = json.load(f)
    flows = []
    for path in paths:
        with open(path, "rb") as f:
            flows.extend(io.FlowReader(f).stream())
    out = []
    for expression in expressions:
        try:
            flt = flowfilter.parse(expression)
        except ValueError:
            out.append(None)
            continue
        out.append([bool(flt(flow)) for flow in flows])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])

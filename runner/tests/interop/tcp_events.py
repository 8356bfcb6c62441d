"""A mitmdump addon that prints each TCP hook as the recorder fixture logs it
(runner/tests/fixtures/recorder), for runner/tests/cli/interop.rs to compare
the order of mitmproxy's TCP events with Waylay's:

    mitmdump -n -r FILE -s tcp_events.py --set flow_detail=0
"""

import json


def _say(line):
    print(f"mitm: {line}", flush=True)


def _content(message):
    return json.dumps(message.content.decode("utf-8", "replace"))


def tcp_start(flow):
    _say(f"tcp_start {len(flow.messages)} messages")


def tcp_message(flow):
    m = flow.messages[-1]
    arrow = "->" if m.from_client else "<-"
    _say(f"tcp_message #{len(flow.messages) - 1} {arrow} {_content(m)}")


def tcp_end(flow):
    _say(f"tcp_end {len(flow.messages)} messages")


def tcp_error(flow):
    _say(f"tcp_error {len(flow.messages)} messages, error Some({json.dumps(flow.error.msg)})")


def requestheaders(flow):
    _say("request_headers")


def error(flow):
    _say("error")

# Not mitmproxy's file: a mitmproxy 11 equivalent of the seed-era
# examples/iframe_injector.py (deleted from mitmproxy in 2016; its last
# version is quoted in examples/iframe-injector/src/lib.rs), written for
# this differential test. Two changes, both the Rust port's too:
# - mitmproxy 11 gives scripts no sys.argv, so the URL is an option
#   (`--set iframe_url=...`) with the port's default;
# - no BeautifulSoup/lxml (not installed with mitmproxy, and they rewrite
#   the whole document and wrap any body in <html><body>): the iframe goes
#   right after the first <body ...> start tag of the decoded body, which
#   is otherwise left as it was; a body without one is left alone.
# And a body that cannot be decoded, or was not kept, is skipped where the
# original raised (mitmdump -q exits non-zero on an addon error).
import re

from mitmproxy import ctx

BODY = re.compile(rb"<body(?:[\t\n\f\r ][^>]*)?>", re.IGNORECASE)


def load(loader):
    loader.add_option(
        "iframe_url", str, "http://iframe.example/", "The injected iframe's src."
    )


def escape(text):
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def response(flow):
    iframe_url = ctx.options.iframe_url
    if flow.request.host in iframe_url:
        return
    try:
        content = flow.response.content
    except ValueError:
        return  # a body that cannot be decoded: the original fails on it
    if content is None:
        return  # a body streamed and not kept: the original fails on it
    body = BODY.search(content)
    if body:
        iframe = (
            f'<iframe src="{escape(iframe_url)}" frameborder="0" height="0" width="0">'
            "</iframe>"
        )
        at = body.end()
        flow.response.content = content[:at] + iframe.encode() + content[at:]

# Not mitmproxy's file: a mitmproxy 11 equivalent of the seed-era
# examples/modify_response_body.py (deleted from mitmproxy in 2016; its
# last version is quoted in examples/modify-response-body/src/lib.rs),
# written for this differential test. mitmproxy 11 gives scripts no
# sys.argv and start() no longer returns an addon, so OLD and NEW are
# options here (`--set old=... --set new=...`) with the defaults of the
# original's usage line, which the Rust port uses without arguments.
# The response hook is the original's, except that a body that cannot be
# decoded, or was not kept, is skipped where the original raised (mitmdump
# -q exits non-zero on an addon error); the Rust port skips it too.
from mitmproxy import ctx


def load(loader):
    loader.add_option("old", str, "mitmproxy", "What to replace in response bodies.")
    loader.add_option("new", str, "bananas", "What to replace it with.")


def response(flow):
    try:
        content = flow.response.content
    except ValueError:
        return  # a body that cannot be decoded: the original fails on it
    if content is None:
        return  # a body streamed and not kept: the original fails on it
    flow.response.content = content.replace(
        ctx.options.old.encode(),
        ctx.options.new.encode()
    )

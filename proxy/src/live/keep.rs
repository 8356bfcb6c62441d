//! Whether a live stream keeps its messages.
//!
//! mitmproxy keeps every WebSocket and TCP message in its flow until the
//! flow ends, because something may read them: the capture file, the
//! view, a filter, a script. When nothing can, keeping them is only cost:
//! an allocation per message, memory that grows with the stream, and a
//! spill file past `stream_messages_memory`. Then the relay sends each
//! message on as it comes and only counts it (`Flow::unkept_count`), and
//! the flow line still says how many there were.
//!
//! What reads the messages:
//! - a sink: the capture file (`-w`), the view, or flow output that is
//!   more than flow lines (a save or view filter, a HAR file);
//! - an intercept (the view again);
//! - a script or addon hooked on the stream's messages or its end
//!   (`tcp_message`, `tcp_end`; `websocket_message`, `websocket_end`), or
//!   on `update`, which follows every flow event (`Scripts::wants` counts
//!   it in).
//!
//! What cannot, and why it is not asked:
//! - `tcp_start` and `websocket_start` come before any message.
//! - `tcp_error` follows a message only when a hook that saw it killed
//!   the flow or panicked (such a hook keeps the messages), or when the
//!   view killed it (the view keeps them too). Waylay's TCP relay ends a
//!   flow whose side broke off with `tcp_end`, as mitmproxy does.
//! - `error` fires for a stream only when the proxy abandons it at
//!   shutdown; a script that hooks nothing else sees its messages missing
//!   then.
//!
//! A script hook is known not to be overridden only once it has been
//! called (the SDK says so at the call), so the first stream of a kind
//! keeps its messages until its end hook has run once. The scripts are
//! asked again for each message: a script reloaded with a message hook
//! sees the messages from then on. (Those before it were not kept:
//! mitmproxy would show them.)

use crate::script::Event;

/// Which kind of stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// A TCP flow.
    Tcp,
    /// An HTTP flow's WebSocket.
    WebSocket,
}

impl Stream {
    /// The events whose hooks read this stream's messages.
    fn events(self) -> [Event; 2] {
        match self {
            Stream::Tcp => [Event::TcpMessage, Event::TcpEnd],
            Stream::WebSocket => [Event::WebsocketMessage, Event::WebsocketEnd],
        }
    }
}

/// Whether `stream`'s messages are kept: `sinks_read` when a sink reads
/// them, `paused` when there is an intercept, `wants` whether the scripts
/// and addons hook an event (or may: a hook not called yet counts).
pub fn keeps(
    stream: Stream,
    sinks_read: bool,
    paused: bool,
    wants: impl Fn(Event) -> bool,
) -> bool {
    sinks_read || paused || stream.events().into_iter().any(wants)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kept exactly when something can read them.
    #[test]
    fn kept_when_something_reads_them() {
        let none = |_: Event| false;
        let only = |hooked: Event| move |e: Event| e == hooked;
        for stream in [Stream::Tcp, Stream::WebSocket] {
            assert!(!keeps(stream, false, false, none), "{stream:?}");
            assert!(keeps(stream, true, false, none), "{stream:?}: a sink");
            assert!(keeps(stream, false, true, none), "{stream:?}: an intercept");
            // Hooks that come before any message, or cannot follow one
            // that nothing else saw.
            for other in [
                Event::Request,
                Event::Response,
                Event::Error,
                Event::TcpStart,
                Event::TcpError,
                Event::WebsocketStart,
            ] {
                assert!(
                    !keeps(stream, false, false, only(other)),
                    "{stream:?}: {other:?}"
                );
            }
        }
        for hooked in [Event::TcpMessage, Event::TcpEnd] {
            assert!(keeps(Stream::Tcp, false, false, only(hooked)));
            assert!(!keeps(Stream::WebSocket, false, false, only(hooked)));
        }
        for hooked in [Event::WebsocketMessage, Event::WebsocketEnd] {
            assert!(keeps(Stream::WebSocket, false, false, only(hooked)));
            assert!(!keeps(Stream::Tcp, false, false, only(hooked)));
        }
    }
}

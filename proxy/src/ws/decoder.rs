//! Reading one peer's frames: RFC 6455's rules enforced, fragments
//! reassembled, compressed messages inflated, all within a size limit.

use bytes::{Buf, Bytes, BytesMut};

use super::deflate::Inflater;
use super::frame::{self, Header};
use super::{Deflate, Event, Peer, WsError, protocol};

/// Reads the frames one peer sends; one per direction.
#[derive(Debug)]
pub struct Decoder {
    from: Peer,
    inflater: Option<Inflater>,
    max_message: usize,
    /// The header of the frame at the front of the buffer, read and checked
    /// while its payload is still arriving.
    head: Option<Header>,
    /// A data message whose last frame has not arrived yet.
    partial: Option<Partial>,
}

#[derive(Debug)]
struct Partial {
    text: bool,
    compressed: bool,
    /// The payload so far, inflated if compressed.
    data: Vec<u8>,
    /// The payload bytes as sent, before inflating.
    wire: usize,
}

impl Decoder {
    /// `from`: who sends the frames this decoder reads (a client's frames
    /// must be masked, a server's must not). `deflate`: the agreed
    /// permessage-deflate parameters, if any. `max_message`: the largest
    /// message accepted, in bytes after inflating.
    pub fn new(from: Peer, deflate: Option<&Deflate>, max_message: usize) -> Decoder {
        let inflater = deflate.map(|d| {
            Inflater::new(match from {
                Peer::Client => d.client_no_context_takeover,
                Peer::Server => d.server_no_context_takeover,
            })
        });
        Decoder {
            from,
            inflater,
            max_message,
            head: None,
            partial: None,
        }
    }

    /// Takes whole frames off the front of `buf` (leaves a partial frame
    /// there) and returns the next complete event, or Ok(None) when more
    /// bytes are needed.
    ///
    /// Fragmented messages are reassembled; control frames between
    /// fragments are returned as they come. Compressed messages (RSV1 on
    /// the first frame, only allowed when deflate was agreed) are inflated;
    /// the window is kept across messages unless the sender's
    /// no_context_takeover was agreed. Text messages must be valid UTF-8
    /// after reassembly and inflating. A message larger than `max_message`
    /// is [`WsError::TooLarge`], found as soon as a frame header or the
    /// inflated output shows it, so memory stays near the limit.
    ///
    /// A frame's header is checked as soon as it is in, before its payload.
    /// After an error the connection is to be failed; the decoder's state
    /// is then unspecified (but it never panics).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, WsError> {
        loop {
            let head = match self.head {
                Some(head) => head,
                None => match frame::parse(buf)? {
                    Some(head) => {
                        self.check(&head)?;
                        self.head = Some(head);
                        head
                    }
                    None => return Ok(None),
                },
            };
            // `check` bounded `len` by max_message or 125.
            let len = head.len as usize;
            if buf.len() < head.size.saturating_add(len) {
                return Ok(None);
            }
            self.head = None;
            buf.advance(head.size);
            let mut payload = buf.split_to(len);
            if let Some(key) = head.mask {
                frame::apply_mask(&mut payload, key);
            }
            if let Some(event) = self.frame(&head, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// RFC 6455's rules for a header, given what came before it.
    fn check(&self, head: &Header) -> Result<(), WsError> {
        let op = head.opcode;
        if !matches!(
            op,
            frame::CONTINUATION
                | frame::TEXT
                | frame::BINARY
                | frame::CLOSE
                | frame::PING
                | frame::PONG
        ) {
            return Err(protocol(format!("a frame has the reserved opcode {op:#x}")));
        }
        if head.rsv23 {
            return Err(protocol(
                "a frame has RSV2 or RSV3 set, but no extension that uses them was agreed",
            ));
        }
        if head.rsv1 {
            if head.is_control() {
                return Err(protocol("a control frame has RSV1 set"));
            }
            if op == frame::CONTINUATION {
                return Err(protocol(
                    "a continuation frame has RSV1 set (only a message's first frame may)",
                ));
            }
            if self.inflater.is_none() {
                return Err(protocol(
                    "a frame has RSV1 set, but permessage-deflate was not agreed",
                ));
            }
        }
        if head.is_control() {
            if !head.fin {
                return Err(protocol("a control frame is fragmented (FIN is not set)"));
            }
            if head.len > frame::MAX_CONTROL as u64 {
                return Err(protocol(format!(
                    "a control frame carries {} bytes (at most 125 are allowed)",
                    head.len
                )));
            }
            if op == frame::CLOSE && head.len == 1 {
                return Err(protocol(
                    "a close frame carries 1 byte (a close code takes 2)",
                ));
            }
        }
        match (self.from, head.mask.is_some()) {
            (Peer::Client, false) => return Err(protocol("a frame from the client is not masked")),
            (Peer::Server, true) => return Err(protocol("a frame from the server is masked")),
            _ => {}
        }
        match (op, &self.partial) {
            (frame::CONTINUATION, None) => Err(protocol(
                "a continuation frame arrived with no fragmented message started",
            )),
            (frame::TEXT | frame::BINARY, Some(_)) => Err(protocol(
                "a new message started before the fragmented one before it was finished",
            )),
            _ if head.is_control() => Ok(()),
            _ => self.check_size(head),
        }
    }

    /// Whether a data frame keeps its message within the limit: as sent,
    /// and (uncompressed) as it will be read.
    fn check_size(&self, head: &Header) -> Result<(), WsError> {
        let (so_far, compressed) = match &self.partial {
            Some(p) => (p.wire, p.compressed),
            None => (0, head.rsv1),
        };
        // Compressed data may be a little larger than what it inflates to
        // (stored blocks add 5 bytes in 65535), never by this much.
        let limit = if compressed {
            self.max_message
                .saturating_add(self.max_message / 256)
                .saturating_add(256)
        } else {
            self.max_message
        };
        let total = (so_far as u64).saturating_add(head.len);
        if total > limit as u64 {
            return Err(WsError::TooLarge {
                limit: self.max_message,
            });
        }
        Ok(())
    }

    /// One whole, checked, unmasked frame; an event if it ends one.
    fn frame(&mut self, head: &Header, payload: BytesMut) -> Result<Option<Event>, WsError> {
        match head.opcode {
            frame::CLOSE => return close(&payload).map(Some),
            frame::PING => return Ok(Some(Event::Ping(payload.freeze()))),
            frame::PONG => return Ok(Some(Event::Pong(payload.freeze()))),
            frame::CONTINUATION => {}
            op if head.fin && !head.rsv1 => {
                // One frame, not compressed: the payload as it lies.
                return message(op == frame::TEXT, payload.freeze()).map(Some);
            }
            op => {
                self.partial = Some(Partial {
                    text: op == frame::TEXT,
                    compressed: head.rsv1,
                    data: Vec::new(),
                    wire: 0,
                });
            }
        }
        let Some(partial) = self.partial.as_mut() else {
            return Err(protocol(
                "a continuation frame arrived with no fragmented message started",
            ));
        };
        partial.wire += payload.len();
        match (&mut self.inflater, partial.compressed) {
            (Some(inflater), true) => {
                inflater.inflate(&payload, &mut partial.data, self.max_message)?;
                if head.fin {
                    inflater.finish(&mut partial.data, self.max_message)?;
                }
            }
            _ => {
                // check_size kept data + payload within max_message.
                let data = &mut partial.data;
                if data.capacity() - data.len() < payload.len() {
                    let target = (data.capacity() * 2)
                        .max(data.len() + payload.len())
                        .min(self.max_message);
                    data.reserve_exact(target - data.len());
                }
                data.extend_from_slice(&payload);
            }
        }
        if !head.fin {
            return Ok(None);
        }
        let Some(partial) = self.partial.take() else {
            return Ok(None);
        };
        message(partial.text, Bytes::from(partial.data)).map(Some)
    }
}

/// A finished data message; text is checked for UTF-8.
fn message(text: bool, payload: Bytes) -> Result<Event, WsError> {
    if text && std::str::from_utf8(&payload).is_err() {
        return Err(WsError::InvalidUtf8);
    }
    Ok(Event::Message { text, payload })
}

/// A close frame's payload: empty, or a code allowed on the wire and a
/// UTF-8 reason (RFC 6455 sections 5.5.1 and 7.4).
fn close(payload: &[u8]) -> Result<Event, WsError> {
    let Some((code, reason)) = payload.split_first_chunk::<2>() else {
        return Ok(Event::Close(None));
    };
    let code = u16::from_be_bytes(*code);
    if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
        return Err(protocol(format!(
            "a close frame has the code {code}, which may not be sent"
        )));
    }
    let reason = std::str::from_utf8(reason).map_err(|_| WsError::InvalidUtf8)?;
    Ok(Event::Close(Some((code, reason.to_owned()))))
}

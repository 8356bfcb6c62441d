//! Writing frames to one peer: each message as one frame, compressed when
//! permessage-deflate was agreed, masked when it goes to the server.

use super::deflate;
use super::frame::{self, MAX_CONTROL, MAX_HEADER};
use super::{Deflate, Peer};

/// Writes the frames one peer receives; one per direction.
#[derive(Debug)]
pub struct Encoder {
    to: Peer,
    /// With permessage-deflate: the LZ77 window the receiver keeps for
    /// this direction, in bits.
    window_bits: Option<u8>,
    /// Tests pin the masking key to compare bytes with the RFC's.
    #[cfg(test)]
    fixed_key: Option<[u8; 4]>,
}

impl Encoder {
    /// `to`: who receives the frames (frames to a Server are masked with a
    /// fresh random 4-byte key; frames to a Client are not). `deflate`:
    /// the agreed permessage-deflate parameters, if any.
    pub fn new(to: Peer, deflate: Option<&Deflate>) -> Encoder {
        // Frames to the server are the client's: its window applies.
        let window_bits = deflate.map(|d| match to {
            Peer::Server => d.client_max_window_bits,
            Peer::Client => d.server_max_window_bits,
        });
        Encoder {
            to,
            window_bits,
            #[cfg(test)]
            fixed_key: None,
        }
    }

    /// Masks every frame with `key` instead of a fresh one.
    #[cfg(test)]
    pub(super) fn with_mask_key(self, key: [u8; 4]) -> Encoder {
        Encoder {
            fixed_key: Some(key),
            ..self
        }
    }

    fn mask(&self) -> Option<[u8; 4]> {
        #[cfg(test)]
        if let Some(key) = self.fixed_key {
            return (self.to == Peer::Server).then_some(key);
        }
        (self.to == Peer::Server).then(frame::mask_key)
    }

    /// Appends one whole message as one frame (FIN set), compressed (RSV1)
    /// when deflate was agreed.
    ///
    /// Each message is compressed with a fresh context (a sender may always
    /// act as if no_context_takeover was agreed, so this is valid whatever
    /// the receiver keeps). When the receiver's agreed window for this
    /// direction is below 15 bits, the message goes in stored deflate
    /// blocks, so nothing refers back past the window.
    pub fn message(&mut self, text: bool, payload: &[u8], out: &mut Vec<u8>) {
        let opcode = if text { frame::TEXT } else { frame::BINARY };
        let Some(window_bits) = self.window_bits else {
            self.frame(opcode, payload, out);
            return;
        };
        // Compress after room for the longest header, then write the real
        // one just before the data and close the gap.
        let start = out.len();
        out.resize(start + MAX_HEADER, 0);
        deflate::compress(payload, window_bits, out);
        let len = out.len() - start - MAX_HEADER;
        let mask = self.mask();
        let (head, size) = frame::header(true, opcode, len, mask);
        out.copy_within(start + MAX_HEADER.., start + size);
        out.truncate(start + size + len);
        out[start..start + size].copy_from_slice(&head[..size]);
        if let Some(key) = mask {
            frame::apply_mask(&mut out[start + size..], key);
        }
    }

    /// Appends a ping. A payload longer than 125 bytes is cut to 125.
    pub fn ping(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.frame(frame::PING, &payload[..payload.len().min(MAX_CONTROL)], out);
    }

    /// Appends a pong. A payload longer than 125 bytes is cut to 125.
    pub fn pong(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        self.frame(frame::PONG, &payload[..payload.len().min(MAX_CONTROL)], out);
    }

    /// Appends a close frame; None means an empty close frame. Reasons are
    /// truncated so the payload fits 125 bytes (on a char boundary).
    pub fn close(&mut self, code_reason: Option<(u16, &str)>, out: &mut Vec<u8>) {
        let mut payload = [0; MAX_CONTROL];
        let len = match code_reason {
            None => 0,
            Some((code, reason)) => {
                let mut end = reason.len().min(MAX_CONTROL - 2);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                payload[..2].copy_from_slice(&code.to_be_bytes());
                payload[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
                2 + end
            }
        };
        self.frame(frame::CLOSE, &payload[..len], out);
    }

    /// Appends one uncompressed frame with FIN set.
    fn frame(&self, opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
        let mask = self.mask();
        let (head, size) = frame::header(false, opcode, payload.len(), mask);
        out.reserve(size + payload.len());
        out.extend_from_slice(&head[..size]);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            frame::apply_mask(&mut out[start..], key);
        }
    }
}

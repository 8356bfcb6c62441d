//! RFC 7692 permessage-deflate over flate2's raw deflate: inflating a
//! message with a bound on its size, compressing one with a fresh context.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::WsError;

/// What a sync flush ends with; RFC 7692 section 7.2.1 has the sender drop
/// it and section 7.2.2 has the receiver put it back.
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// The largest stored (uncompressed) deflate block.
const MAX_STORED: usize = 0xFFFF;

/// Inflates the messages one peer sends, keeping the LZ77 window from one
/// message to the next unless the peer agreed not to use it.
#[derive(Debug)]
pub(super) struct Inflater {
    z: Decompress,
    no_context_takeover: bool,
    /// The peer ended the deflate stream (a block with BFINAL) inside the
    /// current message: the rest of it is ignored and the next message
    /// starts a new stream.
    ended: bool,
}

impl Inflater {
    pub fn new(no_context_takeover: bool) -> Inflater {
        Inflater {
            z: Decompress::new(false),
            no_context_takeover,
            ended: false,
        }
    }

    /// Inflates one fragment's payload onto `out`, which holds the message
    /// so far; refuses to let `out` grow past `limit` bytes. Memory grows
    /// with the output actually produced, never with what the compressed
    /// data claims.
    pub fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), WsError> {
        while !self.ended {
            if out.len() > limit {
                return Err(WsError::TooLarge { limit });
            }
            if out.len() == out.capacity() {
                // Double, but never past one byte over the limit: that byte
                // is how an oversized message shows.
                let target = (out.capacity() * 2)
                    .max(out.len() + 4096)
                    .min(limit.saturating_add(1));
                out.reserve_exact(target - out.len());
            }
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .decompress_vec(input, out, FlushDecompress::None)
                .map_err(|e| WsError::Deflate(e.to_string()))?;
            let consumed = (self.z.total_in() - in_before) as usize;
            let produced = self.z.total_out() - out_before;
            input = &input[consumed..];
            if out.len() > limit {
                return Err(WsError::TooLarge { limit });
            }
            match status {
                Status::StreamEnd => self.ended = true,
                Status::Ok | Status::BufError => {
                    if out.len() == out.capacity() {
                        continue; // the output stopped it: make room
                    }
                    if input.is_empty() {
                        break; // all taken: the next fragment goes on
                    }
                    if consumed == 0 && produced == 0 {
                        return Err(WsError::Deflate(
                            "the inflater stopped taking input part way through".into(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends a message: puts back the sync flush's tail and inflates it,
    /// then forgets the window if the peer agreed not to use it.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), WsError> {
        self.inflate(&SYNC_TAIL, out, limit)?;
        if self.no_context_takeover || self.ended {
            self.z.reset(false);
            self.ended = false;
        }
        Ok(())
    }
}

thread_local! {
    /// Every message is compressed with a fresh context, so one compressor
    /// per thread serves every encoder: miniz's state is a few hundred KB,
    /// too much to keep per connection.
    static COMPRESS: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Appends `payload` compressed for the wire (RFC 7692 section 7.2.1): a
/// fresh context, a sync flush, its trailing 00 00 ff ff removed. With
/// `window_bits` below 15 the receiver keeps a smaller window than miniz
/// refers back into, so the payload goes in stored blocks instead.
pub(super) fn compress(payload: &[u8], window_bits: u8, out: &mut Vec<u8>) {
    let start = out.len();
    if window_bits >= 15 && compress_with_miniz(payload, out) {
        return;
    }
    out.truncate(start);
    stored(payload, out);
}

/// Compresses with miniz at its fast level; false if it failed (it does
/// not, but a proxy that relays the message regardless is better off
/// falling back than panicking).
fn compress_with_miniz(payload: &[u8], out: &mut Vec<u8>) -> bool {
    COMPRESS.with(|cell| {
        let mut cell = cell.borrow_mut();
        let z = cell.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        z.reset();
        let start = out.len();
        out.reserve(payload.len() + 64);
        let mut input = payload;
        loop {
            let before = z.total_in();
            if z.compress_vec(input, out, FlushCompress::Sync).is_err() {
                return false;
            }
            input = &input[(z.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
            out.reserve(input.len() / 2 + 1024);
        }
        if !out[start..].ends_with(&SYNC_TAIL) {
            return false;
        }
        out.truncate(out.len() - SYNC_TAIL.len());
        true
    })
}

/// `payload` as stored deflate blocks, then the first byte of an empty
/// stored block: the receiver's 00 00 ff ff completes it.
fn stored(payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len() + payload.len() / MAX_STORED * 5 + 6);
    for block in payload.chunks(MAX_STORED) {
        let len = block.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.push(0x00);
}

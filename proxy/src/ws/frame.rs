//! RFC 6455 section 5.2 frame headers: reading one off the front of a
//! buffer, writing one, masking payloads, and fresh masking keys.

use std::cell::Cell;

use super::{WsError, protocol};

pub(super) const CONTINUATION: u8 = 0x0;
pub(super) const TEXT: u8 = 0x1;
pub(super) const BINARY: u8 = 0x2;
pub(super) const CLOSE: u8 = 0x8;
pub(super) const PING: u8 = 0x9;
pub(super) const PONG: u8 = 0xA;

/// The longest header: 2 bytes, a 64-bit length, a masking key.
pub(super) const MAX_HEADER: usize = 14;

/// The most payload a control frame may carry (RFC 6455 section 5.5).
pub(super) const MAX_CONTROL: usize = 125;

/// One frame's header as read off the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub fin: bool,
    pub rsv1: bool,
    /// RSV2 or RSV3: no extension Waylay knows uses them.
    pub rsv23: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// The payload's length; below 2^63 (checked).
    pub len: u64,
    /// The header's own length in bytes, 2 to 14.
    pub size: usize,
}

impl Header {
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// Reads the frame header at the start of `buf`: `Ok(None)` until all of
/// it is there. Only the length's top bit is checked here.
pub(super) fn parse(buf: &[u8]) -> Result<Option<Header>, WsError> {
    let [b0, b1, rest @ ..] = buf else {
        return Ok(None);
    };
    let (len, rest) = match b1 & 0x7F {
        126 => match rest {
            [a, b, rest @ ..] => (u64::from(u16::from_be_bytes([*a, *b])), rest),
            _ => return Ok(None),
        },
        127 => match rest.split_first_chunk::<8>() {
            Some((n, rest)) => (u64::from_be_bytes(*n), rest),
            None => return Ok(None),
        },
        n => (u64::from(n), rest),
    };
    if len >> 63 != 0 {
        return Err(protocol(
            "a frame's 64-bit payload length has its most significant bit set",
        ));
    }
    let mask = if b1 & 0x80 != 0 {
        match rest.first_chunk::<4>() {
            Some(key) => Some(*key),
            None => return Ok(None),
        }
    } else {
        None
    };
    let size = buf.len() - rest.len() + if mask.is_some() { 4 } else { 0 };
    Ok(Some(Header {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv23: b0 & 0x30 != 0,
        opcode: b0 & 0x0F,
        mask,
        len,
        size,
    }))
}

/// A header with FIN set, RSV1 as given and the shortest length form, in
/// the first `.1` bytes of `.0`.
pub(super) fn header(
    rsv1: bool,
    opcode: u8,
    len: usize,
    mask: Option<[u8; 4]>,
) -> ([u8; MAX_HEADER], usize) {
    let mut head = [0; MAX_HEADER];
    head[0] = 0x80 | if rsv1 { 0x40 } else { 0 } | opcode;
    let masked = if mask.is_some() { 0x80 } else { 0 };
    let mut at = 2;
    if len < 126 {
        head[1] = masked | len as u8;
    } else if let Ok(len) = u16::try_from(len) {
        head[1] = masked | 126;
        head[2..4].copy_from_slice(&len.to_be_bytes());
        at = 4;
    } else {
        head[1] = masked | 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        at = 10;
    }
    if let Some(key) = mask {
        head[at..at + 4].copy_from_slice(&key);
        at += 4;
    }
    (head, at)
}

/// XORs `data` with `key` (RFC 6455 section 5.3): masks and unmasks.
pub(super) fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // Whole chunks are a multiple of 4 long, so the key starts over here.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// A fresh masking key: splitmix64 per thread, seeded once from a random
/// UUID. RFC 6455 asks for keys an intermediary cannot predict; this is
/// enough for that (it is not a secret).
pub(super) fn mask_key() -> [u8; 4] {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    let z = STATE.with(|s| {
        let z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        z
    });
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let z = z ^ (z >> 31);
    let [a, b, c, d, ..] = z.to_le_bytes();
    [a, b, c, d]
}

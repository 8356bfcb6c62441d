//! Content-Encoding: gzip, deflate, br and zstd, decoded and encoded.
//!
//! A header may list several codings (`gzip, br`); they were applied in
//! order, so decoding undoes them last to first. `identity` and `none` are
//! no-ops. Errors are [`EncodingError`]s, one line each, naming the coding.

use std::fmt;
use std::io::{Read, Write};

use bytes::Bytes;

/// Why a body could not be decoded or encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodingError {
    /// The Content-Encoding header is not ASCII.
    NotAscii,
    /// A coding Waylay does not know (lowercased, as named).
    Unknown(String),
    /// A Content-Encoding mitmproxy would not decode as it stands (a list,
    /// or a coding it does not know), in mitmproxy's words.
    Invalid(String),
    /// The body is not valid in this coding.
    Corrupt { coding: String, why: String },
    /// Encoding failed (the encoder's I/O error, in words).
    Encode { coding: String, why: String },
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::NotAscii => f.write_str("Content-Encoding is not ASCII"),
            EncodingError::Unknown(coding) => write!(f, "unknown Content-Encoding {coding:?}"),
            EncodingError::Invalid(coding) => write!(f, "Invalid Content-Encoding: {coding}"),
            EncodingError::Corrupt { coding, why } => {
                write!(f, "body is not valid {coding}: {why}")
            }
            EncodingError::Encode { coding, why } => {
                write!(f, "cannot encode body as {coding}: {why}")
            }
        }
    }
}

impl std::error::Error for EncodingError {}

/// Undoes every coding in `header` on `raw`.
pub fn decode(header: &[u8], raw: &Bytes) -> Result<Bytes, EncodingError> {
    let mut data = raw.clone();
    for coding in codings(header)?.iter().rev() {
        data = decode_one(coding, &data).map(Bytes::from)?;
    }
    Ok(data)
}

/// Applies every coding in `header` to `body`.
pub fn encode(header: &[u8], body: &[u8]) -> Result<Bytes, EncodingError> {
    let mut data = Bytes::copy_from_slice(body);
    for coding in codings(header)? {
        data = encode_one(&coding, &data).map(Bytes::from)?;
    }
    Ok(data)
}

fn codings(header: &[u8]) -> Result<Vec<String>, EncodingError> {
    let header = std::str::from_utf8(header).map_err(|_| EncodingError::NotAscii)?;
    Ok(header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity" && c != "none")
        .collect())
}

fn decode_one(coding: &str, data: &[u8]) -> Result<Vec<u8>, EncodingError> {
    let corrupt = |why: String| EncodingError::Corrupt {
        coding: coding.to_owned(),
        why,
    };
    let mut out = Vec::with_capacity(data.len() * 4);
    let result = match coding {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out),
        // Servers send both zlib-wrapped and raw deflate; try zlib first.
        "deflate" => flate2::read::ZlibDecoder::new(data)
            .read_to_end(&mut out)
            .or_else(|_| {
                out.clear();
                flate2::read::DeflateDecoder::new(data).read_to_end(&mut out)
            }),
        "br" => brotli::Decompressor::new(data, 4096).read_to_end(&mut out),
        "zstd" => match ruzstd::decoding::StreamingDecoder::new(data) {
            Ok(mut decoder) => decoder.read_to_end(&mut out),
            Err(e) => return Err(corrupt(e.to_string())),
        },
        other => return Err(EncodingError::Unknown(other.to_owned())),
    };
    result.map_err(|e| corrupt(e.to_string()))?;
    Ok(out)
}

fn encode_one(coding: &str, data: &[u8]) -> Result<Vec<u8>, EncodingError> {
    let io = |why: std::io::Error| EncodingError::Encode {
        coding: coding.to_owned(),
        why: why.to_string(),
    };
    match coding {
        "gzip" | "x-gzip" => {
            // Level 9, as Python's `gzip.GzipFile` (mitmproxy's encoder):
            // the header says so (XFL 2), and short bodies come out the
            // same byte for byte.
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)
        }
        "deflate" => {
            let mut enc =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                enc.write_all(data).map_err(io)?;
            }
            Ok(out)
        }
        "zstd" => Ok(ruzstd::encoding::compress_to_vec(
            data,
            ruzstd::encoding::CompressionLevel::Fastest,
        )),
        other => Err(EncodingError::Unknown(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coding_round_trips() {
        let body = b"hello hello hello hello waylay".repeat(20);
        for header in [
            "gzip", "x-gzip", "deflate", "br", "zstd", "identity", "gzip, br", "", "GZIP",
        ] {
            let encoded = encode(header.as_bytes(), &body).unwrap();
            if !header.is_empty() && header != "identity" {
                assert_ne!(&encoded[..], &body[..], "{header}");
            }
            let decoded = decode(header.as_bytes(), &encoded).unwrap();
            assert_eq!(&decoded[..], &body[..], "{header}");
        }
    }

    #[test]
    fn raw_deflate_is_accepted() {
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"raw deflate").unwrap();
        let raw = Bytes::from(enc.finish().unwrap());
        assert_eq!(&decode(b"deflate", &raw).unwrap()[..], b"raw deflate");
    }

    #[test]
    fn errors_name_the_coding() {
        let junk = Bytes::from_static(b"not compressed at all");
        for (header, want) in [
            ("gzip", "body is not valid gzip"),
            ("br", "body is not valid br"),
            ("zstd", "body is not valid zstd"),
            ("compress", "unknown Content-Encoding \"compress\""),
        ] {
            let got = decode(header.as_bytes(), &junk).unwrap_err().to_string();
            assert!(got.starts_with(want), "{header}: {got}");
        }
    }
}

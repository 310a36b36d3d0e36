//! [`read_head`]: the one loop that reads a file's head (header, metadata, tensor infos) from a
//! [`RangeRead`] without its tensor data, for a local file too large to map and a remote one
//! alike.
//!
//! It reads [`HeadLimits::first_read`] bytes (1 MiB: most models' metadata fits), then, while
//! [`Gguf::parse_with`] says `Truncated { needed }`, extends what it holds to
//! [`next_head_len`] (the head's length estimated from what is held, at least `needed`): a head
//! under 64 MiB takes at most three reads and at most 1.25 × its length + 1 MiB
//! ([`READ_ALLOWANCE`](crate::READ_ALLOWANCE)). It never reads past the source's end (when the
//! source knows it), nor past [`HeadLimits::max_bytes`]. It stops
//!
//! - when the bytes held parse, or fail to parse for a reason other than their length: the
//!   caller's parse reports it;
//! - at the source's end (a short read): what is held is returned, for the caller's parse to
//!   report where it is cut;
//! - with [`HeadError::CutShort`] when the parser needs more than the whole source holds (no
//!   further read), and [`HeadError::TooLong`] when it needs more than the limit.
//!
//! Each read first reserves exactly what it may append, so a failed reservation is
//! [`HeadError::OutOfMemory`], not an abort.

use std::fmt;

use crate::error::Error;
use crate::estimate::next_head_len;
use crate::file::{Gguf, ParseOptions};
use crate::range::RangeRead;

/// The first read's length by default: the metadata of most models fits (the Phi-3 vocab file
/// has 726 KB).
pub const FIRST_HEAD_READ_BYTES: u64 = 1 << 20;

/// How much [`read_head`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeadLimits {
    /// The first read's length.
    pub first_read: u64,
    /// The most it reads in all: a head that needs more is [`HeadError::TooLong`].
    pub max_bytes: u64,
}

impl HeadLimits {
    /// [`FIRST_HEAD_READ_BYTES`] first, and at most `max_bytes` in all.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            first_read: FIRST_HEAD_READ_BYTES,
            max_bytes,
        }
    }

    /// The same limits with another first read.
    pub fn with_first_read(self, first_read: u64) -> Self {
        Self { first_read, ..self }
    }
}

/// The head of a file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The bytes read, from offset 0: the header, metadata and tensor infos (and whatever
    /// followed them in the last read), or all of a shorter file.
    pub bytes: Vec<u8>,
    /// The length of the whole source, when it said.
    pub file_len: Option<u64>,
    /// How many reads it took.
    pub reads: u32,
}

/// Why [`read_head`] stopped without a head for the caller to parse.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeadError<E> {
    /// The source failed.
    Read {
        /// Where the read started.
        offset: u64,
        /// The source's error.
        source: E,
    },
    /// The parser needs more bytes than the whole source holds: the file itself is cut short.
    CutShort {
        /// What the parse of the bytes held said (`Truncated`).
        parse: Error,
        /// The source's length.
        file_len: u64,
    },
    /// The parser needs more than [`HeadLimits::max_bytes`].
    TooLong {
        /// What the parse of the bytes held said (`Truncated`).
        parse: Error,
        /// The limit.
        max_bytes: u64,
    },
    /// Memory for the next read could not be reserved.
    OutOfMemory {
        /// The bytes the reservation asked for.
        bytes: u64,
    },
}

impl<E: fmt::Display> fmt::Display for HeadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { offset, source } => write!(f, "reading from byte {offset}: {source}"),
            Self::CutShort { parse, file_len } => {
                write!(f, "{parse}, and the whole file has {file_len} bytes")
            }
            Self::TooLong { parse, max_bytes } => write!(
                f,
                "{parse}; reading on would take more than the {max_bytes} bytes a head is read for"
            ),
            Self::OutOfMemory { bytes } => {
                write!(f, "could not reserve {bytes} bytes for the file's head")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for HeadError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::CutShort { parse, .. } | Self::TooLong { parse, .. } => Some(parse),
            Self::OutOfMemory { .. } => None,
        }
    }
}

/// Reads the head of `source` (see the module docs).
pub fn read_head<R: RangeRead + ?Sized>(
    source: &mut R,
    limits: HeadLimits,
) -> Result<Head, HeadError<R::Error>> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut reads = 0u32;
    let mut want = limits.first_read.min(limits.max_bytes);
    loop {
        let held = bytes.len() as u64;
        let want_now = source.len().map_or(want, |len| want.min(len));
        let (mut at_end, mut read_now) = (false, false);
        if want_now > held {
            let ask = want_now - held;
            let room = usize::try_from(ask).map_err(|_| HeadError::OutOfMemory { bytes: ask })?;
            bytes
                .try_reserve_exact(room)
                .map_err(|_| HeadError::OutOfMemory { bytes: ask })?;
            source
                .read_at(held, ask, &mut bytes)
                .map_err(|source| HeadError::Read {
                    offset: held,
                    source,
                })?;
            reads = reads.saturating_add(1);
            read_now = true;
            at_end = (bytes.len() as u64) < want_now;
        }
        let held = bytes.len() as u64;
        let file_len = source.len();
        let (needed, parse) = match Gguf::parse_with(&bytes, ParseOptions::lenient()) {
            Ok(_) => break,
            Err(err) => match err.needed() {
                Some(needed) => (needed, err),
                None => break,
            },
        };
        // At the source's end, or with nothing more to read: the caller's parse of what is held
        // reports the truncation.
        if at_end || file_len.is_some_and(|len| held >= len) || (!read_now && reads > 0) {
            break;
        }
        if let Some(len) = file_len.filter(|&len| needed > len) {
            // Reading on to the end would not help: the file itself is cut short.
            return Err(HeadError::CutShort {
                parse,
                file_len: len,
            });
        }
        if needed > limits.max_bytes {
            return Err(HeadError::TooLong {
                parse,
                max_bytes: limits.max_bytes,
            });
        }
        want = next_head_len(&bytes, needed).min(limits.max_bytes);
    }
    Ok(Head {
        bytes,
        file_len: source.len(),
        reads,
    })
}

//! Seeded mutations for the tests (with the testkit's SplitMix64 [`Rng`]): single- and
//! multi-byte mutations of valid files, aimed at the fields a parser trusts.

pub use ggufscope_testkit::rng::Rng;

/// Values that make parsers misbehave when written over a count, a length, a type or an offset.
pub const INTERESTING: [u64; 16] = [
    0,
    1,
    2,
    4,
    7,
    9,
    12,
    13,
    0x7F,
    0xFF,
    0xFFFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    0x1_0000_0000,
    0x7FFF_FFFF_FFFF_FFFF,
    u64::MAX,
];

/// Applies one random mutation to `bytes`, within `bytes[..focus]` for the in-place kinds
/// (`focus` is normally the end of the header, metadata and tensor infos, where the parser
/// reads; the data after it is only bounds-checked). Returns the mutation's name.
///
/// Kinds: a random byte, a bit flip, 2–8 random bytes, an interesting value written as a `u8`,
/// `u32` or `u64` in either byte order, a byte run inserted or deleted, the input truncated,
/// and a chunk copied over another place.
pub fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, focus: usize) -> &'static str {
    let focus = focus.min(bytes.len()).max(1);
    let at = rng.below(focus);
    match rng.below(9) {
        0 => {
            if let Some(b) = bytes.get_mut(at) {
                *b = rng.byte();
            }
            "byte"
        }
        1 => {
            let bit = rng.below(8);
            if let Some(b) = bytes.get_mut(at) {
                *b ^= 1 << bit;
            }
            "bit"
        }
        2 => {
            let n = 2 + rng.below(7);
            for i in 0..n {
                let v = rng.byte();
                if let Some(b) = bytes.get_mut(at + i) {
                    *b = v;
                }
            }
            "bytes"
        }
        3 | 4 => {
            let v = INTERESTING
                .get(rng.below(INTERESTING.len()))
                .copied()
                .unwrap_or(0);
            let width = [1usize, 4, 8].get(rng.below(3)).copied().unwrap_or(8);
            let raw = if rng.one_in(2) {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            let src = if rng.one_in(2) {
                raw.get(..width)
            } else {
                raw.get(8 - width..)
            };
            for (i, &s) in src.unwrap_or_default().iter().enumerate() {
                if let Some(b) = bytes.get_mut(at + i) {
                    *b = s;
                }
            }
            "interesting"
        }
        5 => {
            let n = 1 + rng.below(16);
            let run = rng.bytes(n);
            let at = at.min(bytes.len());
            bytes.splice(at..at, run);
            "insert"
        }
        6 => {
            let n = (1 + rng.below(16)).min(bytes.len() - at.min(bytes.len()));
            let at = at.min(bytes.len());
            bytes.drain(at..at + n);
            "delete"
        }
        7 => {
            bytes.truncate(at);
            "truncate"
        }
        _ => {
            let n = 1 + rng.below(32);
            let from = rng.below(focus);
            let chunk: Vec<u8> = bytes
                .get(from..(from + n).min(bytes.len()))
                .unwrap_or_default()
                .to_vec();
            for (i, &s) in chunk.iter().enumerate() {
                if let Some(b) = bytes.get_mut(at + i) {
                    *b = s;
                }
            }
            "copy"
        }
    }
}

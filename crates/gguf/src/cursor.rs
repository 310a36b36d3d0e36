//! The only code that slices the input: checked, endian-aware reads that know their offset.

use crate::error::{Error, ErrorKind, Limit};
use crate::header::Endian;

/// A read position over the whole input. Every read checks bounds and returns
/// [`ErrorKind::Truncated`] with the total length it would need.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    endian: Endian,
}

/// Total bytes needed to read `n` more bytes at `pos`, saturating instead of wrapping.
pub(crate) fn needed(pos: usize, n: u64) -> u64 {
    u64::try_from(pos).unwrap_or(u64::MAX).saturating_add(n)
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize, endian: Endian) -> Self {
        Self { data, pos, endian }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn offset(&self) -> u64 {
        u64::try_from(self.pos).unwrap_or(u64::MAX)
    }

    pub(crate) fn remaining(&self) -> u64 {
        u64::try_from(self.data.len().saturating_sub(self.pos)).unwrap_or(u64::MAX)
    }

    pub(crate) fn set_endian(&mut self, endian: Endian) {
        self.endian = endian;
    }

    pub(crate) fn truncated(&self, n: u64) -> Error {
        Error::new(
            ErrorKind::Truncated {
                needed: needed(self.pos, n),
                available: u64::try_from(self.data.len()).unwrap_or(u64::MAX),
            },
            self.offset(),
        )
    }

    /// Checks that `n` more bytes exist without consuming them.
    pub(crate) fn ensure(&self, n: u64) -> Result<(), Error> {
        if n > self.remaining() {
            Err(self.truncated(n))
        } else {
            Ok(())
        }
    }

    /// Borrows the next `n` bytes.
    pub(crate) fn bytes(&mut self, n: u64) -> Result<&'a [u8], Error> {
        let slice = usize::try_from(n)
            .ok()
            .and_then(|n| Some((n, self.pos.checked_add(n)?)))
            .and_then(|(_, end)| Some((end, self.data.get(self.pos..end)?)));
        match slice {
            Some((end, s)) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(self.truncated(n)),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let end = self.pos.checked_add(N);
        match end
            .and_then(|end| self.data.get(self.pos..end))
            .and_then(|s| <[u8; N]>::try_from(s).ok())
        {
            Some(a) => {
                self.pos += N;
                Ok(a)
            }
            None => Err(self.truncated(N as u64)),
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }
}

macro_rules! endian_reads {
    ($($name:ident: $ty:ty),* $(,)?) => {
        impl<'a> Cursor<'a> {
            $(
                pub(crate) fn $name(&mut self) -> Result<$ty, Error> {
                    let raw = self.array::<{ std::mem::size_of::<$ty>() }>()?;
                    Ok(match self.endian {
                        Endian::Little => <$ty>::from_le_bytes(raw),
                        Endian::Big => <$ty>::from_be_bytes(raw),
                    })
                }
            )*
        }
    };
}

endian_reads!(
    i8: i8, u16: u16, i16: i16, u32: u32, i32: i32, u64: u64, i64: i64, f32: f32, f64: f64,
);

impl<'a> Cursor<'a> {
    /// The whole input.
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The byte order in use.
    pub(crate) fn endian(&self) -> Endian {
        self.endian
    }
}

/// Reads one string length (4 or 8 bytes, either byte order) at `pos`.
#[inline(always)]
fn len_at<const WIDE: bool, const BIG: bool>(data: &[u8], pos: usize) -> Option<u64> {
    if WIDE {
        let raw = <[u8; 8]>::try_from(data.get(pos..pos.checked_add(8)?)?).ok()?;
        Some(if BIG {
            u64::from_be_bytes(raw)
        } else {
            u64::from_le_bytes(raw)
        })
    } else {
        let raw = <[u8; 4]>::try_from(data.get(pos..pos.checked_add(4)?)?).ok()?;
        Some(u64::from(if BIG {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        }))
    }
}

/// The span `(start, end)` of the string at `pos`, or where and how it fails:
/// `Err((offset, None))` for a length above `max`, `Err((offset, Some(n)))` when `n` more bytes
/// are needed at `offset`.
#[inline(always)]
fn str_span<const WIDE: bool, const BIG: bool>(
    data: &[u8],
    pos: usize,
    max: u64,
) -> Result<(usize, usize), (usize, Option<u64>)> {
    let (lw, lw64) = if WIDE { (8usize, 8u64) } else { (4, 4) };
    let n = len_at::<WIDE, BIG>(data, pos).ok_or((pos, Some(lw64)))?;
    if n > max {
        return Err((pos, None));
    }
    let start = pos + lw;
    match usize::try_from(n).ok().and_then(|n| start.checked_add(n)) {
        Some(end) if end <= data.len() => Ok((start, end)),
        _ => Err((start, Some(n))),
    }
}

impl<'a> Cursor<'a> {
    /// Skips `count` length-prefixed strings (each at most `max` bytes) in one tight loop: the
    /// hot path of tokenizer vocabularies. Stops at the first defect with the error it gives.
    pub(crate) fn skip_strings(&mut self, count: u64, wide: bool, max: u64) -> Result<(), Error> {
        match (wide, self.endian) {
            (true, Endian::Little) => self.skip_strings_impl::<true, false>(count, max),
            (true, Endian::Big) => self.skip_strings_impl::<true, true>(count, max),
            (false, Endian::Little) => self.skip_strings_impl::<false, false>(count, max),
            (false, Endian::Big) => self.skip_strings_impl::<false, true>(count, max),
        }
    }

    fn skip_strings_impl<const WIDE: bool, const BIG: bool>(
        &mut self,
        count: u64,
        max: u64,
    ) -> Result<(), Error> {
        let data = self.data;
        let mut pos = self.pos;
        // Fast path: no error can happen while the length word and the string fit.
        let lw = if WIDE { 8 } else { 4 };
        let mut left = count;
        while left > 0 {
            let Some(n) = len_at::<WIDE, BIG>(data, pos) else {
                break;
            };
            let Some(end) = usize::try_from(n)
                .ok()
                .filter(|_| n <= max)
                .and_then(|n| (pos + lw).checked_add(n))
                .filter(|&e| e <= data.len())
            else {
                break;
            };
            pos = end;
            left -= 1;
        }
        // The defect found again with its details (the same checks: this loop ends at it).
        for _ in 0..left {
            match str_span::<WIDE, BIG>(data, pos, max) {
                Ok((_, end)) => pos = end,
                Err((at, need)) => {
                    self.pos = at;
                    return Err(match need {
                        Some(n) => self.truncated(n),
                        None => {
                            let value = len_at::<WIDE, BIG>(data, at).unwrap_or(u64::MAX);
                            Error::new(
                                ErrorKind::LimitExceeded {
                                    what: Limit::StringBytes,
                                    value,
                                    max,
                                },
                                self.offset(),
                            )
                        }
                    });
                }
            }
        }
        self.pos = pos;
        Ok(())
    }

    /// The next string's bytes without error details (for iterating validated arrays).
    pub(crate) fn next_str_unchecked_len(&mut self, wide: bool) -> Option<&'a [u8]> {
        let span = match (wide, self.endian) {
            (true, Endian::Little) => str_span::<true, false>(self.data, self.pos, u64::MAX),
            (true, Endian::Big) => str_span::<true, true>(self.data, self.pos, u64::MAX),
            (false, Endian::Little) => str_span::<false, false>(self.data, self.pos, u64::MAX),
            (false, Endian::Big) => str_span::<false, true>(self.data, self.pos, u64::MAX),
        };
        let (start, end) = span.ok()?;
        self.pos = end;
        self.data.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders() {
        let data = [0, 0, 0, 3, 3, 0, 0, 0];
        let mut be = Cursor::new(&data, 0, Endian::Big);
        assert_eq!(be.u32(), Ok(3));
        let mut le = Cursor::new(&data, 4, Endian::Little);
        assert_eq!(le.u32(), Ok(3));
    }

    #[test]
    fn short_read_reports_total_needed() {
        let data = [1u8, 2, 3];
        let mut c = Cursor::new(&data, 1, Endian::Little);
        let err = c.u64().unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::Truncated {
                needed: 9,
                available: 3
            }
        );
        assert_eq!(err.offset(), 1);
        assert_eq!(c.pos(), 1, "a failed read consumes nothing");
    }

    #[test]
    fn huge_lengths_saturate() {
        let data = [0u8; 4];
        let mut c = Cursor::new(&data, 2, Endian::Little);
        let err = c.bytes(u64::MAX).unwrap_err();
        assert_eq!(err.needed(), Some(u64::MAX));
    }
}

//! The only code that slices the input: checked, endian-aware reads that know their offset.

use crate::error::{Error, ErrorKind};
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

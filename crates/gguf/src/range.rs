//! [`RangeRead`]: a source of bytes read by range (gimli-rs/object's `ReadRef`, reduced to what
//! [`read_head`](crate::read_head) needs): an in-memory slice, a local file ([`LocalFile`], with
//! the `fs` feature) and, outside this crate, an HTTP server answering `Range` requests.

/// Bytes read by offset and length.
///
/// The head reader only ever asks for the bytes right after the ones it holds, so a source that
/// can only go forwards (an HTTP answer that ignored `Range`) can serve it too.
// `len` is an `Option` (a remote source learns its length from its first answer), so an
// `is_empty` would have nothing certain to say.
#[allow(clippy::len_without_is_empty)]
pub trait RangeRead {
    /// What a failed read is.
    type Error;

    /// The source's length in bytes, when known. A remote source learns it from its first
    /// answer; the head reader asks again after each read.
    fn len(&self) -> Option<u64>;

    /// Appends to `buf` the bytes from `offset` to `offset + len`, or up to the source's end:
    /// fewer than `len` bytes only when the source ends before. The caller has reserved `len`
    /// bytes in `buf`.
    fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> Result<(), Self::Error>;
}

/// An in-memory source: what tests and a caller holding the whole file use.
impl RangeRead for &[u8] {
    type Error = std::convert::Infallible;

    fn len(&self) -> Option<u64> {
        Some(<[u8]>::len(self) as u64)
    }

    fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> Result<(), Self::Error> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = usize::try_from(offset.saturating_add(len)).unwrap_or(usize::MAX);
        let end = end.min(<[u8]>::len(self));
        buf.extend_from_slice(self.get(start..end).unwrap_or_default());
        Ok(())
    }
}

#[cfg(feature = "fs")]
pub use local::LocalFile;

#[cfg(feature = "fs")]
mod local {
    use std::fs::File;
    use std::io::{Read, Seek, SeekFrom};
    use std::path::Path;

    use super::RangeRead;

    /// A local file read by range: what a process reads a file too large to map with (a model
    /// over 2 GiB on a 32-bit target), and the simplest real [`RangeRead`].
    #[derive(Debug)]
    pub struct LocalFile {
        file: File,
        len: u64,
        /// Where the next `read` starts (a seek is skipped when reads follow each other).
        pos: u64,
    }

    impl LocalFile {
        /// Opens a file for reading; its length is read once, now.
        pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
            Self::new(File::open(path)?)
        }

        /// Reads an open file from its start; its length is read once, now.
        pub fn new(mut file: File) -> std::io::Result<Self> {
            let len = file.metadata()?.len();
            file.seek(SeekFrom::Start(0))?;
            Ok(Self { file, len, pos: 0 })
        }

        /// The file's length when it was opened.
        pub fn file_len(&self) -> u64 {
            self.len
        }
    }

    impl RangeRead for LocalFile {
        type Error = std::io::Error;

        fn len(&self) -> Option<u64> {
            Some(self.len)
        }

        fn read_at(&mut self, offset: u64, len: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
            if offset != self.pos {
                self.pos = self.file.seek(SeekFrom::Start(offset))?;
            }
            let got = (&mut self.file).take(len).read_to_end(buf)?;
            self.pos = self.pos.saturating_add(got as u64);
            Ok(())
        }
    }
}

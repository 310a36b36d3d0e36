//! The fixed header: magic, version (which also tells the byte order) and the two counts.

use crate::cursor::Cursor;
use crate::error::{Error, ErrorKind};

/// The four magic bytes every GGUF file starts with (in both byte orders).
pub const MAGIC: [u8; 4] = *b"GGUF";

/// Byte order of every number in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Little-endian, the default.
    #[default]
    Little,
    /// Big-endian (files converted for s390x). Detected from the version field.
    Big,
}

impl Endian {
    /// `"little"` or `"big"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endian::Little => "little",
            Endian::Big => "big",
        }
    }
}

/// The header of a GGUF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1, 2 or 3. Version 1 stores counts, lengths and dimensions as 32-bit numbers.
    pub version: u32,
    /// Byte order, detected from the version field.
    pub endian: Endian,
    /// Number of tensor infos.
    pub tensor_count: u64,
    /// Number of metadata entries.
    pub kv_count: u64,
}

impl Header {
    /// Whether counts and lengths are 64-bit (v2 and later) rather than 32-bit (v1).
    pub fn wide_lengths(&self) -> bool {
        self.version >= 2
    }

    /// Reads the header; leaves the cursor on the first metadata entry, set to the file's
    /// byte order.
    pub(crate) fn read(cur: &mut Cursor<'_>) -> Result<Self, Error> {
        let magic = cur.bytes(4)?;
        if magic != MAGIC {
            let mut found = [0u8; 4];
            found.copy_from_slice(magic);
            return Err(Error::new(ErrorKind::BadMagic { found }, 0));
        }
        let at = cur.offset();
        let raw = cur.u32()?; // read little-endian
        let (version, endian) = if raw & 0xFFFF == 0 && raw != 0 {
            // `00 00 00 03` read as LE is 0x03000000: a big-endian file.
            (raw.swap_bytes(), Endian::Big)
        } else {
            (raw, Endian::Little)
        };
        if !(1..=3).contains(&version) {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion { version: raw },
                at,
            ));
        }
        cur.set_endian(endian);
        let (tensor_count, kv_count) = if version == 1 {
            (u64::from(cur.u32()?), u64::from(cur.u32()?))
        } else {
            (cur.u64()?, cur.u64()?)
        };
        Ok(Self {
            version,
            endian,
            tensor_count,
            kv_count,
        })
    }
}

//! `open(path)`: a read-only memory map of a local file.

use std::fs::File;
use std::path::Path;

/// A memory-mapped file; `&*map` (or [`Mapped::bytes`]) is what [`crate::Gguf::parse`] takes.
#[derive(Debug)]
pub struct Mapped {
    map: Option<memmap2::Mmap>,
}

impl Mapped {
    /// The file's bytes (empty for an empty file).
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or_default()
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

/// Maps a local file read-only.
pub fn open(path: impl AsRef<Path>) -> std::io::Result<Mapped> {
    let file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        // mmap of length 0 is an error on some systems; an empty file is simply empty.
        return Ok(Mapped { map: None });
    }
    // SAFETY: the map is read-only and private to this process. If another process truncates
    // or rewrites the file while it is mapped, reads may see the new bytes or fault (SIGBUS);
    // that is the accepted contract of every mmap-based reader (llama.cpp, safetensors). The
    // parser itself never trusts the contents: every read is bounds-checked.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(Mapped { map: Some(map) })
}

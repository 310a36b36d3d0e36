//! The integration tests of the format crate (one binary, one module per concern).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    missing_docs
)]

mod estimate;
mod head;
mod hostile;
mod model_shaped;
mod prefixes;
mod real_files;
mod roundtrip;
mod split;
mod sweeps;
mod truncation;

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

/// A model-sized file's bytes, as [`hold`] got them.
pub enum Held {
    /// The whole file, memory-mapped.
    Mapped(ggufscope_gguf::Mapped),
    /// Its first 8 MiB (header, metadata, tensor infos and the start of the data), read.
    Head(Vec<u8>),
}

impl Deref for Held {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Held::Mapped(m) => m,
            Held::Head(h) => h,
        }
    }
}

/// Maps a model-sized file whole. On a 32-bit target a file over 2 GiB does not fit in the
/// address space: `open` must refuse it with a typed error (checked here), and the test goes on
/// with the file's first 8 MiB, as a remote reader holds it.
pub fn hold(path: &Path) -> Held {
    match ggufscope_gguf::open(path) {
        Ok(m) => Held::Mapped(m),
        Err(e) => {
            let len = std::fs::metadata(path).unwrap().len();
            assert!(
                cfg!(target_pointer_width = "32") && len > isize::MAX as u64,
                "mapping {} ({len} bytes): {e}",
                path.display()
            );
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
            let mut head = Vec::new();
            File::open(path)
                .unwrap()
                .take(8 << 20)
                .read_to_end(&mut head)
                .unwrap();
            Held::Head(head)
        }
    }
}

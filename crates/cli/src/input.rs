//! Opening a SOURCE: a local file, memory-mapped (URLs come later), then parsed leniently.
//!
//! The mapping is `ggufscope_gguf::open`, the workspace's one reviewed `unsafe` block (a
//! read-only private map; see its SAFETY note). This module adds no `unsafe` of its own.
//! Both failures here are [`Status::BadInput`] (exit 2) and name the path.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ggufscope_gguf::{Gguf, Mapped, ParseOptions};

use crate::exit::{Failure, Status};

/// An opened input: its bytes and how to name it in messages.
#[derive(Debug)]
pub struct Input {
    path: PathBuf,
    map: Mapped,
}

impl Input {
    /// Maps a local file. A missing file, a directory or a permission problem is an error that
    /// names the path and carries the OS error.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let failure = || Failure::new(Status::BadInput, format!("opening {}", path.display()));
        if path.is_dir() {
            return Err(anyhow::anyhow!("it is a directory")).with_context(failure);
        }
        let map = ggufscope_gguf::open(path).with_context(failure)?;
        tracing::info!(path = %path.display(), bytes = map.len(), "mapped");
        Ok(Self {
            path: path.to_path_buf(),
            map,
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        self.map.bytes()
    }

    /// Parses leniently: recoverable defects become `Gguf::diagnostics`. A parse error names
    /// the file, what is wrong, the byte offset and the key or tensor.
    pub fn parse(&self) -> anyhow::Result<Gguf<'_>> {
        let gguf = Gguf::parse_with(self.bytes(), ParseOptions::lenient())
            .map_err(ParseError)
            .with_context(|| {
                Failure::new(Status::BadInput, format!("parsing {}", self.path.display()))
            })?;
        tracing::debug!(
            version = gguf.version(),
            kvs = gguf.metadata().len(),
            tensors = gguf.tensors().len(),
            diagnostics = gguf.diagnostics().len(),
            "parsed"
        );
        Ok(gguf)
    }
}

/// A format error shown once. `ggufscope_gguf::Error`'s `Display` already includes its kind,
/// and its `source()` is that kind again, so `{:#}` would print the kind twice; this wrapper
/// keeps the typed error (reachable with `downcast_ref`) and ends the chain there.
#[derive(Debug)]
pub struct ParseError(pub ggufscope_gguf::Error);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ParseError {}

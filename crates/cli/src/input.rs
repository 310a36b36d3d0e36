//! Opening a SOURCE: a local file, memory-mapped (URLs come later), parsed leniently, and its
//! configuration read.
//!
//! The mapping is `ggufscope_gguf::open`, the workspace's one reviewed `unsafe` block (a
//! read-only private map; see its SAFETY note). This module adds no `unsafe` of its own.
//! Opening and parsing failures are [`Status::BadInput`] (exit 2) and name the path; an
//! unsupported architecture is [`Status::Unsupported`] (exit 3); any other reason the
//! configuration cannot be extracted is [`Status::ProblemsFound`] (exit 1).

use std::path::{Path, PathBuf};

use anyhow::Context;
use ggufscope_gguf::{Gguf, Mapped, ParseOptions};
use ggufscope_model::{ArchError, ModelConfig};

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

    /// The file name without its directories: what reports show, so that their output does
    /// not depend on where the file is.
    pub fn name(&self) -> String {
        file_name(&self.path)
    }

    /// Parses leniently: recoverable defects become `Gguf::diagnostics`. A parse error names
    /// the file, what is wrong, the byte offset and the key or tensor.
    pub fn parse(&self) -> anyhow::Result<Gguf<'_>> {
        let gguf = Gguf::parse_with(self.bytes(), ParseOptions::lenient()).with_context(|| {
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

    /// Reads the typed configuration: exit 3 for an unsupported architecture, exit 1 when the
    /// file parses but its configuration cannot be extracted.
    pub fn config(&self, gguf: &Gguf<'_>) -> anyhow::Result<ModelConfig> {
        ModelConfig::from_gguf(gguf).map_err(|err| self.config_error(err))
    }

    /// The error for a configuration that cannot be extracted, with its status.
    pub fn config_error(&self, err: ArchError) -> anyhow::Error {
        let failure = match err {
            ArchError::Unsupported { .. } => {
                Failure::new(Status::Unsupported, self.path.display().to_string())
            }
            _ => Failure::new(
                Status::ProblemsFound,
                format!("reading the configuration of {}", self.path.display()),
            ),
        };
        anyhow::Error::new(err).context(failure)
    }
}

/// The last component of a path (the whole path if it has none).
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

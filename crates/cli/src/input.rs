//! Opening a SOURCE, parsing it leniently and reading its configuration. A SOURCE is a local
//! file (memory-mapped), a remote one (`http(s)://`, `hf://`: its header, metadata and tensor
//! infos only, see [`crate::source::http`]) or the first shard of a split set (every shard is
//! read, see [`crate::source::split`]).
//!
//! Every command goes through [`Input`]: [`Input::parse`] gives the view the model layer
//! reads (for a split set, the first shard's metadata with every shard's tensors), and
//! [`Input::format_issues`] the format checks of every file read (for a remote file, tensor
//! bounds checked against its size, and an info saying its data was not downloaded; the same
//! for a local file too large to map on a 32-bit target, which is read like a remote one).
//!
//! The mapping is `ggufscope_gguf::open`, the workspace's one reviewed `unsafe` block (a
//! read-only private map; see its SAFETY note). This module adds no `unsafe` of its own.
//! Opening, fetching and parsing failures are [`Status::BadInput`] (exit 2) and name the
//! source; an unsupported architecture is [`Status::Unsupported`] (exit 3); any other reason the
//! configuration cannot be extracted is [`Status::ProblemsFound`] (exit 1).

use std::cell::{OnceCell, RefCell};
use std::path::Path;

use anyhow::Context;
use ggufscope_gguf::{Gguf, ParseOptions};
use ggufscope_model::{ArchError, ModelConfig};
use serde::Serialize;

use crate::exit::{Failure, Status};
use crate::report::issues::FormatIssues;
use crate::source::split::{self, SplitSet};
use crate::source::{file_name, Bytes, Location, Opener, Shard};

/// An opened input: its bytes and how to name it in messages.
#[derive(Debug)]
pub struct Input {
    /// The file given (for a split set, its first shard).
    first: Shard,
    /// The rest of a split set, or `None` for a single file: found out by the first
    /// [`Input::parse`], which needs the first shard's parse for it anyway (so a large
    /// vocabulary is walked once, not twice).
    set: OnceCell<Option<SplitSet>>,
    /// Reads the other shards (keeps the HTTP client of a remote first shard).
    opener: RefCell<Opener>,
}

/// One shard of a split set, as `inspect` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardSummary {
    /// File name.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Tensors in it.
    pub tensors: u64,
}

impl Input {
    /// Opens a SOURCE: maps a local file or fetches the head of a remote one. A missing file,
    /// a directory, a permission problem or an HTTP error is an error that names the source
    /// and says why. The other shards of a split set are read by [`Input::parse`].
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let location = Location::parse(path)?;
        let mut opener = Opener::default();
        let first = opener.read(&location)?;
        Ok(Self {
            first,
            set: OnceCell::new(),
            opener: RefCell::new(opener),
        })
    }

    /// Parses leniently: recoverable defects become `Gguf::diagnostics`. A parse error names
    /// the file, what is wrong, the byte offset and the key or tensor. When the file is the
    /// first shard of a split set (`split.count` > 1), every other shard is read and checked
    /// (a missing, duplicated or inconsistent one is an error naming it) and the result is the
    /// merged view: the first shard's header and metadata, every shard's tensors.
    pub fn parse(&self) -> anyhow::Result<Gguf<'_>> {
        let first = Gguf::parse_with(self.first.bytes.as_slice(), ParseOptions::lenient())
            .with_context(|| Failure::new(Status::BadInput, format!("parsing {}", self.shown())))?;
        let gguf = match self.load_set(&first)? {
            None => first,
            Some(set) => {
                drop(first);
                Gguf::parse_with(&set.merged, ParseOptions::lenient()).with_context(|| {
                    Failure::new(
                        Status::BadInput,
                        format!("parsing the merged tensor table of {}", self.shown()),
                    )
                })?
            }
        };
        tracing::debug!(
            version = gguf.version(),
            kvs = gguf.metadata().len(),
            tensors = gguf.tensors().len(),
            diagnostics = gguf.diagnostics().len(),
            "parsed"
        );
        Ok(gguf)
    }

    /// The split set `first` (the first shard's parse) starts, read once.
    fn load_set(&self, first: &Gguf<'_>) -> anyhow::Result<Option<&SplitSet>> {
        if let Some(set) = self.set.get() {
            return Ok(set.as_ref());
        }
        let set = split::read_set(&self.first, first, &mut self.opener.borrow_mut())?;
        if let Some(set) = &set {
            tracing::info!(
                source = %self.shown(),
                shards = set.tensor_counts.len(),
                tensors = set.tensor_counts.iter().sum::<u64>(),
                "read a split set"
            );
        }
        Ok(self.set.get_or_init(|| set).as_ref())
    }

    /// The split set, if the input is the first shard of one. Known once [`Input::parse`] has
    /// run; asked before, finding out costs a parse of the first shard (a file that does not
    /// parse, or a broken set, is `None` here: [`Input::parse`] reports it).
    fn set(&self) -> Option<&SplitSet> {
        if let Some(set) = self.set.get() {
            return set.as_ref();
        }
        let first = parse_shard(&self.first)?;
        self.load_set(&first).ok().flatten()
    }

    /// The file name without its directories (or host): what reports show, so that their
    /// output does not depend on where the file is.
    pub fn name(&self) -> String {
        self.first.location.file_name()
    }

    /// The source as messages show it: the path or the URL as given.
    pub fn shown(&self) -> String {
        self.first.location.shown()
    }

    /// Every file read: the one given, then the rest of a split set.
    fn files(&self) -> impl Iterator<Item = &Shard> {
        std::iter::once(&self.first).chain(self.set().into_iter().flat_map(|s| s.rest.iter()))
    }

    /// The size of the input in bytes (a split set: every shard's; a remote file: as its
    /// server said).
    pub fn file_len(&self) -> u64 {
        self.files()
            .map(|f| f.bytes.file_len())
            .fold(0, u64::saturating_add)
    }

    /// The bytes read over the network, when the input is remote.
    pub fn bytes_fetched(&self) -> Option<u64> {
        self.first.location.is_remote().then(|| {
            self.files()
                .map(|f| f.bytes.as_slice().len() as u64)
                .fold(0, u64::saturating_add)
        })
    }

    /// Whether the bytes come over the network.
    fn is_remote(&self) -> bool {
        self.first.location.is_remote()
    }

    /// Whether every byte of the model is in one local file (what `llamafy` needs).
    pub fn is_single_local_file(&self) -> bool {
        self.set().is_none() && self.first.bytes.is_whole_file()
    }

    /// The shards of a split set (empty for a single file).
    pub fn shards(&self) -> Vec<ShardSummary> {
        let Some(set) = self.set() else {
            return Vec::new();
        };
        self.files()
            .zip(&set.tensor_counts)
            .map(|(f, &tensors)| ShardSummary {
                file: f.location.file_name(),
                bytes: f.bytes.file_len(),
                tensors,
            })
            .collect()
    }

    /// For a split set, the shard (1-based) of each tensor of the merged view, in order.
    pub fn tensor_shards(&self) -> Option<Vec<u32>> {
        let set = self.set()?;
        let mut out = Vec::new();
        for (no, &n) in (1u32..).zip(&set.tensor_counts) {
            out.extend((0..n).map(|_| no));
        }
        Some(out)
    }

    /// The data section's offset in the file given (for a split set: in its first shard).
    pub fn data_offset(&self, gguf: &Gguf<'_>) -> u64 {
        match self.set() {
            Some(_) => parse_shard(&self.first).map_or(gguf.data_offset(), |g| g.data_offset()),
            None => gguf.data_offset(),
        }
    }

    /// The format issues of every file read: for one file, of `gguf` (its parse); for a split
    /// set, of each shard, named.
    pub fn format_issues(&self, gguf: &Gguf<'_>) -> FormatIssues {
        if self.set().is_none() {
            return FormatIssues::of(gguf, known_len(&self.first.bytes), self.is_remote(), None);
        }
        let mut all = FormatIssues::default();
        for shard in self.files() {
            if let Some(g) = parse_shard(shard) {
                let name = shard.location.file_name();
                all.extend(FormatIssues::of(
                    &g,
                    known_len(&shard.bytes),
                    self.is_remote(),
                    Some(&name),
                ));
            }
        }
        all
    }

    /// Reads the typed configuration: exit 3 for an unsupported architecture, exit 1 when the
    /// file parses but its configuration cannot be extracted.
    pub fn config(&self, gguf: &Gguf<'_>) -> anyhow::Result<ModelConfig> {
        ModelConfig::from_gguf(gguf).map_err(|err| self.config_error(err))
    }

    /// The error for a configuration that cannot be extracted, with its status.
    pub fn config_error(&self, err: ArchError) -> anyhow::Error {
        let failure = match err {
            ArchError::Unsupported { .. } => Failure::new(Status::Unsupported, self.shown()),
            _ => Failure::new(
                Status::ProblemsFound,
                format!("reading the configuration of {}", self.shown()),
            ),
        };
        anyhow::Error::new(err).context(failure)
    }
}

fn parse_shard(shard: &Shard) -> Option<Gguf<'_>> {
    Gguf::parse_with(shard.bytes.as_slice(), ParseOptions::lenient()).ok()
}

/// The whole file's length when it is known (always for a local file).
fn known_len(bytes: &Bytes) -> Option<u64> {
    match bytes {
        Bytes::Mapped(map) => Some(map.len() as u64),
        Bytes::Head { file_len, .. } => *file_len,
    }
}

/// The file name a SOURCE argument shows in reports: the last path component, or a URL's file.
pub fn source_name(arg: &Path) -> String {
    Location::parse(arg).map_or_else(|_| file_name(arg), |l| l.file_name())
}

//! Reading the shards of a split set (`PREFIX-00001-of-00003.gguf`, …): the checks, the names
//! and the merged head are the format crate's ([`ggufscope_gguf::split`]); this module opens
//! the shards, local or remote, in order and hands each parse to it.

use anyhow::Context;
use ggufscope_gguf::split::SplitMerge;
use ggufscope_gguf::{Gguf, ParseOptions};

use super::{Opener, Shard};
use crate::exit::{Failure, Status};

/// A split set, read and checked.
#[derive(Debug)]
pub struct SplitSet {
    /// The shards after the first (the one given), in order.
    pub rest: Vec<Shard>,
    /// Tensors per shard, the first one's included.
    pub tensor_counts: Vec<u64>,
    /// The merged head: the first shard's header and metadata, every shard's tensor infos
    /// (their offsets relative to each shard's data section).
    pub merged: Vec<u8>,
}

/// Reads the rest of the set when `first` (parsed as `gguf`) is the first shard of one
/// (`split.count` > 1), and checks it; `Ok(None)` for a single file. The caller's parse of the
/// first shard is reused: the large arrays of a big vocabulary are walked once per run. A
/// missing, duplicated or inconsistent shard is a [`Status::BadInput`] error that names it.
pub fn read_set(
    first: &Shard,
    gguf: &Gguf<'_>,
    opener: &mut Opener,
) -> anyhow::Result<Option<SplitSet>> {
    let name = first.location.file_name();
    let failure = || Failure::new(Status::BadInput, format!("reading the split set {name}"));
    let Some(mut set) = SplitMerge::start(&name, gguf).with_context(failure)? else {
        return Ok(None);
    };
    let mut rest = Vec::with_capacity(usize::from(set.count()).saturating_sub(1));
    for index in 1..set.count() {
        let file = set.shard_name(index);
        let which = format!("shard {} of {} ({file})", index + 1, set.count());
        let shard = opener
            .read(&first.location.with_file_name(&file))
            .with_context(|| which.clone())
            .with_context(failure)?;
        let g = Gguf::parse_with(shard.bytes.as_slice(), ParseOptions::lenient())
            .map_err(anyhow::Error::new)
            .with_context(|| format!("parsing {which}"))
            .with_context(failure)?;
        set.add(&g).with_context(failure)?;
        drop(g);
        rest.push(shard);
    }
    let merged = set.finish().with_context(failure)?;
    Ok(Some(SplitSet {
        rest,
        tensor_counts: merged.tensor_counts,
        merged: merged.head,
    }))
}

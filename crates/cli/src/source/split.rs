//! Split sets as llama.cpp's `gguf-split` writes them: `PREFIX-00001-of-00003.gguf`, …, each
//! shard a GGUF file with `split.no` (u16, 0-based), `split.count` (u16) and
//! `split.tensors.count` (i32, the tensors of the whole set); every key and the tokenizer are
//! in the first shard, tensors spread over all of them.
//!
//! Sources, ggml-org/llama.cpp: `tools/gguf-split/gguf-split.cpp` (`split_strategy`:
//! `gguf_set_val_u16(ctx_out, LLM_KV_SPLIT_NO, i_split)`, `gguf_set_val_u16(.., LLM_KV_SPLIT_COUNT,
//! ..)`, `gguf_set_val_i32(.., LLM_KV_SPLIT_TENSORS_COUNT, n_tensors)`); `src/llama-arch.cpp`
//! (`"split.no"`, `"split.count"`, `"split.tensors.count"`); `src/llama.cpp`
//! (`llama_split_path`: `"%s-%05d-of-%05d.gguf"` with `split_no + 1`); and
//! `src/llama-model-loader.cpp`, whose checks these are: the main file has `split.no` 0, shard
//! `i` has `split.no` `i`, no tensor name twice in the set, and the tensors add up to
//! `split.tensors.count` ("corrupted model: %d tensors expected but %d found"). We also require
//! every shard to repeat the first one's `split.count`, as gguf-split writes it.
//!
//! The merged view the commands read is one GGUF head: the first shard's header and metadata,
//! then every shard's tensor infos in shard order, with the header's tensor count set to the
//! total. Its tensor offsets stay relative to each shard's data section; the layout is checked
//! shard by shard.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use ggufscope_gguf::{Endian, Gguf, ParseOptions, Value};
use ggufscope_model::keys::{SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS_COUNT};

use super::{Opener, Shard};
use crate::exit::{Failure, Status};

/// A split set, read and checked.
#[derive(Debug)]
pub struct SplitSet {
    /// The shards after the first (the one given), in order.
    pub rest: Vec<Shard>,
    /// Tensors per shard, the first one's included.
    pub tensor_counts: Vec<u64>,
    /// The merged head (see the module docs).
    pub merged: Vec<u8>,
}

/// `PREFIX-NNNNN-of-MMMMM.gguf`, as `llama_split_path` names shard `no` (1-based) of `count`.
pub fn shard_name(prefix: &str, no: u16, count: u16) -> String {
    format!("{prefix}-{no:05}-of-{count:05}.gguf")
}

/// The prefix, shard number (1-based) and count of a shard's file name.
pub fn parse_shard_name(name: &str) -> Option<(&str, u16, u16)> {
    let stem = name.strip_suffix(".gguf")?;
    let (rest, count) = stem.rsplit_once("-of-")?;
    let (prefix, no) = rest.rsplit_once('-')?;
    let number = |s: &str| {
        (s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    Some((prefix, number(no)?, number(count)?))
}

/// The split keys of one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SplitKeys {
    no: Option<u16>,
    count: Option<u16>,
    tensors: Option<i32>,
}

fn split_keys(gguf: &Gguf<'_>, shard: &str) -> anyhow::Result<SplitKeys> {
    let md = gguf.metadata();
    let wrong = |key: &str, v: &Value<'_>, want: &str| {
        anyhow::anyhow!(
            "{shard}: {key} is {}, llama.cpp's gguf-split writes {want}",
            v.value_type().name()
        )
    };
    let u16_key = |key: &str| match md.value(key) {
        None => Ok(None),
        Some(Value::U16(v)) => Ok(Some(v)),
        Some(v) => Err(wrong(key, &v, "u16")),
    };
    Ok(SplitKeys {
        no: u16_key(SPLIT_NO)?,
        count: u16_key(SPLIT_COUNT)?,
        tensors: match md.value(SPLIT_TENSORS_COUNT) {
            None => None,
            Some(Value::I32(v)) => Some(v),
            Some(v) => return Err(wrong(SPLIT_TENSORS_COUNT, &v, "i32")),
        },
    })
}

/// What the merge needs from one parsed shard.
struct Facts {
    version: u32,
    endian: Endian,
    metadata_end: usize,
    tensor_infos_end: usize,
    names: Vec<String>,
}

fn facts(gguf: &Gguf<'_>) -> anyhow::Result<Facts> {
    Ok(Facts {
        version: gguf.version(),
        endian: gguf.endian(),
        metadata_end: usize::try_from(gguf.metadata_end())?,
        tensor_infos_end: usize::try_from(gguf.tensor_infos_end())?,
        names: gguf.tensors().iter().map(|t| t.name().to_owned()).collect(),
    })
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
    let keys = split_keys(gguf, &name).with_context(failure)?;
    let count = match keys.count {
        Some(count) if count > 1 => count,
        _ => return Ok(None),
    };
    let first_facts = facts(gguf).with_context(failure)?;
    read_rest(first, &name, count, keys, first_facts, opener)
        .with_context(failure)
        .map(Some)
}

fn read_rest(
    first: &Shard,
    name: &str,
    count: u16,
    keys: SplitKeys,
    first_facts: Facts,
    opener: &mut Opener,
) -> anyhow::Result<SplitSet> {
    let parsed_name = parse_shard_name(name);
    let no = keys
        .no
        .with_context(|| format!("{name} has {SPLIT_COUNT} but no {SPLIT_NO}"))?;
    if no != 0 {
        let hint = parsed_name
            .map(|(prefix, _, c)| format!(" ({})", shard_name(prefix, 1, c)))
            .unwrap_or_default();
        bail!(
            "{name} is shard {} of {count}: give the first shard{hint}",
            u32::from(no) + 1
        );
    }
    let prefix = match parsed_name {
        Some((prefix, 1, c)) if c == count => prefix,
        _ => bail!(
            "{name} says {SPLIT_COUNT} = {count} but is not named PREFIX-00001-of-{count:05}.gguf, so its other shards cannot be found"
        ),
    };
    let expected_total = keys
        .tensors
        .with_context(|| format!("{name} has no {SPLIT_TENSORS_COUNT}"))?;

    let mut owner: BTreeMap<String, u16> = BTreeMap::new();
    let mut all_facts = Vec::with_capacity(usize::from(count));
    let mut shards = Vec::with_capacity(usize::from(count).saturating_sub(1));
    let mut claim = |facts: &Facts, index: u16, shard: &str| -> anyhow::Result<()> {
        for t in &facts.names {
            if let Some(before) = owner.insert(t.clone(), index) {
                if before != index {
                    bail!(
                        "tensor `{t}` is in shard {} and again in {shard}; llama.cpp refuses a duplicated tensor",
                        u32::from(before) + 1
                    );
                }
            }
        }
        Ok(())
    };
    claim(&first_facts, 0, name)?;
    all_facts.push(first_facts);
    for index in 1..count {
        let shard_file = shard_name(prefix, index + 1, count);
        let which = format!("shard {} of {count} ({shard_file})", index + 1);
        let location = first.location.with_file_name(&shard_file);
        let shard = opener.read(&location).with_context(|| which.clone())?;
        let gguf = Gguf::parse_with(shard.bytes.as_slice(), ParseOptions::lenient())
            .map_err(anyhow::Error::new)
            .with_context(|| format!("parsing {which}"))?;
        let k = split_keys(&gguf, &shard_file)?;
        match k.no {
            Some(n) if n == index => {}
            Some(n) if n < index => bail!(
                "{which} says {SPLIT_NO} = {n}: it duplicates shard {}",
                u32::from(n) + 1
            ),
            Some(n) => bail!(
                "{which} says {SPLIT_NO} = {n} (shard {}), expected {index}",
                u32::from(n) + 1
            ),
            None => bail!("{which} has no {SPLIT_NO}"),
        }
        if k.count != Some(count) {
            let found = k
                .count
                .map_or_else(|| "nothing".to_owned(), |c| c.to_string());
            bail!("{which} says {SPLIT_COUNT} = {found}, the first shard says {count}");
        }
        let f = facts(&gguf)?;
        if let Some(first) = all_facts.first() {
            if (f.version, f.endian) != (first.version, first.endian) {
                bail!(
                    "{which} is GGUF v{} {}-endian, the first shard v{} {}-endian",
                    f.version,
                    f.endian.as_str(),
                    first.version,
                    first.endian.as_str()
                );
            }
        }
        claim(&f, index, &which)?;
        drop(gguf);
        all_facts.push(f);
        shards.push(shard);
    }
    let tensor_counts: Vec<u64> = all_facts.iter().map(|f| f.names.len() as u64).collect();
    let total: u64 = tensor_counts.iter().sum();
    if i64::from(expected_total) != i64::try_from(total).unwrap_or(i64::MAX) {
        bail!(
            "{name} says {SPLIT_TENSORS_COUNT} = {expected_total}, the {count} shards hold {total} tensors"
        );
    }
    let merged = merge(
        std::iter::once(first).chain(shards.iter()).zip(&all_facts),
        total,
    )?;
    Ok(SplitSet {
        rest: shards,
        tensor_counts,
        merged,
    })
}

/// The merged head: the first shard's header and metadata, every shard's tensor infos, and the
/// header's tensor count set to `total`.
fn merge<'s>(
    mut shards: impl Iterator<Item = (&'s Shard, &'s Facts)>,
    total: u64,
) -> anyhow::Result<Vec<u8>> {
    let Some((first, f)) = shards.next() else {
        bail!("no shards");
    };
    let slice = |shard: &'s Shard, from: usize, to: usize| {
        shard
            .bytes
            .as_slice()
            .get(from..to)
            .context("a shard's head is shorter than its parse said")
    };
    let mut head = slice(first, 0, f.metadata_end)?.to_vec();
    head.extend_from_slice(slice(first, f.metadata_end, f.tensor_infos_end)?);
    for (shard, f) in shards {
        head.extend_from_slice(slice(shard, f.metadata_end, f.tensor_infos_end)?);
    }
    // The tensor count follows the magic and the version: a u64 from v2 on, a u32 in v1.
    let count: Vec<u8> = match (f.version >= 2, f.endian) {
        (true, Endian::Little) => total.to_le_bytes().to_vec(),
        (true, Endian::Big) => total.to_be_bytes().to_vec(),
        (false, endian) => {
            let n = u32::try_from(total).context("too many tensors for a GGUF v1 header")?;
            match endian {
                Endian::Little => n.to_le_bytes().to_vec(),
                Endian::Big => n.to_be_bytes().to_vec(),
            }
        }
    };
    let at = head
        .get_mut(8..8 + count.len())
        .context("a shard's header is too short")?;
    at.copy_from_slice(&count);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_llama_split_path() {
        assert_eq!(shard_name("m", 2, 3), "m-00002-of-00003.gguf");
        assert_eq!(
            parse_shard_name("a-b-00001-of-00012.gguf"),
            Some(("a-b", 1, 12))
        );
        assert_eq!(parse_shard_name("m-1-of-3.gguf"), None);
        assert_eq!(parse_shard_name("m-00001-of-00003.bin"), None);
        assert_eq!(parse_shard_name("model.gguf"), None);
    }
}

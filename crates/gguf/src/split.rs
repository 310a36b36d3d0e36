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
//! every shard to repeat the first one's `split.count` and to have the first one's GGUF version
//! and byte order, as gguf-split writes them.
//!
//! [`SplitMerge`] does the checks and builds the merged head a reader of the whole set parses:
//! the first shard's header and metadata, then every shard's tensor infos in shard order, with
//! the header's tensor count set to the total. Its tensor offsets stay relative to each shard's
//! data section (check the layout shard by shard). The caller reads the shards (this crate does
//! no I/O): it names them with [`SplitMerge::shard_name`] and hands each parse to
//! [`SplitMerge::add`].
//!
//! ```
//! use ggufscope_gguf::split::{SplitMerge, SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS_COUNT};
//! use ggufscope_gguf::{GgmlType, Gguf, GgufWriter, TensorData};
//!
//! // Two shards of one tensor each, as gguf-split writes them.
//! let shard = |no: u16, tensor: &str| -> Vec<u8> {
//!     let mut w = GgufWriter::new();
//!     if no == 0 {
//!         w.add_kv("general.architecture", "llama");
//!     }
//!     w.add_kv(SPLIT_NO, no);
//!     w.add_kv(SPLIT_COUNT, 2u16);
//!     w.add_kv(SPLIT_TENSORS_COUNT, 2i32);
//!     w.add_tensor(tensor, GgmlType::F32, &[4], TensorData::Bytes(vec![0; 16]));
//!     let mut bytes = Vec::new();
//!     w.write(&mut bytes).unwrap();
//!     bytes
//! };
//! let (first, second) = (shard(0, "a.weight"), shard(1, "b.weight"));
//!
//! let g = Gguf::parse(&first)?;
//! let mut set = SplitMerge::start("m-00001-of-00002.gguf", &g)?.expect("a split set");
//! assert_eq!(set.shard_name(1), "m-00002-of-00002.gguf");
//! set.add(&Gguf::parse(&second)?)?;
//! let merged = set.finish()?;
//! assert_eq!(merged.tensor_counts, [1, 1]);
//! let whole = Gguf::parse(&merged.head)?;
//! let names: Vec<&str> = whole.tensors().iter().map(|t| t.name()).collect();
//! assert_eq!(names, ["a.weight", "b.weight"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use crate::file::Gguf;
use crate::header::Endian;
use crate::value::{Value, ValueType};

/// `split.no`: a shard's index in a split set, 0-based (u16; `LLM_KV_SPLIT_NO`).
pub const SPLIT_NO: &str = "split.no";
/// `split.count`: the number of shards in a split set (u16; `LLM_KV_SPLIT_COUNT`).
pub const SPLIT_COUNT: &str = "split.count";
/// `split.tensors.count`: the tensors of the whole split set (i32; `LLM_KV_SPLIT_TENSORS_COUNT`).
pub const SPLIT_TENSORS_COUNT: &str = "split.tensors.count";

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

/// The split keys of one file (each `None` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SplitKeys {
    /// `split.no`.
    pub no: Option<u16>,
    /// `split.count`.
    pub count: Option<u16>,
    /// `split.tensors.count`.
    pub tensors: Option<i32>,
}

impl SplitKeys {
    /// Reads the split keys of `gguf`; `file` names it in an error. A key of another type than
    /// gguf-split writes is [`SplitError::KeyType`].
    pub fn of(gguf: &Gguf<'_>, file: &str) -> Result<Self, SplitError> {
        let md = gguf.metadata();
        let wrong = |key: &'static str, v: &Value<'_>, expected: ValueType| SplitError::KeyType {
            file: file.to_owned(),
            key,
            found: v.value_type(),
            expected,
        };
        let u16_key = |key: &'static str| match md.value(key) {
            None => Ok(None),
            Some(Value::U16(v)) => Ok(Some(v)),
            Some(v) => Err(wrong(key, &v, ValueType::U16)),
        };
        Ok(Self {
            no: u16_key(SPLIT_NO)?,
            count: u16_key(SPLIT_COUNT)?,
            tensors: match md.value(SPLIT_TENSORS_COUNT) {
                None => None,
                Some(Value::I32(v)) => Some(v),
                Some(v) => return Err(wrong(SPLIT_TENSORS_COUNT, &v, ValueType::I32)),
            },
        })
    }

    /// Whether these keys make their file the start of a set of several shards.
    pub fn is_split(&self) -> bool {
        self.count.is_some_and(|c| c > 1)
    }
}

/// Why a split set cannot be read. The messages name the shard as `shard I of N (FILE)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// A split key has another type than gguf-split writes.
    #[error("{file}: {key} is {}, llama.cpp's gguf-split writes {}", found.name(), expected.name())]
    KeyType {
        /// The shard's file name.
        file: String,
        /// The key.
        key: &'static str,
        /// Its type in the file.
        found: ValueType,
        /// The type gguf-split writes.
        expected: ValueType,
    },
    /// The first file has `split.count` but no `split.no`.
    #[error("{file} has {SPLIT_COUNT} but no {SPLIT_NO}")]
    NoShardNumber {
        /// The file given.
        file: String,
    },
    /// The file given is not the set's first shard.
    #[error("{file} is shard {} of {count}: give the first shard{}", u32::from(*no) + 1, first.as_ref().map(|f| format!(" ({f})")).unwrap_or_default())]
    NotFirst {
        /// The file given.
        file: String,
        /// Its `split.no`.
        no: u16,
        /// Its `split.count`.
        count: u16,
        /// The first shard's name, when the file's name follows the pattern.
        first: Option<String>,
    },
    /// The first shard's name does not follow `PREFIX-00001-of-NNNNN.gguf`.
    #[error("{file} says {SPLIT_COUNT} = {count} but is not named PREFIX-00001-of-{count:05}.gguf, so its other shards cannot be found")]
    Unnamed {
        /// The file given.
        file: String,
        /// Its `split.count`.
        count: u16,
    },
    /// The first shard has no `split.tensors.count`.
    #[error("{file} has no {SPLIT_TENSORS_COUNT}")]
    NoTensorCount {
        /// The file given.
        file: String,
    },
    /// A shard has no `split.no`.
    #[error("{} has no {SPLIT_NO}", which(*index, *count, file))]
    MissingShardNumber {
        /// The shard's index (0-based).
        index: u16,
        /// The set's `split.count`.
        count: u16,
        /// The shard's file name.
        file: String,
    },
    /// A shard's `split.no` names an earlier shard.
    #[error("{} says {SPLIT_NO} = {found}: it duplicates shard {}", which(*index, *count, file), u32::from(*found) + 1)]
    DuplicateShard {
        /// The shard's index (0-based).
        index: u16,
        /// The set's `split.count`.
        count: u16,
        /// The shard's file name.
        file: String,
        /// Its `split.no`.
        found: u16,
    },
    /// A shard's `split.no` names a later shard.
    #[error("{} says {SPLIT_NO} = {found} (shard {}), expected {index}", which(*index, *count, file), u32::from(*found) + 1)]
    WrongShardNumber {
        /// The shard's index (0-based).
        index: u16,
        /// The set's `split.count`.
        count: u16,
        /// The shard's file name.
        file: String,
        /// Its `split.no`.
        found: u16,
    },
    /// A shard's `split.count` differs from the first one's.
    #[error("{} says {SPLIT_COUNT} = {}, the first shard says {count}", which(*index, *count, file), found.map_or_else(|| "nothing".to_owned(), |c| c.to_string()))]
    CountMismatch {
        /// The shard's index (0-based).
        index: u16,
        /// The first shard's `split.count`.
        count: u16,
        /// The shard's file name.
        file: String,
        /// Its `split.count`, if any.
        found: Option<u16>,
    },
    /// A shard's GGUF version or byte order differs from the first one's.
    #[error("{} is GGUF v{version} {}-endian, the first shard v{first_version} {}-endian", which(*index, *count, file), endian.as_str(), first_endian.as_str())]
    FormatMismatch {
        /// The shard's index (0-based).
        index: u16,
        /// The set's `split.count`.
        count: u16,
        /// The shard's file name.
        file: String,
        /// Its version.
        version: u32,
        /// Its byte order.
        endian: Endian,
        /// The first shard's version.
        first_version: u32,
        /// The first shard's byte order.
        first_endian: Endian,
    },
    /// A tensor name is in two shards.
    #[error("tensor `{tensor}` is in shard {} and again in {}; llama.cpp refuses a duplicated tensor", u32::from(*first_index) + 1, which(*index, *count, file))]
    DuplicateTensor {
        /// The tensor's name.
        tensor: String,
        /// The shard it is first in (0-based).
        first_index: u16,
        /// The shard it is again in (0-based).
        index: u16,
        /// The set's `split.count`.
        count: u16,
        /// That shard's file name.
        file: String,
    },
    /// More shards were added than `split.count` says, or fewer before [`SplitMerge::finish`].
    #[error("the set has {count} shards, {added} were given")]
    ShardCount {
        /// The set's `split.count`.
        count: u16,
        /// The shards given.
        added: u32,
    },
    /// The shards' tensors do not add up to `split.tensors.count`.
    #[error(
        "{file} says {SPLIT_TENSORS_COUNT} = {expected}, the {count} shards hold {found} tensors"
    )]
    TotalMismatch {
        /// The first shard's file name.
        file: String,
        /// Its `split.tensors.count`.
        expected: i32,
        /// The set's `split.count`.
        count: u16,
        /// The tensors of all shards.
        found: u64,
    },
    /// A version 1 set holds more tensors than its 32-bit header count can say.
    #[error("{found} tensors are too many for a GGUF v1 header")]
    TooManyTensors {
        /// The tensors of all shards.
        found: u64,
    },
}

/// `shard I of N (FILE)`.
fn which(index: u16, count: u16, file: &str) -> String {
    format!("shard {} of {count} ({file})", u32::from(index) + 1)
}

/// A split set being read: started from its first shard, given each other shard in order,
/// finished into the merged head (see the module docs).
#[derive(Debug)]
pub struct SplitMerge {
    first_file: String,
    prefix: String,
    count: u16,
    expected_total: i32,
    version: u32,
    endian: Endian,
    /// The shard each tensor name is in.
    owner: BTreeMap<String, u16>,
    tensor_counts: Vec<u64>,
    head: Vec<u8>,
}

/// A split set's merged head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedSet {
    /// One GGUF head: the first shard's header and metadata, every shard's tensor infos, the
    /// total tensor count ([`Gguf::parse`] reads it).
    pub head: Vec<u8>,
    /// Tensors per shard, in order (the merged tensor table's order).
    pub tensor_counts: Vec<u64>,
}

impl SplitMerge {
    /// Starts the set that `gguf` (the parse of the file named `file`) is the first shard of, or
    /// `Ok(None)` when it is a single file (`split.count` absent or at most 1).
    pub fn start(file: &str, gguf: &Gguf<'_>) -> Result<Option<Self>, SplitError> {
        let keys = SplitKeys::of(gguf, file)?;
        let count = match keys.count {
            Some(count) if count > 1 => count,
            _ => return Ok(None),
        };
        let parsed_name = parse_shard_name(file);
        let no = keys.no.ok_or_else(|| SplitError::NoShardNumber {
            file: file.to_owned(),
        })?;
        if no != 0 {
            return Err(SplitError::NotFirst {
                file: file.to_owned(),
                no,
                count,
                first: parsed_name.map(|(prefix, _, c)| shard_name(prefix, 1, c)),
            });
        }
        let prefix = match parsed_name {
            Some((prefix, 1, c)) if c == count => prefix,
            _ => {
                return Err(SplitError::Unnamed {
                    file: file.to_owned(),
                    count,
                })
            }
        };
        let expected_total = keys.tensors.ok_or_else(|| SplitError::NoTensorCount {
            file: file.to_owned(),
        })?;
        let mut set = Self {
            first_file: file.to_owned(),
            prefix: prefix.to_owned(),
            count,
            expected_total,
            version: gguf.version(),
            endian: gguf.endian(),
            owner: BTreeMap::new(),
            tensor_counts: Vec::with_capacity(usize::from(count)),
            head: head_slice(gguf, 0).map(<[u8]>::to_vec).unwrap_or_default(),
        };
        set.claim(gguf, 0, file)?;
        Ok(Some(set))
    }

    /// The set's `split.count`.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The file name of shard `index` (0-based), as `llama_split_path` names it.
    pub fn shard_name(&self, index: u16) -> String {
        shard_name(&self.prefix, index.saturating_add(1), self.count)
    }

    /// The index (0-based) of the next shard [`SplitMerge::add`] takes.
    pub fn next_index(&self) -> u16 {
        u16::try_from(self.tensor_counts.len()).unwrap_or(u16::MAX)
    }

    /// Checks the next shard (its parse) and adds its tensor infos to the merged head.
    pub fn add(&mut self, gguf: &Gguf<'_>) -> Result<(), SplitError> {
        let index = self.next_index();
        let count = self.count;
        if index >= count {
            return Err(SplitError::ShardCount {
                count,
                added: u32::from(index) + 1,
            });
        }
        let file = self.shard_name(index);
        let keys = SplitKeys::of(gguf, &file)?;
        match keys.no {
            Some(n) if n == index => {}
            Some(found) if found < index => {
                return Err(SplitError::DuplicateShard {
                    index,
                    count,
                    file,
                    found,
                })
            }
            Some(found) => {
                return Err(SplitError::WrongShardNumber {
                    index,
                    count,
                    file,
                    found,
                })
            }
            None => return Err(SplitError::MissingShardNumber { index, count, file }),
        }
        if keys.count != Some(count) {
            return Err(SplitError::CountMismatch {
                index,
                count,
                file,
                found: keys.count,
            });
        }
        if (gguf.version(), gguf.endian()) != (self.version, self.endian) {
            return Err(SplitError::FormatMismatch {
                index,
                count,
                file,
                version: gguf.version(),
                endian: gguf.endian(),
                first_version: self.version,
                first_endian: self.endian,
            });
        }
        self.claim(gguf, index, &file)?;
        let infos = usize::try_from(gguf.metadata_end())
            .ok()
            .and_then(|from| head_slice(gguf, from))
            .unwrap_or_default();
        self.head.extend_from_slice(infos);
        Ok(())
    }

    /// Checks that every shard was added and that their tensors add up to
    /// `split.tensors.count`, and gives the merged head.
    pub fn finish(mut self) -> Result<MergedSet, SplitError> {
        let added = self.tensor_counts.len();
        if added != usize::from(self.count) {
            return Err(SplitError::ShardCount {
                count: self.count,
                added: u32::try_from(added).unwrap_or(u32::MAX),
            });
        }
        let total: u64 = self.tensor_counts.iter().sum();
        if i64::from(self.expected_total) != i64::try_from(total).unwrap_or(i64::MAX) {
            return Err(SplitError::TotalMismatch {
                file: self.first_file,
                expected: self.expected_total,
                count: self.count,
                found: total,
            });
        }
        // The tensor count follows the magic and the version: a u64 from v2 on, a u32 in v1.
        let count: Vec<u8> = match (self.version >= 2, self.endian) {
            (true, Endian::Little) => total.to_le_bytes().to_vec(),
            (true, Endian::Big) => total.to_be_bytes().to_vec(),
            (false, endian) => {
                let n = u32::try_from(total)
                    .map_err(|_| SplitError::TooManyTensors { found: total })?;
                match endian {
                    Endian::Little => n.to_le_bytes().to_vec(),
                    Endian::Big => n.to_be_bytes().to_vec(),
                }
            }
        };
        // The first shard parsed, so its header (magic, version, counts) is all there.
        if let Some(at) = self.head.get_mut(8..8 + count.len()) {
            at.copy_from_slice(&count);
        }
        Ok(MergedSet {
            head: self.head,
            tensor_counts: self.tensor_counts,
        })
    }

    /// Records the tensors of shard `index`: a name already in another shard is an error.
    fn claim(&mut self, gguf: &Gguf<'_>, index: u16, file: &str) -> Result<(), SplitError> {
        for t in gguf.tensors() {
            if let Some(&before) = self.owner.get(t.name()) {
                if before != index {
                    return Err(SplitError::DuplicateTensor {
                        tensor: t.name().to_owned(),
                        first_index: before,
                        index,
                        count: self.count,
                        file: file.to_owned(),
                    });
                }
            } else {
                self.owner.insert(t.name().to_owned(), index);
            }
        }
        self.tensor_counts.push(gguf.tensors().len() as u64);
        Ok(())
    }
}

/// The bytes of `gguf`'s input from `from` to the end of its tensor infos.
fn head_slice<'a>(gguf: &Gguf<'a>, from: usize) -> Option<&'a [u8]> {
    let end = usize::try_from(gguf.tensor_infos_end()).ok()?;
    gguf.data().get(from..end)
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

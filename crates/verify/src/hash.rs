//! Hashes and manifests exactly as llama.cpp's `llama-gguf-hash` makes and reads them
//! (`examples/gguf-hash/gguf-hash.cpp` at llama.cpp 0c1e570).
//!
//! - A tensor's hash covers exactly its `ggml_nbytes` bytes in the data section; xxh64 uses seed
//!   0 and prints the 64-bit value as 16 hex digits, most significant first (:296-301); sha1 and
//!   sha256 print their digest bytes in order, lowercase (:334-338, :367-371).
//! - The whole-model hash of an algorithm is the same hash over every tensor's bytes, in the
//!   order of the tensor infos, one after the other (:322, :356, :389).
//! - `uuid` is whole-model only: SHA-1 of the 16 bytes of the namespace
//!   `ef001206-dadc-5f6d-a15f-3359e577d4e5` (`uuid5(NAMESPACE_URL,
//!   'en.wikipedia.org/wiki/Llama.cpp')`, :30-31) followed by every tensor's bytes, made a
//!   version-5, RFC 4122 variant UUID (`generate_uuidv5`, :233-247), printed hyphenated.
//! - A manifest line is `printf("%-8s  %-s  %s\n", type, hex, name)` (:314), `name` being
//!   `FILE:TENSOR` for a tensor (:291) and `FILE` for the whole model, FILE as given on the
//!   command line.
//! - A manifest is read line by line as three whitespace-separated words, type, hash and name;
//!   other lines are skipped (`manifest_verify`, :201-230).

use std::fmt;

use serde::Serialize;
use sha1::Digest as _;

/// The namespace of llama.cpp's model UUIDs (gguf-hash.cpp:30-31).
pub const UUID_NAMESPACE_LLAMA_CPP: uuid::Uuid =
    uuid::Uuid::from_u128(0xef001206_dadc_5f6d_a15f_3359e577d4e5);

/// A hash `llama-gguf-hash` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// xxHash64, seed 0.
    Xxh64,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// The model's UUIDv5 (whole model only).
    Uuid,
}

impl Algorithm {
    /// Every algorithm, in `llama-gguf-hash`'s output order.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Xxh64,
        Algorithm::Sha1,
        Algorithm::Sha256,
        Algorithm::Uuid,
    ];

    /// The manifest's name of the algorithm.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Xxh64 => "xxh64",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Uuid => "uuid",
        }
    }

    /// The algorithm with this manifest name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether tensors get their own hash (all but `uuid`).
    pub fn per_tensor(self) -> bool {
        self != Algorithm::Uuid
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A running hash.
#[derive(Clone)]
pub enum Hasher {
    /// xxh64.
    Xxh64(Box<xxhash_rust::xxh64::Xxh64>),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-1 over the namespace and the data, for the UUID.
    Uuid(sha1::Sha1),
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hasher({})", self.algorithm())
    }
}

impl Hasher {
    /// A fresh hash (for `uuid`, already fed the namespace).
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Xxh64 => Hasher::Xxh64(Box::new(xxhash_rust::xxh64::Xxh64::new(0))),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Uuid => {
                let mut h = sha1::Sha1::new();
                h.update(UUID_NAMESPACE_LLAMA_CPP.as_bytes());
                Hasher::Uuid(h)
            }
        }
    }

    /// Which algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Xxh64(_) => Algorithm::Xxh64,
            Hasher::Sha1(_) => Algorithm::Sha1,
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Uuid(_) => Algorithm::Uuid,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Xxh64(h) => h.update(bytes),
            Hasher::Sha1(h) | Hasher::Uuid(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    /// The result as `llama-gguf-hash` prints it.
    pub fn finish(self) -> String {
        match self {
            Hasher::Xxh64(h) => format!("{:016x}", h.digest()),
            Hasher::Sha1(h) => hex(&h.finalize()),
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Uuid(h) => {
                let digest = h.finalize();
                let mut bytes = [0u8; 16];
                for (b, d) in bytes.iter_mut().zip(digest.iter()) {
                    *b = *d;
                }
                // Sets version 5 and the RFC 4122 variant, as generate_uuidv5 does.
                uuid::Builder::from_sha1_bytes(bytes)
                    .into_uuid()
                    .hyphenated()
                    .to_string()
            }
        }
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One line of a manifest, as `llama-gguf-hash` prints it: `%-8s  %-s  %s`.
pub fn manifest_line(algorithm: Algorithm, hash: &str, name: &str) -> String {
    format!("{:<8}  {hash}  {name}", algorithm.as_str())
}

/// One entry of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The algorithm's name as written (entries of unknown algorithms are kept, and never
    /// match).
    pub algorithm: String,
    /// The hash as written.
    pub hash: String,
    /// `FILE:TENSOR` or `FILE`.
    pub name: String,
    /// 1-based line number.
    pub line: usize,
}

/// A manifest's entries, read as `llama-gguf-hash` reads them: the first three
/// whitespace-separated words of each line; lines with fewer are skipped.
pub fn parse_manifest(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let mut words = line.split_whitespace();
            let (algorithm, hash, name) = (words.next()?, words.next()?, words.next()?);
            Some(Entry {
                algorithm: algorithm.to_owned(),
                hash: hash.to_owned(),
                name: name.to_owned(),
                line: i + 1,
            })
        })
        .collect()
}

/// The algorithm `llama-gguf-hash --check` picks when none is asked for: the strongest the
/// manifest has (sha256, sha1, xxh64, uuid; gguf-hash.cpp `main`).
pub fn strongest_in(entries: &[Entry]) -> Option<Algorithm> {
    [
        Algorithm::Sha256,
        Algorithm::Sha1,
        Algorithm::Xxh64,
        Algorithm::Uuid,
    ]
    .into_iter()
    .find(|a| entries.iter().any(|e| e.algorithm == a.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn one(algorithm: Algorithm, data: &[u8]) -> String {
        let mut h = Hasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    #[test]
    fn known_vectors() {
        // FIPS 180 "abc" vectors, and xxh64's reference values.
        assert_eq!(
            one(Algorithm::Sha1, b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            one(Algorithm::Sha256, b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(one(Algorithm::Xxh64, b""), "ef46db3751d8e999");
        assert_eq!(one(Algorithm::Xxh64, b"abc"), "44bc2cf5ad770999");
    }

    #[test]
    fn uuid_is_uuid5_of_the_data_in_llama_cpps_namespace() {
        // The namespace is uuid5(NAMESPACE_URL, 'en.wikipedia.org/wiki/Llama.cpp').
        assert_eq!(
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                b"en.wikipedia.org/wiki/Llama.cpp"
            ),
            UUID_NAMESPACE_LLAMA_CPP
        );
        let data = b"some tensor bytes";
        assert_eq!(
            one(Algorithm::Uuid, data),
            uuid::Uuid::new_v5(&UUID_NAMESPACE_LLAMA_CPP, data).to_string()
        );
    }

    #[test]
    fn lines_round_trip() {
        let line = manifest_line(Algorithm::Xxh64, "f66e9cd66a4396a0", "test.gguf:tensor_0");
        assert_eq!(line, "xxh64     f66e9cd66a4396a0  test.gguf:tensor_0");
        let line = manifest_line(Algorithm::Sha256, "ab", "m.gguf");
        assert_eq!(line, "sha256    ab  m.gguf");
        let entries = parse_manifest("manifest  x  sha256\nxxh64     aa  f:t  -  Ok\n\nbad\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "f:t");
        assert_eq!(strongest_in(&entries), Some(Algorithm::Xxh64));
    }
}

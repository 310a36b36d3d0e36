//! The repository holds every fixture its tests read (issue 17: a plain clone with nothing
//! beside it runs the whole suite), within the size budget.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use ggufscope_testkit::{
    fixture_name, fixtures_dir, gguf_files_in, llama_archs_dir, llama_archs_files,
    llama_archs_sized_sets, read_fixture, real_fixture, REAL_FIXTURES,
};

/// Sizes of the real files (their sha256 sums are in `tests/fixtures/README.md`).
const REAL_SIZES: [(&str, u64); 4] = [
    ("ggml-vocab-phi-3.gguf", 726_019),
    ("ggml-vocab-qwen2.gguf", 5_928_681),
    ("ggml-vocab-llama-spm.gguf", 723_869),
    ("ggml-vocab-bert-bge.gguf", 627_549),
];

fn size_of_tree(path: &Path) -> u64 {
    let meta = std::fs::metadata(path).unwrap();
    if meta.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|entry| size_of_tree(&entry.unwrap().path()))
            .sum()
    } else {
        meta.len()
    }
}

#[test]
fn real_fixtures_are_in_the_repository() {
    assert_eq!(REAL_FIXTURES.len(), REAL_SIZES.len());
    for (name, size) in REAL_SIZES {
        assert!(REAL_FIXTURES.contains(&name));
        let path = real_fixture(name);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert_eq!(len, size, "{name}");
    }
}

#[test]
fn llama_archs_heads_are_in_the_repository() {
    let files = llama_archs_files();
    assert_eq!(files.len(), 128);
    for name in ["README.md", "llama-truth.json", "cuda-truth.json"] {
        assert!(llama_archs_dir().join(name).is_file(), "{name}");
    }
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(&bytes[..4], b"GGUF", "{}", file.display());
    }
}

#[test]
fn llama_archs_sized_heads_are_in_the_repository() {
    let sets = llama_archs_sized_sets();
    let names: Vec<_> = sets
        .iter()
        .map(|s| s.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["s2048", "s384", "s512"]);
    let corpus: Vec<String> = llama_archs_files()
        .iter()
        .map(|p| fixture_name(p))
        .collect();
    for set in &sets {
        assert!(set.join("llama-truth.json").is_file(), "{}", set.display());
        let files = gguf_files_in(set);
        // s384, s512: the corpus's 128 files, gzip-compressed heads; s2048: 33 of them (31
        // architectures people run), each with its truth record.
        let sized: Vec<String> = files.iter().map(|p| fixture_name(p)).collect();
        if set.ends_with("s2048") {
            assert_eq!(sized.len(), 33, "{}", set.display());
            assert!(
                sized.iter().all(|f| corpus.contains(f)),
                "{}",
                set.display()
            );
            let truth: serde_json::Value =
                serde_json::from_slice(&std::fs::read(set.join("llama-truth.json")).unwrap())
                    .unwrap();
            for f in &sized {
                for n_ctx in ["n_ctx_512", "n_ctx_4096"] {
                    assert!(truth[n_ctx].get(f).is_some(), "{f} {n_ctx}");
                }
            }
        } else {
            assert_eq!(sized, corpus, "{}", set.display());
        }
        for file in &files {
            assert_eq!(&read_fixture(file)[..4], b"GGUF", "{}", file.display());
        }
    }
}

#[test]
fn fixtures_fit_the_budget() {
    assert!(fixtures_dir().join("README.md").is_file());
    let total = size_of_tree(&fixtures_dir());
    assert!(total <= 25_000_000, "tests/fixtures holds {total} bytes");
}

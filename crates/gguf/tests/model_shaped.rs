//! Full-size model layouts written sparse by the writer and parsed back.

use ggufscope_gguf::{open, GgmlType, Gguf};
use ggufscope_testkit::presets;

fn type_counts(g: &Gguf<'_>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for t in g.tensors() {
        let name = t.ggml_type().to_string();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    counts.sort();
    counts
}

#[test]
fn phi3_mini_sized_sparse_file_parses_back() {
    let fixture = presets::phi3_mini_4k();
    let tmp = fixture.write_sparse_temp();
    // On a 32-bit target: the first 8 MiB, checked against the file's length (see `hold`).
    let held = crate::hold(tmp.path());
    let file_len = std::fs::metadata(tmp.path()).unwrap().len();
    let g = Gguf::parse(&held).unwrap();
    assert_eq!(g.tensors().len(), 195);
    let total: u64 = g.tensors().iter().map(|t| t.element_count().unwrap()).sum();
    assert_eq!(total, 3_821_079_552);
    let qkv = g.tensor("blk.0.attn_qkv.weight").unwrap();
    assert_eq!(qkv.dims(), &[3072, 9216]);
    assert_eq!(qkv.ggml_type(), GgmlType::Q5_K);
    // 9216 rows of 3072/256 = 12 q5_K blocks of 176 bytes.
    assert_eq!(qkv.n_bytes().unwrap(), 9216 * 12 * 176);
    assert_eq!(
        g.tensor("blk.31.ffn_up.weight").unwrap().dims(),
        &[3072, 16384]
    );
    assert_eq!(g.tensor("output.weight").unwrap().dims(), &[3072, 32064]);
    assert_eq!(
        type_counts(&g),
        [
            ("f32".into(), 65),
            ("q4_K".into(), 81),
            ("q5_K".into(), 32),
            ("q6_K".into(), 17)
        ]
    );
    let bytes: u64 = g.tensors().iter().map(|t| t.n_bytes().unwrap()).sum();
    // The data section holds every tensor, each padded to 32 bytes, and ends the file.
    assert!(g.data_offset() + bytes <= file_len);
    assert_eq!(g.check_layout_with_len(file_len), vec![]);
    if let crate::Held::Mapped(map) = &held {
        assert_eq!(map.len() as u64, file_len);
        assert_eq!(g.check_layout(), vec![]);
    }
    // Sparse: the file is gigabytes long but occupies next to no disk.
    assert!(file_len > 2_000_000_000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let blocks = std::fs::metadata(tmp.path()).unwrap().blocks();
        assert!(blocks * 512 < 64 << 20, "{} bytes on disk", blocks * 512);
    }
}

#[test]
fn qwen2_5_sized_sparse_file_parses_back() {
    let tmp = presets::qwen2_5_0_5b().write_sparse_temp();
    let map = open(tmp.path()).unwrap();
    let g = Gguf::parse(&map).unwrap();
    assert_eq!(g.tensors().len(), 290);
    assert!(
        g.tensor("output.weight").is_none(),
        "tied output is not on disk"
    );
    let total: u64 = g.tensors().iter().map(|t| t.element_count().unwrap()).sum();
    assert_eq!(total, 494_032_768);
    assert_eq!(type_counts(&g), [("f16".into(), 169), ("f32".into(), 121)]);
    let k = g.tensor("blk.23.attn_k.weight").unwrap();
    assert_eq!(
        (k.dims(), k.n_bytes().unwrap()),
        (&[896u64, 128][..], 896 * 128 * 2)
    );
    assert_eq!(g.tensor("blk.0.attn_k.bias").unwrap().dims(), &[128]);
    let bytes: u64 = g.tensors().iter().map(|t| t.n_bytes().unwrap()).sum();
    // f16 weights (tied embedding counted once) plus f32 norms and biases.
    assert_eq!(bytes, 494_032_768 * 2 + f32_elements(&g) * 2);
    assert_eq!(g.check_layout(), vec![]);
}

fn f32_elements(g: &Gguf<'_>) -> u64 {
    g.tensors()
        .iter()
        .filter(|t| t.ggml_type() == GgmlType::F32)
        .map(|t| t.element_count().unwrap())
        .sum()
}

//! Split sets ([`ggufscope_gguf::split`]): the merged head of a set equals the single file's
//! tensor table, and every inconsistency llama.cpp's loader refuses (or gguf-split never writes)
//! is a typed error naming the shard.

use ggufscope_gguf::split::{
    SplitError, SplitKeys, SplitMerge, SPLIT_COUNT, SPLIT_NO, SPLIT_TENSORS_COUNT,
};
use ggufscope_gguf::{Endian, GgmlType, Gguf, GgufWriter, OwnedValue, TensorData};

/// Shard `no` (0-based) of `count` holding `tensors`, with the split keys `keys` overrides.
fn shard_with(
    no: u16,
    count: u16,
    total: i32,
    tensors: &[&str],
    keys: &[(&str, OwnedValue)],
    version: u32,
    endian: Endian,
) -> Vec<u8> {
    let mut w = GgufWriter::new().version(version).endian(endian);
    if no == 0 {
        w.add_kv("general.architecture", "llama");
    }
    let mut split: Vec<(&str, OwnedValue)> = vec![
        (SPLIT_NO, no.into()),
        (SPLIT_COUNT, count.into()),
        (SPLIT_TENSORS_COUNT, total.into()),
    ];
    for (k, v) in keys {
        match split.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v.clone(),
            None => split.push((k, v.clone())),
        }
    }
    for (k, v) in split {
        if v != OwnedValue::Bool(false) {
            w.add_kv(k, v);
        }
    }
    for t in tensors {
        w.add_tensor(*t, GgmlType::F32, &[4, 2], TensorData::Bytes(vec![0; 32]));
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

fn shard(no: u16, count: u16, total: i32, tensors: &[&str]) -> Vec<u8> {
    shard_with(no, count, total, tensors, &[], 3, Endian::Little)
}

const NAMES: [&str; 3] = [
    "m-00001-of-00003.gguf",
    "m-00002-of-00003.gguf",
    "m-00003-of-00003.gguf",
];

/// Starts from `first` and adds `rest`: the first error, or the merged set.
fn merge(first: &[u8], rest: &[Vec<u8>]) -> Result<ggufscope_gguf::split::MergedSet, SplitError> {
    let g = Gguf::parse(first).unwrap();
    let mut set = SplitMerge::start(NAMES[0], &g)?.expect("a split set");
    for bytes in rest {
        set.add(&Gguf::parse(bytes).unwrap())?;
    }
    set.finish()
}

#[test]
fn a_three_shard_set_merges_into_one_tensor_table() {
    for (version, endian) in [(3, Endian::Little), (3, Endian::Big), (1, Endian::Little)] {
        let s = |no, t: &[&str]| shard_with(no, 3, 5, t, &[], version, endian);
        let first = s(0, &["a", "b"]);
        let merged = merge(&first, &[s(1, &["c", "d"]), s(2, &["e"])]).unwrap();
        assert_eq!(merged.tensor_counts, [2, 2, 1]);
        let g = Gguf::parse(&merged.head).unwrap();
        let names: Vec<&str> = g.tensors().iter().map(|t| t.name()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        assert_eq!((g.version(), g.endian()), (version, endian));
        assert_eq!(
            g.metadata().get_str("general.architecture").unwrap(),
            Some("llama")
        );
        // Offsets stay each shard's own.
        assert_eq!(g.tensors()[2].offset(), 0);
    }
}

#[test]
fn a_single_file_is_no_set() {
    let single = shard_with(0, 1, 1, &["a"], &[], 3, Endian::Little);
    let g = Gguf::parse(&single).unwrap();
    assert!(SplitMerge::start("m.gguf", &g).unwrap().is_none());
    assert!(!SplitKeys::of(&g, "m.gguf").unwrap().is_split());
    let none = shard_with(
        0,
        1,
        1,
        &["a"],
        &[
            (SPLIT_NO, false.into()),
            (SPLIT_COUNT, false.into()),
            (SPLIT_TENSORS_COUNT, false.into()),
        ],
        3,
        Endian::Little,
    );
    let g = Gguf::parse(&none).unwrap();
    assert_eq!(SplitKeys::of(&g, "m.gguf").unwrap(), SplitKeys::default());
    assert!(SplitMerge::start("m.gguf", &g).unwrap().is_none());
}

#[test]
fn the_first_shard_must_be_given_named_and_counted() {
    let second = shard(1, 3, 5, &["a"]);
    let g = Gguf::parse(&second).unwrap();
    let err = SplitMerge::start(NAMES[1], &g).unwrap_err();
    assert!(matches!(
        err,
        SplitError::NotFirst {
            no: 1,
            count: 3,
            ..
        }
    ));
    assert!(err
        .to_string()
        .contains("is shard 2 of 3: give the first shard (m-00001-of-00003.gguf)"));

    let first = shard(0, 3, 5, &["a"]);
    let g = Gguf::parse(&first).unwrap();
    let err = SplitMerge::start("renamed.gguf", &g).unwrap_err();
    assert!(matches!(err, SplitError::Unnamed { count: 3, .. }));

    let no_total = shard_with(
        0,
        3,
        5,
        &["a"],
        &[(SPLIT_TENSORS_COUNT, false.into())],
        3,
        Endian::Little,
    );
    let g = Gguf::parse(&no_total).unwrap();
    let err = SplitMerge::start(NAMES[0], &g).unwrap_err();
    assert!(matches!(err, SplitError::NoTensorCount { .. }));

    let no_no = shard_with(
        0,
        3,
        5,
        &["a"],
        &[(SPLIT_NO, false.into())],
        3,
        Endian::Little,
    );
    let g = Gguf::parse(&no_no).unwrap();
    let err = SplitMerge::start(NAMES[0], &g).unwrap_err();
    assert!(matches!(err, SplitError::NoShardNumber { .. }));

    let mistyped = shard_with(
        0,
        3,
        5,
        &["a"],
        &[(SPLIT_COUNT, 3u32.into())],
        3,
        Endian::Little,
    );
    let g = Gguf::parse(&mistyped).unwrap();
    let err = SplitMerge::start(NAMES[0], &g).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m-00001-of-00003.gguf: split.count is u32, llama.cpp's gguf-split writes u16"
    );
}

#[test]
fn every_shard_is_checked_against_the_first() {
    let first = shard(0, 3, 5, &["a", "b"]);
    let ok1 = shard(1, 3, 5, &["c", "d"]);
    let kind = |rest: &[Vec<u8>]| merge(&first, rest).unwrap_err();

    let err = kind(&[ok1.clone(), shard(1, 3, 5, &["e"])]);
    assert!(matches!(
        err,
        SplitError::DuplicateShard {
            index: 2,
            found: 1,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "shard 3 of 3 (m-00003-of-00003.gguf) says split.no = 1: it duplicates shard 2"
    );
    let err = kind(&[shard(2, 3, 5, &["e"])]);
    assert!(matches!(
        err,
        SplitError::WrongShardNumber {
            index: 1,
            found: 2,
            ..
        }
    ));
    let err = kind(&[shard_with(
        1,
        3,
        5,
        &["c"],
        &[(SPLIT_NO, false.into())],
        3,
        Endian::Little,
    )]);
    assert!(matches!(
        err,
        SplitError::MissingShardNumber { index: 1, .. }
    ));
    let err = kind(&[ok1.clone(), shard(2, 4, 5, &["e"])]);
    assert_eq!(
        err.to_string(),
        "shard 3 of 3 (m-00003-of-00003.gguf) says split.count = 4, the first shard says 3"
    );
    let err = kind(&[shard_with(1, 3, 5, &["c"], &[], 2, Endian::Little)]);
    assert!(matches!(
        err,
        SplitError::FormatMismatch {
            version: 2,
            first_version: 3,
            ..
        }
    ));
    let err = kind(&[shard_with(1, 3, 5, &["c"], &[], 3, Endian::Big)]);
    assert!(err
        .to_string()
        .contains("is GGUF v3 big-endian, the first shard v3 little-endian"));
    let err = kind(&[ok1.clone(), shard(2, 3, 5, &["a"])]);
    assert_eq!(
        err.to_string(),
        "tensor `a` is in shard 1 and again in shard 3 of 3 (m-00003-of-00003.gguf); llama.cpp refuses a duplicated tensor"
    );
    let err = kind(&[ok1.clone(), shard(2, 3, 5, &["e", "f"])]);
    assert_eq!(
        err.to_string(),
        "m-00001-of-00003.gguf says split.tensors.count = 5, the 3 shards hold 6 tensors"
    );
    // Too few shards, or one too many.
    let err = kind(std::slice::from_ref(&ok1));
    assert!(matches!(err, SplitError::ShardCount { count: 3, added: 2 }));
    let e = shard(2, 3, 5, &["e"]);
    let err = kind(&[ok1, e.clone(), e]);
    assert!(matches!(err, SplitError::ShardCount { count: 3, added: 4 }));
}

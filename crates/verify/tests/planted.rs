//! Planted defects in every type the project's writer can write are found and located; clean
//! files pass. The fields planted into are written out in the fixture module from
//! `ggml-common.h`, apart from the crate's own table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    missing_docs
)]

#[path = "../examples/verify_fixture.rs"]
mod fixture;

use fixture::{checked_fields, clean_data, Rng};
use ggufscope_gguf::{Endian, GgmlType, Gguf, GgufWriter, TensorData, TypeStatus, TYPE_TABLE};
use ggufscope_verify::{verify, Algorithm, Defect, Finding, Options, Report, Unit};

fn write(tensors: Vec<(&str, GgmlType, Vec<u64>, Vec<u8>)>) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_kv("general.architecture", "llama");
    for (name, t, dims, data) in tensors {
        w.add_tensor(name, t, &dims, TensorData::Bytes(data));
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

fn run(bytes: &[u8], options: &Options) -> Report {
    let gguf = Gguf::parse(bytes).unwrap();
    verify(&gguf, options, &|_| {})
}

fn live_types() -> Vec<GgmlType> {
    TYPE_TABLE
        .iter()
        .filter(|t| t.status == TypeStatus::Live)
        .map(|t| GgmlType::from_id(t.id))
        .collect()
}

/// 4 units per row, 3 rows (16 elements per row for element types).
fn dims(t: GgmlType) -> (Vec<u64>, usize, u64) {
    let b = t.block_size().unwrap();
    if b == 1 {
        (vec![16, 3], 48, 16)
    } else {
        (vec![b * 4, 3], 12, 4)
    }
}

#[test]
fn clean_tensors_of_every_type_pass() {
    let mut rng = Rng(7);
    for t in live_types() {
        let (d, units, _) = dims(t);
        let bytes = write(vec![("w", t, d, clean_data(t, units, &mut rng))]);
        let report = run(&bytes, &Options::default());
        let findings = &report.tensors[0].findings;
        if t == GgmlType::Q8_1 {
            // Not in ggml_validate_row_data's switch: llama.cpp refuses it as an invalid type.
            assert!(
                matches!(findings.as_slice(), [Finding::InvalidType { rule }] if rule.contains("5630-5634")),
                "{findings:?}"
            );
        } else {
            assert!(findings.is_empty(), "{t}: {findings:?}");
        }
    }
}

/// Sets a value of `kind` at `at` in `unit` to a NaN (or an infinity, or E8M0's 0xff).
fn plant(data: &mut [u8], t: GgmlType, unit: usize, at: usize, kind: char, inf: bool) {
    let size = t.type_size().unwrap() as usize;
    let b = &mut data[unit * size..(unit + 1) * size];
    match kind {
        'h' => {
            b[at..at + 2].copy_from_slice(&(if inf { 0xfc00u16 } else { 0x7e01u16 }).to_le_bytes())
        }
        'f' => b[at..at + 4]
            .copy_from_slice(&(if inf { f32::INFINITY } else { f32::NAN }).to_le_bytes()),
        'd' => b[at..at + 8]
            .copy_from_slice(&(if inf { f64::NEG_INFINITY } else { f64::NAN }).to_le_bytes()),
        'b' => {
            b[at..at + 2].copy_from_slice(&(if inf { 0x7f80u16 } else { 0xffc1u16 }).to_le_bytes())
        }
        'e' => b[at] = 0xff,
        // iq1_m: top nibbles of the four u16 scales make 0x7c00 (inf) or 0x7c01 (NaN).
        'm' => {
            b[at + 1] = (b[at + 1] & 0x0f) | if inf { 0x00 } else { 0x10 };
            b[at + 3] &= 0x0f;
            b[at + 5] = (b[at + 5] & 0x0f) | 0xc0;
            b[at + 7] = (b[at + 7] & 0x0f) | 0x70;
        }
        _ => unreachable!(),
    }
}

fn fields(t: GgmlType) -> Vec<(usize, char)> {
    match t {
        GgmlType::F32 => vec![(0, 'f')],
        GgmlType::F16 => vec![(0, 'h')],
        GgmlType::BF16 => vec![(0, 'b')],
        GgmlType::F64 => vec![(0, 'd')],
        _ => checked_fields(t),
    }
}

#[test]
fn planted_defects_in_every_checked_field_of_every_type_are_found_and_located() {
    let mut rng = Rng(11);
    let mut checked = Vec::new();
    for t in live_types() {
        let (d, units, per_row) = dims(t);
        for (at, kind) in fields(t) {
            for inf in [false, true] {
                let mut data = clean_data(t, units, &mut rng);
                // Row 1's second unit, and one in row 2.
                let (first, second) = (per_row as usize + 1, 2 * per_row as usize + 3);
                plant(&mut data, t, first, at, kind, inf);
                plant(&mut data, t, second, at, kind, inf);
                let bytes = write(vec![
                    ("clean", t, d.clone(), clean_data(t, units, &mut rng)),
                    ("bad", t, d.clone(), data),
                ]);
                let report = run(&bytes, &Options::default());
                assert!(report.tensors[0].findings.is_empty(), "{t}");
                let want_defect = match (kind, inf) {
                    ('e', _) => Defect::InvalidE8m0,
                    (_, true) => Defect::Inf,
                    (_, false) => Defect::Nan,
                };
                match report.tensors[1].findings.as_slice() {
                    [Finding::Values {
                        defect,
                        first: f,
                        row,
                        count,
                        unit,
                        field,
                        rule,
                        ..
                    }] => {
                        assert_eq!(*defect, want_defect, "{t} at {at}");
                        assert_eq!(*f, first as u64, "{t}");
                        assert_eq!(*row, 1, "{t}");
                        assert_eq!(*count, 2, "{t}");
                        let want_unit = if t.block_size() == Some(1) {
                            Unit::Element
                        } else {
                            Unit::Block
                        };
                        assert_eq!(*unit, want_unit);
                        if at == 2 {
                            assert!(*field == "m" || *field == "dmin", "{t}: {field}");
                        }
                        assert!(rule.starts_with("ggml/src/ggml-quants.c:"), "{rule}");
                    }
                    other => panic!("{t} at {at}: {other:?}"),
                }
            }
        }
        if !fields(t).is_empty() {
            checked.push(t.to_string());
        }
    }
    // Everything but the integers, nvfp4 (no checked field) and q8_1 (refused outright).
    assert_eq!(checked.len(), 29, "{checked:?}");
}

#[test]
fn a_tensor_cut_short_is_a_finding_and_its_present_blocks_are_still_checked() {
    let mut rng = Rng(3);
    let t = GgmlType::Q8_0;
    let mut data = clean_data(t, 100, &mut rng);
    plant(&mut data, t, 10, 0, 'h', false);
    let bytes = write(vec![
        (
            "a",
            GgmlType::F32,
            vec![8],
            clean_data(GgmlType::F32, 8, &mut rng),
        ),
        ("b", t, vec![32 * 100], data),
    ]);
    // Keep 50 of b's 100 blocks (1700 bytes).
    let b_start = {
        let g = Gguf::parse(&bytes).unwrap();
        (g.data_offset() + g.tensors()[1].offset()) as usize
    };
    let cut = &bytes[..b_start + 1700];
    let options = Options {
        algorithms: vec![Algorithm::Xxh64],
        ..Options::default()
    };
    let report = run(cut, &options);
    assert!(report.tensors[0].findings.is_empty());
    let f = &report.tensors[1].findings;
    assert!(
        matches!(
            f[0],
            Finding::Values {
                first: 10,
                count: 1,
                ..
            }
        ),
        "{f:?}"
    );
    assert_eq!(
        f[1],
        Finding::Truncated {
            present: 1700,
            needed: 3400
        }
    );
    // No hash of the cut tensor, nor of the model.
    assert!(report.tensors[0].hashes[0].1.is_some());
    assert_eq!(report.tensors[1].hashes[0].1, None);
    assert_eq!(report.model_hashes, vec![(Algorithm::Xxh64, None)]);
    // A tensor wholly past the end.
    let report = run(&bytes[..b_start], &Options::default());
    assert_eq!(
        report.tensors[1].findings,
        vec![Finding::Truncated {
            present: 0,
            needed: 3400
        }]
    );
}

#[test]
fn pieces_of_a_large_tensor_merge_to_the_first_bad_value_and_the_exact_count() {
    let mut rng = Rng(5);
    let n = 300_000;
    let mut data = clean_data(GgmlType::F32, n, &mut rng);
    let planted = [299_999usize, 123_457, 123_456, 70_001];
    for &i in &planted {
        data[i * 4..i * 4 + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    }
    let bytes = write(vec![("big", GgmlType::F32, vec![1000, 300], data)]);
    for chunk_bytes in [64, 4096, 1 << 20, 4 << 20] {
        let report = run(
            &bytes,
            &Options {
                chunk_bytes,
                ..Options::default()
            },
        );
        match report.tensors[0].findings.as_slice() {
            [Finding::Values {
                first, row, count, ..
            }] => {
                assert_eq!(
                    (*first, *row, *count),
                    (70_001, 70, 4),
                    "chunk {chunk_bytes}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn big_endian_files_are_read_in_their_byte_order() {
    let mut data = Vec::new();
    for i in 0..64u32 {
        let v = if i == 40 { f32::INFINITY } else { i as f32 };
        data.extend_from_slice(&v.to_be_bytes());
    }
    let mut w = GgufWriter::new().endian(Endian::Big);
    w.add_tensor("be", GgmlType::F32, &[32, 2], TensorData::Bytes(data));
    let mut bytes = Vec::new();
    w.write(&mut bytes).unwrap();
    let report = run(&bytes, &Options::default());
    assert!(
        matches!(
            report.tensors[0].findings.as_slice(),
            [Finding::Values {
                defect: Defect::Inf,
                first: 40,
                row: 1,
                count: 1,
                ..
            }]
        ),
        "{:?}",
        report.tensors[0].findings
    );
}

#[test]
fn selected_tensors_only_and_no_model_hash() {
    let mut rng = Rng(9);
    let bytes = write(vec![
        (
            "a",
            GgmlType::F16,
            vec![8],
            clean_data(GgmlType::F16, 8, &mut rng),
        ),
        (
            "b",
            GgmlType::F16,
            vec![8],
            clean_data(GgmlType::F16, 8, &mut rng),
        ),
    ]);
    let report = run(
        &bytes,
        &Options {
            algorithms: vec![Algorithm::Sha256, Algorithm::Uuid],
            select: Some(vec![1]),
            ..Options::default()
        },
    );
    assert_eq!(report.tensors.len(), 1);
    assert_eq!(report.tensors[0].name, "b");
    // uuid is whole-model only.
    assert_eq!(report.tensors[0].hashes.len(), 1);
    assert!(report.model_hashes.is_empty());
}

#[test]
fn mutated_and_cut_files_never_panic() {
    let base = fixture::build();
    let mut rng = Rng(77);
    let options = Options {
        algorithms: vec![Algorithm::Xxh64, Algorithm::Uuid],
        chunk_bytes: 256,
        ..Options::default()
    };
    let mut parsed = 0;
    for i in 0..3000 {
        let mut bytes = base.clone();
        // A few random bytes changed (often in the tensor infos: types, dims, offsets), and
        // every 3rd file cut somewhere.
        for _ in 0..(1 + rng.next() % 4) {
            let at = (rng.next() % bytes.len() as u64) as usize;
            bytes[at] = (rng.next() >> 56) as u8;
        }
        if i % 3 == 0 {
            let len = (rng.next() % bytes.len() as u64) as usize;
            bytes.truncate(len);
        }
        let Ok(gguf) = Gguf::parse_with(&bytes, ggufscope_gguf::ParseOptions::lenient()) else {
            continue;
        };
        parsed += 1;
        let report = verify(&gguf, &options, &|_| {});
        assert_eq!(report.tensors.len(), gguf.tensors().len());
    }
    assert!(parsed > 500, "{parsed}");
}

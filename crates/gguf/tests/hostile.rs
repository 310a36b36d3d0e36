//! One test per case of the hostile-input catalogue (`shared/docs/hostile-inputs.md` §6),
//! numbered as there. Errors are asserted by kind, never by message.

use ggufscope_gguf::{
    Endian, ErrorKind, Gguf, KeyProblem, LayoutIssue, Limit, Location, NameProblem, ParseOptions,
    Severity, SizeError, Value, ValueType,
};
use ggufscope_testkit::raw::{self, ty, Raw};

fn err(bytes: &[u8]) -> ErrorKind {
    match Gguf::parse(bytes) {
        Err(e) => e.kind().clone(),
        Ok(_) => panic!("parsed a hostile input"),
    }
}

fn lenient(bytes: &[u8]) -> Gguf<'_> {
    Gguf::parse_with(bytes, ParseOptions::lenient()).unwrap()
}

fn issues(g: &Gguf<'_>) -> Vec<LayoutIssue> {
    g.check_layout().into_iter().map(|f| f.issue).collect()
}

fn errors(g: &Gguf<'_>) -> Vec<LayoutIssue> {
    g.check_layout()
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.issue)
        .collect()
}

fn truncated_needing(bytes: &[u8]) -> u64 {
    match err(bytes) {
        ErrorKind::Truncated { needed, available } => {
            assert_eq!(available, bytes.len() as u64);
            assert!(needed > available);
            needed
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}

fn limit(bytes: &[u8]) -> Limit {
    match err(bytes) {
        ErrorKind::LimitExceeded { what, value, max } => {
            assert!(value > max);
            what
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

/// HDR(3,0,1) ‖ KV(key, type) followed by `payload`.
fn one_kv(key: &str, type_id: u32, payload: Raw) -> Vec<u8> {
    let mut bytes = Raw::le().hdr(3, 0, 1).kv(key, type_id).build();
    bytes.extend(payload.build());
    bytes
}

/// HDR(3,1,0) ‖ TI(name, dims, ty, off) ‖ PAD(32) ‖ data.
fn one_tensor(name: &[u8], dims: &[u64], ggml_type: u32, offset: u64, data: usize) -> Vec<u8> {
    Raw::le()
        .hdr(3, 1, 0)
        .ti(name, dims, ggml_type, offset)
        .pad(32)
        .fill(0, data)
        .build()
}

// ---------------------------------------------------------------- A. Header

#[test]
fn a01_empty_input_is_truncated() {
    assert_eq!(truncated_needing(&[]), 4);
}

#[test]
fn a03_wrong_magic_is_bad_magic() {
    for magic in [b"lmgg", b"tjgg", b"gguf", b"XXXX", b"\0GGU", b"FUGG"] {
        let bytes = Raw::le().bytes(magic).u32(3).u64(0).u64(0).build();
        assert_eq!(err(&bytes), ErrorKind::BadMagic { found: *magic });
    }
}

#[test]
fn a04_version_zero_is_unsupported() {
    assert_eq!(
        err(&Raw::le().hdr(0, 0, 0).build()),
        ErrorKind::UnsupportedVersion { version: 0 }
    );
}

#[test]
fn a05_v1_hostile_string_length_is_truncated_without_allocating() {
    let bytes = Raw::le()
        .v1_lengths()
        .hdr(1, 0, 1)
        .u32(0xFFFF_FFFF)
        .bytes(b"ab")
        .build();
    truncated_needing(&bytes);
}

#[test]
fn a06_cross_version_confusion_fails_fast() {
    // A v1 body read as v3: the two u32 counts become one u64 tensor count of 2^32.
    let v1 = Raw::le()
        .v1_lengths()
        .hdr(1, 0, 1)
        .kv("a", ty::U8)
        .u8(1)
        .build();
    let mut as_v3 = v1.clone();
    as_v3[4] = 3;
    assert_eq!(limit(&as_v3), Limit::TensorCount);
    // A v3 body read as v1: counts are the low halves (0, 0): an empty file plus trailing bytes.
    let mut as_v1 = raw::b1();
    as_v1[4] = 1;
    let g = Gguf::parse(&as_v1).unwrap();
    assert_eq!((g.version(), g.metadata().len()), (1, 0));
}

#[test]
fn a07_future_versions_are_unsupported() {
    for v in [4u32, 0xFFFF, 0x0001_0003] {
        assert_eq!(
            err(&Raw::le().hdr(v, 0, 0).build()),
            ErrorKind::UnsupportedVersion { version: v }
        );
    }
}

#[test]
fn a08_byte_swapped_version_is_a_big_endian_file() {
    let be = Raw::be().hdr(3, 0, 0).build();
    assert_eq!(&be[4..8], &[0, 0, 0, 3]);
    let g = Gguf::parse(&be).unwrap();
    assert_eq!(
        (g.version(), g.endian(), g.metadata().len()),
        (3, Endian::Big, 0)
    );
}

#[test]
fn a09_a10_maximal_counts_are_refused_before_allocating() {
    assert_eq!(
        limit(&Raw::le().hdr(3, u64::MAX, 0).build()),
        Limit::TensorCount
    );
    assert_eq!(
        limit(&Raw::le().hdr(3, 0, u64::MAX).build()),
        Limit::KvCount
    );
}

#[test]
fn a11_plausible_but_impossible_counts_fail_in_constant_time() {
    assert_eq!(
        limit(&Raw::le().hdr(3, 0, 100_000_000).build()),
        Limit::KvCount
    );
    assert_eq!(
        limit(&Raw::le().hdr(3, 1 << 33, 0).build()),
        Limit::TensorCount
    );
    assert_eq!(limit(&Raw::le().hdr(3, 0, 1 << 40).build()), Limit::KvCount);
    // Under the caps, the count is checked against the bytes that remain.
    assert_eq!(
        truncated_needing(&Raw::le().hdr(3, 0, 1_000_000).build()),
        24 + 13 * 1_000_000
    );
    assert_eq!(
        truncated_needing(&Raw::le().hdr(3, 1000, 0).build()),
        24 + 24 * 1000
    );
}

#[test]
fn a12_header_only_and_trailing_bytes_are_valid() {
    let b0 = raw::b0();
    let g = Gguf::parse(&b0).unwrap();
    assert_eq!(
        (g.metadata().len(), g.tensors().len(), g.data_offset()),
        (0, 0, 24)
    );
    let trailing = Raw::le().hdr(3, 0, 0).fill(0xAA, 1000).build();
    assert!(Gguf::parse(&trailing).is_ok());
    let b1 = raw::b1();
    let g = Gguf::parse(&b1).unwrap();
    assert_eq!(
        g.metadata().get_str("general.architecture").unwrap(),
        Some("llama")
    );
}

// ---------------------------------------------------------------- B. Keys and scalar values

#[test]
fn b13_key_length_u64_max_is_refused() {
    let bytes = Raw::le()
        .hdr(3, 0, 1)
        .u64(u64::MAX)
        .bytes(b"k")
        .fill(0, 16)
        .build();
    assert_eq!(limit(&bytes), Limit::StringBytes);
}

#[test]
fn b14_key_length_near_the_cap() {
    let bytes = Raw::le().hdr(3, 0, 1).u64(1 << 30).fill(b'k', 10).build();
    assert_eq!(truncated_needing(&bytes), 32 + (1 << 30));
    let bytes = Raw::le()
        .hdr(3, 0, 1)
        .u64((1 << 30) + 1)
        .fill(b'k', 10)
        .build();
    assert_eq!(limit(&bytes), Limit::StringBytes);
}

#[test]
fn b15_empty_key_is_an_error() {
    let bytes = one_kv("", ty::U8, Raw::le().u8(1));
    assert_eq!(err(&bytes), ErrorKind::EmptyKey);
}

#[test]
fn b16_duplicate_keys_are_reported() {
    let bytes = Raw::le()
        .hdr(3, 0, 2)
        .kv("a", ty::U8)
        .u8(1)
        .kv("a", ty::U8)
        .u8(2)
        .build();
    let e = Gguf::parse(&bytes).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::DuplicateKey {
            key: "a".into(),
            first_offset: 24
        }
    );
    assert_eq!(e.offset(), 24 + 14);
    // Different types, and a duplicated general.alignment, are duplicates too.
    let bytes = Raw::le()
        .hdr(3, 0, 2)
        .kv("a", ty::U8)
        .u8(1)
        .kv("a", ty::STRING)
        .s("x")
        .build();
    assert!(matches!(err(&bytes), ErrorKind::DuplicateKey { .. }));
    let bytes = Raw::le().hdr(3, 0, 2).align_kv(32).align_kv(64).build();
    assert!(matches!(err(&bytes), ErrorKind::DuplicateKey { .. }));
    // Lenient: both kept, reported, and lookups answer with the first.
    let bytes = Raw::le()
        .hdr(3, 0, 2)
        .kv("a", ty::U8)
        .u8(1)
        .kv("a", ty::U8)
        .u8(2)
        .build();
    let g = lenient(&bytes);
    assert_eq!(g.metadata().len(), 2);
    assert_eq!(g.metadata().value("a"), Some(Value::U8(1)));
    assert!(matches!(
        g.diagnostics()[0].kind(),
        ErrorKind::DuplicateKey { .. }
    ));
}

#[test]
fn b17_nul_inside_a_key_cannot_shadow_another() {
    let bytes = one_kv("general.alignment\0x", ty::U32, Raw::le().u32(64));
    assert!(matches!(
        err(&bytes),
        ErrorKind::InvalidKey {
            reason: KeyProblem::Nul,
            ..
        }
    ));
    let g = lenient(&bytes);
    assert_eq!(g.alignment(), 32, "lookups are byte-exact");
    assert_eq!(g.metadata().get("general.alignment"), None);
}

#[test]
fn b18_keys_that_break_the_rules_are_invalid() {
    let long = "a".repeat(65_536);
    let cases: [(&[u8], KeyProblem); 4] = [
        (b"\xFF\xFEA", KeyProblem::NotAscii),
        (b"General.Alignment", KeyProblem::Syntax),
        (long.as_bytes(), KeyProblem::TooLong),
        (b".a..b.", KeyProblem::Syntax),
    ];
    for (key, reason) in cases {
        let mut bytes = Raw::le().hdr(3, 0, 1).kv(key, ty::U8).u8(1).build();
        match err(&bytes) {
            ErrorKind::InvalidKey { reason: r, .. } => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
        let g = lenient(&bytes);
        assert_eq!(g.diagnostics().len(), 1);
        assert_eq!(g.metadata().len(), 1);
        bytes.clear();
    }
}

#[test]
fn b19_unknown_value_types_are_invalid() {
    for t in [13u32, 0xFFFF_FFFF, 0x8000_0000] {
        let bytes = one_kv("k", t, Raw::le().fill(0, 8));
        assert_eq!(err(&bytes), ErrorKind::InvalidValueType { type_id: t });
        let e = Gguf::parse(&bytes).unwrap_err();
        assert_eq!(e.location(), Some(&Location::Key("k".into())));
        assert_eq!(e.offset(), 24 + 9);
    }
}

#[test]
fn b20_bools_other_than_0_or_1_are_invalid() {
    for b in [2u8, 0xFF] {
        let bytes = one_kv("b", ty::BOOL, Raw::le().u8(b));
        assert_eq!(err(&bytes), ErrorKind::InvalidBool { value: b });
        let g = lenient(&bytes);
        assert!(matches!(
            g.diagnostics()[0].kind(),
            ErrorKind::InvalidBool { .. }
        ));
    }
    let arr = one_kv("b", ty::ARRAY, Raw::le().arr(ty::BOOL, 3).u8(0).u8(1).u8(7));
    assert_eq!(err(&arr), ErrorKind::InvalidBool { value: 7 });
}

#[test]
fn b21_truncated_scalar_needs_its_full_width() {
    let bytes = one_kv("k", ty::U64, Raw::le().fill(0, 3));
    assert_eq!(truncated_needing(&bytes), 24 + 13 + 8);
}

#[test]
fn b22_typed_getters_widen_and_range_check() {
    let g_of = |t: u32, payload: Raw| one_kv("llama.context_length", t, payload);
    let cases = [
        g_of(ty::I32, Raw::le().i32(-1)),
        g_of(ty::U64, Raw::le().u64(1 << 40)),
        g_of(ty::U8, Raw::le().u8(7)),
        g_of(ty::F32, Raw::le().f32(4096.0)),
        g_of(ty::STRING, Raw::le().s("4096")),
    ];
    let results: Vec<_> = cases
        .iter()
        .map(|b| {
            let g = Gguf::parse(b).unwrap();
            g.metadata()
                .get_u32("llama.context_length")
                .map_err(|e| e.kind().clone())
        })
        .collect();
    assert!(matches!(
        results[0],
        Err(ErrorKind::OutOfRange {
            expected: "u32",
            ..
        })
    ));
    assert!(matches!(results[1], Err(ErrorKind::OutOfRange { .. })));
    assert_eq!(results[2], Ok(Some(7)));
    assert!(matches!(
        results[3],
        Err(ErrorKind::TypeMismatch {
            found: ValueType::F32,
            ..
        })
    ));
    assert!(matches!(
        results[4],
        Err(ErrorKind::TypeMismatch {
            found: ValueType::String,
            ..
        })
    ));
    let g = Gguf::parse(&cases[1]).unwrap();
    assert_eq!(
        g.metadata().get_u64("llama.context_length").unwrap(),
        Some(1 << 40)
    );
}

// ---------------------------------------------------------------- C. Strings

#[test]
fn c23_string_longer_than_the_input_is_truncated() {
    let bytes = one_kv("s", ty::STRING, Raw::le().u64(1 << 20).bytes(b"abcde"));
    assert_eq!(truncated_needing(&bytes), 24 + 13 + 8 + (1 << 20));
}

#[test]
fn c24_lengths_above_32_bits_are_not_truncated_to_usize() {
    let bytes = one_kv(
        "s",
        ty::STRING,
        Raw::le().u64(0x1_0000_0005).bytes(b"hello").fill(0, 32),
    );
    assert_eq!(limit(&bytes), Limit::StringBytes);
}

#[test]
fn c25_invalid_utf8_values_are_kept_raw() {
    for raw_bytes in [
        &b"\xC0\xAF"[..],
        b"\xED\xA0\x80",
        b"\xF5\x80\x80\x80",
        b"\x80",
        b"ab\xE2\x82",
    ] {
        let bytes = one_kv("s", ty::STRING, Raw::le().s(raw_bytes));
        let g = Gguf::parse(&bytes).unwrap();
        let v = g.metadata().value("s").unwrap().as_gguf_str().unwrap();
        assert_eq!(v.as_bytes(), raw_bytes);
        assert!(matches!(
            v.to_str().unwrap_err().kind(),
            ErrorKind::InvalidUtf8 { .. }
        ));
        let e = g.metadata().get_str("s").unwrap_err();
        assert_eq!(e.location(), Some(&Location::Key("s".into())));
    }
}

#[test]
fn c26_nuls_in_values_are_kept() {
    for s in [&b"abc\0\0"[..], b"a\0b"] {
        let bytes = one_kv("s", ty::STRING, Raw::le().s(s));
        let g = Gguf::parse(&bytes).unwrap();
        assert_eq!(g.metadata().get_str("s").unwrap().unwrap().as_bytes(), s);
    }
}

#[test]
fn c27_empty_string_value_is_valid() {
    let g_bytes = one_kv("s", ty::STRING, Raw::le().u64(0));
    let g = Gguf::parse(&g_bytes).unwrap();
    assert_eq!(g.metadata().get_str("s").unwrap(), Some(""));
}

#[test]
fn c28_large_legitimate_strings_are_accepted() {
    let template = "x".repeat(2 << 20);
    let bytes = one_kv(
        "tokenizer.chat_template",
        ty::STRING,
        Raw::le().s(&template),
    );
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(
        g.metadata()
            .get_str("tokenizer.chat_template")
            .unwrap()
            .unwrap()
            .len(),
        2 << 20
    );
}

// ---------------------------------------------------------------- D. Arrays

#[test]
fn d29_array_count_2_pow_63_is_refused_at_once() {
    let bytes = one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 1 << 63));
    assert_eq!(bytes.len(), 24 + 8 + 1 + 4 + 4 + 8);
    assert_eq!(limit(&bytes), Limit::ArrayLen);
}

#[test]
fn d30_count_times_size_cannot_wrap() {
    let a = one_kv(
        "a",
        ty::ARRAY,
        Raw::le().arr(ty::U64, 0x2000_0000_0000_0001).u64(0),
    );
    assert_eq!(limit(&a), Limit::ArrayLen);
    let b = one_kv(
        "a",
        ty::ARRAY,
        Raw::le().arr(ty::U32, 0x4000_0000_0000_0001).u32(0),
    );
    assert_eq!(limit(&b), Limit::ArrayLen);
    // Under the cap: checked against the remaining bytes, nothing reserved.
    let c = one_kv("a", ty::ARRAY, Raw::le().arr(ty::U64, 1 << 29).u64(0));
    assert_eq!(truncated_needing(&c), 24 + 13 + 12 + (1 << 32));
}

#[test]
fn d31_huge_string_arrays_are_refused_before_any_string() {
    let a = one_kv(
        "a",
        ty::ARRAY,
        Raw::le().arr(ty::STRING, 1 << 40).fill(0, 100),
    );
    assert_eq!(limit(&a), Limit::ArrayLen);
    let b = one_kv(
        "a",
        ty::ARRAY,
        Raw::le().arr(ty::STRING, 1 << 29).fill(0, 100),
    );
    assert_eq!(truncated_needing(&b), 24 + 13 + 12 + 8 * (1 << 29));
}

#[test]
fn d32_string_array_with_a_truncated_element() {
    let bytes = one_kv(
        "a",
        ty::ARRAY,
        Raw::le()
            .arr(ty::STRING, 3)
            .s("a")
            .s("b")
            .u64(1000)
            .bytes(b"xy"),
    );
    truncated_needing(&bytes);
}

#[test]
fn d33_invalid_element_type_even_when_empty() {
    let a = one_kv("a", ty::ARRAY, Raw::le().arr(13, 1).fill(0, 8));
    assert_eq!(err(&a), ErrorKind::InvalidValueType { type_id: 13 });
    let b = one_kv("a", ty::ARRAY, Raw::le().arr(0xFFFF_FFFF, 0));
    assert_eq!(
        err(&b),
        ErrorKind::InvalidValueType {
            type_id: 0xFFFF_FFFF
        }
    );
}

#[test]
fn d34_empty_arrays_of_every_type_are_valid() {
    let mut r = Raw::le().hdr(3, 0, 13);
    for t in 0..13u32 {
        r = r.kv(format!("a{t}"), ty::ARRAY).arr(t, 0);
    }
    let bytes = r.build();
    let g = Gguf::parse(&bytes).unwrap();
    for (t, kv) in g.metadata().iter().enumerate() {
        let a = kv.value().as_array().unwrap();
        assert_eq!(
            (a.element_type().id(), a.len(), a.iter().count()),
            (t as u32, 0, 0)
        );
    }
}

#[test]
fn d35_one_level_of_nesting_is_valid_and_flagged_for_llama_cpp() {
    let bytes = one_kv(
        "m",
        ty::ARRAY,
        Raw::le()
            .arr(ty::ARRAY, 2)
            .arr(ty::U8, 2)
            .u8(1)
            .u8(2)
            .arr(ty::U32, 1)
            .u32(7),
    );
    let g = Gguf::parse(&bytes).unwrap();
    let outer = g.metadata().value("m").unwrap().as_array().unwrap();
    let inner: Vec<Vec<Value<'_>>> = outer
        .iter()
        .map(|v| v.as_array().unwrap().iter().collect())
        .collect();
    assert_eq!(
        inner,
        vec![vec![Value::U8(1), Value::U8(2)], vec![Value::U32(7)]]
    );
    assert_eq!(
        issues(&g),
        vec![LayoutIssue::NestedArray { key: "m".into() }]
    );
}

#[test]
fn d36_nesting_bombs_stop_at_the_depth_limit() {
    for levels in [17u32, 1_000, 100_000] {
        let mut payload = Raw::le();
        for _ in 0..levels {
            payload = payload.arr(ty::ARRAY, 1);
        }
        let bytes = one_kv("m", ty::ARRAY, payload.arr(ty::U8, 0));
        match err(&bytes) {
            ErrorKind::NestingTooDeep { depth, max } => assert_eq!((depth, max), (17, 16)),
            other => panic!("{other:?}"),
        }
    }
    // Exactly at the limit: 16 arrays deep is fine.
    let mut payload = Raw::le();
    for _ in 0..15 {
        payload = payload.arr(ty::ARRAY, 1);
    }
    assert!(Gguf::parse(&one_kv("m", ty::ARRAY, payload.arr(ty::U8, 0))).is_ok());
}

#[test]
fn d37_wide_arrays_stay_lazy() {
    let mut payload = Raw::le().arr(ty::ARRAY, 1_000_000);
    for _ in 0..1_000_000 {
        payload = payload.arr(ty::U8, 0);
    }
    let bytes = one_kv("m", ty::ARRAY, payload);
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(
        g.metadata().value("m").unwrap().as_array().unwrap().len(),
        1_000_000
    );
    let big = one_kv(
        "b",
        ty::ARRAY,
        Raw::le().arr(ty::U8, 5_000_000).fill(1, 5_000_000),
    );
    let g = Gguf::parse(&big).unwrap();
    let a = g.metadata().value("b").unwrap().as_array().unwrap();
    assert_eq!((a.len(), a.get(4_999_999)), (5_000_000, Some(Value::U8(1))));
}

#[test]
fn d38_element_type_confusion_is_a_type_mismatch() {
    let bytes = one_kv(
        "tokenizer.ggml.scores",
        ty::ARRAY,
        Raw::le().arr(ty::I8, 4).fill(0, 4),
    );
    let g = Gguf::parse(&bytes).unwrap();
    let e = g
        .metadata()
        .get_array("tokenizer.ggml.scores", Some(ValueType::F32))
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::TypeMismatch {
            expected: "f32",
            found: ValueType::I8
        }
    );
}

// ---------------------------------------------------------------- E. Tensor infos

#[test]
fn e40_tensor_name_length_u64_max() {
    let bytes = Raw::le().hdr(3, 1, 0).u64(u64::MAX).fill(0, 32).build();
    assert!(matches!(
        err(&bytes),
        ErrorKind::TensorNameTooLong {
            len: u64::MAX,
            max: 64
        }
    ));
}

#[test]
fn e41_name_lengths_63_64_65() {
    let name = |n: usize| "n".repeat(n);
    let g63 = one_tensor(name(63).as_bytes(), &[32], 0, 0, 128);
    assert_eq!(issues(&Gguf::parse(&g63).unwrap()), vec![]);
    let g64 = one_tensor(name(64).as_bytes(), &[32], 0, 0, 128);
    assert_eq!(
        issues(&Gguf::parse(&g64).unwrap()),
        vec![LayoutIssue::NameTooLongForLlamaCpp {
            tensor: name(64),
            len: 64
        }]
    );
    let g65 = one_tensor(name(65).as_bytes(), &[32], 0, 0, 128);
    assert_eq!(err(&g65), ErrorKind::TensorNameTooLong { len: 65, max: 64 });
}

#[test]
fn e42_empty_and_nul_names_are_invalid() {
    let empty = one_tensor(b"", &[32], 0, 0, 128);
    assert!(matches!(
        err(&empty),
        ErrorKind::InvalidTensorName {
            reason: NameProblem::Empty,
            ..
        }
    ));
    let nul = Raw::le()
        .hdr(3, 2, 0)
        .ti("w\0a", &[32], 0, 0)
        .ti("w\0b", &[32], 0, 128)
        .build();
    assert!(matches!(
        err(&nul),
        ErrorKind::InvalidTensorName {
            reason: NameProblem::Nul,
            ..
        }
    ));
    let not_utf8 = one_tensor(b"w\xFF", &[32], 0, 0, 128);
    assert!(matches!(
        err(&not_utf8),
        ErrorKind::InvalidTensorName {
            reason: NameProblem::NotUtf8,
            ..
        }
    ));
}

#[test]
fn e43_e44_too_many_dims() {
    let five = one_tensor(b"t", &[1, 1, 1, 1, 1], 0, 0, 32);
    assert_eq!(err(&five), ErrorKind::TooManyDims { n_dims: 5, max: 4 });
    let nine = one_tensor(b"t", &[1; 9], 0, 0, 32);
    assert_eq!(err(&nine), ErrorKind::TooManyDims { n_dims: 9, max: 4 });
    let huge = Raw::le()
        .hdr(3, 1, 0)
        .s("t")
        .u32(u32::MAX)
        .fill(0, 16)
        .build();
    let e = Gguf::parse(&huge).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::TooManyDims {
            n_dims: u32::MAX,
            max: 4
        }
    );
    assert_eq!(e.location(), Some(&Location::Tensor("t".into())));
}

#[test]
fn e45_zero_dims_is_a_scalar() {
    let bytes = one_tensor(b"s", &[], 0, 0, 32);
    let g = Gguf::parse(&bytes).unwrap();
    let t = g.tensor("s").unwrap();
    assert_eq!(
        (t.dims(), t.element_count(), t.n_bytes()),
        (&[][..], Ok(1), Ok(4))
    );
    assert_eq!(issues(&g), vec![]);
}

#[test]
fn e46_dimensions_at_or_above_2_pow_63_are_invalid() {
    for d in [u64::MAX, 1 << 63] {
        let bytes = one_tensor(b"t", &[d], 0, 0, 32);
        assert_eq!(err(&bytes), ErrorKind::InvalidDim { index: 0, value: d });
    }
}

#[test]
fn e47_zero_dimensions_are_empty_tensors() {
    for dims in [&[32u64, 0][..], &[0, 1 << 62, 1 << 62, 1 << 62]] {
        let bytes = one_tensor(b"t", dims, 0, 0, 0);
        let g = Gguf::parse(&bytes).unwrap();
        let t = g.tensor("t").unwrap();
        assert_eq!((t.element_count(), t.n_bytes()), (Ok(0), Ok(0)));
        assert_eq!(errors(&g), vec![]);
    }
}

fn unsizable(bytes: &[u8]) -> SizeError {
    let g = Gguf::parse(bytes).unwrap();
    let found: Vec<SizeError> = g
        .check_layout()
        .into_iter()
        .filter_map(|f| match f.issue {
            LayoutIssue::Unsizable { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "{:?}", g.check_layout());
    found[0]
}

#[test]
fn e48_e49_element_and_byte_count_overflow() {
    for dims in [
        &[1u64 << 32, 1 << 32][..],
        &[4 * i32::MAX as u64, 4 * i32::MAX as u64],
        &[u64::MAX >> 1, 3],
    ] {
        assert_eq!(
            unsizable(&one_tensor(b"t", dims, 0, 0, 32)),
            SizeError::Overflow
        );
    }
    // I64: 2^61 elements fit, 2^64 bytes do not.
    assert_eq!(
        unsizable(&one_tensor(b"t", &[1 << 61], 27, 0, 32)),
        SizeError::Overflow
    );
}

#[test]
fn e50_quantized_size_is_computed_without_intermediate_overflow() {
    let ne0 = 0x471C_71C7_1C71_C720u64;
    let bytes = one_tensor(b"t", &[ne0], 2, 0, 32);
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.tensor("t").unwrap().n_bytes(), Ok((ne0 / 32) * 18));
    assert!(matches!(
        errors(&g)[..],
        [LayoutIssue::DataTruncated { tensors: 1, .. }]
    ));
}

#[test]
fn e51_padding_cannot_wrap_to_zero() {
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("big", &[0x3FFF_FFFF_FFFF_FFFF], 0, 0)
        .ti("small", &[8], 0, 0)
        .pad(32)
        .fill(0, 32)
        .build();
    let g = Gguf::parse(&bytes).unwrap();
    let found = issues(&g);
    assert!(found.contains(&LayoutIssue::Unsizable {
        tensor: "big".into(),
        reason: SizeError::Overflow
    }));
}

#[test]
fn e52_unknown_tensor_types_are_kept_and_flagged() {
    for id in [43u32, 1000, 0xFFFF_FFFF] {
        let bytes = one_tensor(b"t", &[32], id, 0, 128);
        let g = Gguf::parse(&bytes).unwrap();
        assert_eq!(g.tensor("t").unwrap().ggml_type().id(), id);
        assert_eq!(unsizable(&bytes), SizeError::UnknownType { type_id: id });
        assert_eq!(g.check_layout()[0].severity, Severity::Warning);
    }
}

#[test]
fn e53_removed_tensor_types_are_errors() {
    for id in [4u32, 5, 31, 32, 33, 36, 37, 38] {
        let bytes = one_tensor(b"t", &[256], id, 0, 1024);
        assert_eq!(unsizable(&bytes), SizeError::RemovedType { type_id: id });
        assert_eq!(
            Gguf::parse(&bytes).unwrap().check_layout()[0].severity,
            Severity::Error
        );
    }
}

#[test]
fn e54_ne0_must_be_a_multiple_of_the_block_size() {
    let q4k = one_tensor(b"t", &[100], 12, 0, 1024);
    assert_eq!(
        unsizable(&q4k),
        SizeError::NotBlockMultiple {
            ne0: 100,
            block_size: 256
        }
    );
    let q8 = one_tensor(b"t", &[33, 2], 8, 0, 1024);
    assert_eq!(
        unsizable(&q8),
        SizeError::NotBlockMultiple {
            ne0: 33,
            block_size: 32
        }
    );
    // 16 × 2 = 32 elements in all, but a row of 16 cannot hold a block of 32.
    let q8 = one_tensor(b"t", &[16, 2], 8, 0, 1024);
    assert_eq!(
        unsizable(&q8),
        SizeError::NotBlockMultiple {
            ne0: 16,
            block_size: 32
        }
    );
}

#[test]
fn e55_duplicate_tensor_names_are_reported() {
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("w", &[32], 0, 0)
        .ti("w", &[32], 0, 128)
        .pad(32)
        .fill(0, 256)
        .build();
    let e = Gguf::parse(&bytes).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::DuplicateTensorName {
            name: "w".into(),
            first_offset: 24
        }
    );
    let g = lenient(&bytes);
    assert_eq!(g.tensors().len(), 2);
    assert_eq!(g.tensor("w").unwrap().offset(), 0);
}

#[test]
fn e56_truncated_tensor_info_names_the_tensor() {
    let t1 = raw::t1();
    for cut in [50usize, 53] {
        let e = Gguf::parse(&t1[..cut]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Truncated { .. }));
        assert_eq!(e.location(), Some(&Location::Tensor("t".into())));
    }
}

// ---------------------------------------------------------------- F. Alignment and offsets

fn aligned(align_kv: Raw) -> Vec<u8> {
    let mut bytes = Raw::le().hdr(3, 1, 1).build();
    bytes.extend(align_kv.build());
    bytes.extend(Raw::le().ti("t", &[32], 0, 0).fill(0, 256).build());
    bytes
}

#[test]
fn f57_f58_alignment_must_be_a_power_of_two() {
    for a in [0u32, 13, 48, 0xFFFF_FFFF] {
        let bytes = aligned(Raw::le().align_kv(a));
        let e = Gguf::parse(&bytes).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BadAlignment { value: a });
        assert_eq!(
            e.location(),
            Some(&Location::Key("general.alignment".into()))
        );
    }
}

#[test]
fn f59_alignment_must_be_a_u32() {
    let k = || Raw::le().s("general.alignment");
    let cases = [
        (k().u32(ty::I32).i32(32), ValueType::I32),
        (k().u32(ty::U64).u64(32), ValueType::U64),
        (k().u32(ty::U8).u8(32), ValueType::U8),
        (k().u32(ty::STRING).s("32"), ValueType::String),
        (k().u32(ty::ARRAY).arr(ty::U32, 1).u32(32), ValueType::Array),
        (k().u32(ty::ARRAY).arr(ty::U32, 0), ValueType::Array),
    ];
    for (kv, found) in cases {
        assert_eq!(err(&aligned(kv)), ErrorKind::AlignmentWrongType { found });
    }
}

#[test]
fn f60_huge_alignment_puts_the_data_past_the_end() {
    for a in [0x8000_0000u32, 1 << 30] {
        let bytes = aligned(Raw::le().align_kv(a));
        let g = Gguf::parse(&bytes).unwrap();
        assert_eq!(g.data_offset(), u64::from(a));
        assert!(matches!(
            errors(&g)[..],
            [LayoutIssue::DataTruncated { tensors: 1, .. }]
        ));
    }
}

#[test]
fn f61_small_alignments_are_valid_with_a_note() {
    for a in [1u32, 2, 4, 16] {
        let bytes = Raw::le()
            .hdr(3, 2, 1)
            .align_kv(a)
            .ti("a", &[3], 24, 0)
            .ti("b", &[3], 24, 3u64.next_multiple_of(u64::from(a)))
            .pad(a as usize)
            .fill(0, 64)
            .build();
        let g = Gguf::parse(&bytes).unwrap();
        assert_eq!(errors(&g), vec![]);
        let notes = issues(&g);
        assert_eq!(
            notes.contains(&LayoutIssue::SmallAlignment { alignment: a }),
            a < 8,
            "{notes:?}"
        );
    }
}

#[test]
fn f62_misaligned_offset() {
    let g_bytes = raw::t2_with_offsets(0, 136, 300);
    let g = Gguf::parse(&g_bytes).unwrap();
    assert!(errors(&g).contains(&LayoutIssue::MisalignedOffset {
        tensor: "b".into(),
        offset: 136,
        alignment: 32
    }));
}

#[test]
fn f63_offset_u64_max_is_out_of_bounds() {
    let bytes = one_tensor(b"t", &[32], 0, u64::MAX, 128);
    let g = Gguf::parse(&bytes).unwrap();
    assert!(errors(&g)
        .iter()
        .any(|i| matches!(i, LayoutIssue::TensorOutOfBounds { end: u64::MAX, .. })));
}

#[test]
fn f64_f65_gaps_and_reordering_are_valid_but_not_for_llama_cpp() {
    let gap = raw::t2_with_offsets(0, 256, 384);
    let g = Gguf::parse(&gap).unwrap();
    assert_eq!(errors(&g), vec![]);
    assert_eq!(
        issues(&g),
        vec![LayoutIssue::NonContiguous {
            tensor: "b".into(),
            expected: 128,
            found: 256
        }]
    );
    let reordered = raw::t2_with_offsets(128, 0, 256);
    let g = Gguf::parse(&reordered).unwrap();
    assert_eq!(errors(&g), vec![]);
    assert_eq!(issues(&g).len(), 2);
}

#[test]
fn f66_offsets_computed_with_another_alignment_are_misaligned() {
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("a", &[3], 0, 0)
        .ti("b", &[3], 0, 12)
        .pad(32)
        .fill(0, 64)
        .build();
    let g = Gguf::parse(&bytes).unwrap();
    assert!(errors(&g).contains(&LayoutIssue::MisalignedOffset {
        tensor: "b".into(),
        offset: 12,
        alignment: 32
    }));
}

#[test]
fn f67_padding_before_the_data_section() {
    // (a) cut right after the tensor info: the data section is missing.
    let t1 = raw::t1();
    let g = Gguf::parse(&t1[..57]).unwrap();
    assert_eq!(g.data_offset(), 64);
    assert!(matches!(
        errors(&g)[..],
        [LayoutIssue::DataTruncated { tensors: 1, .. }]
    ));
    // (b) non-zero padding is noted, not refused.
    let mut padded = raw::t1();
    padded[57..64].fill(0xAA);
    let g = Gguf::parse(&padded).unwrap();
    assert_eq!(issues(&g), vec![LayoutIssue::NonZeroPadding { len: 7 }]);
}

// ---------------------------------------------------------------- G. Data region

#[test]
fn g68_one_byte_short() {
    let t1 = raw::t1();
    let g = Gguf::parse(&t1[..191]).unwrap();
    assert_eq!(
        errors(&g),
        vec![LayoutIssue::DataTruncated {
            file_len: 191,
            needed: 192,
            tensors: 1,
            first: "t".into(),
            first_start: 64,
            first_end: 192,
        }]
    );
}

#[test]
fn g69_offsets_and_sizes_far_past_the_end() {
    let far = one_tensor(b"t", &[32], 0, 1 << 40, 128);
    assert!(matches!(
        errors(&Gguf::parse(&far).unwrap())[..],
        [LayoutIssue::DataTruncated { tensors: 1, .. }]
    ));
    let big = one_tensor(b"t", &[1 << 30], 0, 0, 136);
    assert!(matches!(
        errors(&Gguf::parse(&big).unwrap())[..],
        [LayoutIssue::DataTruncated { tensors: 1, .. }]
    ));
}

#[test]
fn g70_total_size_overflow() {
    let n = 0x7FFF_FFFF_FFFF_FFC0u64;
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("a", &[n], 24, 0)
        .ti("b", &[n], 24, n)
        .pad(32)
        .fill(0, 32)
        .build();
    let g = Gguf::parse(&bytes).unwrap();
    // Both ends fit in 64 bits (2n + the data offset < 2^64): one cause, the file is short.
    let d = g.data_offset();
    assert_eq!(
        errors(&g),
        vec![LayoutIssue::DataTruncated {
            file_len: bytes.len() as u64,
            needed: d + 2 * n,
            tensors: 2,
            first: "a".into(),
            first_start: d,
            first_end: d + n,
        }]
    );
    // One more element and b's end no longer fits: no file can hold it.
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("a", &[n], 24, 0)
        .ti("b", &[n + 32], 24, n)
        .pad(32)
        .fill(0, 32)
        .build();
    let g = Gguf::parse(&bytes).unwrap();
    let e = errors(&g);
    assert!(
        matches!(
            e[..],
            [
                LayoutIssue::TensorOutOfBounds { end: u64::MAX, .. },
                LayoutIssue::DataTruncated { tensors: 1, .. }
            ]
        ),
        "{e:?}"
    );
}

#[test]
fn g71_data_ending_exactly_at_eof_is_valid() {
    let t1 = raw::t1();
    let g = Gguf::parse(&t1).unwrap();
    assert_eq!(g.check_layout(), vec![]);
    assert_eq!(
        g.tensor_data(g.tensor("t").unwrap()).map(<[u8]>::len),
        Some(128)
    );
    let bytes = Raw::le()
        .hdr(3, 2, 0)
        .ti("a", &[32], 0, 0)
        .ti("z", &[0], 0, 128)
        .pad(32)
        .fill(0, 128)
        .build();
    assert_eq!(Gguf::parse(&bytes).unwrap().check_layout(), vec![]);
}

// ---------------------------------------------------------------- H. Semantics

#[test]
fn h73_overlapping_tensors() {
    let g_bytes = raw::t2_with_offsets(0, 64, 256);
    let g = Gguf::parse(&g_bytes).unwrap();
    assert!(errors(&g).contains(&LayoutIssue::TensorsOverlap {
        first: "a".into(),
        second: "b".into()
    }));
}

#[test]
fn h74_zero_size_aliases_do_not_overlap() {
    let bytes = Raw::le()
        .hdr(3, 3, 0)
        .ti("a", &[0], 0, 0)
        .ti("b", &[0], 0, 0)
        .ti("c", &[32], 0, 0)
        .pad(32)
        .fill(0, 128)
        .build();
    assert_eq!(errors(&Gguf::parse(&bytes).unwrap()), vec![]);
}

#[test]
fn h77_fugg_magic_is_not_read_as_little_endian() {
    let mut be = Raw::be().hdr(3, 0, 0).build();
    be[..4].copy_from_slice(b"FUGG");
    assert_eq!(err(&be), ErrorKind::BadMagic { found: *b"FUGG" });
}

#[test]
fn h78_mixed_endianness_and_v2_detection() {
    let mixed = Raw::le()
        .bytes(b"GGUF")
        .u32(3)
        .bytes(&1u64.to_be_bytes())
        .u64(0)
        .build();
    assert_eq!(limit(&mixed), Limit::TensorCount);
    let v2 = Raw::le().hdr(2, 0, 1).kv("a", ty::U8).u8(1).build();
    let g = Gguf::parse(&v2).unwrap();
    assert_eq!((g.version(), g.endian()), (2, Endian::Little));
}

#[test]
fn h79_many_keys_and_tensors_parse_in_linear_time() {
    let n = 400_000u64;
    let mut r = Raw::le().hdr(3, 0, n);
    for i in 0..n {
        r = r.kv(format!("k{i:06}"), ty::U8).u8(0);
    }
    let bytes = r.build();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.metadata().len(), 400_000);
    assert_eq!(g.metadata().value("k399999"), Some(Value::U8(0)));
    let mut r = Raw::le().hdr(3, n, 0);
    for i in 0..n {
        r = r.ti(format!("t{i:06}"), &[], 0, i * 32);
    }
    let bytes = r.pad(32).fill(0, (n * 32) as usize).build();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.tensors().len(), 400_000);
    assert_eq!(g.tensor("t123456").unwrap().offset(), 123_456 * 32);
    assert_eq!(g.check_layout(), vec![]);
}

#[test]
fn h80_everything_valid_and_maximal() {
    use ggufscope_gguf::{GgmlType, GgufWriter, OwnedValue, TensorData};
    let mut w = GgufWriter::new();
    w.add_kv("general.alignment", 64u32);
    w.add_kv("general.architecture", "llama");
    let name63 = format!("t{}", "x".repeat(62));
    for (name, ty, dims) in [
        (name63.as_str(), GgmlType::F32, vec![2u64, 3, 4, 1]),
        ("bf16", GgmlType::BF16, vec![8, 2]),
        ("tq2_0", GgmlType::TQ2_0, vec![256, 2]),
        ("mxfp4", GgmlType::MXFP4, vec![64, 3]),
        ("q1_0", GgmlType::Q1_0, vec![128]),
    ] {
        let n = {
            let mut probe = GgufWriter::new();
            probe.add_tensor(name, ty, &dims, TensorData::Zeros);
            probe.plan().unwrap()[0].n_bytes as usize
        };
        w.add_tensor(name, ty, &dims, TensorData::Bytes(vec![7; n]));
    }
    w.add_kv(
        "all.types",
        OwnedValue::array(ValueType::U16, [OwnedValue::U16(1)]),
    );
    let mut bytes = Vec::new();
    w.write(&mut bytes).unwrap();
    let g = Gguf::parse(&bytes).unwrap();
    assert_eq!(g.alignment(), 64);
    assert_eq!(g.check_layout(), vec![]);
    assert_eq!(g.tensor(&name63).unwrap().dims(), &[2, 3, 4, 1]);
    assert!(g
        .tensors()
        .iter()
        .all(|t| g.tensor_data(t).unwrap().iter().all(|&b| b == 7)));
}

#[test]
fn lenient_diagnostics_are_bounded() {
    let n = 5000u64;
    let mut r = Raw::le().hdr(3, 0, n);
    for i in 0..n {
        r = r.kv(format!("K{i}"), ty::U8).u8(0);
    }
    let bytes = r.build();
    let g = lenient(&bytes);
    assert_eq!(g.metadata().len(), 5000);
    assert_eq!(
        g.diagnostics().len(),
        ggufscope_gguf::limits::MAX_DIAGNOSTICS
    );
    assert_eq!(
        g.diagnostics_dropped(),
        5000 - ggufscope_gguf::limits::MAX_DIAGNOSTICS as u64
    );
}

#[test]
fn lenient_diagnostics_name_their_key() {
    let bytes = one_kv("b", ty::BOOL, Raw::le().u8(2));
    let g = lenient(&bytes);
    assert_eq!(
        g.diagnostics()[0].location(),
        Some(&Location::Key("b".into()))
    );
    assert_eq!(g.diagnostics()[0].kind().code(), "invalid_bool");
    // One line, the kind shown once.
    let e = Gguf::parse(&bytes).unwrap_err();
    assert!(std::error::Error::source(&e).is_none());
    assert_eq!(e.to_string(), "invalid bool byte 0x02 at byte 37 (key `b`)");
}

#[test]
fn issue_7_layout_findings_are_capped_per_kind() {
    // 1,000 tensors all at offset 0: one `non_contiguous` and one `tensors_overlap` each.
    let n = 1000u64;
    let mut r = Raw::le().hdr(3, n, 0);
    for i in 0..n {
        r = r.ti(format!("t{i:04}"), &[8], 0, 0);
    }
    let bytes = r.pad(32).fill(0, 32).build();
    let g = Gguf::parse(&bytes).unwrap();
    let found = g.check_layout();
    let max = ggufscope_gguf::limits::MAX_FINDINGS_PER_KIND;
    let count = |code: &str| found.iter().filter(|f| f.issue.code() == code).count();
    assert_eq!(count("tensors_overlap"), max);
    assert_eq!(count("non_contiguous"), max);
    let suppressed: Vec<_> = found
        .iter()
        .filter_map(|f| match &f.issue {
            LayoutIssue::Suppressed { code, count, .. } => Some((*code, *count)),
            _ => None,
        })
        .collect();
    assert!(
        suppressed.contains(&("tensors_overlap", n - 1 - max as u64)),
        "{suppressed:?}"
    );
    assert!(
        suppressed.contains(&("non_contiguous", n - 1 - max as u64)),
        "{suppressed:?}"
    );
    // Each count once, after everything listed; what is listed is sorted by offset.
    let tail = found.len() - suppressed.len();
    assert!(found[tail..].iter().all(
        |f| matches!(f.issue, LayoutIssue::Suppressed { listed, .. } if listed == max as u64)
    ));
    assert!(found[..tail].windows(2).all(|w| w[0].offset <= w[1].offset));
    assert_eq!(suppressed.len(), 2);
    let text = found[tail].issue.to_string();
    assert!(
        text.ends_with(&format!("findings are not listed (the first {max} are)")),
        "{text}"
    );
}

#[test]
fn issue_7_keys_quoted_in_errors_are_cut() {
    let key = vec![0xFFu8; 1 << 20];
    let bytes = Raw::le().hdr(3, 0, 1).kv(&key, ty::U8).u8(1).build();
    match err(&bytes) {
        ErrorKind::InvalidKey { key, .. } => {
            assert!(key.len() < 2000 && key.ends_with('…'), "{}", key.len())
        }
        other => panic!("{other:?}"),
    }
}

//! Writer → reader round trips: every value type, nested arrays, tensors of many types,
//! versions 1/2/3, both byte orders and several alignments.

use ggufscope_gguf::{
    Endian, GgmlType, Gguf, GgufWriter, OwnedValue, TensorData, TypeStatus, ValueType, TYPE_TABLE,
};
use proptest::prelude::*;

fn scalar() -> impl Strategy<Value = OwnedValue> {
    prop_oneof![
        any::<u8>().prop_map(OwnedValue::U8),
        any::<i8>().prop_map(OwnedValue::I8),
        any::<u16>().prop_map(OwnedValue::U16),
        any::<i16>().prop_map(OwnedValue::I16),
        any::<u32>().prop_map(OwnedValue::U32),
        any::<i32>().prop_map(OwnedValue::I32),
        any::<f32>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(OwnedValue::F32),
        any::<bool>().prop_map(OwnedValue::Bool),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(OwnedValue::String),
        any::<u64>().prop_map(OwnedValue::U64),
        any::<i64>().prop_map(OwnedValue::I64),
        any::<f64>()
            .prop_filter("not NaN", |f| !f.is_nan())
            .prop_map(OwnedValue::F64),
    ]
}

/// An array whose items all have one type (arrays of arrays included, up to 3 deep).
fn value() -> impl Strategy<Value = OwnedValue> {
    scalar().prop_recursive(3, 64, 6, |inner| {
        (inner, 0usize..6).prop_flat_map(|(sample, n)| {
            let ty = sample.value_type();
            prop::collection::vec(same_type(sample), n)
                .prop_map(move |items| OwnedValue::array(ty, items))
        })
    })
}

/// Values of the same type as `sample` (for arrays: same element type, any length).
fn same_type(sample: OwnedValue) -> BoxedStrategy<OwnedValue> {
    match sample {
        OwnedValue::Array(a) => {
            let et = a.element_type;
            let items = a.items.clone();
            (0..=items.len())
                .prop_map(move |n| OwnedValue::array(et, items.iter().take(n).cloned()))
                .boxed()
        }
        other => {
            let ty = other.value_type();
            scalar()
                .prop_filter("same type", move |v| v.value_type() == ty)
                .boxed()
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,8}(\\.[a-z0-9_]{1,8}){0,3}"
}

#[derive(Debug, Clone)]
struct Tensor {
    name: String,
    ty: GgmlType,
    dims: Vec<u64>,
    data: Vec<u8>,
}

fn tensor(i: usize) -> impl Strategy<Value = Tensor> {
    let live: Vec<GgmlType> = TYPE_TABLE
        .iter()
        .filter(|t| t.status == TypeStatus::Live)
        .map(|t| GgmlType::from_id(t.id))
        .collect();
    (
        prop::sample::select(live),
        1u64..3,
        prop::collection::vec(0u64..4, 0..4),
    )
        .prop_flat_map(move |(ty, blocks, rest)| {
            let mut dims = vec![blocks * ty.block_size().unwrap()];
            dims.extend(rest);
            let n = ((dims[0] / ty.block_size().unwrap())
                * ty.type_size().unwrap()
                * dims[1..].iter().product::<u64>()) as usize;
            prop::collection::vec(any::<u8>(), n).prop_map(move |data| Tensor {
                name: format!("blk.{i}.w"),
                ty,
                dims: dims.clone(),
                data,
            })
        })
}

#[derive(Debug, Clone)]
struct Model {
    version: u32,
    endian: Endian,
    alignment: Option<u32>,
    kvs: Vec<(String, OwnedValue)>,
    tensors: Vec<Tensor>,
}

fn model() -> impl Strategy<Value = Model> {
    (
        1u32..=3,
        prop_oneof![Just(Endian::Little), Just(Endian::Big)],
        prop_oneof![
            Just(None),
            Just(Some(1u32)),
            Just(Some(8)),
            Just(Some(32)),
            Just(Some(64))
        ],
        prop::collection::btree_map(key(), value(), 0..8),
        (0usize..5).prop_flat_map(|n| (0..n).map(tensor).collect::<Vec<_>>()),
    )
        .prop_map(|(version, endian, alignment, kvs, tensors)| Model {
            version,
            endian,
            alignment,
            kvs: kvs
                .into_iter()
                .filter(|(k, _)| k != "general.alignment")
                .collect(),
            tensors,
        })
}

fn write(m: &Model) -> Vec<u8> {
    let mut w = GgufWriter::new().version(m.version).endian(m.endian);
    if let Some(a) = m.alignment {
        w.add_kv("general.alignment", a);
    }
    for (k, v) in &m.kvs {
        w.add_kv(k, v.clone());
    }
    for t in &m.tensors {
        w.add_tensor(&t.name, t.ty, &t.dims, TensorData::Bytes(t.data.clone()));
    }
    let mut out = Vec::new();
    w.write(&mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn parse_of_write_is_identity(m in model()) {
        let bytes = write(&m);
        let g = Gguf::parse(&bytes).unwrap();
        prop_assert_eq!(g.version(), m.version);
        prop_assert_eq!(g.endian(), m.endian);
        prop_assert_eq!(g.alignment(), m.alignment.unwrap_or(32));
        let got: Vec<(String, OwnedValue)> = g
            .metadata()
            .iter()
            .map(|kv| (kv.key().to_string(), kv.value().to_owned_value()))
            .collect();
        let mut want = m.kvs.clone();
        if let Some(a) = m.alignment {
            want.insert(0, ("general.alignment".into(), OwnedValue::U32(a)));
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(g.tensors().len(), m.tensors.len());
        for (t, want) in g.tensors().iter().zip(&m.tensors) {
            prop_assert_eq!(t.name(), &want.name);
            prop_assert_eq!(t.ggml_type(), want.ty);
            prop_assert_eq!(t.dims(), &want.dims[..]);
            prop_assert_eq!(t.n_bytes().unwrap(), want.data.len() as u64);
            prop_assert_eq!(g.tensor_data(t).unwrap(), &want.data[..]);
            prop_assert_eq!(t.offset() % u64::from(g.alignment()), 0);
        }
        // The writer's layout is clean; only notes (small alignment) and arrays of arrays
        // (valid GGUF that llama.cpp refuses) may be reported.
        for f in g.check_layout() {
            prop_assert!(
                f.severity == ggufscope_gguf::Severity::Info
                    || matches!(f.issue, ggufscope_gguf::LayoutIssue::NestedArray { .. }),
                "{:?}", f
            );
        }
        // Re-writing what was read gives the same bytes.
        let again = Model {
            kvs: g.metadata().iter().filter(|kv| kv.key() != "general.alignment")
                .map(|kv| (kv.key().to_string(), kv.value().to_owned_value())).collect(),
            ..m.clone()
        };
        prop_assert_eq!(write(&again), bytes);
    }

    #[test]
    fn big_endian_twin_parses_to_the_same_values(mut m in model()) {
        m.endian = Endian::Little;
        let le = write(&m);
        m.endian = Endian::Big;
        let be = write(&m);
        prop_assert_eq!(le.len(), be.len());
        let (a, b) = (Gguf::parse(&le).unwrap(), Gguf::parse(&be).unwrap());
        let owned = |g: &Gguf<'_>| g.metadata().iter().map(|kv| kv.value().to_owned_value()).collect::<Vec<_>>();
        prop_assert_eq!(owned(&a), owned(&b));
        let shapes = |g: &Gguf<'_>| g.tensors().iter().map(|t| (t.name().to_string(), t.dims().to_vec(), t.offset())).collect::<Vec<_>>();
        prop_assert_eq!(shapes(&a), shapes(&b));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Gguf::parse(&bytes).map(|g| g.check_layout());
        let _ = Gguf::parse_with(&bytes, ggufscope_gguf::ParseOptions::lenient()).map(|g| g.check_layout());
    }

    #[test]
    fn mutated_valid_files_never_panic(m in model(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = write(&m);
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(g) = Gguf::parse_with(&bytes, ggufscope_gguf::ParseOptions::lenient()) {
            let _ = g.check_layout();
            for kv in g.metadata().iter() {
                let _ = kv.value().to_owned_value();
            }
        }
    }
}

#[test]
fn every_value_type_survives_v1_v2_v3() {
    for version in 1..=3 {
        for endian in [Endian::Little, Endian::Big] {
            let mut w = GgufWriter::new().version(version).endian(endian);
            let values = [
                OwnedValue::U8(200),
                OwnedValue::I8(-5),
                OwnedValue::U16(65000),
                OwnedValue::I16(-300),
                OwnedValue::U32(4_000_000_000),
                OwnedValue::I32(-70000),
                OwnedValue::F32(1e-5),
                OwnedValue::Bool(true),
                OwnedValue::from("phi3"),
                OwnedValue::array(
                    ValueType::Array,
                    [
                        OwnedValue::array(ValueType::U8, [OwnedValue::U8(1), OwnedValue::U8(2)]),
                        OwnedValue::array(ValueType::U8, []),
                    ],
                ),
                OwnedValue::U64(u64::MAX),
                OwnedValue::I64(i64::MIN),
                OwnedValue::F64(-2.5),
            ];
            for (i, v) in values.iter().enumerate() {
                w.add_kv(format!("k.v{i}"), v.clone());
            }
            let mut bytes = Vec::new();
            w.write(&mut bytes).unwrap();
            let g = Gguf::parse(&bytes).unwrap();
            let got: Vec<OwnedValue> = g
                .metadata()
                .iter()
                .map(|kv| kv.value().to_owned_value())
                .collect();
            assert_eq!(got, values, "v{version} {endian:?}");
            for (vt, kv) in ValueType::ALL.iter().zip(g.metadata().iter()) {
                assert_eq!(kv.value().value_type(), *vt);
            }
        }
    }
}

//! The `roundtrip` target: a model built from structured input, written by `GgufWriter` and
//! parsed back. `parse(write(m)) == m`, and `write(parse(write(m))) == write(m)`.

use std::io::Cursor;

use arbitrary::{Result, Unstructured};
use ggufscope_gguf::{
    Endian, GgmlType, Gguf, GgufWriter, OwnedValue, ParseOptions, Severity, TensorData, TypeStatus,
    ValueType, TYPE_TABLE,
};

use crate::compare::{Model, ModelTensor};

/// Deepest array nesting generated (the reader accepts 16).
const MAX_DEPTH: u32 = 4;
const MAX_KVS: usize = 12;
const MAX_TENSORS: usize = 8;

/// Builds a model from `u` (random keys and values of all 13 types, nested arrays, tensors of
/// live ggml types with block-multiple shapes and data, `general.alignment` sometimes, GGUF
/// versions 1 to 3, either byte order), writes it, parses it and asserts that the parse is the
/// model: the same entries in order (floats bit for bit, raw string bytes), the same tensors
/// with the same data, a layout without errors; and that writing the parsed model again gives
/// the same bytes. A model with keys that break the specification's rules, or with duplicate
/// keys, is parsed leniently (strictly it must fail).
///
/// Returns `Err` only when `u` runs out of structured input.
pub fn roundtrip(u: &mut Unstructured<'_>) -> Result<()> {
    let version = u.int_in_range(1u32..=3)?;
    let endian = if u.arbitrary()? {
        Endian::Big
    } else {
        Endian::Little
    };
    let mut kvs: Vec<(Vec<u8>, OwnedValue)> = Vec::new();
    let n_kvs = u.int_in_range(0..=MAX_KVS)?;
    for _ in 0..n_kvs {
        let key = key(u)?;
        let value = value(u, 1)?;
        kvs.push((key, value));
    }
    if u.ratio(1u8, 4)? {
        let a = 1u32 << u.int_in_range(0u32..=9)?;
        let at = u.int_in_range(0..=kvs.len())?;
        kvs.insert(at, (b"general.alignment".to_vec(), OwnedValue::U32(a)));
    }
    let n_tensors = u.int_in_range(0..=MAX_TENSORS)?;
    let mut tensors = Vec::with_capacity(n_tensors);
    for i in 0..n_tensors {
        tensors.push(tensor(u, i)?);
    }
    let model = Model {
        version,
        endian,
        kvs,
        tensors,
    };

    // A generated key can be `general.alignment` with another type or value: the writer
    // refuses it (and the reader would too), so there is nothing to round-trip.
    let Some(alignment) = alignment(&model) else {
        return Ok(());
    };
    let mut bytes = Vec::new();
    match writer(&model).write(&mut bytes) {
        Ok(n) => assert_eq!(n, bytes.len() as u64),
        Err(e) => panic!("writing a valid model failed: {e}"),
    }

    let valid = model.kvs.iter().all(|(k, _)| key_is_valid(k)) && !has_duplicate_keys(&model);
    let strict = Gguf::parse(&bytes);
    let g = if valid {
        match strict {
            Ok(g) => g,
            Err(e) => panic!("a valid written model does not parse: {e}"),
        }
    } else {
        assert!(
            strict.is_err(),
            "an invalid key or a duplicate parsed strictly"
        );
        match Gguf::parse_with(&bytes, ParseOptions::lenient()) {
            Ok(g) => g,
            Err(e) => panic!("a written model does not parse leniently: {e}"),
        }
    };
    assert_eq!(g.alignment(), alignment);
    let errors: Vec<_> = g
        .check_layout()
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(
        errors.is_empty(),
        "a written model has layout errors: {errors:?}"
    );
    let Some(back) = Model::from_gguf(&g) else {
        panic!("a written tensor's data is not in the file")
    };
    if let Some(diff) = model.diff(&back) {
        panic!("parse(write(m)) != m: {diff}");
    }

    let mut again = Vec::new();
    if let Err(e) = writer(&back).write(&mut again) {
        panic!("writing the parsed model failed: {e}");
    }
    assert!(again == bytes, "write(parse(write(m))) != write(m)");

    // With every tensor's data as zeros, the sparse writer gives the same bytes as the plain one.
    let mut plain = Vec::new();
    let mut sparse = Cursor::new(Vec::new());
    let plain_len = zero_writer(&model).write(&mut plain);
    let sparse_len = zero_writer(&model).write_sparse(&mut sparse);
    match (plain_len, sparse_len) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (a, b) => panic!("writing zeros: {a:?} / {b:?}"),
    }
    assert!(
        plain == sparse.into_inner(),
        "sparse and plain writes differ"
    );
    Ok(())
}

fn writer(m: &Model) -> GgufWriter<'_> {
    let mut w = GgufWriter::new().version(m.version).endian(m.endian);
    for (k, v) in &m.kvs {
        w.add_kv(k, v.clone());
    }
    for t in &m.tensors {
        w.add_tensor(
            t.name.clone(),
            t.ggml_type,
            &t.dims,
            TensorData::Borrowed(&t.data),
        );
    }
    w
}

fn zero_writer(m: &Model) -> GgufWriter<'static> {
    let mut w = GgufWriter::new().version(m.version).endian(m.endian);
    for (k, v) in &m.kvs {
        w.add_kv(k, v.clone());
    }
    for t in &m.tensors {
        w.add_tensor(t.name.clone(), t.ggml_type, &t.dims, TensorData::Zeros);
    }
    w
}

/// The alignment the file gets: the first `general.alignment` entry if it is a `u32` power
/// of two, 32 without one, `None` if it is invalid.
fn alignment(m: &Model) -> Option<u32> {
    match m.kvs.iter().find(|(k, _)| k == b"general.alignment") {
        None => Some(32),
        Some((_, OwnedValue::U32(a))) if a.is_power_of_two() => Some(*a),
        Some(_) => None,
    }
}

/// The specification's key rule: non-empty ASCII, at most 65,535 bytes, `lower_snake_case`
/// segments joined by `.` (written here independently of the parser's check).
fn key_is_valid(key: &[u8]) -> bool {
    !key.is_empty()
        && key.len() <= 65_535
        && key.split(|&b| b == b'.').all(|seg| {
            !seg.is_empty()
                && seg
                    .iter()
                    .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn has_duplicate_keys(m: &Model) -> bool {
    let mut keys: Vec<&[u8]> = m.kvs.iter().map(|(k, _)| k.as_slice()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| matches!(w, [a, b] if a == b))
}

const KEY_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
const WORDS: [&str; 8] = [
    "general",
    "llama",
    "tokenizer",
    "ggml",
    "attention",
    "alignment",
    "architecture",
    "context_length",
];

/// A key: mostly valid (`word.word…`), sometimes any non-empty bytes.
fn key(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    if u.ratio(1u8, 8)? {
        let len = u.int_in_range(1usize..=12)?;
        return Ok(u.bytes(len)?.to_vec());
    }
    let segments = u.int_in_range(1usize..=4)?;
    let mut key = Vec::new();
    for i in 0..segments {
        if i > 0 {
            key.push(b'.');
        }
        if u.arbitrary()? {
            key.extend_from_slice(u.choose(&WORDS)?.as_bytes());
        } else {
            for _ in 0..u.int_in_range(1usize..=6)? {
                key.push(*u.choose(KEY_CHARS)?);
            }
        }
    }
    Ok(key)
}

/// Any value type; arrays nest up to [`MAX_DEPTH`].
fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<OwnedValue> {
    let ty = value_type(u, depth)?;
    value_of(u, ty, depth)
}

fn value_type(u: &mut Unstructured<'_>, depth: u32) -> Result<ValueType> {
    let ty = loop {
        let id = u.int_in_range(0u32..=12)?;
        match ValueType::from_id(id) {
            Some(ValueType::Array) if depth > MAX_DEPTH => continue,
            Some(ty) => break ty,
            None => continue,
        }
    };
    Ok(ty)
}

fn value_of(u: &mut Unstructured<'_>, ty: ValueType, depth: u32) -> Result<OwnedValue> {
    Ok(match ty {
        ValueType::U8 => OwnedValue::U8(u.arbitrary()?),
        ValueType::I8 => OwnedValue::I8(u.arbitrary()?),
        ValueType::U16 => OwnedValue::U16(u.arbitrary()?),
        ValueType::I16 => OwnedValue::I16(u.arbitrary()?),
        ValueType::U32 => OwnedValue::U32(u.arbitrary()?),
        ValueType::I32 => OwnedValue::I32(u.arbitrary()?),
        ValueType::F32 => OwnedValue::F32(f32::from_bits(u.arbitrary()?)),
        ValueType::Bool => OwnedValue::Bool(u.arbitrary()?),
        ValueType::U64 => OwnedValue::U64(u.arbitrary()?),
        ValueType::I64 => OwnedValue::I64(u.arbitrary()?),
        ValueType::F64 => OwnedValue::F64(f64::from_bits(u.arbitrary()?)),
        ValueType::String => {
            let len = u.int_in_range(0usize..=24)?;
            OwnedValue::String(u.bytes(len)?.to_vec())
        }
        ValueType::Array => {
            let element_type = value_type(u, depth + 1)?;
            let max = if element_type == ValueType::Array {
                3
            } else {
                16
            };
            let n = u.int_in_range(0usize..=max)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value_of(u, element_type, depth + 1)?);
            }
            OwnedValue::array(element_type, items)
        }
    })
}

/// A tensor of a live ggml type whose `ne0` is a multiple of the block size, with its data.
fn tensor(u: &mut Unstructured<'_>, index: usize) -> Result<ModelTensor> {
    let live: Vec<_> = TYPE_TABLE
        .iter()
        .filter(|t| t.status == TypeStatus::Live)
        .collect();
    let traits = *u.choose(&live)?;
    // A tensor without dimensions has one element: only types of block size 1 allow it.
    let min_dims = usize::from(traits.block_size > 1);
    let n_dims = u.int_in_range(min_dims..=4)?;
    let mut dims = Vec::with_capacity(n_dims);
    for i in 0..n_dims {
        let d = u.int_in_range(0u64..=3)?;
        dims.push(if i == 0 { d * traits.block_size } else { d });
    }
    let elements: u64 = dims.iter().product();
    let n_bytes = elements / traits.block_size * traits.type_size;
    let n = usize::try_from(n_bytes).unwrap_or(usize::MAX);
    let data = match u.bytes(n) {
        Ok(b) => b.to_vec(),
        Err(_) => (0..n).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect(),
    };
    let mut name = String::new();
    for _ in 0..u.int_in_range(0usize..=40)? {
        name.push(char::from(*u.choose(KEY_CHARS)?));
    }
    name.push_str(&format!(".{index}"));
    Ok(ModelTensor {
        name,
        ggml_type: GgmlType::from_id(traits.id),
        dims,
        data,
    })
}

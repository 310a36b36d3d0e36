//! The `parse` target: any bytes, parsed strictly and leniently, every part of the result
//! visited, with the invariants a parser of untrusted input owes its caller checked.

use ggufscope_gguf::{
    estimate_head_len, next_head_len, Array, Error, ErrorKind, Gguf, GgufWriter, LayoutIssue,
    ParseOptions, TensorData, Value, ValueType,
};

use crate::compare::same_value;

/// Arrays up to this many elements are also copied into owned values; longer ones are only
/// iterated, so that a 50 MB `u8` array in a test does not become 1.6 GB of `OwnedValue`s.
const OWNED_ARRAY_MAX: u64 = 1 << 16;
/// Lookups and typed getters are tried on this many entries.
const GETTER_ENTRIES_MAX: usize = 4096;
/// Arrays of fixed-size elements longer than this are sampled, not iterated.
const ITERATED_ARRAY_MAX: u64 = 1 << 20;
/// A strictly valid head is re-encoded only when its arrays hold at most this many elements in
/// total (the re-encoding copies every value).
const REENCODE_ELEMENTS_MAX: u64 = 1 << 20;

/// Parses `data` strictly and leniently and visits everything: `check_layout`, every metadata
/// value (arrays iterated and copied with `to_owned_value`), every typed getter, every tensor's
/// sizes and data. Must not panic on any input; panics (as an oracle) when:
///
/// - an error is not located inside the input, or `Truncated` does not ask for more bytes than
///   there are;
/// - the strict parse succeeds and the lenient one fails or reports diagnostics, or the strict
///   parse fails on a defect lenient mode does not tolerate and the lenient error differs;
/// - an array does not yield exactly its declared number of elements;
/// - a tensor's data is (not) available although its size is (not) inside the input;
/// - layout findings are not sorted by offset (up to the `suppressed` counts, which follow
///   them), or more than one says the data is cut short;
/// - the head estimate a range reader follows is below what the lenient parse needs, or is
///   not the end of the tensor infos once the head parses;
/// - a strictly valid file's head, re-encoded by `GgufWriter`, does not parse back to the same
///   values (and to the same bytes, when the file's tensors are laid out as the writer lays
///   them out).
pub fn parse_any(data: &[u8]) {
    let strict = Gguf::parse(data);
    let lenient = Gguf::parse_with(data, ParseOptions::lenient());
    for result in [&strict, &lenient] {
        if let Err(e) = result {
            check_error(e, data);
        }
    }
    match (&strict, &lenient) {
        (Ok(s), Ok(l)) => {
            assert!(
                l.diagnostics().is_empty() && l.diagnostics_dropped() == 0,
                "a strictly valid file has lenient diagnostics: {:?}",
                l.diagnostics()
            );
            assert_eq!(s.tensors(), l.tensors());
            assert_eq!(s.metadata().len(), l.metadata().len());
        }
        (Ok(_), Err(e)) => panic!("strict parse succeeded, lenient failed: {e}"),
        (Err(se), Ok(_)) => assert!(
            tolerated(se.kind()),
            "lenient mode tolerated a non-recoverable error: {se}"
        ),
        (Err(se), Err(le)) => {
            if !tolerated(se.kind()) {
                assert_eq!(
                    se, le,
                    "strict and lenient disagree on the first hard error"
                );
            }
        }
    }
    for g in [strict.as_ref().ok(), lenient.as_ref().ok()]
        .into_iter()
        .flatten()
    {
        visit(g, data);
    }
    if let Ok(g) = &strict {
        reencode(g, data);
    }
    check_estimate(data, &lenient);
}

/// The head estimate of a range reader (`estimate_head_len`, `next_head_len`): never below what
/// the parse needs, the exact head once it parses, and a next read that makes progress.
fn check_estimate(data: &[u8], lenient: &Result<Gguf<'_>, Error>) {
    let estimate = estimate_head_len(data);
    match lenient {
        Ok(g) => assert_eq!(
            estimate,
            g.tensor_infos_end(),
            "estimate of a complete head"
        ),
        Err(e) => {
            if let Some(needed) = e.needed() {
                assert!(estimate >= needed, "estimate {estimate} < needed {needed}");
                assert!(next_head_len(data, needed) > data.len() as u64);
            }
        }
    }
}

/// Defects that lenient mode turns into diagnostics.
fn tolerated(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidKey { .. }
            | ErrorKind::InvalidBool { .. }
            | ErrorKind::DuplicateKey { .. }
            | ErrorKind::DuplicateTensorName { .. }
    )
}

fn check_error(e: &Error, data: &[u8]) {
    let len = data.len() as u64;
    assert!(
        e.offset() <= len,
        "error {e} located past the input ({len} bytes)"
    );
    assert!(!e.kind().code().is_empty());
    let text = e.to_string();
    assert!(text.contains(" at byte "), "unlocated message: {text}");
    if let ErrorKind::Truncated { needed, available } = *e.kind() {
        assert_eq!(available, len, "{e}");
        assert!(needed > len, "Truncated asks for {needed} of {len} bytes");
        assert_eq!(e.needed(), Some(needed));
    } else {
        assert_eq!(e.needed(), None);
    }
}

fn visit(g: &Gguf<'_>, data: &[u8]) {
    let len = data.len() as u64;
    assert!((1..=3).contains(&g.version()));
    assert!(g.alignment().is_power_of_two());
    assert!(g.metadata_end() <= g.tensor_infos_end() && g.tensor_infos_end() <= len);
    assert!(g.tensor_infos_end() <= g.data_offset());
    assert!(g.data_offset() - g.tensor_infos_end() < u64::from(g.alignment()));
    for d in g.diagnostics() {
        check_error(d, data);
    }

    let meta = g.metadata();
    for (i, kv) in meta.iter().enumerate() {
        let key = kv.key();
        assert!(kv.offset() < g.metadata_end());
        let value = kv.value();
        visit_value(&value);
        // Lookups and typed getters on the first entries (files of 400,000 keys exist).
        if let Some(k) = key.to_str().ok().filter(|_| i < GETTER_ENTRIES_MAX) {
            let first = meta.get(k).map(|e| e.key().as_bytes());
            assert_eq!(first, Some(key.as_bytes()), "lookup of `{k}`");
            // Typed getters: any answer but a panic.
            let _ = meta.get_u32(k);
            let _ = meta.get_u64(k);
            let _ = meta.get_i64(k);
            let _ = meta.get_f64(k);
            let _ = meta.get_str(k);
            let _ = meta.get_bool(k);
            let _ = meta.get_array(k, None);
            let _ = meta.get_array(k, Some(ValueType::String));
        }
        let _ = key.to_string();
        let _ = kv.to_int::<u32>("u32");
        let _ = kv.to_int::<i64>("i64");
        let _ = kv.to_f64();
        let _ = kv.to_str();
        let _ = kv.to_bool();
        let _ = kv.to_array(None);
    }

    for t in g.tensors() {
        assert!(t.dims().len() <= 4);
        assert!(t.name().len() <= 64 && !t.name().is_empty());
        let found = g.tensor(t.name()).map(|f| f.name());
        assert_eq!(found, Some(t.name()));
        let _ = t.element_count();
        let _ = t.row_bytes();
        let in_bounds = t.n_bytes().ok().and_then(|n| {
            let end = g.data_offset().checked_add(t.offset())?.checked_add(n)?;
            Some((n, end <= len))
        });
        match (in_bounds, g.tensor_data(t)) {
            (Some((n, true)), Some(bytes)) => assert_eq!(bytes.len() as u64, n),
            (Some((_, true)), None) => panic!("tensor `{}` is in bounds but has no data", t.name()),
            (_, Some(_)) => panic!("tensor `{}` has data out of bounds", t.name()),
            (_, None) => {}
        }
    }

    let findings = g.check_layout();
    // Sorted by offset, then the `suppressed` counts, each once, after everything listed.
    let listed = findings
        .iter()
        .take_while(|f| !matches!(f.issue, LayoutIssue::Suppressed { .. }))
        .count();
    let (kept, counts) = findings.split_at(listed);
    assert!(
        kept.windows(2).all(|w| match w {
            [a, b] => a.offset <= b.offset,
            _ => true,
        }),
        "layout findings are not sorted by offset"
    );
    let mut codes: Vec<&str> = Vec::new();
    for f in counts {
        let LayoutIssue::Suppressed {
            code,
            listed,
            count,
        } = f.issue
        else {
            panic!("a listed finding after the counts: {f:?}");
        };
        assert!(count > 0 && !codes.contains(&code), "{f:?}");
        assert_eq!(
            kept.iter().filter(|k| k.issue.code() == code).count() as u64,
            listed
        );
        codes.push(code);
    }
    assert!(
        kept.iter()
            .filter(|f| matches!(f.issue, LayoutIssue::DataTruncated { .. }))
            .count()
            <= 1,
        "one data_truncated at most"
    );
    // Names held by more than one tensor (a lenient parse keeps duplicates): lookups by name
    // find the first one only.
    let mut names: Vec<&str> = g.tensors().iter().map(|t| t.name()).collect();
    names.sort_unstable();
    let shared: Vec<&str> = names
        .windows(2)
        .filter_map(|w| match w {
            [a, b] if a == b => Some(*a),
            _ => None,
        })
        .collect();
    for f in &findings {
        let _ = f.issue.to_string();
        let _ = (
            f.issue.code(),
            f.issue.tensor(),
            f.issue.key(),
            f.severity.as_str(),
        );
        if let LayoutIssue::TensorOutOfBounds { tensor, .. }
        | LayoutIssue::DataTruncated { first: tensor, .. } = &f.issue
        {
            if shared.binary_search(&tensor.as_str()).is_err() {
                if let Some(t) = g.tensor(tensor) {
                    assert!(g.tensor_data(t).is_none(), "`{tensor}` is out of bounds");
                }
            }
        }
    }
}

fn visit_value(value: &Value<'_>) {
    let _ = (
        value.value_type(),
        value.as_integer(),
        value.as_float(),
        value.as_bool(),
    );
    if let Some(s) = value.as_gguf_str() {
        let _ = (s.to_str(), s.to_string(), s.len());
    }
    if let Value::Array(a) = value {
        visit_array(a);
    }
}

fn visit_array(a: &Array<'_>) {
    assert!(a.raw_bytes().len() as u64 == a.byte_len());
    if let Some(size) = a.element_type().fixed_size() {
        assert_eq!(
            a.byte_len(),
            a.len() * size,
            "fixed-size elements fill the span"
        );
        if a.len() > ITERATED_ARRAY_MAX {
            // Very long arrays of fixed-size elements (tests build 50 MB ones): the span proves
            // the count; sample the ends by index.
            for i in [0, a.len() / 2, a.len() - 1] {
                assert!(a.get(i).is_some(), "element {i} of {}", a.len());
            }
            assert_eq!(a.get(a.len()), None);
            return;
        }
    }
    let mut n = 0u64;
    for item in a.iter() {
        assert_eq!(item.value_type(), a.element_type());
        if a.element_type().fixed_size().is_some() && (n < 4 || n + 4 >= a.len()) {
            let by_index = a.get(n).map(|v| v.to_owned_value());
            let same = by_index.is_some_and(|v| same_value(&v, &item.to_owned_value()));
            assert!(same, "element {n} by index and by iteration");
        }
        visit_value(&item);
        n += 1;
    }
    assert_eq!(n, a.len(), "an array of {} yielded {n} elements", a.len());
    assert_eq!(a.get(a.len()), None);
    if let Some(strings) = a.strings() {
        assert_eq!(strings.count() as u64, a.len());
    }
    if a.len() <= OWNED_ARRAY_MAX {
        let owned = a.to_owned_array();
        assert_eq!(owned.items.len() as u64, a.len());
        assert_eq!(owned.element_type, a.element_type());
    }
}

/// Elements in an array, nested arrays included.
fn elements(value: &Value<'_>) -> u64 {
    match value {
        Value::Array(a) if a.element_type() == ValueType::Array => a
            .iter()
            .map(|v| elements(&v).saturating_add(1))
            .fold(0u64, u64::saturating_add),
        Value::Array(a) => a.len(),
        _ => 1,
    }
}

/// Re-encodes a strictly valid file's header, metadata and tensor infos with `GgufWriter` and
/// parses that back: the same values, the same tensors, the writer's offsets; and the same
/// bytes when the file's offsets are the writer's.
fn reencode(g: &Gguf<'_>, data: &[u8]) {
    let total = g
        .metadata()
        .iter()
        .map(|kv| elements(&kv.value()))
        .fold(0u64, u64::saturating_add);
    if total > REENCODE_ELEMENTS_MAX {
        return;
    }
    let mut w = GgufWriter::new().version(g.version()).endian(g.endian());
    let mut kvs = Vec::new();
    for kv in g.metadata().iter() {
        let value = kv.value().to_owned_value();
        w.add_kv(kv.key().as_bytes(), value.clone());
        kvs.push((kv.key().as_bytes().to_vec(), value));
    }
    for t in g.tensors() {
        w.add_tensor(t.name(), t.ggml_type(), t.dims(), TensorData::Zeros);
    }
    // Unsizable tensors (unknown types, sizes past 2^63 once padded) cannot be planned: the
    // writer refuses them, which is all it can do.
    let (Ok(plan), Ok(head)) = (w.plan(), w.encode_head()) else {
        return;
    };
    let back = match Gguf::parse(&head) {
        Ok(back) => back,
        Err(e) => panic!("a re-encoded strictly valid head does not parse: {e}"),
    };
    let (v, e) = (g.version(), g.endian());
    assert_eq!((back.version(), back.endian()), (v, e));
    assert_eq!(back.alignment(), g.alignment());
    assert_eq!(back.metadata().len(), kvs.len());
    for (kv, (key, value)) in back.metadata().iter().zip(&kvs) {
        assert_eq!(kv.key().as_bytes(), key.as_slice());
        let got = kv.value().to_owned_value();
        assert!(same_value(&got, value), "{key:?}: {got:?} vs {value:?}");
    }
    assert_eq!(back.tensors().len(), g.tensors().len());
    let mut canonical = true;
    for ((a, b), p) in g.tensors().iter().zip(back.tensors()).zip(&plan) {
        assert_eq!(
            (a.name(), a.ggml_type(), a.dims()),
            (b.name(), b.ggml_type(), b.dims())
        );
        assert_eq!(b.offset(), p.offset);
        canonical &= a.offset() == p.offset;
    }
    assert_eq!(back.tensor_infos_end(), head.len() as u64);
    if canonical {
        let original = usize::try_from(g.tensor_infos_end())
            .ok()
            .and_then(|end| data.get(..end));
        assert_eq!(
            original,
            Some(head.as_slice()),
            "re-encoding changed the bytes"
        );
    }
}

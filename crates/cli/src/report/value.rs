//! Metadata values as reports show them.
//!
//! JSON rendering rules:
//! - integers are JSON integers, exact (`u64`/`i64` included);
//! - `f32` is the shortest decimal that reads back as the same `f32` (Rust's `Display` for
//!   `f32`), carried as the `f64` nearest to that decimal, so `1e-5f32` is written `1e-5`, not
//!   `9.999999747378752e-6`; reading it as `f64` and rounding to `f32` gives the stored bits back.
//!   `f64` is written as its own shortest round-trip decimal;
//! - NaN and infinities (not JSON numbers) are the strings `"NaN"`, `"inf"` and `"-inf"`;
//! - strings are JSON strings; a string that is not valid UTF-8 keeps its valid runs, writes
//!   each invalid byte as `\xNN` and doubles each backslash (so the bytes can be recovered), and
//!   is flagged: `"utf8": false` on a metadata entry, `"invalid_utf8": [indices]` on an array;
//! - arrays are `{"element_type", "len", "head": [...]}` with the first N elements (all of them
//!   with `--full-arrays`); nested arrays follow the same rule.

use ggufscope_gguf::{Array, GgufStr, Value};
use serde::{Serialize, Serializer};

/// One value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ValueView {
    /// `u8`, `u16`, `u32`, `u64`.
    Unsigned(u64),
    /// `i8`, `i16`, `i32`, `i64`.
    Signed(i64),
    /// A finite `f32` (see the module docs) or `f64`.
    Float(f64),
    /// NaN or an infinity: `"NaN"`, `"inf"`, `"-inf"`.
    NonFinite(&'static str),
    /// `bool`.
    Bool(bool),
    /// `string`.
    Text(TextView),
    /// `array`.
    Array(ArrayView),
}

/// A string value: JSON-safe text plus what the text renderer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextView {
    /// The text, or for invalid UTF-8 the escaped form described in the module docs.
    pub text: String,
    /// Whether the bytes were valid UTF-8.
    pub utf8: bool,
    /// Length of the raw string in bytes.
    pub bytes: u64,
}

impl Serialize for TextView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// An array: its element type, its length and the elements shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayView {
    /// Element type name (`string`, `f32`…).
    pub element_type: &'static str,
    /// Number of elements in the file.
    pub len: u64,
    /// The first elements (all of them when not limited).
    pub head: Vec<ValueView>,
    /// Indices in `head` of strings that are not valid UTF-8.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_utf8: Vec<u64>,
}

impl ValueView {
    /// Builds the view; `limit` caps the elements shown of every array (`None`: all).
    pub fn new(value: Value<'_>, limit: Option<usize>) -> Self {
        match value {
            Value::U8(v) => Self::Unsigned(v.into()),
            Value::U16(v) => Self::Unsigned(v.into()),
            Value::U32(v) => Self::Unsigned(v.into()),
            Value::U64(v) => Self::Unsigned(v),
            Value::I8(v) => Self::Signed(v.into()),
            Value::I16(v) => Self::Signed(v.into()),
            Value::I32(v) => Self::Signed(v.into()),
            Value::I64(v) => Self::Signed(v),
            Value::F32(v) => float32(v),
            Value::F64(v) => float64(v),
            Value::Bool(v) => Self::Bool(v),
            Value::String(s) => Self::Text(TextView::new(s)),
            Value::Array(a) => Self::Array(ArrayView::new(a, limit)),
        }
    }

    /// The string view, if this is a string.
    pub fn as_text(&self) -> Option<&TextView> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl TextView {
    /// Views a raw string.
    pub fn new(s: GgufStr<'_>) -> Self {
        let raw = s.as_bytes();
        let bytes = raw.len() as u64;
        match std::str::from_utf8(raw) {
            Ok(text) => Self {
                text: text.to_owned(),
                utf8: true,
                bytes,
            },
            Err(_) => Self {
                text: escape_invalid_utf8(raw),
                utf8: false,
                bytes,
            },
        }
    }
}

impl ArrayView {
    fn new(a: Array<'_>, limit: Option<usize>) -> Self {
        let take = limit.unwrap_or(usize::MAX);
        let head: Vec<ValueView> = a
            .iter()
            .take(take)
            .map(|v| ValueView::new(v, limit))
            .collect();
        let invalid_utf8 = (0u64..)
            .zip(&head)
            .filter(|(_, v)| v.as_text().is_some_and(|t| !t.utf8))
            .map(|(i, _)| i)
            .collect();
        Self {
            element_type: a.element_type().name(),
            len: a.len(),
            head,
            invalid_utf8,
        }
    }
}

/// Valid UTF-8 runs kept (backslashes doubled), each invalid byte as `\xNN`.
pub fn escape_invalid_utf8(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn float32(v: f32) -> ValueView {
    if !v.is_finite() {
        return non_finite(v.into());
    }
    // `Display` for f32 is the shortest decimal that reads back as this f32; the f64 nearest to
    // that decimal is what JSON carries (and prints as its own shortest decimal).
    let shortest = v.to_string();
    ValueView::Float(shortest.parse::<f64>().unwrap_or_else(|_| v.into()))
}

fn float64(v: f64) -> ValueView {
    if v.is_finite() {
        ValueView::Float(v)
    } else {
        non_finite(v)
    }
}

fn non_finite(v: f64) -> ValueView {
    ValueView::NonFinite(if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "inf"
    } else {
        "-inf"
    })
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    fn json_f32(v: f32) -> String {
        serde_json::to_string(&float32(v)).unwrap()
    }

    #[test]
    fn f32_epsilon_is_written_short_and_reads_back_exactly() {
        let json = json_f32(1e-5);
        assert!(
            json == "1e-5" || json == "1e-05" || json == "0.00001",
            "{json}"
        );
        assert_eq!(json.parse::<f64>().unwrap() as f32, 1e-5f32);
        assert_eq!(json_f32(10000.0), "10000.0");
        assert_eq!(json_f32(1e-12).parse::<f64>().unwrap() as f32, 1e-12f32);
    }

    #[test]
    fn every_sampled_f32_round_trips_through_json() {
        // A deterministic sweep over bit patterns (an LCG), plus the edges.
        let mut bits = 0x1234_5678u32;
        let mut samples = vec![
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            1.0e-45, // smallest subnormal
            -0.0,
            0.1,
            1.0 / 3.0,
        ];
        for _ in 0..200_000 {
            bits = bits.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            samples.push(f32::from_bits(bits));
        }
        for v in samples.into_iter().filter(|v| v.is_finite()) {
            let json = json_f32(v);
            let back = json.parse::<f64>().unwrap() as f32;
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e} -> {json}");
        }
    }

    #[test]
    fn non_finite_floats_are_named_strings() {
        assert_eq!(json_f32(f32::NAN), "\"NaN\"");
        assert_eq!(json_f32(f32::INFINITY), "\"inf\"");
        assert_eq!(json_f32(f32::NEG_INFINITY), "\"-inf\"");
    }

    #[test]
    fn invalid_utf8_keeps_valid_runs_and_escapes_the_rest() {
        assert_eq!(escape_invalid_utf8(b"ok\xff\\z\xc3\xa9"), "ok\\xff\\\\zé");
    }
}

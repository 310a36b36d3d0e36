//! Metadata: entries in file order, looked up by key through a sorted index.

use crate::error::{Error, ErrorKind, Location};
use crate::value::{Array, GgufStr, Value, ValueType};

/// One metadata entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyValue<'a> {
    pub(crate) key: GgufStr<'a>,
    pub(crate) value: Value<'a>,
    pub(crate) offset: u64,
}

impl<'a> KeyValue<'a> {
    /// The key, byte-exact.
    pub fn key(&self) -> GgufStr<'a> {
        self.key
    }

    /// The value.
    pub fn value(&self) -> Value<'a> {
        self.value
    }

    /// Where the entry (its key length) starts in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn mismatch(&self, expected: &'static str) -> Error {
        self.located(ErrorKind::TypeMismatch {
            expected,
            found: self.value.value_type(),
        })
    }

    fn located(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.offset).at(|| Location::Key(self.key.to_string()))
    }

    /// The value as an integer of any stored width, range-checked into `T`
    /// (a `u32` key read as `u64` works; `-1` or a string does not).
    pub fn to_int<T: TryFrom<i128>>(&self, expected: &'static str) -> Result<T, Error> {
        let v = self
            .value
            .as_integer()
            .ok_or_else(|| self.mismatch(expected))?;
        T::try_from(v).map_err(|_| {
            self.located(ErrorKind::OutOfRange {
                expected,
                value: v.to_string(),
            })
        })
    }

    /// The value as a float (`f32` or `f64`).
    pub fn to_f64(&self) -> Result<f64, Error> {
        self.value.as_float().ok_or_else(|| self.mismatch("float"))
    }

    /// The value as UTF-8 text.
    pub fn to_str(&self) -> Result<&'a str, Error> {
        let s = self
            .value
            .as_gguf_str()
            .ok_or_else(|| self.mismatch("string"))?;
        s.to_str().map_err(|e| self.located(e.kind().clone()))
    }

    /// The value as a bool.
    pub fn to_bool(&self) -> Result<bool, Error> {
        self.value.as_bool().ok_or_else(|| self.mismatch("bool"))
    }

    /// The value as an array, optionally of one element type.
    pub fn to_array(&self, element_type: Option<ValueType>) -> Result<Array<'a>, Error> {
        let a = self
            .value
            .as_array()
            .ok_or_else(|| self.mismatch("array"))?;
        match element_type {
            Some(t) if a.element_type() != t => Err(self.located(ErrorKind::TypeMismatch {
                expected: t.name(),
                found: a.element_type(),
            })),
            _ => Ok(a),
        }
    }
}

/// All metadata entries in file order. Lookups are byte-exact; when a lenient parse kept a
/// duplicate key, lookups answer with the first occurrence.
#[derive(Debug, Clone, Default)]
pub struct Metadata<'a> {
    entries: Vec<KeyValue<'a>>,
    /// Entry indices sorted by (key bytes, index).
    sorted: Vec<u32>,
}

impl<'a> Metadata<'a> {
    /// Builds the index. Returns the pairs (first, later) of entry indices with equal keys.
    pub(crate) fn new(entries: Vec<KeyValue<'a>>) -> (Self, Vec<(usize, usize)>) {
        let mut sorted: Vec<u32> = (0..entries.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let key = |i: &u32| {
            entries
                .get(*i as usize)
                .map(|e| e.key.as_bytes())
                .unwrap_or_default()
        };
        sorted.sort_by(|a, b| key(a).cmp(key(b)).then(a.cmp(b)));
        let dups = duplicates(&sorted, key);
        (Self { entries, sorted }, dups)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &KeyValue<'a>> {
        self.entries.iter()
    }

    /// Entries in file order, as a slice.
    pub fn entries(&self) -> &[KeyValue<'a>] {
        &self.entries
    }

    /// The entry with this key.
    pub fn get(&self, key: &str) -> Option<&KeyValue<'a>> {
        let k = key.as_bytes();
        let key_of = |i: u32| {
            self.entries
                .get(i as usize)
                .map(|e| e.key.as_bytes())
                .unwrap_or_default()
        };
        let at = self.sorted.partition_point(|&i| key_of(i) < k);
        let i = *self.sorted.get(at)?;
        (key_of(i) == k).then(|| self.entries.get(i as usize))?
    }

    /// The value with this key.
    pub fn value(&self, key: &str) -> Option<Value<'a>> {
        self.get(key).map(|e| e.value)
    }

    /// An unsigned integer of any stored width, range-checked into `u32`. `Ok(None)` if absent.
    pub fn get_u32(&self, key: &str) -> Result<Option<u32>, Error> {
        self.get(key).map(|e| e.to_int("u32")).transpose()
    }

    /// An unsigned integer of any stored width, range-checked into `u64`. `Ok(None)` if absent.
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>, Error> {
        self.get(key).map(|e| e.to_int("u64")).transpose()
    }

    /// A signed integer of any stored width, range-checked into `i64`. `Ok(None)` if absent.
    pub fn get_i64(&self, key: &str) -> Result<Option<i64>, Error> {
        self.get(key).map(|e| e.to_int("i64")).transpose()
    }

    /// A float (`f32` or `f64`). `Ok(None)` if absent.
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>, Error> {
        self.get(key).map(KeyValue::to_f64).transpose()
    }

    /// UTF-8 text. `Ok(None)` if absent.
    pub fn get_str(&self, key: &str) -> Result<Option<&'a str>, Error> {
        self.get(key).map(KeyValue::to_str).transpose()
    }

    /// A bool. `Ok(None)` if absent.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        self.get(key).map(KeyValue::to_bool).transpose()
    }

    /// An array, of `element_type` when given. `Ok(None)` if absent.
    pub fn get_array(
        &self,
        key: &str,
        element_type: Option<ValueType>,
    ) -> Result<Option<Array<'a>>, Error> {
        self.get(key).map(|e| e.to_array(element_type)).transpose()
    }
}

/// Pairs (first, later) of equal neighbours in a sorted index, by original index.
pub(crate) fn duplicates<K: PartialEq>(
    sorted: &[u32],
    key: impl Fn(&u32) -> K,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut first: Option<u32> = None;
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            if key(a) == key(b) {
                let f = *first.get_or_insert(*a);
                out.push((f as usize, *b as usize));
            } else {
                first = None;
            }
        }
    }
    out
}

//! Owned metadata values: what the writer takes and what a parsed value converts into.

use crate::value::{Array, Value, ValueType};

/// An owned metadata value.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum OwnedValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    /// Raw bytes (UTF-8 in well-formed files).
    String(Vec<u8>),
    Array(OwnedArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// An owned array: its element type (needed even when empty) and its items.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedArray {
    /// Type of every item.
    pub element_type: ValueType,
    /// The items, all of `element_type`.
    pub items: Vec<OwnedValue>,
}

impl OwnedValue {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            OwnedValue::U8(_) => ValueType::U8,
            OwnedValue::I8(_) => ValueType::I8,
            OwnedValue::U16(_) => ValueType::U16,
            OwnedValue::I16(_) => ValueType::I16,
            OwnedValue::U32(_) => ValueType::U32,
            OwnedValue::I32(_) => ValueType::I32,
            OwnedValue::F32(_) => ValueType::F32,
            OwnedValue::Bool(_) => ValueType::Bool,
            OwnedValue::String(_) => ValueType::String,
            OwnedValue::Array(_) => ValueType::Array,
            OwnedValue::U64(_) => ValueType::U64,
            OwnedValue::I64(_) => ValueType::I64,
            OwnedValue::F64(_) => ValueType::F64,
        }
    }

    /// An array of `element_type` from items.
    pub fn array(element_type: ValueType, items: impl IntoIterator<Item = OwnedValue>) -> Self {
        OwnedValue::Array(OwnedArray {
            element_type,
            items: items.into_iter().collect(),
        })
    }

    /// An array of strings.
    pub fn strings<S: AsRef<[u8]>>(items: impl IntoIterator<Item = S>) -> Self {
        Self::array(
            ValueType::String,
            items
                .into_iter()
                .map(|s| OwnedValue::String(s.as_ref().to_vec())),
        )
    }
}

macro_rules! from_scalar {
    ($($t:ty => $v:ident),* $(,)?) => {
        $( impl From<$t> for OwnedValue { fn from(x: $t) -> Self { OwnedValue::$v(x) } } )*
    };
}
from_scalar!(u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32, f32 => F32,
    bool => Bool, u64 => U64, i64 => I64, f64 => F64);

impl From<&str> for OwnedValue {
    fn from(s: &str) -> Self {
        OwnedValue::String(s.as_bytes().to_vec())
    }
}

impl From<String> for OwnedValue {
    fn from(s: String) -> Self {
        OwnedValue::String(s.into_bytes())
    }
}

impl Value<'_> {
    /// Copies the value (and, for arrays, every element) into an [`OwnedValue`].
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Value::U8(v) => OwnedValue::U8(v),
            Value::I8(v) => OwnedValue::I8(v),
            Value::U16(v) => OwnedValue::U16(v),
            Value::I16(v) => OwnedValue::I16(v),
            Value::U32(v) => OwnedValue::U32(v),
            Value::I32(v) => OwnedValue::I32(v),
            Value::F32(v) => OwnedValue::F32(v),
            Value::Bool(v) => OwnedValue::Bool(v),
            Value::String(s) => OwnedValue::String(s.as_bytes().to_vec()),
            Value::Array(a) => OwnedValue::Array(a.to_owned_array()),
            Value::U64(v) => OwnedValue::U64(v),
            Value::I64(v) => OwnedValue::I64(v),
            Value::F64(v) => OwnedValue::F64(v),
        }
    }
}

impl Array<'_> {
    /// Copies every element into an [`OwnedArray`].
    pub fn to_owned_array(&self) -> OwnedArray {
        OwnedArray {
            element_type: self.element_type(),
            items: self.iter().map(|v| v.to_owned_value()).collect(),
        }
    }
}

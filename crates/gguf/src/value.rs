//! Metadata values: the 13 value types, borrowed strings and lazily decoded arrays.

use std::fmt;

use crate::cursor::Cursor;
use crate::error::{Error, ErrorKind, Limit};
use crate::header::Endian;
use crate::limits::{MAX_ARRAY_DEPTH, MAX_ARRAY_LEN, MAX_DIAGNOSTICS, MAX_STRING_BYTES};

/// The type of a metadata value, with its id in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    /// Every value type, in id order.
    pub const ALL: [ValueType; 13] = [
        ValueType::U8,
        ValueType::I8,
        ValueType::U16,
        ValueType::I16,
        ValueType::U32,
        ValueType::I32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::String,
        ValueType::Array,
        ValueType::U64,
        ValueType::I64,
        ValueType::F64,
    ];

    /// The type with this id, if it is one of the 13.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// The id written in the file.
    pub fn id(self) -> u32 {
        match self {
            ValueType::U8 => 0,
            ValueType::I8 => 1,
            ValueType::U16 => 2,
            ValueType::I16 => 3,
            ValueType::U32 => 4,
            ValueType::I32 => 5,
            ValueType::F32 => 6,
            ValueType::Bool => 7,
            ValueType::String => 8,
            ValueType::Array => 9,
            ValueType::U64 => 10,
            ValueType::I64 => 11,
            ValueType::F64 => 12,
        }
    }

    /// Short lowercase name (`u32`, `string`, `array`…).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "u8",
            ValueType::I8 => "i8",
            ValueType::U16 => "u16",
            ValueType::I16 => "i16",
            ValueType::U32 => "u32",
            ValueType::I32 => "i32",
            ValueType::F32 => "f32",
            ValueType::Bool => "bool",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::U64 => "u64",
            ValueType::I64 => "i64",
            ValueType::F64 => "f64",
        }
    }

    /// Encoded size of one value, for the fixed-size types.
    pub fn fixed_size(self) -> Option<u64> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 | ValueType::F32 => Some(4),
            ValueType::U64 | ValueType::I64 | ValueType::F64 => Some(8),
            ValueType::String | ValueType::Array => None,
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string borrowed from the input: raw bytes, as the file has them. The specification says
/// UTF-8, but files exist that are not; nothing is replaced or stripped.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GgufStr<'a> {
    bytes: &'a [u8],
}

impl<'a> GgufStr<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The text, if it is valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, Error> {
        std::str::from_utf8(self.bytes).map_err(|e| {
            Error::new(
                ErrorKind::InvalidUtf8 {
                    valid_up_to: e.valid_up_to() as u64,
                },
                0,
            )
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for GgufStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.bytes.escape_ascii())
    }
}

/// Shows the text when it is UTF-8, escaped bytes otherwise (never lossy without a sign).
impl fmt::Display for GgufStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(self.bytes) {
            Ok(s) => f.write_str(s),
            Err(_) => write!(f, "{}", self.bytes.escape_ascii()),
        }
    }
}

impl PartialEq<str> for GgufStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.bytes == other.as_bytes()
    }
}

impl PartialEq<&str> for GgufStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.bytes == other.as_bytes()
    }
}

/// A metadata value borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs)]
pub enum Value<'a> {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(GgufStr<'a>),
    Array(Array<'a>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'a> Value<'a> {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// Any integer, widened to `i128` (so every GGUF integer fits exactly).
    pub fn as_integer(&self) -> Option<i128> {
        Some(match *self {
            Value::U8(v) => v.into(),
            Value::I8(v) => v.into(),
            Value::U16(v) => v.into(),
            Value::I16(v) => v.into(),
            Value::U32(v) => v.into(),
            Value::I32(v) => v.into(),
            Value::U64(v) => v.into(),
            Value::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// A float (`f32` or `f64`), widened to `f64`.
    pub fn as_float(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_gguf_str(&self) -> Option<GgufStr<'a>> {
        match *self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<Array<'a>> {
        match *self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// An array borrowed from the input. Elements are decoded on access: fixed-size elements by
/// index in O(1), strings and nested arrays by iteration.
#[derive(Clone, Copy)]
pub struct Array<'a> {
    file: &'a [u8],
    start: usize,
    end: usize,
    element_type: ValueType,
    len: u64,
    endian: Endian,
    wide: bool,
}

impl PartialEq for Array<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.element_type == other.element_type
            && self.len == other.len
            && self.endian == other.endian
            && self.wide == other.wide
            && self.file.get(self.start..self.end) == other.file.get(other.start..other.end)
    }
}

impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Array")
            .field("element_type", &self.element_type)
            .field("len", &self.len)
            .field("offset", &self.start)
            .finish()
    }
}

impl<'a> Array<'a> {
    /// Type of every element.
    pub fn element_type(&self) -> ValueType {
        self.element_type
    }

    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Byte offset of the first element in the input.
    pub fn offset(&self) -> u64 {
        self.start as u64
    }

    /// Encoded size of the elements, in bytes.
    pub fn byte_len(&self) -> u64 {
        (self.end - self.start) as u64
    }

    /// The raw bytes of the elements (in the file's byte order).
    pub fn raw_bytes(&self) -> &'a [u8] {
        self.file.get(self.start..self.end).unwrap_or_default()
    }

    /// Element `index`. O(1) for fixed-size element types; O(index) for strings and arrays.
    pub fn get(&self, index: u64) -> Option<Value<'a>> {
        match self.element_type.fixed_size() {
            Some(size) if index < self.len => {
                let at = usize::try_from(index.checked_mul(size)?).ok()?;
                let from = self.start.checked_add(at)?;
                let to = from.checked_add(usize::try_from(size).ok()?)?;
                decode_fixed(self.element_type, self.file.get(from..to)?, self.endian)
            }
            Some(_) => None,
            None => self.iter().nth(usize::try_from(index).ok()?),
        }
    }

    /// All elements, in order.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            array: *self,
            pos: self.start,
            index: 0,
        }
    }

    /// The elements as `i32`, if the element type is `I32`: decoded straight from the raw bytes
    /// (no [`Value`] per element), for large arrays such as `tokenizer.ggml.token_type`.
    pub fn i32s(&self) -> Option<impl Iterator<Item = i32> + 'a> {
        let endian = self.endian;
        (self.element_type == ValueType::I32).then(|| {
            self.raw_bytes().chunks_exact(4).map(move |c| {
                let b = <[u8; 4]>::try_from(c).unwrap_or_default();
                match endian {
                    Endian::Little => i32::from_le_bytes(b),
                    Endian::Big => i32::from_be_bytes(b),
                }
            })
        })
    }

    /// The elements as strings, if the element type is string.
    pub fn strings(&self) -> Option<impl Iterator<Item = GgufStr<'a>> + 'a> {
        (self.element_type == ValueType::String)
            .then(|| self.iter().filter_map(|v| v.as_gguf_str()))
    }
}

/// Iterator over an [`Array`]'s elements.
#[derive(Debug, Clone)]
pub struct ArrayIter<'a> {
    array: Array<'a>,
    pos: usize,
    index: u64,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.index >= self.array.len || self.pos >= self.array.end {
            return None;
        }
        let a = &self.array;
        let mut cur = Cursor::new(a.file, self.pos, a.endian);
        if a.element_type == ValueType::String {
            let s = cur.next_str_unchecked_len(a.wide)?;
            self.pos = cur.pos();
            self.index += 1;
            return Some(Value::String(GgufStr::new(s)));
        }
        // The span was validated when the file was parsed, so these reads succeed; a failure
        // ends the iteration rather than panicking.
        let mut ctx = Ctx::new(false);
        let value = read_value(&mut cur, a.element_type, a.wide, 2, &mut ctx).ok()?;
        self.pos = cur.pos();
        self.index += 1;
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.array.len.saturating_sub(self.index)).unwrap_or(usize::MAX);
        (0, Some(left))
    }
}

fn decode_fixed<'a>(ty: ValueType, b: &[u8], endian: Endian) -> Option<Value<'a>> {
    macro_rules! num {
        ($t:ty) => {{
            let raw = <[u8; std::mem::size_of::<$t>()]>::try_from(b).ok()?;
            match endian {
                Endian::Little => <$t>::from_le_bytes(raw),
                Endian::Big => <$t>::from_be_bytes(raw),
            }
        }};
    }
    Some(match ty {
        ValueType::U8 => Value::U8(num!(u8)),
        ValueType::I8 => Value::I8(num!(i8)),
        ValueType::U16 => Value::U16(num!(u16)),
        ValueType::I16 => Value::I16(num!(i16)),
        ValueType::U32 => Value::U32(num!(u32)),
        ValueType::I32 => Value::I32(num!(i32)),
        ValueType::F32 => Value::F32(num!(f32)),
        ValueType::Bool => Value::Bool(num!(u8) != 0),
        ValueType::U64 => Value::U64(num!(u64)),
        ValueType::I64 => Value::I64(num!(i64)),
        ValueType::F64 => Value::F64(num!(f64)),
        ValueType::String | ValueType::Array => return None,
    })
}

/// Parse-time context: strictness and where lenient mode records recoverable defects.
pub(crate) struct Ctx {
    pub(crate) strict: bool,
    pub(crate) diagnostics: Vec<Error>,
    pub(crate) dropped: u64,
    /// The offset of the first diagnostic not kept.
    pub(crate) first_dropped: Option<u64>,
}

impl Ctx {
    pub(crate) fn new(strict: bool) -> Self {
        Self {
            strict,
            diagnostics: Vec::new(),
            dropped: 0,
            first_dropped: None,
        }
    }

    /// A recoverable defect: an error in strict mode, a diagnostic in lenient mode (the first
    /// [`MAX_DIAGNOSTICS`] are kept, the rest counted).
    pub(crate) fn recoverable(&mut self, err: Error) -> Result<(), Error> {
        if self.strict {
            Err(err)
        } else {
            if self.diagnostics.len() < MAX_DIAGNOSTICS {
                self.diagnostics.push(err);
            } else {
                self.dropped += 1;
                self.first_dropped.get_or_insert(err.offset());
            }
            Ok(())
        }
    }
}

/// Reads a length or count: 32-bit in v1 files, 64-bit afterwards.
pub(crate) fn read_len(cur: &mut Cursor<'_>, wide: bool) -> Result<u64, Error> {
    if wide {
        cur.u64()
    } else {
        cur.u32().map(u64::from)
    }
}

/// Reads a length-prefixed string, refusing lengths above [`MAX_STRING_BYTES`].
pub(crate) fn read_str<'a>(cur: &mut Cursor<'a>, wide: bool) -> Result<GgufStr<'a>, Error> {
    let at = cur.offset();
    let len = read_len(cur, wide)?;
    if len > MAX_STRING_BYTES {
        return Err(Error::new(
            ErrorKind::LimitExceeded {
                what: Limit::StringBytes,
                value: len,
                max: MAX_STRING_BYTES,
            },
            at,
        ));
    }
    cur.bytes(len).map(GgufStr::new)
}

/// Reads one value of type `ty`. `depth` is the nesting depth an array read here would have.
pub(crate) fn read_value<'a>(
    cur: &mut Cursor<'a>,
    ty: ValueType,
    wide: bool,
    depth: u32,
    ctx: &mut Ctx,
) -> Result<Value<'a>, Error> {
    Ok(match ty {
        ValueType::U8 => Value::U8(cur.u8()?),
        ValueType::I8 => Value::I8(cur.i8()?),
        ValueType::U16 => Value::U16(cur.u16()?),
        ValueType::I16 => Value::I16(cur.i16()?),
        ValueType::U32 => Value::U32(cur.u32()?),
        ValueType::I32 => Value::I32(cur.i32()?),
        ValueType::F32 => Value::F32(cur.f32()?),
        ValueType::U64 => Value::U64(cur.u64()?),
        ValueType::I64 => Value::I64(cur.i64()?),
        ValueType::F64 => Value::F64(cur.f64()?),
        ValueType::Bool => {
            let at = cur.offset();
            let b = cur.u8()?;
            if b > 1 {
                ctx.recoverable(Error::new(ErrorKind::InvalidBool { value: b }, at))?;
            }
            Value::Bool(b != 0)
        }
        ValueType::String => Value::String(read_str(cur, wide)?),
        ValueType::Array => Value::Array(read_array(cur, wide, depth, ctx)?),
    })
}

fn read_array<'a>(
    cur: &mut Cursor<'a>,
    wide: bool,
    depth: u32,
    ctx: &mut Ctx,
) -> Result<Array<'a>, Error> {
    let at = cur.offset();
    if depth > MAX_ARRAY_DEPTH {
        return Err(Error::new(
            ErrorKind::NestingTooDeep {
                depth,
                max: MAX_ARRAY_DEPTH,
            },
            at,
        ));
    }
    let type_id = cur.u32()?;
    let element_type = ValueType::from_id(type_id)
        .ok_or_else(|| Error::new(ErrorKind::InvalidValueType { type_id }, at))?;
    let len_at = cur.offset();
    let len = read_len(cur, wide)?;
    if len > MAX_ARRAY_LEN {
        return Err(Error::new(
            ErrorKind::LimitExceeded {
                what: Limit::ArrayLen,
                value: len,
                max: MAX_ARRAY_LEN,
            },
            len_at,
        ));
    }
    let start = cur.pos();
    let len_bytes: u64 = if wide { 8 } else { 4 };
    match element_type.fixed_size() {
        Some(size) => {
            // len <= 2^30 and size <= 8: no overflow.
            let bytes = cur.bytes(len * size)?;
            if element_type == ValueType::Bool {
                if let Some(i) = bytes.iter().position(|&b| b > 1) {
                    let value = bytes.get(i).copied().unwrap_or_default();
                    let off = (start + i) as u64;
                    ctx.recoverable(Error::new(ErrorKind::InvalidBool { value }, off))?;
                }
            }
        }
        None if element_type == ValueType::String => {
            // Every string needs at least its length field.
            cur.ensure(len * len_bytes)?;
            cur.skip_strings(len, wide, MAX_STRING_BYTES)?;
        }
        None => {
            // Every nested array needs at least its type and length fields.
            cur.ensure(len * (4 + len_bytes))?;
            for _ in 0..len {
                read_array(cur, wide, depth + 1, ctx)?;
            }
        }
    }
    Ok(Array {
        file: cur.data(),
        start,
        end: cur.pos(),
        element_type,
        len,
        endian: cur.endian(),
        wide,
    })
}

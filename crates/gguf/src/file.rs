//! The facade: [`Gguf::parse`] turns bytes into a validated, borrowed view of a GGUF file.

use crate::cursor::Cursor;
use crate::error::{escape, Error, ErrorKind, KeyProblem, Limit, Location, NameProblem};
use crate::header::{Endian, Header};
use crate::limits::{
    DEFAULT_ALIGNMENT, MAX_DIMS, MAX_KEY_BYTES, MAX_KV_COUNT, MAX_TENSOR_COUNT,
    MAX_TENSOR_NAME_BYTES, MIN_KV_BYTES, MIN_KV_BYTES_V1, MIN_TENSOR_INFO_BYTES,
    MIN_TENSOR_INFO_BYTES_V1,
};
use crate::metadata::{duplicates, KeyValue, Metadata};
use crate::tensor_info::TensorInfo;
use crate::value::{read_len, read_str, read_value, Ctx, GgufStr, Value, ValueType};
use crate::GgmlType;

/// How to treat recoverable defects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// Every defect is an error (the default).
    #[default]
    Strict,
    /// Recoverable defects (a key that breaks the naming rules, a bool byte other than 0/1, a
    /// duplicate key or tensor name) become [`Gguf::diagnostics`]; nothing is fixed silently.
    Lenient,
}

/// Options for [`Gguf::parse_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Strict or lenient.
    pub mode: ParseMode,
}

impl ParseOptions {
    /// Strict parsing (the default).
    pub fn strict() -> Self {
        Self {
            mode: ParseMode::Strict,
        }
    }

    /// Lenient parsing: recoverable defects are reported as diagnostics.
    pub fn lenient() -> Self {
        Self {
            mode: ParseMode::Lenient,
        }
    }
}

/// A parsed GGUF file, borrowing everything from the input bytes.
#[derive(Debug, Clone)]
pub struct Gguf<'a> {
    data: &'a [u8],
    header: Header,
    metadata: Metadata<'a>,
    tensors: Vec<TensorInfo<'a>>,
    /// Tensor indices sorted by (name, index).
    tensor_index: Vec<u32>,
    alignment: u32,
    metadata_end: u64,
    tensor_infos_end: u64,
    data_offset: u64,
    diagnostics: Vec<Error>,
    diagnostics_dropped: u64,
    diagnostics_dropped_offset: Option<u64>,
}

impl<'a> Gguf<'a> {
    /// Parses the header, metadata and tensor infos strictly. Tensor data is not read: a file
    /// whose data is cut short parses, and [`Gguf::check_layout`] reports what is missing.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        Self::parse_with(data, ParseOptions::default())
    }

    /// Parses with options.
    pub fn parse_with(data: &'a [u8], options: ParseOptions) -> Result<Self, Error> {
        let mut ctx = Ctx::new(options.mode == ParseMode::Strict);
        let mut cur = Cursor::new(data, 0, Endian::Little);
        let header = Header::read(&mut cur)?;
        let wide = header.wide_lengths();
        let counts_at = 8;
        check_count(
            Limit::TensorCount,
            header.tensor_count,
            MAX_TENSOR_COUNT,
            counts_at,
        )?;
        check_count(
            Limit::KvCount,
            header.kv_count,
            MAX_KV_COUNT,
            counts_at + if wide { 8 } else { 4 },
        )?;
        let (min_kv, min_ti) = if wide {
            (MIN_KV_BYTES, MIN_TENSOR_INFO_BYTES)
        } else {
            (MIN_KV_BYTES_V1, MIN_TENSOR_INFO_BYTES_V1)
        };
        // Both counts are at most 2^24 and the minimum sizes are small: no overflow. Checking
        // against the remaining bytes first means no reservation below exceeds the input size.
        cur.ensure(header.kv_count * min_kv + header.tensor_count * min_ti)?;

        let mut entries = Vec::with_capacity(usize::try_from(header.kv_count).unwrap_or(0));
        for _ in 0..header.kv_count {
            entries.push(read_kv(&mut cur, wide, &mut ctx)?);
        }
        let metadata_end = cur.offset();
        let (metadata, dup_keys) = Metadata::new(entries);
        for (first, later) in dup_keys {
            if let (Some(f), Some(l)) =
                (metadata.entries().get(first), metadata.entries().get(later))
            {
                let key = escape(f.key().as_bytes());
                ctx.recoverable(
                    Error::new(
                        ErrorKind::DuplicateKey {
                            key: key.clone(),
                            first_offset: f.offset(),
                        },
                        l.offset(),
                    )
                    .at(|| Location::Key(key)),
                )?;
            }
        }
        let alignment = alignment(&metadata)?;

        let mut tensors = Vec::with_capacity(usize::try_from(header.tensor_count).unwrap_or(0));
        for _ in 0..header.tensor_count {
            tensors.push(read_tensor_info(&mut cur, wide)?);
        }
        let tensor_infos_end = cur.offset();
        let mut tensor_index: Vec<u32> = (0..tensors.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let name = |i: &u32| tensors.get(*i as usize).map(|t| t.name).unwrap_or_default();
        tensor_index.sort_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
        for (first, later) in duplicates(&tensor_index, name) {
            if let (Some(f), Some(l)) = (tensors.get(first), tensors.get(later)) {
                ctx.recoverable(
                    Error::new(
                        ErrorKind::DuplicateTensorName {
                            name: f.name.to_string(),
                            first_offset: f.info_offset,
                        },
                        l.info_offset,
                    )
                    .at(|| Location::Tensor(f.name.to_string())),
                )?;
            }
        }
        // The data section starts at the next multiple of the alignment, only when there are
        // tensors (llama.cpp `gguf.cpp` pads only then; vocab-only files end at the last KV).
        let data_offset = if tensors.is_empty() {
            tensor_infos_end
        } else {
            tensor_infos_end
                .checked_next_multiple_of(u64::from(alignment))
                .unwrap_or(u64::MAX)
        };
        Ok(Self {
            data,
            header,
            metadata,
            tensors,
            tensor_index,
            alignment,
            metadata_end,
            tensor_infos_end,
            data_offset,
            diagnostics: ctx.diagnostics,
            diagnostics_dropped: ctx.dropped,
            diagnostics_dropped_offset: ctx.first_dropped,
        })
    }

    /// The whole input.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// GGUF version (1, 2 or 3).
    pub fn version(&self) -> u32 {
        self.header.version
    }

    /// Byte order.
    pub fn endian(&self) -> Endian {
        self.header.endian
    }

    /// The metadata, in file order.
    pub fn metadata(&self) -> &Metadata<'a> {
        &self.metadata
    }

    /// The tensor infos, in file order.
    pub fn tensors(&self) -> &[TensorInfo<'a>] {
        &self.tensors
    }

    /// The tensor with this name (the first one, if a lenient parse kept a duplicate).
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo<'a>> {
        let name_of = |i: u32| {
            self.tensors
                .get(i as usize)
                .map(|t| t.name)
                .unwrap_or_default()
        };
        let at = self.tensor_index.partition_point(|&i| name_of(i) < name);
        let i = *self.tensor_index.get(at)?;
        (name_of(i) == name).then(|| self.tensors.get(i as usize))?
    }

    /// Data alignment (`general.alignment`, default 32).
    pub fn alignment(&self) -> u32 {
        self.alignment
    }

    /// Offset just past the last metadata entry.
    pub fn metadata_end(&self) -> u64 {
        self.metadata_end
    }

    /// Offset just past the last tensor info.
    pub fn tensor_infos_end(&self) -> u64 {
        self.tensor_infos_end
    }

    /// Absolute offset of the data section (may lie past the end of a truncated input).
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Recoverable defects a lenient parse found (empty after a strict parse).
    pub fn diagnostics(&self) -> &[Error] {
        &self.diagnostics
    }

    /// How many further diagnostics were found beyond the [`crate::limits::MAX_DIAGNOSTICS`]
    /// kept.
    pub fn diagnostics_dropped(&self) -> u64 {
        self.diagnostics_dropped
    }

    /// The byte offset of the first diagnostic not kept (`None` when none was dropped), so a
    /// report can say where the unlisted ones start.
    pub fn diagnostics_dropped_offset(&self) -> Option<u64> {
        self.diagnostics_dropped_offset
    }

    /// The bytes of a tensor's data, if its size is known and they are inside the input.
    pub fn tensor_data(&self, tensor: &TensorInfo<'_>) -> Option<&'a [u8]> {
        let start = self.data_offset.checked_add(tensor.offset)?;
        let end = start.checked_add(tensor.n_bytes().ok()?)?;
        self.data
            .get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    }
}

fn check_count(what: Limit, value: u64, max: u64, offset: u64) -> Result<(), Error> {
    if value > max {
        Err(Error::new(
            ErrorKind::LimitExceeded { what, value, max },
            offset,
        ))
    } else {
        Ok(())
    }
}

fn read_kv<'a>(cur: &mut Cursor<'a>, wide: bool, ctx: &mut Ctx) -> Result<KeyValue<'a>, Error> {
    let offset = cur.offset();
    let key = read_str(cur, wide)?;
    let located = |key: GgufStr<'_>| {
        let k = escape(key.as_bytes());
        move || Location::Key(k)
    };
    let first_diagnostic = ctx.diagnostics.len();
    check_key(key, offset, ctx).map_err(|e| e.at(located(key)))?;
    let type_at = cur.offset();
    let type_id = cur.u32().map_err(|e| e.at(located(key)))?;
    let ty = ValueType::from_id(type_id).ok_or_else(|| {
        Error::new(ErrorKind::InvalidValueType { type_id }, type_at).at(located(key))
    })?;
    let value = read_value(cur, ty, wide, 1, ctx).map_err(|e| e.at(located(key)))?;
    // Diagnostics of this entry name its key too.
    if let Some(new) = ctx.diagnostics.get_mut(first_diagnostic..) {
        for d in new {
            d.locate(located(key));
        }
    }
    Ok(KeyValue { key, value, offset })
}

/// The specification's key rules (`docs/gguf.md`): non-empty ASCII, at most 65,535 bytes,
/// `lower_snake_case` segments joined by `.`.
fn check_key(key: GgufStr<'_>, offset: u64, ctx: &mut Ctx) -> Result<(), Error> {
    let bytes = key.as_bytes();
    if bytes.is_empty() {
        return Err(Error::new(ErrorKind::EmptyKey, offset));
    }
    let reason = if bytes.len() as u64 > MAX_KEY_BYTES {
        Some(KeyProblem::TooLong)
    } else if bytes.contains(&0) {
        Some(KeyProblem::Nul)
    } else if !bytes.is_ascii() {
        Some(KeyProblem::NotAscii)
    } else if !bytes.split(|&b| b == b'.').all(|seg| {
        !seg.is_empty()
            && seg
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }) {
        Some(KeyProblem::Syntax)
    } else {
        None
    };
    match reason {
        Some(reason) => ctx.recoverable(Error::new(
            ErrorKind::InvalidKey {
                key: escape(bytes),
                reason,
            },
            offset,
        )),
        None => Ok(()),
    }
}

/// `general.alignment`: a `u32` power of two, or 32 when absent.
fn alignment(metadata: &Metadata<'_>) -> Result<u32, Error> {
    let Some(kv) = metadata.get("general.alignment") else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    let located = || Location::Key("general.alignment".to_string());
    match kv.value() {
        Value::U32(a) if a.is_power_of_two() => Ok(a),
        Value::U32(value) => {
            Err(Error::new(ErrorKind::BadAlignment { value }, kv.offset()).at(located))
        }
        other => Err(Error::new(
            ErrorKind::AlignmentWrongType {
                found: other.value_type(),
            },
            kv.offset(),
        )
        .at(located)),
    }
}

fn read_tensor_info<'a>(cur: &mut Cursor<'a>, wide: bool) -> Result<TensorInfo<'a>, Error> {
    let info_offset = cur.offset();
    let len = read_len(cur, wide)?;
    if len > MAX_TENSOR_NAME_BYTES {
        return Err(Error::new(
            ErrorKind::TensorNameTooLong {
                len,
                max: MAX_TENSOR_NAME_BYTES,
            },
            info_offset,
        ));
    }
    let raw = cur.bytes(len)?;
    let bad_name = |reason| {
        Error::new(
            ErrorKind::InvalidTensorName {
                name: escape(raw),
                reason,
            },
            info_offset,
        )
    };
    let name = std::str::from_utf8(raw).map_err(|_| bad_name(NameProblem::NotUtf8))?;
    if name.is_empty() {
        return Err(bad_name(NameProblem::Empty));
    }
    if raw.contains(&0) {
        return Err(bad_name(NameProblem::Nul));
    }
    let located = || Location::Tensor(name.to_string());
    let dims_at = cur.offset();
    let n_dims = cur.u32().map_err(|e| e.at(located))?;
    if n_dims > MAX_DIMS {
        return Err(Error::new(
            ErrorKind::TooManyDims {
                n_dims,
                max: MAX_DIMS,
            },
            dims_at,
        )
        .at(located));
    }
    let mut dims = [1u64; MAX_DIMS as usize];
    for (index, slot) in (0..n_dims).zip(dims.iter_mut()) {
        let at = cur.offset();
        let d = read_len(cur, wide).map_err(|e| e.at(located))?;
        if d > i64::MAX as u64 {
            return Err(Error::new(ErrorKind::InvalidDim { index, value: d }, at).at(located));
        }
        *slot = d;
    }
    let ggml_type = GgmlType::from_id(cur.u32().map_err(|e| e.at(located))?);
    let offset = cur.u64().map_err(|e| e.at(located))?;
    Ok(TensorInfo {
        name,
        n_dims,
        dims,
        ggml_type,
        offset,
        info_offset,
    })
}

//! The value rules of llama.cpp's `ggml_validate_row_data`, type by type, and a scanner that
//! applies them to a run of whole blocks.
//!
//! Source: `ggml/src/ggml-quants.c` at llama.cpp 0c1e570 (the snapshot vendored in the
//! llama-cpp-python 0.3.36 sdist; `tools/fetch-llama-cpp.sh`), lines 5299–5640, and the block
//! structs of `ggml/src/ggml-common.h` for where each scale sits in its block. Each
//! [`TypeRule`] cites both.
//!
//! What llama.cpp does, and what is kept exactly:
//! - a float is bad when it is an infinity or a NaN (`validate_float`, :5301-5313);
//! - an f16 is bad when its exponent bits are all ones (`isinf_fp16` :5315-5317, `isnan_fp16`
//!   :5319-5321, `validate_fp16` :5323-5335): `(f & 0x7c00) == 0x7c00`;
//! - a bf16 is bad when `(f & 0x7fff) >= 0x7f80` (NaN `>`, infinity `==`, :5394-5411);
//! - an E8M0 scale is bad when it is `0xff` (`validate_e_e8m0`, :5337-5344);
//! - a quantized block is bad when its f16 scale `d` (and, for the types with a minimum, `m` or
//!   `dmin`) is bad (`VALIDATE_ROW_DATA_D_F16_IMPL` :5346-5352, `..._DM_F16_IMPL` :5354-5360);
//!   nothing else in a block is looked at;
//! - integers and `nvfp4` are not checked (:5535-5540, :5624-5629);
//! - any other type id — `q8_1`, the removed ids, unknown ids — is refused as an
//!   "invalid type" (:5381-5384 and the `default:` case, :5630-5634).
//!
//! One thing differs on purpose: llama.cpp stops at the first bad value and prints its index;
//! the scanner also counts every bad element or block, so a finding says how many.

use ggufscope_gguf::{Endian, GgmlType};
use serde::Serialize;

/// The llama.cpp commit the rules are taken from.
pub const LLAMA_CPP_COMMIT: &str = "0c1e570";

/// How `ggml_validate_row_data` checks one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Every f32 element: not infinite, not NaN.
    F32,
    /// Every f16 element: exponent bits not all ones.
    F16,
    /// Every bf16 element: `(f & 0x7fff) < 0x7f80`.
    Bf16,
    /// Every f64 element: not infinite, not NaN.
    F64,
    /// One f16 scale per block, at byte `at` of the block.
    Scale {
        /// Byte offset of `d` in the block.
        at: usize,
    },
    /// Two f16 fields per block (`d`, then the minimum); the block is bad if either is.
    ScaleMin {
        /// Byte offset of `d`.
        at: usize,
        /// Byte offset of the minimum.
        min_at: usize,
        /// The struct's name of the minimum (`m` or `dmin`).
        min_name: &'static str,
    },
    /// One E8M0 exponent byte per block, at byte `at`: `0xff` is invalid.
    E8m0 {
        /// Byte offset of `e`.
        at: usize,
    },
    /// One f32 scale per block, at byte `at` (`q8_K`).
    F32Scale {
        /// Byte offset of `d`.
        at: usize,
    },
    /// `iq1_m`: an f16 assembled from the top nibbles of the four `u16` of `scales` (at byte
    /// `at`).
    Iq1m {
        /// Byte offset of `scales`.
        at: usize,
    },
    /// Nothing is checked (integers, `nvfp4`).
    Nothing,
    /// `ggml_validate_row_data` refuses the type ("invalid type").
    Invalid,
}

/// A type's rule and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRule {
    /// The rule.
    pub rule: Rule,
    /// `ggml/src/ggml-quants.c` lines of the type's case in `ggml_validate_row_data`.
    pub quants_lines: &'static str,
    /// `ggml/src/ggml-common.h` lines of the block struct, for block types.
    pub struct_lines: Option<&'static str>,
}

impl TypeRule {
    /// `ggml/src/ggml-quants.c:5511-5514` (and the struct's lines), for messages.
    pub fn citation(&self) -> String {
        let mut text = format!("ggml/src/ggml-quants.c:{}", self.quants_lines);
        if let Some(lines) = self.struct_lines {
            text.push_str(&format!(", ggml/src/ggml-common.h:{lines}"));
        }
        text
    }
}

const fn r(rule: Rule, quants_lines: &'static str, struct_lines: Option<&'static str>) -> TypeRule {
    TypeRule {
        rule,
        quants_lines,
        struct_lines,
    }
}

/// The rule `ggml_validate_row_data` applies to a type id.
pub fn rule_for(t: GgmlType) -> TypeRule {
    use Rule::*;
    let d0 = Scale { at: 0 };
    let dm = |at, min_at, min_name| ScaleMin {
        at,
        min_at,
        min_name,
    };
    match t {
        GgmlType::BF16 => r(Bf16, "5394-5411", None),
        GgmlType::F16 => r(F16, "5412-5452", None),
        GgmlType::F32 => r(F32, "5453-5493", None),
        GgmlType::F64 => r(F64, "5494-5502", None),
        GgmlType::Q1_0 => r(d0, "5503-5506", Some("181-184")),
        GgmlType::Q2_0 => r(d0, "5507-5510", Some("188-191")),
        GgmlType::Q4_0 => r(d0, "5511-5514", Some("195-198")),
        GgmlType::Q4_1 => r(dm(0, 2, "m"), "5515-5518", Some("202-211")),
        GgmlType::Q5_0 => r(d0, "5519-5522", Some("230-234")),
        GgmlType::Q5_1 => r(dm(0, 2, "m"), "5523-5526", Some("238-248")),
        GgmlType::Q8_0 => r(d0, "5527-5530", Some("252-255")),
        GgmlType::MXFP4 => r(E8m0 { at: 0 }, "5531-5534", Some("215-218")),
        GgmlType::NVFP4 => r(Nothing, "5535-5540", Some("223-226")),
        // block_q2_K: scales[16], qs[64], then d, dmin.
        GgmlType::Q2_K => r(dm(80, 82, "dmin"), "5541-5544", Some("298-308")),
        // block_q3_K: hmask[32], qs[64], scales[12], then d.
        GgmlType::Q3_K => r(Scale { at: 108 }, "5545-5548", Some("315-320")),
        GgmlType::Q4_K => r(dm(0, 2, "dmin"), "5549-5552", Some("327-337")),
        GgmlType::Q5_K => r(dm(0, 2, "dmin"), "5553-5556", Some("344-355")),
        // block_q6_K: ql[128], qh[64], scales[16], then d.
        GgmlType::Q6_K => r(Scale { at: 208 }, "5557-5560", Some("362-367")),
        GgmlType::Q8_K => r(F32Scale { at: 0 }, "5561-5569", Some("371-375")),
        // block_tq1_0: qs[48], qh[4], then d.
        GgmlType::TQ1_0 => r(Scale { at: 52 }, "5570-5573", Some("276-280")),
        // block_tq2_0: qs[64], then d.
        GgmlType::TQ2_0 => r(Scale { at: 64 }, "5574-5577", Some("284-287")),
        GgmlType::IQ1_S => r(d0, "5578-5581", Some("425-429")),
        // block_iq1_m: qs[32], qh[16], scales[8]; the scale is iq1m_scale_t (:440-444).
        GgmlType::IQ1_M => r(Iq1m { at: 48 }, "5582-5593", Some("433-444")),
        GgmlType::IQ2_XXS => r(d0, "5594-5597", Some("381-384")),
        GgmlType::IQ2_XS => r(d0, "5598-5601", Some("388-392")),
        GgmlType::IQ2_S => r(d0, "5602-5605", Some("396-401")),
        GgmlType::IQ3_XXS => r(d0, "5606-5609", Some("407-410")),
        GgmlType::IQ3_S => r(d0, "5611-5614", Some("415-421")),
        GgmlType::IQ4_XS => r(d0, "5615-5618", Some("454-459")),
        GgmlType::IQ4_NL => r(d0, "5619-5622", Some("448-451")),
        GgmlType::I8 | GgmlType::I16 | GgmlType::I32 | GgmlType::I64 => {
            r(Nothing, "5624-5629", None)
        }
        // q8_1, the removed ids and ids past GGML_TYPE_COUNT.
        _ if t.id() < 43 => r(Invalid, "5630-5634", None),
        _ => r(Invalid, "5381-5384", None),
    }
}

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// A NaN.
    Nan,
    /// An infinity.
    Inf,
    /// An E8M0 exponent of `0xff`.
    InvalidE8m0,
}

impl Defect {
    /// `nan`, `inf`, `invalid_e8m0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Defect::Nan => "nan",
            Defect::Inf => "inf",
            Defect::InvalidE8m0 => "invalid_e8m0",
        }
    }
}

/// The first bad value of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bad {
    /// Index of the element (types of block size 1) or block, from the start of the tensor.
    pub index: u64,
    /// What is wrong.
    pub defect: Defect,
    /// The field (`value` for element types; `d`, `m`, `dmin`, `e`, `scales` for blocks).
    pub field: &'static str,
    /// The raw bits of the bad value.
    pub bits: u64,
}

/// What a scan found: how many elements or blocks are bad, and the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Bad elements or blocks.
    pub bad: u64,
    /// The first of them.
    pub first: Option<Bad>,
}

impl Scan {
    /// Both scans together (`first` is the lower index).
    pub fn merge(self, other: Scan) -> Scan {
        let first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(if b.index < a.index { b } else { a }),
            (a, b) => a.or(b),
        };
        Scan {
            bad: self.bad.saturating_add(other.bad),
            first,
        }
    }

    fn note(&mut self, index: u64, defect: Defect, field: &'static str, bits: u64) {
        self.bad = self.bad.saturating_add(1);
        if self.first.is_none() {
            self.first = Some(Bad {
                index,
                defect,
                field,
                bits,
            });
        }
    }
}

/// The f16 rule of `validate_fp16`, through the `half` crate (whose `is_nan`/`is_infinite`
/// are exactly `isnan_fp16`/`isinf_fp16`; a test checks all 65,536 values).
pub fn f16_defect(bits: u16) -> Option<Defect> {
    let v = half::f16::from_bits(bits);
    if v.is_infinite() {
        Some(Defect::Inf)
    } else if v.is_nan() {
        Some(Defect::Nan)
    } else {
        None
    }
}

/// The bf16 rule (:5399-5400), through the `half` crate.
pub fn bf16_defect(bits: u16) -> Option<Defect> {
    let v = half::bf16::from_bits(bits);
    if v.is_nan() {
        Some(Defect::Nan)
    } else if v.is_infinite() {
        Some(Defect::Inf)
    } else {
        None
    }
}

fn f32_defect(bits: u32) -> Option<Defect> {
    let v = f32::from_bits(bits);
    if v.is_infinite() {
        Some(Defect::Inf)
    } else if v.is_nan() {
        Some(Defect::Nan)
    } else {
        None
    }
}

fn f64_defect(bits: u64) -> Option<Defect> {
    let v = f64::from_bits(bits);
    if v.is_infinite() {
        Some(Defect::Inf)
    } else if v.is_nan() {
        Some(Defect::Nan)
    } else {
        None
    }
}

/// `iq1m_scale_t`'s bits from the four `u16` of `scales` (:5586-5587).
pub fn iq1m_scale_bits(sc: [u16; 4]) -> u16 {
    let [s0, s1, s2, s3] = sc;
    (s0 >> 12) | ((s1 >> 8) & 0x00f0) | ((s2 >> 4) & 0x0f00) | (s3 & 0xf000)
}

#[inline(always)]
fn u16_at<const BE: bool>(block: &[u8], at: usize) -> Option<u16> {
    let a = *block.get(at..)?.first_chunk::<2>()?;
    Some(if BE {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

#[inline(always)]
fn u32_at<const BE: bool>(block: &[u8], at: usize) -> Option<u32> {
    let a = *block.get(at..)?.first_chunk::<4>()?;
    Some(if BE {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

/// Scans `bytes` (whole elements or blocks of `type_size` bytes; a partial one at the end is
/// ignored) whose first unit has index `base` in its tensor.
pub fn scan(rule: Rule, endian: Endian, type_size: usize, bytes: &[u8], base: u64) -> Scan {
    match endian {
        Endian::Big => scan_e::<true>(rule, type_size, bytes, base),
        _ => scan_e::<false>(rule, type_size, bytes, base),
    }
}

/// Bytes looked at per quick pass: one test of "any exponent all ones" over this many bytes,
/// then a precise pass over them only if the test hit.
const QUICK: usize = 16 * 1024;

fn scan_e<const BE: bool>(rule: Rule, type_size: usize, bytes: &[u8], base: u64) -> Scan {
    let mut scan = Scan::default();
    match rule {
        Rule::F32 => {
            for (k, part) in bytes.chunks(QUICK).enumerate() {
                if any_special_32::<BE>(part) {
                    let start = base.saturating_add(((k * QUICK) / 4) as u64);
                    for (i, w) in part.chunks_exact(4).enumerate() {
                        let bits = u32_at::<BE>(w, 0).unwrap_or(0);
                        if let Some(d) = f32_defect(bits) {
                            scan.note(start.saturating_add(i as u64), d, "value", bits.into());
                        }
                    }
                }
            }
        }
        Rule::F16 | Rule::Bf16 => {
            let (mask, classify): (u16, fn(u16) -> Option<Defect>) = if rule == Rule::F16 {
                (0x7c00, f16_defect)
            } else {
                (0x7f80, bf16_defect)
            };
            for (k, part) in bytes.chunks(QUICK).enumerate() {
                if any_special_16::<BE>(part, mask) {
                    let start = base.saturating_add(((k * QUICK) / 2) as u64);
                    for (i, w) in part.chunks_exact(2).enumerate() {
                        let bits = u16_at::<BE>(w, 0).unwrap_or(0);
                        if let Some(d) = classify(bits) {
                            scan.note(start.saturating_add(i as u64), d, "value", bits.into());
                        }
                    }
                }
            }
        }
        Rule::F64 => {
            for (i, w) in bytes.chunks_exact(8).enumerate() {
                let a = w.first_chunk::<8>().copied().unwrap_or_default();
                let bits = if BE {
                    u64::from_be_bytes(a)
                } else {
                    u64::from_le_bytes(a)
                };
                if let Some(d) = f64_defect(bits) {
                    scan.note(base.saturating_add(i as u64), d, "value", bits);
                }
            }
        }
        Rule::Scale { at } => {
            let mut touch = 0u64;
            for (i, block) in bytes.chunks_exact(type_size.max(1)).enumerate() {
                touch ^= fold(block);
                let bits = u16_at::<BE>(block, at).unwrap_or(0);
                if bits & 0x7c00 == 0x7c00 {
                    if let Some(d) = f16_defect(bits) {
                        scan.note(base.saturating_add(i as u64), d, "d", bits.into());
                    }
                }
            }
            std::hint::black_box(touch);
        }
        Rule::ScaleMin {
            at,
            min_at,
            min_name,
        } => {
            let mut touch = 0u64;
            for (i, block) in bytes.chunks_exact(type_size.max(1)).enumerate() {
                touch ^= fold(block);
                let d = u16_at::<BE>(block, at).unwrap_or(0);
                let m = u16_at::<BE>(block, min_at).unwrap_or(0);
                if (d & 0x7c00 == 0x7c00) || (m & 0x7c00 == 0x7c00) {
                    let index = base.saturating_add(i as u64);
                    // `validate_fp16(q[i].d) || validate_fp16(q[i].m)`: d first.
                    if let Some(defect) = f16_defect(d) {
                        scan.note(index, defect, "d", d.into());
                    } else if let Some(defect) = f16_defect(m) {
                        scan.note(index, defect, min_name, m.into());
                    }
                }
            }
            std::hint::black_box(touch);
        }
        Rule::E8m0 { at } => {
            for (i, block) in bytes.chunks_exact(type_size.max(1)).enumerate() {
                if let Some(&0xff) = block.get(at) {
                    scan.note(
                        base.saturating_add(i as u64),
                        Defect::InvalidE8m0,
                        "e",
                        0xff,
                    );
                }
            }
        }
        Rule::F32Scale { at } => {
            for (i, block) in bytes.chunks_exact(type_size.max(1)).enumerate() {
                let bits = u32_at::<BE>(block, at).unwrap_or(0);
                if let Some(d) = f32_defect(bits) {
                    scan.note(base.saturating_add(i as u64), d, "d", bits.into());
                }
            }
        }
        Rule::Iq1m { at } => {
            for (i, block) in bytes.chunks_exact(type_size.max(1)).enumerate() {
                let sc = [0, 2, 4, 6].map(|k| u16_at::<BE>(block, at + k).unwrap_or(0));
                let bits = iq1m_scale_bits(sc);
                if let Some(d) = f16_defect(bits) {
                    scan.note(base.saturating_add(i as u64), d, "scales", bits.into());
                }
            }
        }
        Rule::Nothing | Rule::Invalid => {}
    }
    scan
}

/// Every 8-byte word of a block XOR-folded. The block loops feed it to `black_box`: reading
/// each block whole, in order, lets the hardware prefetcher stream the data as it does for a
/// plain pass; reading only the 2-byte scales (one access every 144 to 210 bytes) was a third
/// slower on the benchmark file (bench/RESULTS-verify.md).
#[inline(always)]
fn fold(block: &[u8]) -> u64 {
    block.chunks_exact(8).fold(0, |a, w| {
        a ^ u64::from_le_bytes(w.first_chunk::<8>().copied().unwrap_or_default())
    })
}

/// Whether any 32-bit word has all exponent bits set (an f32 infinity or NaN): one pass the
/// compiler vectorises, with no early exit inside.
#[inline(never)]
fn any_special_32<const BE: bool>(bytes: &[u8]) -> bool {
    const EXP: u32 = 0x7f80_0000;
    let mut acc = 0u32;
    for w in bytes.chunks_exact(4) {
        let a = w.first_chunk::<4>().copied().unwrap_or_default();
        let x = if BE {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        };
        acc |= u32::from(x & EXP == EXP);
    }
    acc != 0
}

/// Whether any 16-bit word has all the bits of `mask` set (f16: `0x7c00`, bf16: `0x7f80`).
#[inline(never)]
fn any_special_16<const BE: bool>(bytes: &[u8], mask: u16) -> bool {
    let mut acc = 0u16;
    for w in bytes.chunks_exact(2) {
        let a = w.first_chunk::<2>().copied().unwrap_or_default();
        let x = if BE {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        };
        acc |= u16::from(x & mask == mask);
    }
    acc != 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn half_matches_llama_cpp_bit_rules_for_every_value() {
        for f in 0..=u16::MAX {
            // isinf_fp16 / isnan_fp16, ggml-quants.c:5315-5321.
            let inf = (f & 0x7c00) == 0x7c00 && (f & 0x03ff) == 0;
            let nan = (f & 0x7c00) == 0x7c00 && (f & 0x03ff) != 0;
            let want = if inf {
                Some(Defect::Inf)
            } else if nan {
                Some(Defect::Nan)
            } else {
                None
            };
            assert_eq!(f16_defect(f), want, "f16 {f:#06x}");
            // BF16, :5399-5400.
            let nan = (f & 0x7fff) > 0x7f80;
            let inf = (f & 0x7fff) == 0x7f80;
            let want = if nan {
                Some(Defect::Nan)
            } else if inf {
                Some(Defect::Inf)
            } else {
                None
            };
            assert_eq!(bf16_defect(f), want, "bf16 {f:#06x}");
        }
    }

    #[test]
    fn every_live_type_has_a_rule_whose_fields_fit_its_block() {
        for t in ggufscope_gguf::TYPE_TABLE {
            let ty = GgmlType::from_id(t.id);
            let rule = rule_for(ty);
            let size = usize::try_from(t.type_size).unwrap();
            let end = match rule.rule {
                Rule::Scale { at } | Rule::E8m0 { at } => at + 2,
                Rule::ScaleMin { at, min_at, .. } => at.max(min_at) + 2,
                Rule::F32Scale { at } => at + 4,
                Rule::Iq1m { at } => at + 8,
                _ => 0,
            };
            assert!(end <= size, "{}", t.name);
            let invalid = matches!(rule.rule, Rule::Invalid);
            let expect_invalid = t.status != ggufscope_gguf::TypeStatus::Live || t.name == "q8_1";
            assert_eq!(invalid, expect_invalid, "{}", t.name);
        }
        assert_eq!(rule_for(GgmlType::from_id(99)).quants_lines, "5381-5384");
    }

    #[test]
    fn scans_find_and_count() {
        let mut data = vec![0u8; 4 * 10_000];
        data[4 * 7..4 * 8].copy_from_slice(&f32::NAN.to_le_bytes());
        data[4 * 9000..4 * 9001].copy_from_slice(&f32::INFINITY.to_le_bytes());
        let s = scan(Rule::F32, Endian::Little, 4, &data, 100);
        assert_eq!(s.bad, 2);
        let first = s.first.unwrap();
        assert_eq!((first.index, first.defect), (107, Defect::Nan));
        // Big-endian reads the other byte order.
        let s = scan(Rule::F32, Endian::Big, 4, &data, 0);
        assert_eq!(s.bad, 0);
        // iq1_m's assembled scale.
        assert_eq!(iq1m_scale_bits([0x7000, 0xc000, 0x0000, 0x0000]), 0x00c7);
        assert_eq!(iq1m_scale_bits([0, 0, 0xc000, 0x7000]), 0x7c00);
    }
}

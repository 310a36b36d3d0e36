//! A raw GGUF byte builder, following the notation of `shared/docs/hostile-inputs.md` §6:
//! `HDR(v,nt,nkv)`, `S(b)`, `KV(k,t,payload)`, `ARR(et,n,elems)`, `TI(name,[d…],ty,off)`,
//! `PAD(a)`, `ALIGN(a)`.

/// Value type ids.
#[allow(missing_docs)]
pub mod ty {
    pub const U8: u32 = 0;
    pub const I8: u32 = 1;
    pub const U16: u32 = 2;
    pub const I16: u32 = 3;
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
    pub const I64: u32 = 11;
    pub const F64: u32 = 12;
}

/// Bytes under construction, in one byte order, with v1 (32-bit) or v2+ (64-bit) lengths.
#[derive(Debug, Clone)]
pub struct Raw {
    buf: Vec<u8>,
    big: bool,
    wide: bool,
}

impl Default for Raw {
    fn default() -> Self {
        Self::le()
    }
}

impl Raw {
    /// Little-endian, 64-bit lengths.
    pub fn le() -> Self {
        Self {
            buf: Vec::new(),
            big: false,
            wide: true,
        }
    }

    /// Big-endian, 64-bit lengths.
    pub fn be() -> Self {
        Self {
            big: true,
            ..Self::le()
        }
    }

    /// Switches to 32-bit lengths (v1).
    pub fn v1_lengths(mut self) -> Self {
        self.wide = false;
        self
    }

    /// Current length.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes.
    pub fn build(self) -> Vec<u8> {
        self.buf
    }

    /// Appends raw bytes.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// Appends `n` copies of `byte`.
    pub fn fill(mut self, byte: u8, n: usize) -> Self {
        self.buf.resize(self.buf.len() + n, byte);
        self
    }

    /// A `u8`.
    pub fn u8(self, v: u8) -> Self {
        self.bytes(&[v])
    }

    /// A `u32` in the builder's byte order.
    pub fn u32(self, v: u32) -> Self {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes(&b)
    }

    /// An `i32`.
    pub fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }

    /// A `u64`.
    pub fn u64(self, v: u64) -> Self {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes(&b)
    }

    /// An `f32`.
    pub fn f32(self, v: f32) -> Self {
        self.u32(v.to_bits())
    }

    /// A length or count: `u64`, or `u32` with v1 lengths.
    pub fn len_field(self, n: u64) -> Self {
        if self.wide {
            self.u64(n)
        } else {
            self.u32(n as u32)
        }
    }

    /// `"GGUF" ‖ u32(v) ‖ count(nt) ‖ count(nkv)`.
    pub fn hdr(self, version: u32, n_tensors: u64, n_kv: u64) -> Self {
        self.bytes(b"GGUF")
            .u32(version)
            .len_field(n_tensors)
            .len_field(n_kv)
    }

    /// `S(b)`: length then bytes.
    pub fn s(self, b: impl AsRef<[u8]>) -> Self {
        let b = b.as_ref();
        self.len_field(b.len() as u64).bytes(b)
    }

    /// `KV(k, t, …)`: key and type; the payload follows with further calls.
    pub fn kv(self, key: impl AsRef<[u8]>, type_id: u32) -> Self {
        self.s(key).u32(type_id)
    }

    /// `ARR(et, n, …)` header; the elements follow with further calls.
    pub fn arr(self, element_type: u32, n: u64) -> Self {
        self.u32(element_type).len_field(n)
    }

    /// `ALIGN(a)`: `general.alignment` as a `u32`.
    pub fn align_kv(self, a: u32) -> Self {
        self.kv("general.alignment", ty::U32).u32(a)
    }

    /// `TI(name, dims, ty, off)`.
    pub fn ti(self, name: impl AsRef<[u8]>, dims: &[u64], ggml_type: u32, offset: u64) -> Self {
        let mut r = self.s(name).u32(dims.len() as u32);
        for &d in dims {
            r = r.len_field(d);
        }
        r.u32(ggml_type).u64(offset)
    }

    /// `PAD(a)`: zeros up to the next multiple of `a`.
    pub fn pad(self, a: usize) -> Self {
        let n = self.buf.len().next_multiple_of(a) - self.buf.len();
        self.fill(0, n)
    }
}

/// B0 = `HDR(3,0,0)`: 24 bytes, valid.
pub fn b0() -> Vec<u8> {
    Raw::le().hdr(3, 0, 0).build()
}

/// B1 = `HDR(3,0,1) ‖ KV("general.architecture",8,S("llama"))`: valid.
pub fn b1() -> Vec<u8> {
    Raw::le()
        .hdr(3, 0, 1)
        .kv("general.architecture", ty::STRING)
        .s("llama")
        .build()
}

/// T1 = `HDR(3,1,0) ‖ TI("t",[32],0,0) ‖ PAD(32) ‖ 128 data bytes` = 192 bytes, valid.
pub fn t1() -> Vec<u8> {
    Raw::le()
        .hdr(3, 1, 0)
        .ti("t", &[32], 0, 0)
        .pad(32)
        .fill(0x11, 128)
        .build()
}

/// T2 = `HDR(3,2,0) ‖ TI("a",[32],0,0) ‖ TI("b",[32],0,128) ‖ PAD(32) ‖ 256 bytes` = 352.
pub fn t2() -> Vec<u8> {
    t2_with_offsets(0, 128, 256)
}

/// T2 with other offsets for "a" and "b" and `data` bytes of data.
pub fn t2_with_offsets(a: u64, b: u64, data: usize) -> Vec<u8> {
    Raw::le()
        .hdr(3, 2, 0)
        .ti("a", &[32], 0, a)
        .ti("b", &[32], 0, b)
        .pad(32)
        .fill(0x22, data)
        .build()
}

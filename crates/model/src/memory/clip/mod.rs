//! The compute buffer of a multimodal projector (`--mmproj`): `clip_init` builds the encoder's
//! graph for one warmup image and reserves it (`clip_model_loader::warmup` →
//! `reserve_compute_meta`, tools/mtmd/clip.cpp:3737-3830 of llama.cpp 0c1e570). The graph is
//! rebuilt here as clip.cpp builds it, tensor by tensor, and allocated by the replay of ggml's
//! allocator ([`super::galloc`]). Where clip.cpp is followed, the file and line are given.
//!
//! Covered: the projector types of the families in `FAMILIES` (one file each, after the
//! `models/*.cpp` graph class it follows). Other types, and audio encoders, answer with why they
//! are not.

use ggufscope_gguf::{GgmlType, Gguf};
use serde::Serialize;

use super::galloc::{Graph, Id, Op, Ty};

mod gemma4v;
mod glm4v;
mod internvl;
mod kimivl;
mod llama4;
mod llava;
mod mimovl;
mod minicpmv;
mod paddleocr;
mod pixtral;
mod qwen2vl;
mod qwen3vl;
mod siglip;
mod vit;
mod youtuvl;

/// The CPU backend's tensor alignment (`TENSOR_ALIGNMENT`, ggml/src/ggml-impl.h:44).
const CPU_ALIGNMENT: u64 = 32;

/// A projector's compute buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectorCompute {
    /// The projector type whose graph was built.
    pub projector_type: String,
    /// The warmup image's side in pixels (`warmup_image_size`).
    pub warmup_image_size: u64,
    /// Patches the encoder sees.
    pub n_patches: u64,
    /// Flash attention as the graph was built.
    pub flash_attn: bool,
    /// Bytes `ggml_backend_sched_reserve` reserves on the CPU.
    pub compute_bytes: u64,
}

/// Header values of the vision encoder (`clip_model_loader::load_hparams`,
/// clip.cpp:1300-1330).
pub(super) struct Hparams {
    pub n_embd: u64,
    pub n_head: u64,
    pub n_head_kv: u64,
    pub d_head: u64,
    pub n_layer: u64,
    pub patch_size: u64,
    /// The dummy image's side (`warmup_image_size`): `image_size` (clip.cpp:1373) unless the
    /// type's family sets it.
    pub warmup_image_size: u64,
    /// Patches merged per side (`n_merge`, default 1, clip-model.h:60), set per type.
    pub n_merge: u64,
}

pub(super) fn uint(gguf: &Gguf<'_>, key: &str) -> Option<u64> {
    let v = gguf.metadata().get_i64(key).ok().flatten()?;
    u64::try_from(v).ok()
}

/// An integer array of the header (`get_arr_int`), if present and every element an integer.
pub(super) fn int_array(gguf: &Gguf<'_>, key: &str) -> Option<Vec<i64>> {
    let a = gguf.metadata().get_array(key, None).ok().flatten()?;
    a.iter()
        .map(|v| v.as_integer().and_then(|i| i64::try_from(i).ok()))
        .collect()
}

/// Refuses sizes no real encoder has, so that a hostile header cannot ask for a graph of
/// billions of nodes (llama.cpp would fail to allocate it; the numbers stay saturating).
const MAX_LAYERS: u64 = 1024;
/// The largest image side, patch side, width or head count taken from a header (2^16 pixels,
/// 2^20 channels): beyond them the shapes' products could leave `u64`.
const MAX_SIDE: u64 = 1 << 16;
const MAX_WIDTH: u64 = 1 << 20;
/// The largest merge factor a family may read (per side).
const MAX_MERGE: u64 = 1 << 10;
/// The largest dimension of an encoder tensor the graph may use (2^24: a real one is at most a
/// few times 10^5): with the sides and widths above, every stride and size product stays far
/// inside `u64`.
const MAX_TENSOR_DIM: u64 = 1 << 24;

impl Hparams {
    pub(super) fn read(gguf: &Gguf<'_>) -> Result<Self, String> {
        let need = |key: &str| uint(gguf, key).ok_or_else(|| format!("{key} missing"));
        let n_embd = need("clip.vision.embedding_length")?;
        let n_head = need("clip.vision.attention.head_count")?;
        let n_layer = need("clip.vision.block_count")?;
        let image_size = need("clip.vision.image_size")?;
        let patch_size = need("clip.vision.patch_size")?;
        if n_head == 0
            || patch_size == 0
            || n_layer > MAX_LAYERS
            || image_size > MAX_SIDE
            || patch_size > MAX_SIDE
            || n_embd > MAX_WIDTH
            || n_head > MAX_WIDTH
        {
            return Err("vision encoder sizes out of range".into());
        }
        let n_head_kv = uint(gguf, "clip.vision.attention.head_count_kv").unwrap_or(n_head);
        let d_head = uint(gguf, "clip.vision.attention.head_dim")
            .filter(|&d| d > 0)
            .unwrap_or(n_embd / n_head);
        if n_head_kv > MAX_WIDTH || d_head > MAX_WIDTH {
            return Err("vision encoder sizes out of range".into());
        }
        Ok(Self {
            n_embd,
            n_head,
            n_head_kv,
            d_head,
            n_layer,
            patch_size,
            warmup_image_size: image_size,
            n_merge: 1,
        })
    }
}

/// A graph under construction with the file's weights at hand.
pub(super) struct Builder<'g, 'a> {
    pub gguf: &'g Gguf<'a>,
    pub g: Graph,
    pub hp: Hparams,
    pub flash_attn: bool,
    /// Patches per side of the warmup image (`n_patches_x`, `n_patches_y`: square).
    pub n_patches_x: u64,
    pub n_patches: u64,
    /// The type is one whose legacy files name fc1 `ffn_down` and fc2 `ffn_up`
    /// (clip.cpp:2335-2348); see [`Builder::ffn_names`].
    pub legacy_ffn_names: bool,
}

fn weight_ty(t: GgmlType) -> Ty {
    match t {
        GgmlType::F32 => Ty::F32,
        GgmlType::BF16 => Ty::BF16,
        // f16 and quantized matrices: only their use as a `mul_mat` operand matters here.
        _ => Ty::F16,
    }
}

impl Builder<'_, '_> {
    /// A weight of the file, if present.
    pub(super) fn w(&mut self, name: &str) -> Option<Id> {
        let t = self.gguf.tensor(name)?;
        Some(self.g.weight(weight_ty(t.ggml_type()), t.ne()))
    }

    pub(super) fn wl(&mut self, il: u64, what: &str) -> Option<Id> {
        self.w(&format!("v.blk.{il}.{what}"))
    }

    pub(super) fn add_opt(&mut self, cur: Id, b: Option<Id>) -> Id {
        match b {
            Some(b) => self.g.like(Op::Add, cur, &[b]),
            None => cur,
        }
    }

    /// The names of layer `il`'s FFN up and down projections as clip.cpp binds them: swapped
    /// back for the types whose legacy converters named fc1 `ffn_down`, when `ffn_down`'s rows
    /// are `n_embd` wide (clip.cpp:2333-2365). Returns `(up, down)` name stems.
    pub(super) fn ffn_names(&self, il: u64) -> (&'static str, &'static str) {
        let swapped = self.legacy_ffn_names
            && self
                .gguf
                .tensor(&format!("v.blk.{il}.ffn_up.weight"))
                .is_some()
            && self
                .gguf
                .tensor(&format!("v.blk.{il}.ffn_down.weight"))
                .is_some_and(|t| t.ne()[0] == self.hp.n_embd);
        if swapped {
            ("ffn_down", "ffn_up")
        } else {
            ("ffn_up", "ffn_down")
        }
    }

    /// A weight the graph cannot do without.
    pub(super) fn need(&mut self, name: &str) -> Result<Id, String> {
        self.w(name).ok_or_else(|| format!("{name} missing"))
    }

    /// `build_mm`: `ggml_mul_mat`, between two clamps for gemma4v
    /// (`clip_graph_gemma4v::build_mm`, models/gemma4v.cpp:120-135).
    pub(super) fn mm(&mut self, w: Id, x: Id, clamp: bool) -> Id {
        if !clamp {
            return self.g.mul_mat(w, x);
        }
        let x = self.g.like(Op::Clamp, x, &[]);
        let out = self.g.mul_mat(w, x);
        self.g.like(Op::Clamp, out, &[])
    }

    /// `ggml_conv_2d` (ggml/src/ggml.c) of the patch kernel `kernel` over `inp_raw` at stride
    /// `patch_size`: im2col (f16, or f32 for a bf16 kernel), a matrix product, and a permuted
    /// copy `[n_patches_x, n_patches_y, n_embd, 1]`.
    pub(super) fn conv_2d(&mut self, kernel: &str, inp_raw: Id) -> Result<Id, String> {
        let Some(k) = self.gguf.tensor(kernel) else {
            return Err(format!("{kernel} missing"));
        };
        let (kt, kne) = (k.ggml_type(), k.ne());
        let a = self.need(kernel)?;
        let (ow, oh) = (self.n_patches_x, self.n_patches_x);
        Ok(self.conv_2d_with(a, kt, kne, inp_raw, [ow, oh, 1]))
    }

    /// `ggml_conv_2d` of kernel `a` (type `kt`, shape `kne`) giving `[ow, oh]` outputs per image
    /// over `n` images: `[ow, oh, kne[3], n]`.
    pub(super) fn conv_2d_with(
        &mut self,
        a: Id,
        kt: GgmlType,
        kne: [u64; 4],
        inp: Id,
        [ow, oh, n]: [u64; 3],
    ) -> Id {
        let kk = kne[0].saturating_mul(kne[1]).saturating_mul(kne[2]);
        let col_ty = if kt == GgmlType::BF16 {
            Ty::F32
        } else {
            Ty::F16
        };
        let im2col = self.g.op(Op::Im2Col, col_ty, [kk, ow, oh, n], &[a, inp]);
        let lhs = self.g.reshape(im2col, [kk, ow * oh * n, 1, 1]);
        let rhs = self.g.reshape(a, [kk, kne[3], 1, 1]);
        let r = self.g.mul_mat(lhs, rhs);
        let r = self.g.reshape(r, [ow, oh, n, kne[3]]);
        let p = self.g.permute(r, [0, 1, 3, 2]);
        self.g.cont(p)
    }

    /// The patch embeddings `[n_embd, n_patches]`: the convolution, then a transposed copy
    /// (clip.cpp:574-577).
    pub(super) fn patches(&mut self, inp_raw: Id) -> Result<Id, String> {
        let conv = self.conv_2d("v.patch_embd.weight", inp_raw)?;
        let inp = self.g.reshape(conv, [self.n_patches, self.hp.n_embd, 1, 1]);
        let t = self.g.transpose(inp);
        Ok(self.g.cont(t))
    }

    /// `build_inp` (clip.cpp:572-582): the raw image input, its patch embeddings and the
    /// patch bias.
    pub(super) fn build_inp(&mut self) -> Result<Id, String> {
        let side = self.hp.warmup_image_size;
        let inp_raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        let inp = self.patches(inp_raw)?;
        let bias = self.w("v.patch_embd.bias");
        Ok(self.add_opt(inp, bias))
    }

    /// `build_norm` (clip.cpp:591-614).
    pub(super) fn build_norm(&mut self, cur: Id, w: Option<Id>, b: Option<Id>, rms: bool) -> Id {
        let mut cur = self
            .g
            .like(if rms { Op::RmsNorm } else { Op::Norm }, cur, &[]);
        if let Some(w) = w {
            cur = self.g.like(Op::Mul, cur, &[w]);
        }
        self.add_opt(cur, b)
    }

    /// `build_attn` (clip.cpp:750-822) on `[d_head, n_head, n_pos]` queries, keys and values,
    /// with an optional mask (cast to f16 for flash attention, else `ggml_soft_max_ext`'s) and
    /// the output projection through [`Self::mm`].
    pub(super) fn build_attn(
        &mut self,
        qkv: (Id, Id, Id),
        mask: Option<Id>,
        il: u64,
        clamp: bool,
    ) -> Id {
        let wo = self.wl(il, "attn_out.weight");
        let wo_b = self.wl(il, "attn_out.bias");
        self.build_attn_wo(qkv, mask, (wo, wo_b), clamp)
    }

    /// [`Self::build_attn`] with the output projection and its bias given.
    pub(super) fn build_attn_wo(
        &mut self,
        (q_cur, k_cur, v_cur): (Id, Id, Id),
        mask: Option<Id>,
        (wo, wo_b): (Option<Id>, Option<Id>),
        clamp: bool,
    ) -> Id {
        // ggml_build_forward_order(q, k, v): they enter the graph first, in that order.
        self.g.expand(q_cur);
        self.g.expand(k_cur);
        self.g.expand(v_cur);
        let q = self.g.permute(q_cur, [0, 2, 1, 3]);
        let k = self.g.permute(k_cur, [0, 2, 1, 3]);
        let cur = if self.flash_attn {
            let v = self.g.permute(v_cur, [0, 2, 1, 3]);
            let k = self.g.cast(k, Ty::F16);
            let v = self.g.cast(v, Ty::F16);
            let mut src = vec![q, k, v];
            if let Some(m) = mask {
                src.push(self.g.cast(m, Ty::F16));
            }
            let (qn, vn) = (self.g.ne(q), self.g.ne(v));
            // ggml_flash_attn_ext: [v.ne0, q.ne2, q.ne1, q.ne3] f32.
            let fa = self.g.op(
                Op::FlashAttnExt,
                Ty::F32,
                [vn[0], qn[2], qn[1], qn[3]],
                &src,
            );
            let ne = self.g.ne(fa);
            self.g.reshape(fa, [ne[0] * ne[1], ne[2] * ne[3], 1, 1])
        } else {
            let v = self.g.permute(v_cur, [1, 2, 0, 3]);
            let v = self.g.cont(v);
            let kq = self.g.mul_mat(k, q);
            let kq = match mask {
                Some(m) => self.g.like(Op::SoftMax, kq, &[m]),
                None => self.g.like(Op::SoftMax, kq, &[]),
            };
            let kqv = self.g.mul_mat(v, kq);
            let p = self.g.permute(kqv, [0, 2, 1, 3]);
            let pn = self.g.ne(p);
            // ggml_cont_2d: one copy in the target shape.
            self.g.op(
                Op::Cont,
                Ty::F32,
                [pn[0] * pn[1], pn[2] * pn[3], 1, 1],
                &[p],
            )
        };
        let cur = match wo {
            Some(wo) => self.mm(wo, cur, clamp),
            None => cur,
        };
        self.add_opt(cur, wo_b)
    }

    pub(super) fn add_mul(&mut self, cur: Id, w: Option<Id>) -> Id {
        match w {
            Some(w) => self.g.like(Op::Mul, cur, &[w]),
            None => cur,
        }
    }

    /// `build_patch_merge_permute` (clip.cpp:901-932) on a square grid that the scale
    /// factor divides.
    pub(super) fn patch_merge_permute(&mut self, cur: Id) -> Result<Id, String> {
        let s = self.hp.n_merge;
        let side = self.n_patches_x;
        if s < 2 || side % s != 0 {
            return Err(format!(
                "scale factor {s} does not divide {side} patches per side"
            ));
        }
        let e = self.hp.n_embd;
        let cur = self.g.reshape(cur, [e, side, side, 1]);
        let cur = self.g.reshape(cur, [e * s, side / s, side, 1]);
        let cur = self.g.permute(cur, [0, 2, 1, 3]);
        let cur = self.g.op(
            Op::Cont,
            Ty::F32,
            [e * s * s, side / s, side / s, 1],
            &[cur],
        );
        let cur = self.g.permute(cur, [0, 2, 1, 3]);
        let ne = self.g.ne(cur);
        Ok(self
            .g
            .op(Op::Cont, Ty::F32, [ne[0], ne[1] * ne[2], 1, 1], &[cur]))
    }
}

/// A family of projector types sharing one graph builder: the types it covers, how it sets
/// the warmup image and the merge factor from the header (`load_hparams`'s per-type cases,
/// clip.cpp:1400-2040), and the graph.
pub(super) struct Family {
    pub types: &'static [&'static str],
    pub hparams: fn(&Gguf<'_>, &str, &mut Hparams) -> Result<(), String>,
    pub build: fn(&mut Builder<'_, '_>, &str) -> Result<Id, String>,
}

/// Every family whose graph is modelled.
const FAMILIES: &[&Family] = &[
    &siglip::FAMILY,
    &llava::FAMILY,
    &qwen2vl::FAMILY,
    &qwen3vl::FAMILY,
    &gemma4v::FAMILY,
    &llama4::FAMILY,
    &pixtral::FAMILY,
    &internvl::FAMILY,
    &paddleocr::FAMILY,
    &kimivl::FAMILY,
    &glm4v::FAMILY,
    &youtuvl::FAMILY,
    &mimovl::FAMILY,
    &minicpmv::FAMILY,
];

/// The projector types whose vision graph is modelled.
pub fn modelled_projector_types() -> Vec<&'static str> {
    FAMILIES
        .iter()
        .flat_map(|f| f.types.iter().copied())
        .collect()
}

/// `set_warmup_n_tokens` (tools/mtmd/clip-model.h:210-215): a square image of
/// `sqrt(n_tokens)` merged patches per side.
pub(super) fn warmup_for_tokens(hp: &mut Hparams, n_tokens: u64) {
    let per_side = n_tokens.isqrt();
    hp.warmup_image_size = per_side
        .saturating_mul(hp.patch_size)
        .saturating_mul(hp.n_merge);
}

/// The vision encoder's compute buffer on the CPU for the projector types covered, or why it
/// cannot be given.
pub fn vision_compute(
    gguf: &Gguf<'_>,
    projector_type: &str,
    flash_attn: bool,
) -> Result<ProjectorCompute, String> {
    let Some(family) = FAMILIES.iter().find(|f| f.types.contains(&projector_type)) else {
        return Err(format!(
            "the {projector_type} encoder's graph is not modelled (modelled: {})",
            modelled_projector_types().join(", ")
        ));
    };
    if let Some(t) = gguf
        .tensors()
        .iter()
        .find(|t| t.dims().iter().any(|&d| d > MAX_TENSOR_DIM))
    {
        return Err(format!("{}: a dimension out of range", t.name()));
    }
    let mut hp = Hparams::read(gguf)?;
    (family.hparams)(gguf, projector_type, &mut hp)?;
    if hp.warmup_image_size > MAX_SIDE || hp.n_merge > MAX_MERGE {
        return Err("warmup image or merge factor out of range".into());
    }
    let n_patches_x = hp.warmup_image_size / hp.patch_size;
    let n_patches = n_patches_x * n_patches_x;
    if n_patches == 0 {
        return Err("the warmup image holds no patch".into());
    }
    let warmup_image_size = hp.warmup_image_size;
    let mut b = Builder {
        gguf,
        g: Graph::new(),
        hp,
        flash_attn,
        n_patches_x,
        n_patches,
        // PROJECTOR_TYPE_MLP, MLP_NORM, LDP, LDPV2, QWEN2VL, QWEN25VL, EXAONE4_5, GLM_EDGE,
        // GEMMA3, IDEFICS3, MINICPMV, MINICPMV4_6 by their names (clip-impl.h:500-576).
        legacy_ffn_names: matches!(
            projector_type,
            "mlp"
                | "ldp"
                | "ldpv2"
                | "qwen2vl_merger"
                | "qwen2.5vl_merger"
                | "exaone4_5"
                | "adapter"
                | "gemma3"
                | "idefics3"
                | "resampler"
                | "minicpmv4_6"
        ),
    };
    let out = (family.build)(&mut b, projector_type)?;
    b.g.expand(out);
    Ok(ProjectorCompute {
        projector_type: projector_type.to_owned(),
        warmup_image_size,
        n_patches,
        flash_attn,
        compute_bytes: b.g.reserve(CPU_ALIGNMENT),
    })
}

/// The compute buffer of a projector file's vision encoder (the type after llama.cpp's
/// `qwen2.5o` rewrite), or why it cannot be given (no vision encoder, a graph not modelled).
pub fn projector_compute(gguf: &Gguf<'_>, flash_attn: bool) -> Result<ProjectorCompute, String> {
    let facts = crate::companion::ProjectorFacts::of(gguf);
    let enc = facts
        .encoders
        .iter()
        .find(|e| e.modality == "vision")
        .ok_or("no vision encoder (audio encoders' graphs are not modelled)")?;
    vision_compute(gguf, &enc.projector_type, flash_attn)
}

//! Gemma 4 vision encoders: `clip_graph_gemma4v` (tools/mtmd/models/gemma4v.cpp), with the
//! generic `build_vit` (clip.cpp:337-568) written out here with the options gemma4v and llama4
//! use: clamped matrix products, RMS norms, 2D RoPE, per-head q/k norms, a gated FFN, post-norms
//! and layer scales.

use ggufscope_gguf::GgmlType;

use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["gemma4v"],
    hparams,
    build: |b, _| b.gemma4v(),
};

/// clip.cpp:1644-1658: pooling kernel 3 unless `clip.vision.projector.scale_factor` says
/// otherwise, and a warmup image of 256 pooled tokens (`set_warmup_n_tokens(256)`, which
/// overrides the size `set_limit_image_tokens` set just before).
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.projector.scale_factor").unwrap_or(3);
    if hp.n_merge == 0 {
        return Err("pooling kernel 0".into());
    }
    super::warmup_for_tokens(hp, 256);
    Ok(())
}

/// The options of `build_vit` (clip.cpp:337-345) and of the graph class calling it.
#[derive(Clone, Copy)]
pub(super) struct Vit {
    /// `NORM_TYPE_RMS` (else `NORM_TYPE_NORMAL`).
    pub rms: bool,
    /// gemma4v: every `build_mm` clamps its input and output (`clip_graph_gemma4v::build_mm`,
    /// models/gemma4v.cpp:120-135: `clamp_info_map` holds every `.weight` tensor loaded,
    /// clip.cpp:2639-2656), and V is RMS-normed (clip.cpp:480-483).
    pub gemma4v: bool,
    /// `learned_pos_embd`, added to the input (clip.cpp:350-353).
    pub learned_pos: Option<Id>,
    /// `add_pos` as a 2D RoPE: two `ggml_rope_ext` on Q and K, with these positions
    /// (clip.cpp:824-871 `build_rope_2d`, models/gemma4v.cpp:46-68).
    pub rope: Option<(Id, Id)>,
}

fn elem_size(t: GgmlType) -> u64 {
    match t {
        GgmlType::F32 | GgmlType::I32 => 4,
        _ => 2,
    }
}

impl Builder<'_, '_> {
    /// `build_mm`: `ggml_mul_mat`, between two clamps for gemma4v.
    pub(super) fn mm(&mut self, w: Id, x: Id, clamp: bool) -> Id {
        if !clamp {
            return self.g.mul_mat(w, x);
        }
        let x = self.g.like(Op::Clamp, x, &[]);
        let out = self.g.mul_mat(w, x);
        self.g.like(Op::Clamp, out, &[])
    }

    fn need_l(&mut self, il: u64, what: &str) -> Result<Id, String> {
        self.wl(il, what)
            .ok_or_else(|| format!("v.blk.{il}.{what} missing"))
    }

    /// `build_norm` with the RMS or the plain norm.
    fn norm_l(&mut self, cur: Id, il: u64, what: &str, rms: bool) -> Id {
        let w = self.wl(il, &format!("{what}.weight"));
        let b = self.wl(il, &format!("{what}.bias"));
        self.build_norm(cur, w, b, rms)
    }

    /// `add_pos`: two `ggml_rope_ext` (the second with its offset set, still the same node).
    fn rope2(&mut self, cur: Id, (a, b): (Id, Id)) -> Id {
        let cur = self.g.like(Op::Rope, cur, &[a]);
        self.g.like(Op::Rope, cur, &[b])
    }

    /// `build_attn` (clip.cpp:750-822) with no mask, its output projection through `build_mm`.
    fn attn(&mut self, q_cur: Id, k_cur: Id, v_cur: Id, il: u64, clamp: bool) -> Id {
        self.g.expand(q_cur);
        self.g.expand(k_cur);
        self.g.expand(v_cur);
        let q = self.g.permute(q_cur, [0, 2, 1, 3]);
        let k = self.g.permute(k_cur, [0, 2, 1, 3]);
        let cur = if self.flash_attn {
            let v = self.g.permute(v_cur, [0, 2, 1, 3]);
            let k = self.g.cast(k, Ty::F16);
            let v = self.g.cast(v, Ty::F16);
            let (qn, vn) = (self.g.ne(q), self.g.ne(v));
            let fa = self.g.op(
                Op::FlashAttnExt,
                Ty::F32,
                [vn[0], qn[2], qn[1], qn[3]],
                &[q, k, v],
            );
            let ne = self.g.ne(fa);
            self.g.reshape(fa, [ne[0] * ne[1], ne[2] * ne[3], 1, 1])
        } else {
            let v = self.g.permute(v_cur, [1, 2, 0, 3]);
            let v = self.g.cont(v);
            let kq = self.g.mul_mat(k, q);
            let kq = self.g.like(Op::SoftMax, kq, &[]);
            let kqv = self.g.mul_mat(v, kq);
            let p = self.g.permute(kqv, [0, 2, 1, 3]);
            let pn = self.g.ne(p);
            self.g.op(
                Op::Cont,
                Ty::F32,
                [pn[0] * pn[1], pn[2] * pn[3], 1, 1],
                &[p],
            )
        };
        let cur = match self.wl(il, "attn_out.weight") {
            Some(wo) => self.mm(wo, cur, clamp),
            None => cur,
        };
        let wo_b = self.wl(il, "attn_out.bias");
        self.add_opt(cur, wo_b)
    }

    /// `build_ffn` (clip.cpp:616-706): up, an optional gate (then a GLU of gate and up), the
    /// activation, down; biases where the file has them.
    fn ffn(&mut self, cur: Id, il: u64, clamp: bool) -> Id {
        let mut tmp = match self.wl(il, "ffn_up.weight") {
            Some(up) => self.mm(up, cur, clamp),
            None => cur,
        };
        let b = self.wl(il, "ffn_up.bias");
        tmp = self.add_opt(tmp, b);
        let mut cur = match self.wl(il, "ffn_gate.weight") {
            Some(gate) => {
                let c = self.mm(gate, cur, clamp);
                let b = self.wl(il, "ffn_gate.bias");
                let c = self.add_opt(c, b);
                // ggml_*glu_split(gate, up): a new tensor of the gate's shape.
                let ne = self.g.ne(c);
                self.g.op(Op::Glu, Ty::F32, ne, &[c, tmp])
            }
            None => self.g.like(Op::Unary, tmp, &[]),
        };
        if let Some(down) = self.wl(il, "ffn_down.weight") {
            cur = self.mm(down, cur, clamp);
        }
        let b = self.wl(il, "ffn_down.bias");
        self.add_opt(cur, b)
    }

    /// `build_vit` (clip.cpp:337-568) for separate q/k/v projections, returning
    /// `[n_embd, n_pos]`.
    pub(super) fn vit(&mut self, inp: Id, n_pos: u64, o: Vit) -> Result<Id, String> {
        let (e, dh) = (self.hp.n_embd, self.hp.d_head);
        let (nh, nkv) = (self.hp.n_head, self.hp.n_head_kv);
        let mut inp = self.add_opt(inp, o.learned_pos);
        inp = self.g.reshape(inp, [e, n_pos, 1, 1]);
        let mut inp_l = inp;
        let (w, b) = (self.w("v.pre_ln.weight"), self.w("v.pre_ln.bias"));
        if w.is_some() {
            inp_l = self.build_norm(inp_l, w, b, o.rms);
        }
        for il in 0..self.hp.n_layer {
            if self
                .gguf
                .tensor(&format!("v.blk.{il}.attn_qkv.weight"))
                .is_some()
            {
                return Err("a fused attn_qkv is not modelled".into());
            }
            let cur = self.norm_l(inp_l, il, "ln1", o.rms);
            let mut q = self.proj_l(cur, il, "attn_q", o.gemma4v)?;
            let mut k = self.proj_l(cur, il, "attn_k", o.gemma4v)?;
            let mut v = self.proj_l(cur, il, "attn_v", o.gemma4v)?;
            // clip.cpp:439-467: q/k norms before the reshape, or per head after it.
            let q_norm = self
                .gguf
                .tensor(&format!("v.blk.{il}.attn_q_norm.weight"))
                .map(|t| t.ne()[0]);
            let per_head = q_norm == Some(dh);
            if !per_head {
                q = self.qk_norm(q, il, "attn_q_norm", o.rms);
                k = self.qk_norm(k, il, "attn_k_norm", o.rms);
            }
            q = self.g.reshape(q, [dh, nh, n_pos, 1]);
            k = self.g.reshape(k, [dh, nkv, n_pos, 1]);
            v = self.g.reshape(v, [dh, nkv, n_pos, 1]);
            if per_head {
                q = self.qk_norm(q, il, "attn_q_norm", o.rms);
                k = self.qk_norm(k, il, "attn_k_norm", o.rms);
            }
            if let Some(pos) = o.rope {
                q = self.rope2(q, pos);
                k = self.rope2(k, pos);
            }
            if o.gemma4v {
                v = self.g.like(Op::RmsNorm, v, &[]);
            }
            let mut cur = self.attn(q, k, v, il, o.gemma4v);
            let ls1 = self.wl(il, "ls1.weight");
            cur = self.add_mul(cur, ls1);
            if let Some(w) = self.wl(il, "attn_post_norm.weight") {
                cur = self.build_norm(cur, Some(w), None, o.rms);
            }
            cur = self.g.like(Op::Add, cur, &[inp_l]);
            inp_l = cur;
            cur = self.norm_l(cur, il, "ln2", o.rms);
            cur = self.ffn(cur, il, o.gemma4v);
            if let Some(w) = self.wl(il, "ffn_post_norm.weight") {
                cur = self.build_norm(cur, Some(w), None, o.rms);
            }
            let ls2 = self.wl(il, "ls2.weight");
            cur = self.add_mul(cur, ls2);
            cur = self.g.like(Op::Add, inp_l, &[cur]);
            let ls_out = self.wl(il, "out_scale.weight");
            inp_l = self.add_mul(cur, ls_out);
        }
        let (w, b) = (self.w("v.post_ln.weight"), self.w("v.post_ln.bias"));
        if w.is_some() {
            inp_l = self.build_norm(inp_l, w, b, o.rms);
        }
        Ok(self.g.reshape(inp_l, [e, n_pos, 1, 1]))
    }

    /// One of the separate q/k/v projections with its bias (clip.cpp:423-437).
    fn proj_l(&mut self, cur: Id, il: u64, what: &str, clamp: bool) -> Result<Id, String> {
        let w = self.need_l(il, &format!("{what}.weight"))?;
        let x = self.mm(w, cur, clamp);
        let b = self.wl(il, &format!("{what}.bias"));
        Ok(self.add_opt(x, b))
    }

    fn qk_norm(&mut self, cur: Id, il: u64, what: &str, rms: bool) -> Id {
        match self.wl(il, &format!("{what}.weight")) {
            Some(w) => self.build_norm(cur, Some(w), None, rms),
            None => cur,
        }
    }

    /// `ggml_conv_2d` of the patch kernel over `inp_raw`, then the transposed copy
    /// `[n_embd, n_patches]` (models/gemma4v.cpp:12-15; as `build_inp`, clip.cpp:572-582).
    fn conv_patches(&mut self, inp_raw: Id) -> Result<Id, String> {
        let kernel = self
            .gguf
            .tensor("v.patch_embd.weight")
            .ok_or("v.patch_embd.weight missing")?;
        let (kt, kne) = (kernel.ggml_type(), kernel.ne());
        let a = self.w("v.patch_embd.weight").ok_or("v.patch_embd.weight")?;
        let side = self.n_patches_x;
        let k = kne[0].saturating_mul(kne[1]).saturating_mul(kne[2]);
        let col_ty = if kt == GgmlType::BF16 {
            Ty::F32
        } else {
            Ty::F16
        };
        let im2col = self
            .g
            .op(Op::Im2Col, col_ty, [k, side, side, 1], &[a, inp_raw]);
        let lhs = self.g.reshape(im2col, [k, side * side, 1, 1]);
        let rhs = self.g.reshape(a, [k, kne[3], 1, 1]);
        let result = self.g.mul_mat(lhs, rhs);
        let result = self.g.reshape(result, [side, side, 1, kne[3]]);
        let p = self.g.permute(result, [0, 1, 3, 2]);
        let conv = self.g.cont(p);
        let inp = self.g.reshape(conv, [self.n_patches, self.hp.n_embd, 1, 1]);
        let t = self.g.transpose(inp);
        Ok(self.g.cont(t))
    }

    /// `clip_graph_gemma4v::build` (models/gemma4v.cpp:4-118).
    pub(super) fn gemma4v(&mut self) -> Result<Id, String> {
        let (e, n) = (self.hp.n_embd, self.n_patches);
        let side = self.hp.warmup_image_size;
        let inp_raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        // ggml_scale_bias: patches * 2 - 1.
        let inp_raw = self.g.like(Op::Scale, inp_raw, &[]);
        let mut inp = self.conv_patches(inp_raw)?;
        let pos_x = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let pos_y = self.g.input(Ty::I32, [n, 1, 1, 1]);
        // models/gemma4v.cpp:25-44: the x and y halves of the table, gathered and added.
        let pt = self
            .gguf
            .tensor("v.position_embd.weight")
            .ok_or("v.position_embd.weight missing")?;
        let (pos_size, es) = (pt.ne()[1], elem_size(pt.ggml_type()));
        let table = self.w("v.position_embd.weight").ok_or("position_embd")?;
        let nb1 = es * e;
        let nb = [es, nb1, nb1 * pos_size, nb1 * pos_size];
        let tbl_x = self.g.view(table, [e, pos_size, 1, 1], nb, 0);
        let tbl_y = self.g.view(table, [e, pos_size, 1, 1], nb, pos_size * nb1);
        let emb_x = self
            .g
            .op(Op::GetRows, Ty::F32, [e, n, 1, 1], &[tbl_x, pos_x]);
        let emb_y = self
            .g
            .op(Op::GetRows, Ty::F32, [e, n, 1, 1], &[tbl_y, pos_y]);
        inp = self.g.like(Op::Add, inp, &[emb_x]);
        inp = self.g.like(Op::Add, inp, &[emb_y]);
        let opts = Vit {
            rms: true,
            gemma4v: true,
            learned_pos: None,
            rope: Some((pos_x, pos_y)),
        };
        let cur = self.vit(inp, n, opts)?;
        // The pooler (models/gemma4v.cpp:83-99).
        let k = self.hp.n_merge;
        let px = self.n_patches_x;
        if k == 0 || px < k {
            return Err(format!("pooling kernel {k} over {px} patches per side"));
        }
        let t = self.g.transpose(cur);
        let cur = self.g.op(Op::Cont, Ty::F32, [px, px, e, 1], &[t]);
        let out = (px - k) / k + 1;
        let cur = self.g.op(Op::Pool2d, Ty::F32, [out, out, e, 1], &[cur]);
        let cur = self.g.reshape(cur, [out * out, e, 1, 1]);
        let t = self.g.transpose(cur);
        let mut cur = self.g.cont(t);
        cur = self.g.like(Op::Scale, cur, &[]);
        // models/gemma4v.cpp:101-106.
        if let (Some(_), Some(_)) = (
            self.gguf.tensor("v.std_bias"),
            self.gguf.tensor("v.std_scale"),
        ) {
            let b = self.w("v.std_bias").ok_or("v.std_bias")?;
            cur = self.g.like(Op::Sub, cur, &[b]);
            let s = self.w("v.std_scale").ok_or("v.std_scale")?;
            cur = self.g.like(Op::Mul, cur, &[s]);
        }
        cur = self.g.like(Op::RmsNorm, cur, &[]);
        let proj = self
            .w("mm.input_projection.weight")
            .ok_or("mm.input_projection.weight missing")?;
        Ok(self.mm(proj, cur, true))
    }
}

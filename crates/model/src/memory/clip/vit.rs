//! The generic vision transformer of clip.cpp: `build_vit` (tools/mtmd/clip.cpp:337-570),
//! `build_ffn` with or without a gate (616-706) and `build_rope_2d` (824-873).

use super::Builder;
use crate::memory::galloc::{Id, Op};

/// What `build_vit`'s caller chooses.
pub(super) struct VitOpts {
    /// `NORM_TYPE_RMS` rather than `NORM_TYPE_NORMAL`.
    pub rms: bool,
    /// The learned position embedding added to the input (`learned_pos_embd`).
    pub learned_pos: Option<Id>,
    /// 2-D RoPE on queries and keys with these two position inputs (`add_pos` as pixtral,
    /// gemma4v and llama4 pass it: two `ggml_rope_ext`).
    pub rope_2d: Option<(Id, Id)>,
    /// One `ggml_rope_multi` on queries and keys with this position input (paddleocr's
    /// `add_pos`, models/paddleocr.cpp:13-18).
    pub rope_multi: Option<Id>,
    /// gemma4v: every matrix product clamped ([`Builder::mm`]: `clamp_info_map` holds every
    /// `.weight` tensor loaded, clip.cpp:2639-2656) and V RMS-normed (clip.cpp:480-483).
    pub gemma4v: bool,
}

impl Builder<'_, '_> {
    /// `build_ffn` (clip.cpp:616-706): up (+bias), gate (+bias), the activation — a GLU of
    /// gate and up when there is a gate, else in place on up — and down (+bias).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn build_ffn(
        &mut self,
        cur: Id,
        up: Option<Id>,
        up_b: Option<Id>,
        gate: Option<Id>,
        gate_b: Option<Id>,
        down: Option<Id>,
        down_b: Option<Id>,
        clamp: bool,
    ) -> Id {
        let mut tmp = match up {
            Some(up) => self.mm(up, cur, clamp),
            None => cur,
        };
        tmp = self.add_opt(tmp, up_b);
        let mut cur = match gate {
            Some(gate) => {
                let c = self.mm(gate, cur, clamp);
                let c = self.add_opt(c, gate_b);
                // ggml_swiglu_split / geglu_split …: a GLU op, `c`'s shape, never in place.
                self.g.like(Op::Glu, c, &[tmp])
            }
            None => self.g.like(Op::Unary, tmp, &[]),
        };
        if let Some(down) = down {
            cur = self.mm(down, cur, clamp);
        }
        self.add_opt(cur, down_b)
    }

    /// `build_rope_2d` (clip.cpp:824-873): two `ggml_rope_ext` over halves of the head.
    pub(super) fn build_rope_2d(&mut self, cur: Id, pos_a: Id, pos_b: Id) -> Id {
        let cur = self.g.like(Op::Rope, cur, &[pos_a]);
        self.g.like(Op::Rope, cur, &[pos_b])
    }

    fn norm_w(&mut self, cur: Id, name: &str, bias: Option<&str>, rms: bool) -> Option<Id> {
        let w = self.w(name)?;
        let b = bias.and_then(|b| self.w(b));
        Some(self.build_norm(cur, Some(w), b, rms))
    }

    fn mul_opt(&mut self, cur: Id, name: &str) -> Id {
        let w = self.w(name);
        self.add_mul(cur, w)
    }

    /// `build_vit` (clip.cpp:337-570) over `inp` `[n_embd, n_pos]`, for one image.
    pub(super) fn build_vit(&mut self, inp: Id, n_pos: u64, o: &VitOpts) -> Result<Id, String> {
        let e = self.hp.n_embd;
        let mut inp = inp;
        if let Some(pos) = o.learned_pos {
            inp = self.g.like(Op::Add, inp, &[pos]);
        }
        inp = self.g.reshape(inp, [e, n_pos, 1, 1]);
        let mut inp_l = inp;
        if let Some(n) = self.norm_w(inp_l, "v.pre_ln.weight", Some("v.pre_ln.bias"), o.rms) {
            inp_l = n;
        }
        for il in 0..self.hp.n_layer {
            inp_l = self.vit_layer(inp_l, il, n_pos, o)?;
        }
        if let Some(n) = self.norm_w(inp_l, "v.post_ln.weight", Some("v.post_ln.bias"), o.rms) {
            inp_l = n;
        }
        Ok(self.g.reshape(inp_l, [e, n_pos, 1, 1]))
    }

    /// One layer of `build_vit`'s loop (clip.cpp:367-546); LLaVA's loop body
    /// (models/llava.cpp:56-122) is the same for the tensors it loads.
    pub(super) fn vit_layer(
        &mut self,
        inp_l: Id,
        il: u64,
        n_pos: u64,
        o: &VitOpts,
    ) -> Result<Id, String> {
        let p = |s: &str| format!("v.blk.{il}.{s}");
        let (w, b) = (self.w(&p("ln1.weight")), self.w(&p("ln1.bias")));
        let cur = self.build_norm(inp_l, w, b, o.rms);
        let qkv = self.vit_qkv(cur, il, n_pos, o)?;
        let mut cur = self.build_attn(qkv, None, il, o.gemma4v);
        cur = self.mul_opt(cur, &p("ls1.weight"));
        if let Some(n) = self.norm_w(cur, &p("attn_post_norm.weight"), None, o.rms) {
            cur = n;
        }
        cur = self.g.like(Op::Add, cur, &[inp_l]);
        let inp_l = cur;
        let (w, b) = (self.w(&p("ln2.weight")), self.w(&p("ln2.bias")));
        cur = self.build_norm(cur, w, b, o.rms);
        let (up_n, down_n) = self.ffn_names(il);
        let up = self.w(&p(&format!("{up_n}.weight")));
        let up_b = self.w(&p(&format!("{up_n}.bias")));
        let gate = self.w(&p("ffn_gate.weight"));
        let gate_b = self.w(&p("ffn_gate.bias"));
        let down = self.w(&p(&format!("{down_n}.weight")));
        let down_b = self.w(&p(&format!("{down_n}.bias")));
        cur = self.build_ffn(cur, up, up_b, gate, gate_b, down, down_b, o.gemma4v);
        if let Some(n) = self.norm_w(cur, &p("ffn_post_norm.weight"), None, o.rms) {
            cur = n;
        }
        cur = self.mul_opt(cur, &p("ls2.weight"));
        cur = self.g.like(Op::Add, inp_l, &[cur]);
        Ok(self.mul_opt(cur, &p("out_scale.weight")))
    }

    /// Layer `il`'s query and key norms, where the file has them (clip.cpp:439-467).
    fn qk_norms(&mut self, q: Id, k: Id, il: u64, rms: bool) -> (Id, Id) {
        let q = self
            .norm_w(q, &format!("v.blk.{il}.attn_q_norm.weight"), None, rms)
            .unwrap_or(q);
        let k = self
            .norm_w(k, &format!("v.blk.{il}.attn_k_norm.weight"), None, rms)
            .unwrap_or(k);
        (q, k)
    }

    /// The attention inputs of `build_vit` (clip.cpp:381-483): fused or separate q/k/v, their
    /// norms (per head when the norm's width is the head's), 2-D RoPE on q and k.
    fn vit_qkv(
        &mut self,
        cur: Id,
        il: u64,
        n_pos: u64,
        o: &VitOpts,
    ) -> Result<(Id, Id, Id), String> {
        let p = |s: &str| format!("v.blk.{il}.{s}");
        let (d_head, n_head, n_head_kv) = (self.hp.d_head, self.hp.n_head, self.hp.n_head_kv);
        let q_norm = self
            .gguf
            .tensor(&p("attn_q_norm.weight"))
            .map(|t| t.ne()[0]);
        let (mut q, mut k, v) = if let Some(qkv_w) = self.w(&p("attn_qkv.weight")) {
            let mut c = self.mm(qkv_w, cur, o.gemma4v);
            let b = self.w(&p("attn_qkv.bias"));
            c = self.add_opt(c, b);
            let row = self.g.ne(c)[0].saturating_mul(4);
            let nb = [4, d_head * 4, row, row.saturating_mul(n_pos)];
            let ne = [d_head, n_head, n_pos, 1];
            let q = self.g.view(c, ne, nb, 0);
            let k = self.g.view(c, ne, nb, n_head * d_head * 4);
            let v = self.g.view(c, ne, nb, 2 * n_head * d_head * 4);
            let (q, k) = self.qk_norms(q, k, il, o.rms);
            (q, k, v)
        } else {
            let mut proj = |what: &str| -> Result<Id, String> {
                let w = self
                    .w(&p(&format!("{what}.weight")))
                    .ok_or_else(|| format!("v.blk.{il}.{what}.weight missing"))?;
                let x = self.mm(w, cur, o.gemma4v);
                let b = self.w(&p(&format!("{what}.bias")));
                Ok(self.add_opt(x, b))
            };
            let (mut q, mut k, v) = (proj("attn_q")?, proj("attn_k")?, proj("attn_v")?);
            let per_head = q_norm == Some(d_head);
            if !per_head {
                (q, k) = self.qk_norms(q, k, il, o.rms);
            }
            q = self.g.reshape(q, [d_head, n_head, n_pos, 1]);
            k = self.g.reshape(k, [d_head, n_head_kv, n_pos, 1]);
            let v = self.g.reshape(v, [d_head, n_head_kv, n_pos, 1]);
            if per_head {
                (q, k) = self.qk_norms(q, k, il, o.rms);
            }
            (q, k, v)
        };
        if let Some((pa, pb)) = o.rope_2d {
            q = self.build_rope_2d(q, pa, pb);
            k = self.build_rope_2d(k, pa, pb);
        }
        if let Some(pos) = o.rope_multi {
            q = self.g.like(Op::Rope, q, &[pos]);
            k = self.g.like(Op::Rope, k, &[pos]);
        }
        let v = if o.gemma4v {
            self.g.like(Op::RmsNorm, v, &[])
        } else {
            v
        };
        Ok((q, k, v))
    }
}

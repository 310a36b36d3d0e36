//! Qwen2-VL and Qwen2.5-VL encoders: `clip_graph_qwen2vl` (tools/mtmd/models/qwen2vl.cpp), and
//! the pieces the Qwen3-VL graph shares with it (the two-frame patch embedding, the 2×2 merge
//! of patch rows, M-RoPE, attention with a window mask, a gated FFN).

use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["qwen2vl_merger", "qwen2.5vl_merger"],
    hparams,
    build: |b, t| b.qwen2vl(t),
};

/// `clip.vision.n_wa_pattern` (`KEY_WIN_ATTN_PATTERN`, clip-impl.h:70): every how many layers
/// the attention is full rather than windowed; 0 (absent) for no window attention.
const KEY_WIN_ATTN_PATTERN: &str = "clip.vision.n_wa_pattern";

/// `load_hparams`' Qwen-VL case (clip.cpp:1668-1686): `n_merge` from
/// `clip.vision.spatial_merge_size` (default 2), the window pattern required for Qwen2.5-VL
/// only, a warmup image of 46×46 merged patches (`set_warmup_n_tokens(46*46)`, 1679).
pub(super) fn hparams(
    gguf: &ggufscope_gguf::Gguf<'_>,
    t: &str,
    hp: &mut Hparams,
) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.spatial_merge_size").unwrap_or(2);
    if t == "qwen2.5vl_merger" && super::uint(gguf, KEY_WIN_ATTN_PATTERN).is_none() {
        return Err(format!("{KEY_WIN_ATTN_PATTERN} missing"));
    }
    if hp.n_merge > 64 {
        return Err("spatial merge size out of range".into());
    }
    super::warmup_for_tokens(hp, 46 * 46);
    Ok(())
}

impl Builder<'_, '_> {
    /// The window-attention inputs (qwen2vl.cpp:79-99, youtuvl.cpp:67-86): the inverse window
    /// index and the window mask (cast to f16 for flash attention), and `inp_l` gathered into
    /// window order by groups of four patches. Returns the mask and the reordered input.
    pub(super) fn window_inputs(&mut self, inp_l: Id, n_pos: u64) -> (Id, Id) {
        let e = self.hp.n_embd;
        let inv_window_idx = self.g.input(Ty::I32, [n_pos / 4, 1, 1, 1]);
        let mut mask = self.g.input(Ty::F32, [n_pos, n_pos, 1, 1]);
        if self.flash_attn {
            mask = self.g.cast(mask, Ty::F16);
        }
        let x = self.window_order_with(inp_l, inv_window_idx, e * 4, n_pos / 4, [e, n_pos, 1, 1]);
        (mask, x)
    }

    /// Back to the image's order (qwen2vl.cpp:189-199, youtuvl.cpp:143-154): a new window
    /// index input gathers rows of width `row`, reshaped to `out`.
    pub(super) fn window_order(&mut self, x: Id, row: u64, n_rows: u64, out: [u64; 4]) -> Id {
        let idx = self.g.input(Ty::I32, [n_rows, 1, 1, 1]);
        self.window_order_with(x, idx, row, n_rows, out)
    }

    fn window_order_with(&mut self, x: Id, idx: Id, row: u64, n_rows: u64, out: [u64; 4]) -> Id {
        let x = self.g.reshape(x, [row, n_rows, 1, 1]);
        let x = self
            .g
            .op(Op::GetRows, Ty::F32, [row, n_rows, 1, 1], &[x, idx]);
        self.g.reshape(x, out)
    }

    /// `build_inp_with_temporal_merge` for one still image (models/qwen2vl.cpp:3-17): the sum of
    /// the two frames' patch convolutions, `[n_patches_x, n_patches_y, n_embd, 1]`.
    pub(super) fn qwen_inp(&mut self) -> Result<Id, String> {
        let side = self.hp.warmup_image_size;
        let inp_raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        let c0 = self.conv_2d("v.patch_embd.weight", inp_raw)?;
        let c1 = self.conv_2d("v.patch_embd.weight.1", inp_raw)?;
        Ok(self.g.like(Op::Add, c0, &[c1]))
    }

    /// The 2×2 regrouping of `[n_embd, …]` rows so that merged patches are adjacent
    /// (models/qwen2vl.cpp:51-62, models/qwen3vl.cpp:19-34 and 41-50): `ggml_cont_4d`,
    /// `ggml_reshape_4d`, `ggml_permute(0, 2, 1, 3)`, `ggml_cont_3d`.
    pub(super) fn qwen_merge_rows(&mut self, x: Id) -> Id {
        let (e, nx) = (self.hp.n_embd, self.n_patches_x);
        let ny = nx;
        let x = self.g.op(Op::Cont, Ty::F32, [e * 2, nx / 2, ny, 1], &[x]);
        let x = self.g.reshape(x, [e * 2, nx / 2, 2, ny / 2]);
        let x = self.g.permute(x, [0, 2, 1, 3]);
        self.g.op(Op::Cont, Ty::F32, [e, nx * ny, 1, 1], &[x])
    }

    /// `ggml_rope_multi` (ggml.c:4345-4364): a new tensor of `x`'s shape, sources `x` and the
    /// positions.
    pub(super) fn qwen_rope(&mut self, x: Id, positions: Id) -> Id {
        self.g.like(Op::Rope, x, &[positions])
    }

    /// A weight and its bias, `{name}.weight` and `{name}.bias`, where present.
    fn wb(&mut self, name: &str) -> (Option<Id>, Option<Id>) {
        (
            self.w(&format!("{name}.weight")),
            self.w(&format!("{name}.bias")),
        )
    }

    /// `build_ffn` (clip.cpp:616-706) with an optional gate: up, gate, the (gated) activation,
    /// down, with the weights `{name}.weight` and `{name}.bias` of the names given.
    pub(super) fn qwen_ffn(&mut self, cur: Id, up: &str, gate: Option<&str>, down: &str) -> Id {
        let up = self.wb(up);
        let gate = gate.map_or((None, None), |n| self.wb(n));
        let down = self.wb(down);
        let mut tmp = match up.0 {
            Some(w) => self.g.mul_mat(w, cur),
            None => cur,
        };
        tmp = self.add_opt(tmp, up.1);
        let cur = match gate.0 {
            Some(w) => {
                let c = self.g.mul_mat(w, cur);
                let c = self.add_opt(c, gate.1);
                // ggml_swiglu_split / ggml_geglu_split …: a's shape, sources (gate, up).
                self.g.like(Op::Glu, c, &[tmp])
            }
            None => self.g.like(Op::Unary, tmp, &[]),
        };
        let cur = match down.0 {
            Some(w) => self.g.mul_mat(w, cur),
            None => cur,
        };
        self.add_opt(cur, down.1)
    }

    /// The layers' FFN (`v.blk.{il}.ffn_{up,gate,down}`).
    pub(super) fn qwen_layer_ffn(&mut self, cur: Id, il: u64) -> Id {
        let (up_n, down_n) = self.ffn_names(il);
        let [up, gate, down] = [up_n, "ffn_gate", down_n].map(|w| format!("v.blk.{il}.{w}"));
        self.qwen_ffn(cur, &up, Some(&gate), &down)
    }

    /// The merger (`mm.0` → GELU → `mm.2`) on groups of four patches.
    pub(super) fn qwen_merger(&mut self, inp_l: Id, n_pos: u64) -> Id {
        let emb = self.g.reshape(inp_l, [self.hp.n_embd * 4, n_pos / 4, 1, 1]);
        self.qwen_ffn(emb, "mm.0", None, "mm.2")
    }

    /// One of the q/k/v projections with its bias, reshaped to `[d_head, n_head, n_pos]`
    /// (models/qwen2vl.cpp:114-123).
    fn qwen_proj(&mut self, cur: Id, il: u64, what: &str) -> Result<Id, String> {
        let w = self
            .wl(il, &format!("{what}.weight"))
            .ok_or_else(|| format!("v.blk.{il}.{what}.weight missing"))?;
        let b = self.wl(il, &format!("{what}.bias"));
        let x = self.g.mul_mat(w, cur);
        let x = self.add_opt(x, b);
        Ok(self
            .g
            .reshape(x, [self.hp.d_head, self.hp.n_head, self.n_patches, 1]))
    }

    /// `clip_graph_qwen2vl::build` (models/qwen2vl.cpp:32-205).
    fn qwen2vl(&mut self, projector_type: &str) -> Result<Id, String> {
        let rms = projector_type == "qwen2.5vl_merger";
        let n_wa_pattern = super::uint(self.gguf, KEY_WIN_ATTN_PATTERN).unwrap_or(0);
        let use_window_attn = n_wa_pattern > 0;
        let n_pos = self.n_patches;

        let inp = self.qwen_inp()?;
        // Second conv dimension (qwen2vl.cpp:50-63).
        let inp = self.g.permute(inp, [1, 2, 0, 3]);
        let inp = self.qwen_merge_rows(inp);
        let mut inp_l = inp;

        let positions = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        if let Some(w) = self.w("v.pre_ln.weight") {
            let b = self.w("v.pre_ln.bias");
            inp_l = self.build_norm(inp_l, Some(w), b, rms);
        }

        // Window attention inputs (qwen2vl.cpp:79-99).
        let mut window_mask = None;
        if use_window_attn {
            let (mask, x) = self.window_inputs(inp_l, n_pos);
            window_mask = Some(mask);
            inp_l = x;
        }

        for il in 0..self.hp.n_layer {
            let full_attn = !use_window_attn || (il + 1) % n_wa_pattern == 0;
            let (w, b) = (self.wl(il, "ln1.weight"), self.wl(il, "ln1.bias"));
            let cur = self.build_norm(inp_l, w, b, rms);
            let q = self.qwen_proj(cur, il, "attn_q")?;
            let k = self.qwen_proj(cur, il, "attn_k")?;
            let v = self.qwen_proj(cur, il, "attn_v")?;
            let q = self.qwen_rope(q, positions);
            let k = self.qwen_rope(k, positions);
            let mask = if full_attn { None } else { window_mask };
            let cur = self.build_attn((q, k, v), mask, il, false);
            let cur = self.g.like(Op::Add, cur, &[inp_l]);
            inp_l = cur;
            let (w, b) = (self.wl(il, "ln2.weight"), self.wl(il, "ln2.bias"));
            let cur = self.build_norm(cur, w, b, rms);
            let cur = self.qwen_layer_ffn(cur, il);
            inp_l = self.g.like(Op::Add, inp_l, &[cur]);
        }

        if let Some(w) = self.w("v.post_ln.weight") {
            let b = self.w("v.post_ln.bias");
            inp_l = self.build_norm(inp_l, Some(w), b, rms);
        }
        let mut emb = self.qwen_merger(inp_l, n_pos);

        // Back to the image's order (qwen2vl.cpp:189-199).
        if use_window_attn {
            let d = self.g.ne(emb)[0];
            emb = self.window_order(emb, d, n_pos / 4, [d, n_pos / 4, 1, 1]);
        }
        Ok(emb)
    }
}

//! MiMo-V2.5 vision encoders: `clip_graph_mimovl` (tools/mtmd/models/mimovl.cpp).

use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["mimovl"],
    hparams,
    build: |b, _| b.mimovl(),
};

/// `clip.vision.wa_pattern_mode` (`KEY_WA_PATTERN_MODE`, clip-impl.h:72): per layer, -1 full
/// attention, 0 row windows, 1 column windows.
const KEY_WA_PATTERN_MODE: &str = "clip.vision.wa_pattern_mode";

/// `load_hparams`' MIMOVL case (clip.cpp:1712-1727): `n_merge` from
/// `clip.vision.spatial_merge_size` (default 2); the KV head count, the window size, one window
/// mode per layer and the pixel limits required; a warmup image of 46×46 merged patches.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.spatial_merge_size").unwrap_or(2);
    if hp.n_merge > 64 {
        return Err("spatial merge size out of range".into());
    }
    for key in [
        "clip.vision.attention.head_count_kv",
        "clip.vision.window_size",
        "clip.vision.image_min_pixels",
        "clip.vision.image_max_pixels",
    ] {
        if super::uint(gguf, key).is_none() {
            return Err(format!("{key} missing"));
        }
    }
    wa_modes(gguf, hp.n_layer)?;
    super::warmup_for_tokens(hp, 46 * 46);
    Ok(())
}

/// The window mode of every layer (`hparams.wa_pattern_mode`, one per layer).
fn wa_modes(gguf: &ggufscope_gguf::Gguf<'_>, n_layer: u64) -> Result<Vec<i64>, String> {
    let modes = super::int_array(gguf, KEY_WA_PATTERN_MODE)
        .ok_or_else(|| format!("{KEY_WA_PATTERN_MODE} missing"))?;
    if u64::try_from(modes.len()) != Ok(n_layer) {
        return Err(format!("{KEY_WA_PATTERN_MODE} needs one mode per layer"));
    }
    Ok(modes)
}

impl Builder<'_, '_> {
    /// `clip_graph_mimovl::build` (models/mimovl.cpp:22-209): Qwen-VL's two-frame patch
    /// embedding and row regrouping, then per layer an RMS norm, a fused GQA projection
    /// (`head_dim` from its rows), M-RoPE on row or column positions, attention (a banded mask
    /// on windowed layers), a gated FFN; column-window runs regroup the merge units on entry
    /// and exit (`get_rows`); the post LayerNorm and the merger MLP.
    fn mimovl(&mut self) -> Result<Id, String> {
        let modes = wa_modes(self.gguf, self.hp.n_layer)?;
        let n_pos = self.n_patches;
        let (e, n_head, n_head_kv) = (self.hp.n_embd, self.hp.n_head, self.hp.n_head_kv);
        let merge = if self.hp.n_merge > 0 {
            self.hp.n_merge
        } else {
            2
        };
        let merge_unit = merge * merge;
        let n_units = n_pos / merge_unit;
        if n_units * merge_unit != n_pos || self.n_patches_x % 2 != 0 {
            return Err("the warmup grid is not a multiple of the merge size".into());
        }
        // mimovl.cpp:41-44: head_dim = qkv rows / (n_head + 2 n_head_kv).
        let qkv_rows = self
            .gguf
            .tensor("v.blk.0.attn_qkv.weight")
            .map(|t| t.ne()[1])
            .ok_or("v.blk.0.attn_qkv.weight missing")?;
        let heads = n_head.saturating_add(n_head_kv.saturating_mul(2));
        if n_head_kv == 0 || n_head % n_head_kv != 0 || qkv_rows % heads != 0 {
            return Err("attn_qkv rows do not split into the heads".into());
        }
        let hd = qkv_rows / heads;

        // mimovl.cpp:51-67
        let inp = self.qwen_inp()?;
        let inp = self.g.permute(inp, [1, 2, 0, 3]);
        let inp = self.qwen_merge_rows(inp);

        // mimovl.cpp:70-93
        let positions_row = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        let positions_col = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        let idx_col_f = self.g.input(Ty::F32, [n_units, 1, 1, 1]);
        let idx_col = self.g.cast(idx_col_f, Ty::I32);
        // ggml_argsort: I32 of the source's shape.
        let idx_col_inv = self
            .g
            .op(Op::Other, Ty::I32, [n_units, 1, 1, 1], &[idx_col_f]);
        let mut window_mask = self.g.input(Ty::F32, [n_pos, n_pos, 1, 1]);
        if self.flash_attn {
            window_mask = self.g.cast(window_mask, Ty::F16);
        }

        // mimovl.cpp:100-104
        let reorder = |b: &mut Self, x: Id, idx: Id| -> Id {
            let y = b.g.reshape(x, [e * merge_unit, n_units, 1, 1]);
            let y = b.g.op(
                Op::GetRows,
                Ty::F32,
                [e * merge_unit, n_units, 1, 1],
                &[y, idx],
            );
            b.g.reshape(y, [e, n_pos, 1, 1])
        };

        let mut inp_l = inp;
        let mut prev_mode = -1;
        for (il, &mode) in (0..self.hp.n_layer).zip(&modes) {
            let is_full = mode == -1;
            let is_col = mode == 1;
            if is_col && prev_mode != 1 {
                inp_l = reorder(self, inp_l, idx_col);
            } else if !is_col && prev_mode == 1 {
                inp_l = reorder(self, inp_l, idx_col_inv);
            }
            let (w, b) = (self.wl(il, "ln1.weight"), self.wl(il, "ln1.bias"));
            let cur = self.build_norm(inp_l, w, b, true);
            let qkv_w = self
                .wl(il, "attn_qkv.weight")
                .ok_or_else(|| format!("v.blk.{il}.attn_qkv.weight missing"))?;
            let qkv_b = self
                .wl(il, "attn_qkv.bias")
                .ok_or_else(|| format!("v.blk.{il}.attn_qkv.bias missing"))?;
            let qkv = self.g.mul_mat(qkv_w, cur);
            let qkv = self.g.like(Op::Add, qkv, &[qkv_b]);
            // mimovl.cpp:134-140: ggml_view_3d at 0, n_head and n_head + n_head_kv heads.
            let row = self.g.ne(qkv)[0].saturating_mul(4);
            let nb = [4, hd * 4, row, row.saturating_mul(n_pos)];
            let q = self.g.view(qkv, [hd, n_head, n_pos, 1], nb, 0);
            let k = self
                .g
                .view(qkv, [hd, n_head_kv, n_pos, 1], nb, n_head * hd * 4);
            let v = self.g.view(
                qkv,
                [hd, n_head_kv, n_pos, 1],
                nb,
                (n_head + n_head_kv) * hd * 4,
            );
            let pos = if is_col { positions_col } else { positions_row };
            let q = self.g.like(Op::Rope, q, &[pos]);
            let k = self.g.like(Op::Rope, k, &[pos]);
            let mask = if is_full { None } else { Some(window_mask) };
            let attn = self.build_attn((q, k, v), mask, il, false);
            let cur = self.g.like(Op::Add, attn, &[inp_l]);
            inp_l = cur;
            let (w, b) = (self.wl(il, "ln2.weight"), self.wl(il, "ln2.bias"));
            let cur = self.build_norm(cur, w, b, true);
            let up = self.wl(il, "ffn_up.weight");
            let up_b = self.wl(il, "ffn_up.bias");
            let gate = self.wl(il, "ffn_gate.weight");
            let gate_b = self.wl(il, "ffn_gate.bias");
            let down = self.wl(il, "ffn_down.weight");
            let down_b = self.wl(il, "ffn_down.bias");
            let cur = self.build_ffn(cur, up, up_b, gate, gate_b, down, down_b, false);
            inp_l = self.g.like(Op::Add, inp_l, &[cur]);
            prev_mode = mode;
        }
        if prev_mode == 1 {
            inp_l = reorder(self, inp_l, idx_col_inv);
        }

        // mimovl.cpp:194-204
        let (w, b) = (self.w("v.post_ln.weight"), self.w("v.post_ln.bias"));
        let cur = self.build_norm(inp_l, w, b, false);
        let emb = self.g.reshape(cur, [e * merge_unit, n_units, 1, 1]);
        let w0 = self.need("mm.0.weight")?;
        let w1 = self.need("mm.2.weight")?;
        Ok(self.build_ffn(emb, Some(w0), None, None, None, Some(w1), None, false))
    }
}

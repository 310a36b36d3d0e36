//! Youtu-VL encoders: `clip_graph_youtuvl` (tools/mtmd/models/youtuvl.cpp).

use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["youtuvl"],
    hparams,
    build: |b, _| b.youtuvl(),
};

/// `clip.vision.wa_layer_indexes` (`KEY_WIN_ATTN_LAYER_INDEXES`, clip-impl.h): the layers with
/// full attention; every other layer attends within windows when the list is not empty.
const KEY_WA_LAYERS: &str = "clip.vision.wa_layer_indexes";

/// `load_hparams`' YOUTUVL case (clip.cpp:1740-1756): `n_merge` from
/// `clip.vision.spatial_merge_size` (default 2), the window size and the full-attention layers
/// required, a warmup image of 16×16 merged patches.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.spatial_merge_size").unwrap_or(2);
    if hp.n_merge > 64 {
        return Err("spatial merge size out of range".into());
    }
    if super::uint(gguf, "clip.vision.window_size").is_none() {
        return Err("clip.vision.window_size missing".into());
    }
    wa_layers(gguf)?;
    super::warmup_for_tokens(hp, 16 * 16);
    Ok(())
}

/// The full-attention layers (`hparams.wa_layer_indexes`).
fn wa_layers(gguf: &ggufscope_gguf::Gguf<'_>) -> Result<Vec<i64>, String> {
    super::int_array(gguf, KEY_WA_LAYERS).ok_or_else(|| format!("{KEY_WA_LAYERS} missing"))
}

impl Builder<'_, '_> {
    /// `clip_graph_youtuvl::build` (models/youtuvl.cpp:3-179): the image cut into patches by
    /// copies and one matrix product, window attention (a mask input, patches regrouped by
    /// `get_rows`) except in the listed layers, M-RoPE, then the post norm, the merger's RMS
    /// norm and its MLP on groups of four patches.
    fn youtuvl(&mut self) -> Result<Id, String> {
        let full_layers = wa_layers(self.gguf)?;
        let use_window_attn = !full_layers.is_empty();
        let n_pos = self.n_patches;
        let (e, p) = (self.hp.n_embd, self.hp.patch_size);
        let (d_head, n_head) = (self.hp.d_head, self.hp.n_head);
        let m = 2;
        let (wp, hp) = (self.n_patches_x, self.n_patches_x);
        let (wm, hm) = (wp / m, hp / m);
        if wm == 0 || wp % m != 0 {
            return Err("the warmup grid is not a multiple of 2".into());
        }

        // youtuvl.cpp:18-52: patches by copies, then a linear patch embedding.
        let side = self.hp.warmup_image_size;
        let inp = self.g.input(Ty::F32, [side, side, 3, 1]);
        let inp = self.g.reshape(inp, [wm * m * p, m * p, hm, 3]);
        let inp = self.g.permute(inp, [1, 2, 3, 0]);
        let inp = self
            .g
            .op(Op::Cont, Ty::F32, [m * p * 3, wm, m * p, hm], &[inp]);
        let inp = self.g.permute(inp, [0, 2, 1, 3]);
        let inp = self
            .g
            .op(Op::Cont, Ty::F32, [m * p * 3, p, m, hm * wm], &[inp]);
        let inp = self.g.permute(inp, [1, 0, 2, 3]);
        let inp = self
            .g
            .op(Op::Cont, Ty::F32, [p, 3, p, hm * wm * m * m], &[inp]);
        let inp = self.g.permute(inp, [2, 0, 1, 3]);
        let inp = self.g.op(
            Op::Cont,
            Ty::F32,
            [3 * p * p, hm * wm * m * m, 1, 1],
            &[inp],
        );
        let pw = self.need("v.patch_embd.weight")?;
        let inp = self.g.mul_mat(pw, inp);
        let bias = self.w("v.patch_embd.bias");
        let inp = self.add_opt(inp, bias);
        let mut inp_l = self.g.reshape(inp, [e, n_pos, 1, 1]);

        let positions = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        if let Some(w) = self.w("v.pre_ln.weight") {
            let b = self.w("v.pre_ln.bias");
            inp_l = self.build_norm(inp_l, Some(w), b, false);
        }
        // youtuvl.cpp:67-86
        let mut window_mask = None;
        if use_window_attn {
            let (mask, x) = self.window_inputs(inp_l, n_pos);
            window_mask = Some(mask);
            inp_l = x;
        }

        // youtuvl.cpp:89-141
        for il in 0..self.hp.n_layer {
            let full_attn =
                !use_window_attn || full_layers.iter().any(|&l| u64::try_from(l) == Ok(il));
            let (w, b) = (self.wl(il, "ln1.weight"), self.wl(il, "ln1.bias"));
            let cur = self.build_norm(inp_l, w, b, false);
            let mut proj = |what: &str| -> Result<Id, String> {
                let w = self
                    .wl(il, &format!("{what}.weight"))
                    .ok_or_else(|| format!("v.blk.{il}.{what}.weight missing"))?;
                let b = self
                    .wl(il, &format!("{what}.bias"))
                    .ok_or_else(|| format!("v.blk.{il}.{what}.bias missing"))?;
                let x = self.g.mul_mat(w, cur);
                Ok(self.g.like(Op::Add, x, &[b]))
            };
            let (q, k, v) = (proj("attn_q")?, proj("attn_k")?, proj("attn_v")?);
            let q = self.g.reshape(q, [d_head, n_head, n_pos, 1]);
            let k = self.g.reshape(k, [d_head, n_head, n_pos, 1]);
            let v = self.g.reshape(v, [d_head, n_head, n_pos, 1]);
            let q = self.g.like(Op::Rope, q, &[positions]);
            let k = self.g.like(Op::Rope, k, &[positions]);
            let mask = if full_attn { None } else { window_mask };
            let cur = self.build_attn((q, k, v), mask, il, false);
            let cur = self.g.like(Op::Add, cur, &[inp_l]);
            inp_l = cur;
            let (w, b) = (self.wl(il, "ln2.weight"), self.wl(il, "ln2.bias"));
            let cur = self.build_norm(cur, w, b, false);
            let up = self.wl(il, "ffn_up.weight");
            let up_b = self.wl(il, "ffn_up.bias");
            let down = self.wl(il, "ffn_down.weight");
            let down_b = self.wl(il, "ffn_down.bias");
            let cur = self.build_ffn(cur, up, up_b, None, None, down, down_b, false);
            inp_l = self.g.like(Op::Add, inp_l, &[cur]);
        }

        // youtuvl.cpp:143-154: back to the image's order.
        let mut emb = inp_l;
        if use_window_attn {
            emb = self.window_order(emb, e * 4, n_pos / 4, [e, n_pos, 1, 1]);
        }
        // youtuvl.cpp:157-175
        if let Some(w) = self.w("v.post_ln.weight") {
            let b = self.w("v.post_ln.bias");
            emb = self.build_norm(emb, Some(w), b, false);
        }
        let w = self.need("mm.input_norm.weight")?;
        let emb = self.build_norm(emb, Some(w), None, true);
        let emb = self.g.reshape(emb, [e * 4, n_pos / 4, 1, 1]);
        let (w0, b0) = (self.w("mm.0.weight"), self.w("mm.0.bias"));
        let (w2, b2) = (self.w("mm.2.weight"), self.w("mm.2.bias"));
        Ok(self.build_ffn(emb, w0, b0, None, None, w2, b2, false))
    }
}

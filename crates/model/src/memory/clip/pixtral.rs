//! Pixtral, Mistral Small 3.x and LightOnOCR encoders: `clip_graph_pixtral`
//! (tools/mtmd/models/pixtral.cpp; clip.cpp:958-962 gives it both types).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["pixtral", "lightonocr"],
    hparams,
    build: |b, _| b.pixtral(),
};

/// `n_merge` from `clip.vision.spatial_merge_size` (default 1), a warmup of 256 merged tokens
/// (clip.cpp:1535-1544; lightonocr alike, 1545-1554). LightOnOCR has no `[IMG_BREAK]`
/// embedding (load_tensors, clip.cpp:2810-2818), so its graph ends at the projector.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.spatial_merge_size").unwrap_or(1);
    super::warmup_for_tokens(hp, 256);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_pixtral::build`: 2-D RoPE positions, `build_vit` with RMS norms, the optional
    /// patch merger (an im2col over the patch grid), the two-layer GELU projector and the
    /// `[IMG_BREAK]` rows.
    fn pixtral(&mut self) -> Result<Id, String> {
        let n = self.n_patches;
        let pos_h = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let pos_w = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let inp = self.build_inp()?;
        let opts = VitOpts {
            rms: true,
            learned_pos: None,
            rope_2d: Some((pos_h, pos_w)),
            rope_multi: None,
            gemma4v: false,
        };
        let mut cur = self.build_vit(inp, n, &opts)?;
        let e = self.hp.n_embd;
        let m = self.hp.n_merge.max(1);
        let side = self.n_patches_x;
        if let Some(merger) = self.w("mm.patch_merger.weight") {
            cur = self.g.like(Op::RmsNorm, cur, &[]);
            let norm = self.w("mm.input_norm.weight");
            cur = self.add_mul(cur, norm);
            cur = self.g.reshape(cur, [e, side, side, 1]);
            let p = self.g.permute(cur, [2, 0, 1, 3]);
            cur = self.g.cont(p);
            // The dummy kernel is a view of `cur` (pixtral.cpp:48): it only shapes im2col.
            let kernel = self.g.view(cur, [m, m, e, 1], [4, 0, 0, 0], 0);
            let col = self.g.op(
                Op::Im2Col,
                Ty::F32,
                [e * m * m, side / m, side / m, 1],
                &[kernel, cur],
            );
            let ne = self.g.ne(col);
            cur = self.g.reshape(col, [ne[0], ne[1] * ne[2], 1, 1]);
            cur = self.g.mul_mat(merger, cur);
        }
        let (up, up_b) = (self.w("mm.1.weight"), self.w("mm.1.bias"));
        let (down, down_b) = (self.w("mm.2.weight"), self.w("mm.2.bias"));
        cur = self.build_ffn(cur, up, up_b, None, None, down, down_b, false);
        if let Some(brk) = self.w("v.token_embd.img_break") {
            let (p_x, p_y) = (side / m, side / m);
            let et = self.g.ne(cur)[0];
            let tmp = self.g.reshape(cur, [et, p_x, p_y, 1]);
            let tok = self.g.leaf(Ty::F32, [et, 1, p_y, 1]);
            let tok = self.g.like(Op::Scale, tok, &[]);
            let tok = self.g.like(Op::Add, tok, &[brk]);
            let cat = self
                .g
                .op(Op::Concat, Ty::F32, [et, p_x + 1, p_y, 1], &[tmp, tok]);
            let n_out = p_x * p_y + p_y - 1;
            cur = self
                .g
                .view(cat, [et, n_out, 1, 1], [4, et * 4, et * 4 * n_out, 0], 0);
        }
        Ok(cur)
    }
}

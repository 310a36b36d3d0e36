//! Kimi-VL's MoonViT: `clip_graph_kimivl` (tools/mtmd/models/kimivl.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["kimivl"],
    hparams,
    build: |b, _| b.kimivl(),
};

/// `n_merge` from `clip.vision.projector.scale_factor` (default 1), a warmup of 256 merged
/// tokens (clip.cpp:1583-1590).
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.projector.scale_factor").unwrap_or(1);
    super::warmup_for_tokens(hp, 256);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_kimivl::build`: the two position inputs, the learned position grid resized
    /// to the image, `build_vit` with 2-D RoPE (x then y), the patch merge, a layer norm over
    /// `n_embd`-wide rows of the merged tokens (two 2-D views) and the GELU projector.
    fn kimivl(&mut self) -> Result<Id, String> {
        let n = self.n_patches;
        let pos_h = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let pos_w = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let pos = self.resize_position_embeddings()?;
        let inp = self.build_inp()?;
        let opts = VitOpts {
            rms: false,
            learned_pos: pos,
            rope_2d: Some((pos_w, pos_h)),
            rope_multi: None,
            gemma4v: false,
        };
        let cur = self.build_vit(inp, n, &opts)?;
        let cur = self.patch_merge_permute(cur)?;
        let s = self.hp.n_merge;
        let e = self.hp.n_embd;
        let [proj_inp_dim, rows, ..] = self.g.ne(cur);
        // kimivl.cpp:36-38: ggml_view_2d(cur, n_embd, ne1 * s * s, row_size(n_embd), 0)
        let n_rows = rows * s * s;
        let cur = self.g.view(
            cur,
            [e, n_rows, 1, 1],
            [4, e * 4, e * 4 * n_rows, e * 4 * n_rows],
            0,
        );
        let cur = self.g.like(Op::Norm, cur, &[]);
        let w = self.need("mm.input_norm.weight")?;
        let cur = self.g.like(Op::Mul, cur, &[w]);
        let b = self.need("mm.input_norm.bias")?;
        let cur = self.g.like(Op::Add, cur, &[b]);
        // kimivl.cpp:42-44: back to `proj_inp_dim`-wide rows
        let n_rows = self.g.ne(cur)[1] / s / s;
        let row = proj_inp_dim * 4;
        let cur = self.g.view(
            cur,
            [proj_inp_dim, n_rows, 1, 1],
            [4, row, row * n_rows, row * n_rows],
            0,
        );
        let (up, up_b) = (self.w("mm.1.weight"), self.w("mm.1.bias"));
        let (down, down_b) = (self.w("mm.2.weight"), self.w("mm.2.bias"));
        Ok(self.build_ffn(cur, up, up_b, None, None, down, down_b, false))
    }
}

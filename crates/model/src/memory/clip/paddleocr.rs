//! PaddleOCR-VL's SigLIP variant: `clip_graph_paddleocr` (tools/mtmd/models/paddleocr.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["paddleocr"],
    hparams,
    build: |b, _| b.paddleocr(),
};

/// `n_merge` 2 whatever the header says, a warmup of 28x28 merged tokens (clip.cpp:1900-1907).
fn hparams(_: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = 2;
    super::warmup_for_tokens(hp, 28 * 28);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_paddleocr::build`: the M-RoPE positions (4 per patch), the learned position
    /// grid resized to the image, `build_vit` with one `ggml_rope_multi` on q and k, then the
    /// mlp_AR projector: a layer norm, the patch merge and the two-layer MLP.
    fn paddleocr(&mut self) -> Result<Id, String> {
        let n = self.n_patches;
        let positions = self.g.input(Ty::I32, [n * 4, 1, 1, 1]);
        let pos = self.resize_position_embeddings()?;
        let inp = self.build_inp()?;
        let opts = VitOpts {
            rms: false,
            learned_pos: pos,
            rope_2d: None,
            rope_multi: Some(positions),
            gemma4v: false,
        };
        let cur = self.build_vit(inp, n, &opts)?;
        let (w, b) = (self.w("mm.input_norm.weight"), self.w("mm.input_norm.bias"));
        let cur = self.build_norm(cur, w, b, false);
        let cur = self.patch_merge_permute(cur)?;
        let (up, up_b) = (self.w("mm.1.weight"), self.w("mm.1.bias"));
        let (down, down_b) = (self.w("mm.2.weight"), self.w("mm.2.bias"));
        Ok(self.build_ffn(cur, up, up_b, None, None, down, down_b, false))
    }
}

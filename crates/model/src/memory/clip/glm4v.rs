//! GLM-4.1V / GLM-4.5V encoders: `clip_graph_glm4v` (tools/mtmd/models/glm4v.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["glm4v"],
    hparams,
    build: |b, _| b.glm4v(),
};

/// `load_hparams`' GLM4V case (clip.cpp:1766-1774): `n_merge` from
/// `clip.vision.spatial_merge_size` (default 2), a warmup image of 46×46 merged patches.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.spatial_merge_size").unwrap_or(2);
    if hp.n_merge == 0 || hp.n_merge > 64 {
        return Err("spatial merge size out of range".into());
    }
    super::warmup_for_tokens(hp, 46 * 46);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_glm4v::build` (models/glm4v.cpp:3-124): Qwen-VL's two-frame patch embedding
    /// and 2×2 row regrouping, the patch bias, the post-conv RMS norm, learned positions
    /// (resized, regrouped), `build_vit` with RMS norms and M-RoPE, then the merger: a
    /// convolution over each merged patch (`mm.patch_merger`), `mm.model.fc`, a LayerNorm, GELU
    /// and a gated FFN (`mm.gate/up/down`).
    fn glm4v(&mut self) -> Result<Id, String> {
        let n_pos = self.n_patches;
        let e = self.hp.n_embd;
        let m = self.hp.n_merge;
        if self.n_patches_x % 2 != 0 || self.n_patches_x % m != 0 {
            return Err("the warmup grid is not a multiple of the merge size".into());
        }
        self.need("v.patch_embd.bias")?;

        // glm4v.cpp:11-38: both convolutions (the positions input is created in between),
        // their sum, the row regrouping.
        let inp = self.qwen_inp()?;
        let positions = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        let inp = self.g.permute(inp, [1, 2, 0, 3]);
        let inp = self.qwen_merge_rows(inp);
        // glm4v.cpp:41-47
        let bias = self.w("v.patch_embd.bias");
        let mut inp = self.add_opt(inp, bias);
        if let Some(w) = self.w("v.norm_embd.weight") {
            let b = self.w("v.norm_embd.bias");
            inp = self.build_norm(inp, Some(w), b, true);
        }
        // glm4v.cpp:49-64
        let learned_pos = if self.gguf.tensor("v.position_embd.weight").is_some() {
            let pos = self.qwen3vl_pos_embd()?;
            Some(self.qwen_merge_rows(pos))
        } else {
            None
        };
        let opts = VitOpts {
            rms: true,
            learned_pos,
            rope_2d: None,
            rope_multi: Some(positions),
            gemma4v: false,
        };
        let cur = self.build_vit(inp, n_pos, &opts)?;

        // Patch merger (glm4v.cpp:87-98).
        let n_out = n_pos / (m * m);
        let cur = self.g.reshape(cur, [e, m, m, n_out]);
        let cur = self.g.permute(cur, [2, 0, 1, 3]);
        let cur = self.g.cont(cur);
        let name = "mm.patch_merger.weight";
        let (kt, kne) = match self.gguf.tensor(name) {
            Some(t) => (t.ggml_type(), t.ne()),
            None => return Err(format!("{name} missing")),
        };
        let k = self.need(name)?;
        let cur = self.conv_2d_with(k, kt, kne, cur, [1, 1, n_out]);
        let d = self.g.ne(cur)[2];
        let cur = self.g.reshape(cur, [d, n_out, 1, 1]);
        let b = self.need("mm.patch_merger.bias")?;
        let cur = self.g.like(Op::Add, cur, &[b]);

        // FC projector (glm4v.cpp:101-107).
        let fc = self.need("mm.model.fc.weight")?;
        let cur = self.g.mul_mat(fc, cur);
        let (w, b) = (self.w("mm.post_norm.weight"), self.w("mm.post_norm.bias"));
        let cur = self.build_norm(cur, w, b, false);
        let cur = self.g.like(Op::Unary, cur, &[]);

        // FFN projector (glm4v.cpp:110-118).
        let up = self.w("mm.up.weight");
        let up_b = self.w("mm.up.bias");
        let gate = self.w("mm.gate.weight");
        let gate_b = self.w("mm.gate.bias");
        let down = self.w("mm.down.weight");
        let down_b = self.w("mm.down.bias");
        Ok(self.build_ffn(cur, up, up_b, gate, gate_b, down, down_b, false))
    }
}

//! SigLIP encoders: `clip_graph_siglip` (tools/mtmd/models/siglip.cpp).

use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["gemma3", "idefics3"],
    hparams,
    build: |b, t| b.siglip(t),
};

/// gemma3 pools by 4 unless the file says otherwise, idefics3 reads its scale factor (default
/// 1) (clip.cpp:1509-1512, 1634-1642); the warmup image is `image_size` for both.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, t: &str, hp: &mut Hparams) -> Result<(), String> {
    let scale = super::uint(gguf, "clip.vision.projector.scale_factor");
    hp.n_merge = match t {
        "gemma3" => scale.unwrap_or(4),
        _ => scale.unwrap_or(1),
    };
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_siglip::build` (models/siglip.cpp) for gemma3 and idefics3, `build_vit` with
    /// a learned position embedding and no pre-norm.
    pub(super) fn siglip(&mut self, projector_type: &str) -> Result<Id, String> {
        let inp = self.build_inp()?;
        let pos = self.w("v.position_embd.weight");
        let mut inp = self.add_opt(inp, pos);
        inp = self.g.reshape(inp, [self.hp.n_embd, self.n_patches, 1, 1]);
        let mut inp_l = inp;
        for il in 0..self.hp.n_layer {
            inp_l = self.layer(inp_l, il, self.n_patches)?;
        }
        let (w, b) = (self.w("v.post_ln.weight"), self.w("v.post_ln.bias"));
        if w.is_some() {
            inp_l = self.build_norm(inp_l, w, b, false);
        }
        let cur = self
            .g
            .reshape(inp_l, [self.hp.n_embd, self.n_patches, 1, 1]);
        match projector_type {
            "gemma3" => {
                let side = self.n_patches_x;
                let k = self.hp.n_merge.max(1);
                let t = self.g.transpose(cur);
                let cur = self
                    .g
                    .op(Op::Cont, Ty::F32, [side, side, self.hp.n_embd, 1], &[t]);
                let out = side / k;
                let cur = self
                    .g
                    .op(Op::Pool2d, Ty::F32, [out, out, self.hp.n_embd, 1], &[cur]);
                let cur = self.g.reshape(cur, [out * out, self.hp.n_embd, 1, 1]);
                let t = self.g.transpose(cur);
                let cur = self.g.cont(t);
                let cur = self.g.like(Op::RmsNorm, cur, &[]);
                let norm = self.w("mm.soft_emb_norm.weight");
                let cur = self.add_mul(cur, norm);
                let proj = self
                    .w("mm.input_projection.weight")
                    .ok_or("mm.input_projection.weight missing")?;
                let t = self.g.transpose(proj);
                let proj_t = self.g.cont(t);
                Ok(self.g.mul_mat(proj_t, cur))
            }
            "idefics3" => {
                let cur = self.patch_merge_permute(cur)?;
                let fc = self
                    .w("mm.model.fc.weight")
                    .ok_or("mm.model.fc.weight missing")?;
                Ok(self.g.mul_mat(fc, cur))
            }
            other => Err(format!("{other}: not a SigLIP graph")),
        }
    }
}

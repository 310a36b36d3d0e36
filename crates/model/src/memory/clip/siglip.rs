//! SigLIP encoders: `clip_graph_siglip` (tools/mtmd/models/siglip.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["gemma3", "idefics3", "lfm2", "phi4", "janus_pro"],
    hparams,
    build: |b, t| b.siglip(t),
};

/// gemma3 pools by 4 unless the file says otherwise, idefics3 and lfm2 read their scale
/// factor (default 1) (clip.cpp:1509-1520, 1634-1642). The warmup image is `image_size` for
/// gemma3 and idefics3; lfm2's is the side of its 256-token limit,
/// `set_limit_image_tokens(64, 256)` (clip.cpp:1524, clip-model.h:192-197). phi4 merges
/// nothing and warms up on 16x16 patches (clip.cpp:1526-1533); janus_pro keeps the defaults
/// (clip.cpp:2015-2019).
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, t: &str, hp: &mut Hparams) -> Result<(), String> {
    let scale = super::uint(gguf, "clip.vision.projector.scale_factor");
    hp.n_merge = match t {
        "gemma3" => scale.unwrap_or(4),
        "phi4" | "janus_pro" => 1,
        _ => scale.unwrap_or(1),
    };
    match t {
        "lfm2" | "phi4" => super::warmup_for_tokens(hp, 256),
        _ => {}
    }
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_siglip::build` (models/siglip.cpp): `build_vit` with a learned position
    /// embedding (resized for lfm2 and phi4, siglip.cpp:7-9), then the type's projector.
    pub(super) fn siglip(&mut self, projector_type: &str) -> Result<Id, String> {
        let inp = self.build_inp()?;
        let pos = match projector_type {
            "lfm2" | "phi4" => self.resize_position_embeddings()?,
            _ => self.w("v.position_embd.weight"),
        };
        let opts = VitOpts {
            rms: false,
            learned_pos: pos,
            rope_2d: None,
            rope_multi: None,
            gemma4v: false,
        };
        let cur = self.build_vit(inp, self.n_patches, &opts)?;
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
            "lfm2" => {
                let mut cur = self.patch_merge_permute(cur)?;
                if let Some(w) = self.w("mm.input_norm.weight") {
                    cur = self.g.like(Op::Norm, cur, &[]);
                    cur = self.g.like(Op::Mul, cur, &[w]);
                }
                let b = self.w("mm.input_norm.bias");
                cur = self.add_opt(cur, b);
                let (up, up_b) = (self.w("mm.1.weight"), self.w("mm.1.bias"));
                let (down, down_b) = (self.w("mm.2.weight"), self.w("mm.2.bias"));
                Ok(self.build_ffn(cur, up, up_b, None, None, down, down_b, false))
            }
            // siglip.cpp:84-100: a two-layer MLP, mm.0 and mm.1 (janus_pro) or mm.2 (phi4)
            "janus_pro" | "phi4" => {
                let (up, up_b) = (self.w("mm.0.weight"), self.w("mm.0.bias"));
                let d = if projector_type == "phi4" { 2 } else { 1 };
                let down = self.w(&format!("mm.{d}.weight"));
                let down_b = self.w(&format!("mm.{d}.bias"));
                Ok(self.build_ffn(cur, up, up_b, None, None, down, down_b, false))
            }
            other => Err(format!("{other}: not a SigLIP graph")),
        }
    }

    /// `resize_position_embeddings` (clip.cpp:312-335): the learned grid interpolated to the
    /// image's patches when their counts differ.
    pub(super) fn resize_position_embeddings(&mut self) -> Result<Option<Id>, String> {
        let Some(t) = self.gguf.tensor("v.position_embd.weight") else {
            return Err("v.position_embd.weight missing".into());
        };
        let n_per_side = t.ne()[1].isqrt();
        let pos = self.w("v.position_embd.weight");
        let side = self.n_patches_x;
        if side == n_per_side {
            return Ok(pos);
        }
        let Some(pos) = pos else { return Ok(None) };
        let e = self.hp.n_embd;
        let p = self.g.reshape(pos, [e, n_per_side, n_per_side, 1]);
        let p = self.g.permute(p, [2, 0, 1, 3]);
        let p = self.g.op(Op::Upscale, Ty::F32, [side, side, e, 1], &[p]);
        let p = self.g.permute(p, [1, 2, 0, 3]);
        Ok(Some(self.g.op(
            Op::Cont,
            Ty::F32,
            [e, side * side, 1, 1],
            &[p],
        )))
    }
}

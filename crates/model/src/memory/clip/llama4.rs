//! Llama 4 vision encoders: `clip_graph_llama4` (tools/mtmd/models/llama4.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["llama4"],
    hparams,
    build: |b, _| b.llama4(),
};

/// clip.cpp:1788-1794: the pixel-shuffle factor from `clip.vision.projector.scale_factor`
/// (default 1, clip-model.h:60); the warmup image is `image_size`.
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.projector.scale_factor").unwrap_or(1);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_llama4::build` (models/llama4.cpp:3-96).
    pub(super) fn llama4(&mut self) -> Result<Id, String> {
        let (e, n) = (self.hp.n_embd, self.n_patches);
        let n_pos = n + 1;
        let pos_h = self.g.input(Ty::I32, [n_pos, 1, 1, 1]);
        let pos_w = self.g.input(Ty::I32, [n_pos, 1, 1, 1]);
        let side = self.hp.warmup_image_size;
        let inp_raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        // Llama4UnfoldConvolution (models/llama4.cpp:20-28): im2col of the kernel seen as 4D,
        // in the input's type, then the 2D kernel's product.
        let ps = self.hp.patch_size;
        let pe = self
            .w("v.patch_embd.weight")
            .ok_or("v.patch_embd.weight missing")?;
        let kernel = self.g.reshape(pe, [ps, ps, 3, e]);
        let px = self.n_patches_x;
        let col = self.g.op(
            Op::Im2Col,
            Ty::F32,
            [ps * ps * 3, px, px, 1],
            &[kernel, inp_raw],
        );
        let inp = self.g.mul_mat(pe, col);
        let inp = self.g.reshape(inp, [e, n, 1, 1]);
        // The [CLS] token (models/llama4.cpp:30).
        let class = self.w("v.class_embd").ok_or("v.class_embd missing")?;
        let inp = self
            .g
            .op(Op::Concat, Ty::F32, [e, n_pos, 1, 1], &[inp, class]);
        let pos = self
            .w("v.position_embd.weight")
            .ok_or("v.position_embd.weight missing")?;
        let opts = VitOpts {
            rms: false,
            learned_pos: Some(pos),
            rope_2d: Some((pos_w, pos_h)),
            rope_multi: None,
            gemma4v: false,
        };
        let cur = self.build_vit(inp, n_pos, &opts)?;
        // Without [CLS] (models/llama4.cpp:47-50), then the pixel shuffle (52-77).
        let cur = self
            .g
            .view(cur, [e, n, 1, 1], [4, 4 * e, 4 * e * n, 4 * e * n], 0);
        let s = self.hp.n_merge;
        if s == 0 || px % s != 0 {
            return Err(format!(
                "scale factor {s} does not divide {px} patches per side"
            ));
        }
        let cur = self.g.reshape(cur, [e * s, px / s, px, 1]);
        let cur = self.g.permute(cur, [0, 2, 1, 3]);
        let cur = self
            .g
            .op(Op::Cont, Ty::F32, [e * s * s, px / s, px / s, 1], &[cur]);
        let mut cur = self
            .g
            .op(Op::Cont, Ty::F32, [e * s * s, n / s / s, 1, 1], &[cur]);
        // Llama4VisionMLP2 and the projector (models/llama4.cpp:79-90).
        for name in ["mm.model.mlp.1.weight", "mm.model.mlp.2.weight"] {
            let w = self.w(name).ok_or_else(|| format!("{name} missing"))?;
            cur = self.g.mul_mat(w, cur);
            cur = self.g.like(Op::Unary, cur, &[]);
        }
        let proj = self
            .w("mm.model.fc.weight")
            .ok_or("mm.model.fc.weight missing")?;
        Ok(self.g.mul_mat(proj, cur))
    }
}

//! InternVL encoders: `clip_graph_internvl` (tools/mtmd/models/internvl.cpp).

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["internvl"],
    hparams,
    build: |b, _| b.internvl(),
};

/// `n_merge` from the scale factor (default 1); the warmup image is `image_size`
/// (clip.cpp:1479-1487).
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.projector.scale_factor").unwrap_or(1);
    Ok(())
}

impl Builder<'_, '_> {
    /// `clip_graph_internvl::build`: the class token appended, `build_vit` (RMS norms for the
    /// 6B ViT: n_embd 3200, 45 layers), the class token dropped, the pixel shuffle, the
    /// normed two-layer GELU projector.
    fn internvl(&mut self) -> Result<Id, String> {
        let e = self.hp.n_embd;
        let n = self.n_patches;
        let inp = self.build_inp()?;
        let cls = self.w("v.class_embd").ok_or("v.class_embd missing")?;
        let cls = self.g.op(Op::Other, Ty::F32, [e, 1, 1, 1], &[cls]); // ggml_repeat_4d
        let inp = self
            .g
            .op(Op::Concat, Ty::F32, [e, n + 1, 1, 1], &[inp, cls]);
        let opts = VitOpts {
            rms: e == 3200 && self.hp.n_layer == 45,
            learned_pos: self.w("v.position_embd.weight"),
            rope_2d: None,
            rope_multi: None,
            gemma4v: false,
        };
        let cur = self.build_vit(inp, n + 1, &opts)?;
        let cur = self
            .g
            .view(cur, [e, n, 1, 1], [4, e * 4, e * 4 * (n + 1), 0], 0);
        let cur = self.g.cont(cur);
        let s = self.hp.n_merge.max(1);
        let side = self.n_patches_x;
        if side % s != 0 {
            return Err(format!(
                "scale factor {s} does not divide {side} patches per side"
            ));
        }
        let cur = self.g.reshape(cur, [e * s, side / s, side, 1]);
        let p = self.g.permute(cur, [0, 2, 1, 3]);
        let cur = self
            .g
            .op(Op::Cont, Ty::F32, [e * s * s, side / s, side / s, 1], &[p]);
        let p = self.g.permute(cur, [0, 2, 1, 3]);
        let ne = self.g.ne(p);
        let cur = self
            .g
            .op(Op::Cont, Ty::F32, [ne[0], ne[1] * ne[2], ne[3], 1], &[p]);
        let (w, b) = (
            self.w("mm.model.mlp.0.weight"),
            self.w("mm.model.mlp.0.bias"),
        );
        let cur = self.build_norm(cur, w, b, false);
        let (up, up_b) = (
            self.w("mm.model.mlp.1.weight"),
            self.w("mm.model.mlp.1.bias"),
        );
        let (down, down_b) = (
            self.w("mm.model.mlp.3.weight"),
            self.w("mm.model.mlp.3.bias"),
        );
        Ok(self.build_ffn(cur, up, up_b, None, None, down, down_b, false))
    }
}

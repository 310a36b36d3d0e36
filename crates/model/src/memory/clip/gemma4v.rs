//! Gemma 4 vision encoders: `clip_graph_gemma4v` (tools/mtmd/models/gemma4v.cpp): `build_vit`
//! with clamped matrix products, RMS norms and 2-D RoPE, then the pooler.

use ggufscope_gguf::GgmlType;

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["gemma4v"],
    hparams,
    build: |b, _| b.gemma4v(),
};

/// clip.cpp:1644-1658: pooling kernel 3 unless `clip.vision.projector.scale_factor` says
/// otherwise, and a warmup image of 256 pooled tokens (`set_warmup_n_tokens(256)`, which
/// overrides the size `set_limit_image_tokens` set just before).
fn hparams(gguf: &ggufscope_gguf::Gguf<'_>, _: &str, hp: &mut Hparams) -> Result<(), String> {
    hp.n_merge = super::uint(gguf, "clip.vision.projector.scale_factor").unwrap_or(3);
    if hp.n_merge == 0 {
        return Err("pooling kernel 0".into());
    }
    super::warmup_for_tokens(hp, 256);
    Ok(())
}

/// The bytes of one element of a position table (f32, else f16): the strides of its views.
fn elem_size(t: GgmlType) -> u64 {
    match t {
        GgmlType::F32 => 4,
        _ => 2,
    }
}

impl Builder<'_, '_> {
    /// `clip_graph_gemma4v::build` (models/gemma4v.cpp:4-118).
    pub(super) fn gemma4v(&mut self) -> Result<Id, String> {
        let (e, n) = (self.hp.n_embd, self.n_patches);
        let side = self.hp.warmup_image_size;
        let inp_raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        // ggml_scale_bias: patches * 2 - 1.
        let inp_raw = self.g.like(Op::Scale, inp_raw, &[]);
        let mut inp = self.patches(inp_raw)?;
        let pos_x = self.g.input(Ty::I32, [n, 1, 1, 1]);
        let pos_y = self.g.input(Ty::I32, [n, 1, 1, 1]);
        // models/gemma4v.cpp:25-44: the x and y halves of the table, gathered and added.
        let pt = self
            .gguf
            .tensor("v.position_embd.weight")
            .ok_or("v.position_embd.weight missing")?;
        let (pos_size, es) = (pt.ne()[1], elem_size(pt.ggml_type()));
        let table = self.w("v.position_embd.weight").ok_or("position_embd")?;
        let nb1 = es * e;
        let nb = [es, nb1, nb1 * pos_size, nb1 * pos_size];
        let tbl_x = self.g.view(table, [e, pos_size, 1, 1], nb, 0);
        let tbl_y = self.g.view(table, [e, pos_size, 1, 1], nb, pos_size * nb1);
        let emb_x = self
            .g
            .op(Op::GetRows, Ty::F32, [e, n, 1, 1], &[tbl_x, pos_x]);
        let emb_y = self
            .g
            .op(Op::GetRows, Ty::F32, [e, n, 1, 1], &[tbl_y, pos_y]);
        inp = self.g.like(Op::Add, inp, &[emb_x]);
        inp = self.g.like(Op::Add, inp, &[emb_y]);
        let opts = VitOpts {
            rms: true,
            learned_pos: None,
            rope_2d: Some((pos_x, pos_y)),
            rope_multi: None,
            gemma4v: true,
        };
        let cur = self.build_vit(inp, n, &opts)?;
        // The pooler (models/gemma4v.cpp:83-99).
        let k = self.hp.n_merge;
        let px = self.n_patches_x;
        if k == 0 || px < k {
            return Err(format!("pooling kernel {k} over {px} patches per side"));
        }
        let t = self.g.transpose(cur);
        let cur = self.g.op(Op::Cont, Ty::F32, [px, px, e, 1], &[t]);
        let out = (px - k) / k + 1;
        let cur = self.g.op(Op::Pool2d, Ty::F32, [out, out, e, 1], &[cur]);
        let cur = self.g.reshape(cur, [out * out, e, 1, 1]);
        let t = self.g.transpose(cur);
        let mut cur = self.g.cont(t);
        cur = self.g.like(Op::Scale, cur, &[]);
        // models/gemma4v.cpp:101-106.
        if let (Some(_), Some(_)) = (
            self.gguf.tensor("v.std_bias"),
            self.gguf.tensor("v.std_scale"),
        ) {
            let b = self.w("v.std_bias").ok_or("v.std_bias")?;
            cur = self.g.like(Op::Sub, cur, &[b]);
            let s = self.w("v.std_scale").ok_or("v.std_scale")?;
            cur = self.g.like(Op::Mul, cur, &[s]);
        }
        cur = self.g.like(Op::RmsNorm, cur, &[]);
        let proj = self
            .w("mm.input_projection.weight")
            .ok_or("mm.input_projection.weight missing")?;
        Ok(self.mm(proj, cur, true))
    }
}

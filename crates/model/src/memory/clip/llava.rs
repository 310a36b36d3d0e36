//! CLIP encoders with a LLaVA projector: `clip_graph_llava` (tools/mtmd/models/llava.cpp).

use super::vit::VitOpts;
use super::{Builder, Family};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["mlp"],
    hparams: |_, _, _| Ok(()),
    build: |b, _| b.llava(),
};

impl Builder<'_, '_> {
    /// `clip_graph_llava::build` (models/llava.cpp) for `mlp`: class embedding, learned
    /// positions gathered by an input, pre-norm, every layer but the last, the two-layer MLP.
    pub(super) fn llava(&mut self) -> Result<Id, String> {
        let class = self.w("v.class_embd");
        let n_pos = self.n_patches + u64::from(class.is_some());
        let mut inp = self.build_inp()?;
        if let Some(c) = class {
            inp = self.g.op(
                Op::Concat,
                Ty::F32,
                [self.hp.n_embd, n_pos, 1, 1],
                &[inp, c],
            );
        }
        let positions = self.g.input(Ty::I32, [n_pos, 1, 1, 1]);
        let pos_w = self
            .w("v.position_embd.weight")
            .ok_or("v.position_embd.weight missing")?;
        let rows = self.g.op(
            Op::GetRows,
            Ty::F32,
            [self.hp.n_embd, n_pos, 1, 1],
            &[pos_w, positions],
        );
        let inp = self.g.like(Op::Add, inp, &[rows]);
        let mut inp_l = inp;
        let (w, b) = (self.w("v.pre_ln.weight"), self.w("v.pre_ln.bias"));
        if w.is_some() {
            inp_l = self.build_norm(inp_l, w, b, false);
        }
        // The last layer is not run: max_feature_layer = n_layer - 1 (models/llava.cpp:13-30).
        let plain = VitOpts {
            rms: false,
            learned_pos: None,
            rope_2d: None,
            rope_multi: None,
            gemma4v: false,
        };
        for il in 0..self.hp.n_layer.saturating_sub(1) {
            inp_l = self.vit_layer(inp_l, il, n_pos, &plain)?;
        }
        let (w, b) = (self.w("v.post_ln.weight"), self.w("v.post_ln.bias"));
        if w.is_some() {
            inp_l = self.build_norm(inp_l, w, b, false);
        }
        let emb = self.g.reshape(inp_l, [self.hp.n_embd, n_pos, 1, 1]);
        let patches = self.g.input(Ty::I32, [self.n_patches, 1, 1, 1]);
        let mut emb = self.g.op(
            Op::GetRows,
            Ty::F32,
            [self.hp.n_embd, self.n_patches, 1, 1],
            &[emb, patches],
        );
        let mm0 = self.w("mm.0.weight").ok_or("mm.0.weight missing")?;
        emb = self.g.mul_mat(mm0, emb);
        let b = self.w("mm.0.bias");
        emb = self.add_opt(emb, b);
        emb = self.g.like(Op::Unary, emb, &[]);
        if let Some(mm2) = self.w("mm.2.weight") {
            emb = self.g.mul_mat(mm2, emb);
            let b = self.w("mm.2.bias");
            emb = self.add_opt(emb, b);
        }
        Ok(emb)
    }
}

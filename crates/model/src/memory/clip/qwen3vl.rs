//! Qwen3-VL encoders: `clip_graph_qwen3vl` (tools/mtmd/models/qwen3vl.cpp).

use super::{Builder, Family};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["qwen3vl_merger"],
    // The Qwen-VL case of load_hparams (clip.cpp:1668-1686), shared with Qwen2(.5)-VL.
    hparams: super::qwen2vl::hparams,
    build: |b, _| b.qwen3vl(),
};

impl Builder<'_, '_> {
    /// `resize_position_embeddings` (clip.cpp:312-332): the learned table as is when it has
    /// the warmup grid's size, else bilinearly interpolated to it (`ggml_interpolate`) and
    /// copied back to `[n_embd, n_patches]`.
    pub(super) fn qwen3vl_pos_embd(&mut self) -> Result<Id, String> {
        let name = "v.position_embd.weight";
        let Some(t) = self.gguf.tensor(name) else {
            return Err(format!("{name} missing"));
        };
        let n_per_side = t.ne()[1].isqrt();
        let pos = self.w(name).ok_or_else(|| format!("{name} missing"))?;
        let (e, side) = (self.hp.n_embd, self.n_patches_x);
        if side == n_per_side {
            return Ok(pos);
        }
        let p = self.g.reshape(pos, [e, n_per_side, n_per_side, 1]);
        let p = self.g.permute(p, [2, 0, 1, 3]);
        let p = self.g.op(Op::Upscale, Ty::F32, [side, side, e, 1], &[p]);
        let p = self.g.permute(p, [1, 2, 0, 3]);
        Ok(self.g.op(Op::Cont, Ty::F32, [e, side * side, 1, 1], &[p]))
    }

    /// `clip_graph_qwen3vl::build` (models/qwen3vl.cpp:3-186): a fused QKV projection, learned
    /// positions added to the patches, and deepstack features of some layers (norm and an MLP
    /// on groups of merged patches) concatenated to the merger's output. Nothing asks for the
    /// deepstack branches until the final concatenation, so they enter the graph last.
    fn qwen3vl(&mut self) -> Result<Id, String> {
        let n_pos = self.n_patches;
        let (e, nh, dh) = (self.hp.n_embd, self.hp.n_head, self.hp.d_head);

        let inp = self.qwen_inp()?;
        // Spatial merge and patch bias (qwen3vl.cpp:18-38).
        let inp = self.g.permute(inp, [1, 2, 0, 3]);
        let inp = self.qwen_merge_rows(inp);
        let bias = self.w("v.patch_embd.bias");
        let inp = self.add_opt(inp, bias);
        // Learned positions (qwen3vl.cpp:39-52).
        let pos = self.qwen3vl_pos_embd()?;
        let pos = self.qwen_merge_rows(pos);
        let inp = self.g.like(Op::Add, inp, &[pos]);
        let mut inp_l = inp;

        let positions = self.g.input(Ty::I32, [n_pos * 4, 1, 1, 1]);
        if let Some(w) = self.w("v.pre_ln.weight") {
            let b = self.w("v.pre_ln.bias");
            inp_l = self.build_norm(inp_l, Some(w), b, false);
        }

        let merge_factor = if self.hp.n_merge > 0 {
            self.hp.n_merge * self.hp.n_merge
        } else {
            4
        };
        let mut deepstack: Option<Id> = None;
        for il in 0..self.hp.n_layer {
            let (w, b) = (self.wl(il, "ln1.weight"), self.wl(il, "ln1.bias"));
            let cur = self.build_norm(inp_l, w, b, false);
            let qkv_w = self
                .wl(il, "attn_qkv.weight")
                .ok_or_else(|| format!("v.blk.{il}.attn_qkv.weight missing"))?;
            let qkv_b = self.wl(il, "attn_qkv.bias");
            let cur = self.g.mul_mat(qkv_w, cur);
            let cur = self.add_opt(cur, qkv_b);
            // ggml_view_3d at 0, n_embd and 2·n_embd floats of each row (qwen3vl.cpp:80-98).
            let row = self.g.ne(cur)[0] * 4;
            let nb = [4, dh * 4, row, row * n_pos];
            let q = self.g.view(cur, [dh, nh, n_pos, 1], nb, 0);
            let k = self.g.view(cur, [dh, nh, n_pos, 1], nb, e * 4);
            let v = self.g.view(cur, [dh, nh, n_pos, 1], nb, 2 * e * 4);
            let q = self.qwen_rope(q, positions);
            let k = self.qwen_rope(k, positions);
            let cur = self.build_attn((q, k, v), None, il, false);
            let cur = self.g.like(Op::Add, cur, &[inp_l]);
            inp_l = cur;
            let (w, b) = (self.wl(il, "ln2.weight"), self.wl(il, "ln2.bias"));
            let cur = self.build_norm(cur, w, b, false);
            let cur = self.qwen_layer_ffn(cur, il);
            let cur = self.g.like(Op::Add, inp_l, &[cur]);

            // Deepstack (qwen3vl.cpp:143-158): `has_deepstack` is the presence of fc1.
            let ds = format!("v.deepstack.{il}");
            if self.gguf.tensor(&format!("{ds}.fc1.weight")).is_some() {
                let feat = self
                    .g
                    .reshape(cur, [e * merge_factor, n_pos / merge_factor, 1, 1]);
                let (w, b) = (
                    self.w(&format!("{ds}.norm.weight")),
                    self.w(&format!("{ds}.norm.bias")),
                );
                let feat = self.build_norm(feat, w, b, false);
                let feat = self.qwen_ffn(feat, &format!("{ds}.fc1"), None, &format!("{ds}.fc2"));
                deepstack = Some(match deepstack {
                    None => feat,
                    Some(d) => self.concat0(d, feat),
                });
            }
            inp_l = cur;
        }

        if let Some(w) = self.w("v.post_ln.weight") {
            let b = self.w("v.post_ln.bias");
            inp_l = self.build_norm(inp_l, Some(w), b, false);
        }
        let emb = self.qwen_merger(inp_l, n_pos);
        Ok(match deepstack {
            Some(d) => self.concat0(emb, d),
            None => emb,
        })
    }

    /// `ggml_concat(a, b, 0)` (ggml.c:2631-2658).
    fn concat0(&mut self, a: Id, b: Id) -> Id {
        let (na, nb) = (self.g.ne(a), self.g.ne(b));
        self.g.op(
            Op::Concat,
            Ty::F32,
            [na[0] + nb[0], na[1], na[2], na[3]],
            &[a, b],
        )
    }
}

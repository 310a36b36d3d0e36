//! MiniCPM-V encoders (`clip.projector_type` `resampler`): `clip_graph_minicpmv`
//! (tools/mtmd/models/minicpmv.cpp:3-114), a SigLIP ViT and a one-layer perceiver resampler.

use super::vit::VitOpts;
use super::{Builder, Family, Hparams};
use crate::memory::galloc::{Id, Op, Ty};

pub(super) static FAMILY: Family = Family {
    types: &["resampler"],
    hparams,
    build: |b, _| b.minicpmv(),
};

/// `load_hparams`' MINICPMV case (clip.cpp:1452-1458): nothing that changes the warmup image
/// (`clip.vision.image_size`); the query count is read when the graph is built.
fn hparams(_: &ggufscope_gguf::Gguf<'_>, _: &str, _: &mut Hparams) -> Result<(), String> {
    Ok(())
}

/// `hparams.minicpmv_query_num` (clip.cpp:1321-1338): `clip.minicpmv_query_num`, else 64 for
/// `clip.minicpmv_version` 3, 4, 5, 6 and 100045, else 96.
fn query_num(gguf: &ggufscope_gguf::Gguf<'_>) -> u64 {
    if let Some(n) = super::uint(gguf, "clip.minicpmv_query_num").filter(|&n| n > 0) {
        return n;
    }
    let version = gguf
        .metadata()
        .get_i64("clip.minicpmv_version")
        .ok()
        .flatten()
        .unwrap_or(0);
    if matches!(version, 3..=6 | 100_045) {
        64
    } else {
        96
    }
}

impl Builder<'_, '_> {
    /// `clip_graph_minicpmv::build` (models/minicpmv.cpp:3-114).
    fn minicpmv(&mut self) -> Result<Id, String> {
        let n_pos = self.n_patches;
        let proj = "resampler.proj.weight";
        // n_embd_proj = clip_n_mmproj_embd: mm_model_proj->ne[0] (clip.cpp:5982-5983).
        let p = self
            .gguf
            .tensor(proj)
            .map(|t| t.ne()[0])
            .ok_or_else(|| format!("{proj} missing"))?;
        let num_query = query_num(self.gguf);
        let d_head = 128;
        let n_head = p / d_head;
        if n_head == 0 || num_query > 1 << 20 {
            return Err("resampler sizes out of range".into());
        }

        // minicpmv.cpp:11-28
        let omega = self.g.input(Ty::F32, [p / 4, 1, 1, 1]);
        let pos_h = self.g.input(Ty::F32, [1, n_pos, 1, 1]);
        let pos_w = self.g.input(Ty::F32, [1, n_pos, 1, 1]);
        let positions = self.g.input(Ty::I32, [n_pos, 1, 1, 1]);
        let pos_embd = self.need("v.position_embd.weight")?;
        let e = self.hp.n_embd;
        let learned = self.g.op(
            Op::GetRows,
            Ty::F32,
            [e, n_pos, 1, 1],
            &[pos_embd, positions],
        );

        // minicpmv.cpp:30-36
        let inp = self.build_inp()?;
        let opts = VitOpts {
            rms: false,
            learned_pos: Some(learned),
            rope_2d: None,
            rope_multi: None,
            gemma4v: false,
        };
        let emb = self.build_vit(inp, n_pos, &opts)?;

        // minicpmv.cpp:40-45
        let q = self.need("resampler.query")?;
        let kv = self.need("resampler.kv.weight")?;
        let v = self.g.mul_mat(kv, emb);
        let (w, b) = (
            self.w("resampler.ln_q.weight"),
            self.w("resampler.ln_q.bias"),
        );
        let q = self.build_norm(q, w, b, false);
        let (w, b) = (
            self.w("resampler.ln_kv.weight"),
            self.w("resampler.ln_kv.bias"),
        );
        let v = self.build_norm(v, w, b, false);

        // Sinusoidal positions (minicpmv.cpp:48-68): ggml_repeat_4d, ggml_sin / ggml_cos (not
        // in place), ggml_concat.
        let omega_b = self
            .g
            .op(Op::Other, Ty::F32, [p / 4, n_pos, 1, 1], &[omega]);
        let theta_x = self.g.like(Op::Mul, omega_b, &[pos_w]);
        let theta_y = self.g.like(Op::Mul, omega_b, &[pos_h]);
        let sx = self.g.like(Op::Other, theta_x, &[]);
        let cx = self.g.like(Op::Other, theta_x, &[]);
        let px = self
            .g
            .op(Op::Concat, Ty::F32, [p / 2, n_pos, 1, 1], &[sx, cx]);
        let sy = self.g.like(Op::Other, theta_y, &[]);
        let cy = self.g.like(Op::Other, theta_y, &[]);
        let py = self
            .g
            .op(Op::Concat, Ty::F32, [p / 2, n_pos, 1, 1], &[sy, cy]);
        let pos_embed = self.g.op(Op::Concat, Ty::F32, [p, n_pos, 1, 1], &[px, py]);
        let k = self.g.like(Op::Add, v, &[pos_embed]);

        // Attention (minicpmv.cpp:74-103).
        let mut proj_b = |x: Id, what: &str| -> Result<Id, String> {
            let w = self.need(&format!("resampler.attn.{what}.weight"))?;
            let b = self.need(&format!("resampler.attn.{what}.bias"))?;
            let y = self.g.mul_mat(w, x);
            Ok(self.g.like(Op::Add, y, &[b]))
        };
        let qq = proj_b(q, "q")?;
        let kk = proj_b(k, "k")?;
        let vv = proj_b(v, "v")?;
        let qq = self.g.reshape(qq, [d_head, n_head, num_query, 1]);
        let kk = self.g.reshape(kk, [d_head, n_head, n_pos, 1]);
        let vv = self.g.reshape(vv, [d_head, n_head, n_pos, 1]);
        let wo = self.w("resampler.attn.out.weight");
        let wo_b = self.w("resampler.attn.out.bias");
        let emb = self.build_attn_wo((qq, kk, vv), None, (wo, wo_b), false);

        // minicpmv.cpp:105-108
        let (w, b) = (
            self.w("resampler.ln_post.weight"),
            self.w("resampler.ln_post.bias"),
        );
        let emb = self.build_norm(emb, w, b, false);
        let pw = self.need(proj)?;
        Ok(self.g.mul_mat(pw, emb))
    }
}

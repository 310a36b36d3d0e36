//! Writes a small companion file with llama.cpp's key and tensor names, for trying
//! `ggufscope pair` (tensor data all zeros):
//!
//! ```sh
//! cargo run -p ggufscope-testkit --example write_companion -- lora llama 256 lora.gguf
//! cargo run -p ggufscope-testkit --example write_companion -- mmproj pixtral 4096 mmproj.gguf
//! cargo run -p ggufscope-testkit --example write_companion -- cvec controlvector 256 cvec.gguf
//! ```
//!
//! `lora ARCH WIDTH`: a rank-8 adapter on `blk.0.attn_q.weight` ([WIDTH, WIDTH]) for ARCH
//! (`src/llama-adapter.cpp:205-219, 277-297`); `mmproj TYPE WIDTH`: a vision projector of TYPE
//! whose `mm.2.weight` gives WIDTH (`tools/mtmd/clip-impl.h:32-60`, `clip.cpp:5979`);
//! `cvec _ WIDTH`: a control vector with `direction.1` of WIDTH (`common/common.cpp:1904`).

use std::process::ExitCode;

use ggufscope_gguf::{GgmlType, GgufWriter, TensorData};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, name, width, out] = args.as_slice() else {
        eprintln!("usage: write_companion lora|mmproj|cvec ARCH|TYPE WIDTH OUT");
        return ExitCode::from(2);
    };
    let Ok(width) = width.parse::<u64>() else {
        eprintln!("WIDTH must be a number");
        return ExitCode::from(2);
    };
    let mut w = GgufWriter::new();
    match kind.as_str() {
        "lora" => {
            w.add_kv("general.architecture", name.as_str())
                .add_kv("general.type", "adapter")
                .add_kv("adapter.type", "lora")
                .add_kv("adapter.lora.alpha", 16.0f32);
            w.add_tensor(
                "blk.0.attn_q.weight.lora_a",
                GgmlType::F32,
                &[width, 8],
                TensorData::Zeros,
            );
            w.add_tensor(
                "blk.0.attn_q.weight.lora_b",
                GgmlType::F32,
                &[8, width],
                TensorData::Zeros,
            );
        }
        "mmproj" => {
            w.add_kv("general.architecture", "clip")
                .add_kv("clip.projector_type", name.as_str())
                .add_kv("clip.has_vision_encoder", true);
            for (k, v) in [
                ("embedding_length", 1024u32),
                ("attention.head_count", 16),
                ("feed_forward_length", 4096),
                ("block_count", 24),
                ("projection_dim", 1024),
                ("image_size", 1024),
                ("patch_size", 16),
            ] {
                w.add_kv(format!("clip.vision.{k}"), v);
            }
            w.add_kv("clip.vision.attention.layer_norm_epsilon", 1e-5f32);
            w.add_tensor(
                "mm.2.weight",
                GgmlType::F32,
                &[1024, width],
                TensorData::Zeros,
            );
        }
        "cvec" => {
            w.add_kv("general.architecture", "controlvector")
                .add_kv("controlvector.model_hint", name.as_str())
                .add_kv("controlvector.layer_count", 1i32);
            w.add_tensor("direction.1", GgmlType::F32, &[width], TensorData::Zeros);
        }
        other => {
            eprintln!("unknown kind {other}: lora, mmproj or cvec");
            return ExitCode::from(2);
        }
    }
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("creating {out}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut file = std::io::BufWriter::new(file);
    match w.write(&mut file) {
        Ok(n) => {
            eprintln!("wrote {out} ({n} bytes)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("writing {out}: {e}");
            ExitCode::from(1)
        }
    }
}

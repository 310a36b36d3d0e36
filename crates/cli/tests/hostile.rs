//! The CLI on hostile input (issue 7): catalogue files (`shared/docs/hostile-inputs.md` §6)
//! through `inspect`, `config`, `validate` and `compat`. A file that cannot be parsed is exit 2
//! with exactly one line on stderr naming the file and the byte offset, and nothing on stdout;
//! a file that parses leniently gets the exit code its findings call for. Never a panic or a
//! backtrace (the commands run with `RUST_BACKTRACE=1`, so one would show).

use std::process::Output;

use ggufscope_testkit::presets;
use ggufscope_testkit::raw::{self, ty, Raw};

use crate::util::Case;

const COMMANDS: [&str; 4] = ["inspect", "config", "validate", "compat"];

fn run(case: &Case, command: &str) -> Output {
    case.cmd(command, &[])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_panic(what: &str, out: &Output) {
    for stream in [text(&out.stdout), text(&out.stderr)] {
        for marker in [
            "panicked",
            "stack backtrace",
            "RUST_BACKTRACE",
            "thread 'main'",
        ] {
            assert!(!stream.contains(marker), "{what}: `{marker}` in\n{stream}");
        }
    }
    assert!(out.status.code().is_some(), "{what}: killed by a signal");
}

/// `HDR(3,0,1) ‖ KV(key, type)` then `payload`.
fn one_kv(key: &str, type_id: u32, payload: Raw) -> Vec<u8> {
    let mut bytes = Raw::le().hdr(3, 0, 1).kv(key, type_id).build();
    bytes.extend(payload.build());
    bytes
}

fn nesting_bomb(levels: usize) -> Vec<u8> {
    let mut payload = Raw::le();
    for _ in 0..levels {
        payload = payload.arr(ty::ARRAY, 1);
    }
    one_kv("m", ty::ARRAY, payload.arr(ty::U8, 0))
}

/// Files that cannot be parsed, each with the byte offset its error names.
fn unparsable() -> Vec<(&'static str, Vec<u8>, u64)> {
    let mut cut_name = Raw::le().hdr(3, 1, 0).ti("evil\nname", &[32], 0, 0).build();
    cut_name.truncate(cut_name.len() - 6);
    vec![
        // A01: nothing at all.
        ("a01-empty.gguf", Vec::new(), 0),
        // A03: a legacy GGML magic.
        (
            "a03-lmgg.gguf",
            Raw::le().bytes(b"lmgg").u32(3).u64(0).u64(0).build(),
            0,
        ),
        // A04: version 0.
        ("a04-version-0.gguf", Raw::le().hdr(0, 0, 0).build(), 4),
        // A10: n_kv = u64::MAX.
        (
            "a10-n-kv-max.gguf",
            Raw::le().hdr(3, 0, u64::MAX).build(),
            16,
        ),
        // A11: 10^8 entries promised by a 24-byte file.
        (
            "a11-n-kv-1e8.gguf",
            Raw::le().hdr(3, 0, 100_000_000).build(),
            16,
        ),
        // B13: a key of u64::MAX bytes.
        (
            "b13-key-length-max.gguf",
            Raw::le().hdr(3, 0, 1).u64(u64::MAX).bytes(b"k").build(),
            24,
        ),
        // C23: a string value longer than the file.
        (
            "c23-string-past-end.gguf",
            one_kv("s", ty::STRING, Raw::le().u64(1 << 20).bytes(b"abcde")),
            45,
        ),
        // D29: an array of 2^63 bytes in a 50-byte file.
        (
            "d29-array-2p63.gguf",
            one_kv("a", ty::ARRAY, Raw::le().arr(ty::U8, 1 << 63)),
            41,
        ),
        // D36: nesting bombs, 1,000 and 100,000 levels (1.2 MB): no stack overflow.
        ("d36-nesting-1000.gguf", nesting_bomb(1000), 229),
        ("d36-nesting-100000.gguf", nesting_bomb(100_000), 229),
        // E43: five dimensions.
        (
            "e43-5-dims.gguf",
            Raw::le().hdr(3, 1, 0).ti("t", &[1; 5], 0, 0).build(),
            33,
        ),
        // E56: a tensor info cut in its offset, whose name holds a newline.
        ("e56-cut-newline-name.gguf", cut_name, 57),
        // F58: alignment 13.
        (
            "f58-alignment-13.gguf",
            Raw::le()
                .hdr(3, 1, 1)
                .align_kv(13)
                .ti("t", &[32], 0, 0)
                .pad(32)
                .fill(0, 128)
                .build(),
            24,
        ),
        // F59: alignment stored as a string.
        (
            "f59-alignment-string.gguf",
            Raw::le()
                .hdr(3, 0, 1)
                .kv("general.alignment", ty::STRING)
                .s("32")
                .build(),
            24,
        ),
        // H77: "FUGG".
        (
            "h77-fugg.gguf",
            Raw::be().bytes(b"FUGG").u32(3).u64(0).u64(0).build(),
            0,
        ),
    ]
}

#[test]
fn unparsable_files_are_exit_2_with_one_located_line_and_no_stdout() {
    for (name, bytes, offset) in unparsable() {
        let case = Case::temp(name, &bytes);
        for command in COMMANDS {
            let what = format!("{command} {name}");
            let out = run(&case, command);
            assert_no_panic(&what, &out);
            assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
            assert!(
                out.stdout.is_empty(),
                "{what}: stdout {}",
                text(&out.stdout)
            );
            let stderr = text(&out.stderr);
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
            assert!(stderr.ends_with('\n'), "{what}: {stderr:?}");
            assert!(
                stderr.starts_with(&format!("ggufscope: parsing {name}: ")),
                "{what}: {stderr}"
            );
            assert!(
                stderr.contains(&format!(" at byte {offset}")),
                "{what}: expected byte {offset}: {stderr}"
            );
        }
    }
}

/// Expected exit codes of `inspect`, `config`, `validate`, `compat`.
type Codes = [i32; 4];

/// Files a lenient parse accepts, with the exit code of each command:
/// - no `general.architecture`: `inspect` 0; `config` 1 (the configuration cannot be read);
///   `validate` 1 (the format finding is an error); `compat` 3 (unknown architecture);
/// - a `llama` model with a bad hyper-parameter: `config` 1, `validate` 1, `compat` 1
///   (incompatible: invalid configuration);
/// - a `llama` model whose tokenizer arrays disagree: `config` 0, `validate` 1, `compat` 0.
fn parsable() -> Vec<(&'static str, Vec<u8>, Codes)> {
    let no_arch = [0, 1, 1, 3];
    let tiny = ggufscope_testkit::presets::tiny_llama();
    let mut bad_context = tiny.clone();
    bad_context.set_kv("llama.context_length", -1i32);
    let mut token_types = tiny;
    token_types.set_kv(
        "tokenizer.ggml.token_type",
        ggufscope_gguf::OwnedValue::array(
            ggufscope_gguf::ValueType::I32,
            (0..11).map(ggufscope_gguf::OwnedValue::I32),
        ),
    );
    vec![
        // B16: a duplicate key (a lenient diagnostic).
        (
            "b16-duplicate-key.gguf",
            Raw::le()
                .hdr(3, 0, 2)
                .kv("a", ty::U8)
                .u8(1)
                .kv("a", ty::U8)
                .u8(2)
                .build(),
            no_arch,
        ),
        // B20: a bool byte of 2.
        (
            "b20-bool-2.gguf",
            one_kv("b", ty::BOOL, Raw::le().u8(2)),
            no_arch,
        ),
        // F62: a misaligned tensor offset.
        (
            "f62-misaligned.gguf",
            raw::t2_with_offsets(0, 136, 384),
            no_arch,
        ),
        // G69: tensor data past the end of the file.
        (
            "g69-offset-2p40.gguf",
            Raw::le()
                .hdr(3, 1, 0)
                .ti("t", &[32], 0, 1 << 40)
                .pad(32)
                .fill(0, 128)
                .build(),
            no_arch,
        ),
        // B22: llama.context_length = -1.
        (
            "b22-context-length-minus-1.gguf",
            bad_context.to_bytes(),
            [0, 1, 1, 1],
        ),
        // D39: 256 tokens, 11 token types.
        (
            "d39-parallel-arrays.gguf",
            token_types.to_bytes(),
            [0, 0, 1, 0],
        ),
    ]
}

#[test]
fn leniently_parsable_files_get_the_exit_code_of_their_findings() {
    for (name, bytes, codes) in parsable() {
        let case = Case::temp(name, &bytes);
        for (command, code) in COMMANDS.into_iter().zip(codes) {
            let what = format!("{command} {name}");
            let out = run(&case, command);
            assert_no_panic(&what, &out);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
            if command == "config" && code == 1 {
                // The configuration cannot be read: one line naming the file, no stdout.
                assert!(out.stdout.is_empty(), "{what}");
                assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
                assert!(stderr.contains(name), "{what}: {stderr}");
            } else {
                // A report: on stdout, with nothing on stderr.
                assert!(!out.stdout.is_empty(), "{what}");
                assert!(stderr.is_empty(), "{what}: {stderr}");
            }
        }
    }
}

/// Configurations whose sizes overflow `u64` products (found by review: a tensor of 2^32 ×
/// 2^32 × 16 elements; a vocab-only MoE with widths of 2^31): every architecture-aware command
/// answers with an exit code and a message, never a panic or wrapped numbers.
#[test]
fn overflowing_sizes_never_panic_in_the_architecture_aware_commands() {
    // The writer refuses such a tensor: built byte by byte.
    let huge_tensor = Raw::le()
        .hdr(3, 1, 8)
        .kv("general.architecture", ty::STRING)
        .s("llama")
        .kv("llama.context_length", ty::U32)
        .u32(512)
        .kv("llama.embedding_length", ty::U32)
        .u32(64)
        .kv("llama.block_count", ty::U32)
        .u32(1)
        .kv("llama.feed_forward_length", ty::U32)
        .u32(128)
        .kv("llama.attention.head_count", ty::U32)
        .u32(4)
        .kv("llama.attention.layer_norm_rms_epsilon", ty::F32)
        .f32(1e-5)
        .kv("tokenizer.ggml.model", ty::STRING)
        .s("llama")
        .ti("blk.0.huge.weight", &[1 << 32, 1 << 32, 16], 0, 0)
        .pad(32)
        .build();
    let mut huge_widths = presets::tiny_llama();
    huge_widths.tensors.clear();
    huge_widths
        .set_kv("llama.embedding_length", 1u32 << 31)
        .set_kv("llama.feed_forward_length", 1u32 << 31)
        .set_kv("llama.expert_count", 8u32)
        .set_kv("llama.expert_used_count", 2u32);
    for (name, bytes) in [
        ("huge-tensor.gguf", huge_tensor),
        ("huge-widths.gguf", huge_widths.to_bytes()),
    ] {
        let case = Case::temp(name, &bytes);
        for (command, extra) in [
            ("config", &["--json"][..]),
            ("validate", &[][..]),
            ("tensors", &["--expected"][..]),
            ("memory", &["--json"][..]),
            ("report", &[][..]),
            ("compat", &[][..]),
            ("compare", &[name][..]),
        ] {
            let out = case
                .cmd(command, extra)
                .env("RUST_BACKTRACE", "1")
                .output()
                .unwrap();
            let what = format!("{command} {name}");
            assert_no_panic(&what, &out);
            assert!(
                matches!(out.status.code(), Some(0..=3)),
                "{what}: {:?}",
                out.status
            );
            let stdout = text(&out.stdout);
            assert!(
                !stdout.contains("18446744073709551615") && !stdout.contains("EiB"),
                "{what}: wrapped numbers in\n{stdout}"
            );
        }
    }
}

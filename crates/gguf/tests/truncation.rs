//! Truncation: a strict prefix of a file is never a valid file (every prefix of the small
//! built files here; of the real fixtures and the model-shaped heads in `prefixes.rs`), and
//! `needed` leads a remote reader to the whole head.

use ggufscope_gguf::{ErrorKind, Gguf, Severity};
use ggufscope_testkit::{presets, raw, read_real};

/// Checks one prefix: parsing fails with `Truncated { needed > len }`, or (only once the header,
/// metadata and tensor infos are complete) succeeds with an error in the layout.
fn check_prefix(full: &[u8], len: usize) {
    let prefix = &full[..len];
    match Gguf::parse(prefix) {
        Err(e) => match e.kind() {
            ErrorKind::Truncated { needed, available } => {
                assert!(*needed > len as u64, "needed {needed} at len {len}");
                assert!(
                    *needed <= full.len() as u64,
                    "needed {needed} > file {}",
                    full.len()
                );
                assert_eq!(*available, len as u64);
            }
            other => panic!("prefix {len}: {other:?}"),
        },
        Ok(g) => {
            assert!(
                g.check_layout()
                    .iter()
                    .any(|f| f.severity == Severity::Error),
                "prefix {len} of {} parsed with a clean layout",
                full.len()
            );
        }
    }
}

fn sweep(full: &[u8], step: usize) {
    let mut len = 0;
    while len < full.len() {
        check_prefix(full, len);
        len += step;
    }
    // Always the last few and the boundaries around the header.
    for len in (full.len().saturating_sub(64)..full.len()).chain(0..full.len().min(64)) {
        check_prefix(full, len);
    }
}

#[test]
fn every_prefix_of_small_files_is_an_error() {
    for full in [
        raw::b0(),
        raw::b1(),
        raw::t1(),
        raw::t2(),
        presets::tiny_llama().to_bytes(),
    ] {
        sweep(&full, 1);
    }
}

#[test]
fn needed_is_what_a_remote_reader_should_fetch() {
    // A remote reader starts with a small chunk and, on `Truncated { needed }`, fetches at
    // least what is needed (here: at least doubling). It must converge on the complete metadata
    // in a few rounds without ever being asked for more than the file holds.
    let full = read_real("ggml-vocab-qwen2.gguf");
    let mut have = 4096usize;
    let mut rounds = 0;
    loop {
        rounds += 1;
        match Gguf::parse(&full[..have.min(full.len())]) {
            Ok(g) => {
                assert_eq!(g.metadata().len(), 20);
                break;
            }
            Err(e) => {
                let needed = e.needed().expect("only truncation") as usize;
                assert!(needed > have && needed <= full.len(), "{needed} {have}");
                have = needed.max(have * 2);
            }
        }
    }
    assert!(rounds <= 12, "{rounds} rounds");
}

/// A remote reader holds the file up to its tensor infos: checked against the whole file's
/// length, that prefix has the clean layout of the whole file.
#[test]
fn prefix_checked_against_the_full_length_has_a_clean_layout() {
    let full = presets::tiny_llama().to_bytes();
    let head = Gguf::parse(&full).unwrap().data_offset() as usize;
    let prefix = Gguf::parse(&full[..head]).unwrap();
    assert!(prefix.check_layout_with_len(full.len() as u64).is_empty());
    assert!(prefix
        .check_layout()
        .iter()
        .any(|f| f.severity == Severity::Error));
    let short = prefix.check_layout_with_len(full.len() as u64 - 1);
    assert_eq!(short.len(), 1);
    assert_eq!(short[0].issue.code(), "tensor_out_of_bounds");
}

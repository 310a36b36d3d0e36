//! Truncation: a strict prefix of a file is never a valid file (every prefix of the small
//! built files here; of the real fixtures and the model-shaped heads in `prefixes.rs`), and
//! `needed` leads a remote reader to the whole head.

use ggufscope_gguf::limits::MAX_FINDINGS_PER_KIND;
use ggufscope_gguf::{ErrorKind, Gguf, LayoutIssue, Severity};
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
            // One cause, one error: the data is cut short.
            let errors: Vec<_> = g
                .check_layout()
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            assert!(
                matches!(
                    &errors[..],
                    [f] if matches!(f.issue, LayoutIssue::DataTruncated { file_len, .. } if file_len == len as u64)
                ),
                "prefix {len} of {}: {errors:?}",
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
    assert_eq!(short[0].issue.code(), "data_truncated");
}

/// Issue 17: a file whose tensor data is cut short gets one `data_truncated` error with the
/// bytes present and needed, how many tensors the cut affects and the first of them, however
/// many tensors that is (Qwen2.5-0.5B's 290, more than the per-kind cap); never one finding per
/// tensor.
#[test]
fn a_cut_file_gets_one_data_truncated_error() {
    // (head: the bytes up to the data section, the whole file's length)
    let mut files: Vec<(Vec<u8>, u64)> = Vec::new();
    for fixture in [presets::tiny_llama(), presets::tiny_phi3()] {
        let full = fixture.to_bytes();
        let len = full.len() as u64;
        // Small enough to cut for real: every cut below is also parsed from the prefix.
        files.push((full, len));
    }
    let qwen = presets::qwen2_5_0_5b().write_sparse_temp();
    let qwen_len = std::fs::metadata(qwen.path()).unwrap().len();
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(qwen.path()).unwrap(), 8 << 20),
        &mut head,
    )
    .unwrap();
    head.truncate(Gguf::parse(&head).unwrap().data_offset() as usize);
    files.push((head, qwen_len));
    let mut most = 0;
    for (bytes, full_len) in &files {
        let g = Gguf::parse(bytes).unwrap();
        assert_eq!(g.check_layout_with_len(*full_len), vec![]);
        // (start, end, name) of every tensor, computed here from the tensor infos.
        let spans: Vec<(u64, u64, String)> = g
            .tensors()
            .iter()
            .map(|t| {
                let start = g.data_offset() + t.offset();
                (start, start + t.n_bytes().unwrap(), t.name().to_string())
            })
            .collect();
        let needed = spans.iter().map(|s| s.1).max().unwrap();
        let data = g.data_offset();
        for cut in [data, data + 1, (data + full_len) / 2, full_len - 1] {
            let affected: Vec<&(u64, u64, String)> = spans.iter().filter(|s| s.1 > cut).collect();
            most = most.max(affected.len());
            let first = affected.iter().min_by_key(|s| s.0).unwrap();
            let expected = LayoutIssue::DataTruncated {
                file_len: cut,
                needed,
                tensors: affected.len() as u64,
                first: first.2.clone(),
                first_start: first.0,
                first_end: first.1,
            };
            let mut checks = vec![g.check_layout_with_len(cut)];
            if bytes.len() as u64 == *full_len {
                checks.push(Gguf::parse(&bytes[..cut as usize]).unwrap().check_layout());
            }
            for found in checks {
                assert_eq!(found.len(), 1, "cut at {cut}: {found:?}");
                assert_eq!(found[0].severity, Severity::Error);
                assert_eq!(found[0].offset, cut);
                assert_eq!(found[0].issue, expected);
                assert_eq!(found[0].issue.code(), "data_truncated");
                assert_eq!(found[0].issue.tensor(), Some(first.2.as_str()));
            }
            let text = expected.to_string();
            let tensors = match affected.len() {
                1 => "1 tensor ends".to_owned(),
                n => format!("{n} tensors end"),
            };
            assert_eq!(
                text,
                format!(
                    "tensor data cut short: the file has {cut} bytes, its tensors need {needed} ({} missing); {tensors} past the end of the file, the first `{}` (bytes {}..{})",
                    needed - cut,
                    first.2,
                    first.0,
                    first.1
                )
            );
        }
    }
    assert!(most > MAX_FINDINGS_PER_KIND, "{most}");
}

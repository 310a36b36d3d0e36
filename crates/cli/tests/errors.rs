//! Inputs that cannot be read or parsed: exit 2, one line on stderr naming the file (and for a
//! parse error the byte offset and what is wrong), nothing on stdout.

use crate::snapshot;
use crate::util::Case;

#[test]
fn truncated_metadata_is_a_located_parse_error() {
    let bytes = ggufscope_testkit::read_real("ggml-vocab-phi-3.gguf");
    let case = Case::temp("phi3-first-1000-bytes.gguf", &bytes[..1000]);
    snapshot!(case, "truncated_inspect", case.cmd("inspect", &[]));
    snapshot!(case, "truncated_tensors", case.cmd("tensors", &["--json"]));
}

#[test]
fn non_gguf_file_is_rejected_by_its_magic() {
    let case = Case::temp("notes.txt", b"hello, this is not a GGUF file\n");
    snapshot!(case, "not_gguf", case.cmd("inspect", &["--json"]));
}

#[test]
fn empty_file_is_truncated() {
    let case = Case::temp("empty.gguf", b"");
    snapshot!(case, "empty", case.cmd("inspect", &[]));
}

#[test]
fn missing_file_names_the_path_and_the_os_error() {
    let case = Case::absent("missing.gguf");
    snapshot!(case, "missing", case.cmd("inspect", &[]));
}

#[test]
fn every_failure_is_exit_2_with_one_stderr_line_and_no_stdout() {
    let bytes = ggufscope_testkit::read_real("ggml-vocab-phi-3.gguf");
    let cases = [
        Case::temp("cut.gguf", &bytes[..1000]),
        Case::temp("notes.txt", b"not gguf"),
        Case::absent("missing.gguf"),
    ];
    for case in &cases {
        for sub in ["inspect", "tensors"] {
            let out = case.cmd(sub, &["--json"]).output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            assert!(out.stdout.is_empty());
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("ggufscope: "), "{stderr}");
            assert!(stderr.contains(case.file()), "{stderr}");
        }
    }
}

//! Inputs that cannot be read or parsed: exit 2, one line on stderr naming the file (and for a
//! parse error the byte offset and what is wrong), nothing on stdout — for every command.

use crate::snapshot;
use crate::util::Case;

#[test]
fn truncated_metadata_is_a_located_parse_error() {
    let bytes = ggufscope_testkit::read_real("ggml-vocab-phi-3.gguf");
    let case = Case::temp("phi3-first-1000-bytes.gguf", &bytes[..1000]);
    snapshot!(case, "truncated_inspect", case.cmd("inspect", &[]));
    snapshot!(case, "truncated_tensors", case.cmd("tensors", &["--json"]));
    snapshot!(case, "truncated_config", case.cmd("config", &[]));
    snapshot!(
        case,
        "truncated_validate",
        case.cmd("validate", &["--json"])
    );
    snapshot!(case, "truncated_report", case.cmd("report", &[]));
}

#[test]
fn non_gguf_file_is_rejected_by_its_magic() {
    let case = Case::temp("notes.txt", b"hello, this is not a GGUF file\n");
    snapshot!(case, "not_gguf", case.cmd("inspect", &["--json"]));
    snapshot!(case, "not_gguf_validate", case.cmd("validate", &[]));
    snapshot!(
        case,
        "not_gguf_compare",
        case.cmd("compare", &[case.file()])
    );
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
    snapshot!(case, "missing_report", case.cmd("report", &[]));
}

/// The file to compare with is the one that is missing: its name is in the message.
#[test]
fn missing_second_file_is_named() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    for args in [&["absent.gguf"][..], &["--compare", "absent.gguf"][..]] {
        let sub = if args.len() == 1 { "compare" } else { "report" };
        let out = case.cmd(sub, args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("ggufscope: opening absent.gguf: "),
            "{stderr}"
        );
    }
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
        let commands: [(&str, &[&str]); 7] = [
            ("inspect", &["--json"]),
            ("tensors", &["--json"]),
            ("tensors", &["--expected"]),
            ("config", &["--json"]),
            ("validate", &["--json"]),
            ("compare", &[case.file()]),
            ("report", &["--json"]),
        ];
        for (sub, args) in commands {
            let out = case.cmd(sub, args).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{sub} {args:?}");
            assert!(out.stdout.is_empty());
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(stderr.starts_with("ggufscope: "), "{stderr}");
            assert!(stderr.contains(case.file()), "{stderr}");
        }
    }
}

//! Process-level behaviour: usage, help, broken pipes and logging.

use std::io::Read;
use std::process::Stdio;

use crate::util::{bin, Case};

#[test]
fn help_lists_the_commands_and_global_flags() {
    let mut cmd = bin();
    cmd.arg("--help");
    insta_cmd::assert_cmd_snapshot!("help", cmd);
}

#[test]
fn usage_error_is_exit_2() {
    let out = bin().args(["inspect"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// `ggufscope inspect --full-arrays … | head -c 100`: the reader leaves after 100 bytes of a
/// ~2 MB report; the write fails with `BrokenPipe`, which is a quiet success.
#[test]
fn broken_pipe_is_a_quiet_success() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let mut child = case
        .cmd("inspect", &["--json", "--full-arrays"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is dropped here.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn verbose_logs_go_to_stderr_and_stdout_is_unchanged() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let quiet = case.cmd("tensors", &["--json"]).output().unwrap();
    let loud = case.cmd("tensors", &["--json", "-vv"]).output().unwrap();
    assert_eq!(quiet.stdout, loud.stdout);
    assert!(quiet.stderr.is_empty());
    let log = String::from_utf8(loud.stderr).unwrap();
    assert!(log.contains("INFO") && log.contains("DEBUG"), "{log}");
}

#[test]
fn rust_log_overrides_the_flags() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let out = case
        .cmd("tensors", &["-q"])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(log.contains("DEBUG"), "{log}");
}

#[test]
fn color_always_colors_headings_and_never_does_not() {
    let case = Case::fixture("ggml-vocab-phi-3.gguf");
    let colored = case
        .cmd("inspect", &["--color", "always"])
        .output()
        .unwrap();
    assert!(colored.stdout.starts_with(b"\x1b[1mGGUF v3"));
    let plain = case
        .cmd("inspect", &["--color", "auto"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!plain.stdout.contains(&0x1b));
}

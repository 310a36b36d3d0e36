//! Remote sources over a real HTTP server on 127.0.0.1 ([`crate::httpd`]): the request and
//! byte counts of the range reader, equality with the local file, `hf://` resolution, and
//! every way a server can fail (exit 2, one stderr line). No network beyond 127.0.0.1.

use std::process::Output;
use std::time::{Duration, Instant};

use ggufscope_gguf::{GgmlType, Gguf, ParseOptions};
use ggufscope_testkit::{presets, read_real, real_fixture};

use crate::bench_files;
use crate::httpd::{Mode, Server};
use crate::util::bin;

const PHI3: &str = "ggml-vocab-phi-3.gguf";
const QWEN2: &str = "ggml-vocab-qwen2.gguf";
const MIB: u64 = 1 << 20;

fn run(args: &[&str]) -> Output {
    let out = bin()
        .env_remove("HF_ENDPOINT")
        .env_remove("HF_TOKEN")
        .args(args)
        .output()
        .unwrap();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The command ran and exited 0.
fn ok(out: Output) -> Output {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

/// Exit 2, nothing on stdout, one stderr line that contains `needle`.
fn fails_with(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(out.stdout.is_empty());
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("ggufscope: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

/// tiny_llama with 64 MiB of tensor data after its small head: the metadata fits the first
/// chunk, the file does not.
fn tiny_llama_with_data() -> Vec<u8> {
    let mut m = presets::tiny_llama();
    m.push_tensor("big.weight", GgmlType::F32, &[1024, 16384]);
    m.to_bytes()
}

fn served(mode: Mode, name: &str, bytes: Vec<u8>) -> Server {
    Server::start(mode, vec![(format!("/{name}"), bytes)])
}

#[test]
fn metadata_in_the_first_chunk_costs_one_request() {
    let bytes = tiny_llama_with_data();
    let len = bytes.len() as u64;
    let server = served(Mode::Range, "big.gguf", bytes);
    let out = ok(run(&["-v", "inspect", "--json", &server.url("big.gguf")]));
    assert_eq!(server.requests(), 1);
    assert_eq!(server.body_bytes(), MIB);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["file_size"], len);
    assert_eq!(v["fetched_bytes"], MIB);
    assert_eq!(v["tensor_count"], presets::tiny_llama().tensors.len() + 1);
    // -v logs the requests and bytes.
    let log = stderr(&out);
    assert!(
        log.contains("requests=1") && log.contains("bytes=1048576"),
        "{log}"
    );
    // The data is not downloaded: an info, not an out-of-bounds error.
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["tensor_data_not_downloaded"]);
}

#[test]
fn a_file_smaller_than_the_first_chunk_is_read_whole_in_one_request() {
    let server = served(Mode::Range, PHI3, read_real(PHI3));
    ok(run(&["config", &server.url(PHI3)]));
    assert_eq!(server.requests(), 1);
    assert_eq!(server.body_bytes(), 726_019);
}

/// Issue 17's budget for a remote head: at most 1.25 × the head + 1 MiB transferred.
fn budget(head: u64) -> u64 {
    head + head / 4 + MIB
}

/// The length of a file's head: every byte up to the end of its tensor infos.
fn head_len(bytes: &[u8]) -> u64 {
    let g = Gguf::parse_with(bytes, ParseOptions::lenient()).unwrap();
    g.tensor_infos_end()
}

/// The Qwen2 vocab file has 5.9 MB of metadata: three requests, nothing read twice.
#[test]
fn qwen2_vocab_costs_at_most_three_requests() {
    let bytes = read_real(QWEN2);
    let len = bytes.len() as u64;
    let server = served(Mode::Range, QWEN2, bytes);
    let remote = ok(run(&["config", "--json", &server.url(QWEN2)]));
    let local = ok(run(&[
        "config",
        "--json",
        real_fixture(QWEN2).to_str().unwrap(),
    ]));
    assert_eq!(stdout(&remote), stdout(&local));
    assert!(server.requests() <= 3, "{} requests", server.requests());
    assert_eq!(server.body_bytes(), len);
}

/// Issue 17, lean remote reads: heads of several MB followed by tensor data (so that reading
/// past the head costs) take at most three requests and 1.25 × the head + 1 MiB, and read
/// the same as the local file. The Qwen2 vocabulary (151,936 tokens and 151,387 merges), the
/// peer benchmark's Gemma-3-like (262,144 tokens, scores and types) and Qwen2-7B-like heads.
#[test]
fn long_heads_cost_at_most_three_requests_and_a_quarter_more_bytes() {
    let mut qwen2 = read_real(QWEN2);
    qwen2.resize(qwen2.len() + 16 * MIB as usize, 0);
    let mut files = vec![("qwen2-vocab-and-data.gguf", qwen2)];
    for (name, fixture) in [
        ("gemma3-like.gguf", bench_files::gemma3_like()),
        ("qwen2-7b-like.gguf", bench_files::qwen2_7b_like()),
    ] {
        // The head and the first 16 MiB of data of the sparse file.
        let tmp = fixture.write_sparse_temp();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::open(tmp.path()).unwrap(), 8 * MIB),
            &mut bytes,
        )
        .unwrap();
        let head = head_len(&bytes) as usize;
        bytes.truncate(head);
        bytes.resize(head + 16 * MIB as usize, 0);
        files.push((name, bytes));
    }
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let head = head_len(&bytes);
        assert!(head > 5 * MIB, "{name}: {head}");
        let local = tmp.path().join(name);
        std::fs::write(&local, &bytes).unwrap();
        let server = served(Mode::Range, name, bytes);
        let remote = ok(run(&["-v", "config", "--json", &server.url(name)]));
        let (requests, transferred) = (server.requests(), server.body_bytes());
        eprintln!("{name}: head {head}: {requests} requests, {transferred} bytes");
        assert!(requests <= 3, "{name}: {requests} requests");
        assert!(
            transferred >= head && transferred <= budget(head),
            "{name}: {transferred} bytes for a {head}-byte head (budget {})",
            budget(head)
        );
        let log = stderr(&remote);
        assert!(
            log.contains(&format!("requests={requests}"))
                && log.contains(&format!("bytes={transferred}")),
            "{log}"
        );
        let local = ok(run(&["config", "--json", local.to_str().unwrap()]));
        assert_eq!(stdout(&remote), stdout(&local), "{name}");
    }
}

/// Every metadata-only command gives the same output over HTTP as on the local file (`report`
/// names files without their directories or host; `validate` of a file with tensors adds the
/// info that the data was not downloaded, so it is compared on a vocab-only file).
#[test]
fn metadata_commands_match_the_local_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = tmp.path().join("tiny.gguf");
    std::fs::write(&tiny, presets::tiny_llama().to_bytes()).unwrap();
    let server = Server::start(
        Mode::Range,
        vec![
            ("/tiny.gguf".into(), presets::tiny_llama().to_bytes()),
            (format!("/{PHI3}"), read_real(PHI3)),
        ],
    );
    let phi3 = real_fixture(PHI3);
    let cases: [(&str, &[&str], &std::path::Path, &str); 8] = [
        ("inspect", &["--json"], &tiny, "tiny.gguf"),
        ("tensors", &["--json"], &tiny, "tiny.gguf"),
        ("tensors", &["--expected"], &phi3, PHI3),
        ("config", &["--json"], &tiny, "tiny.gguf"),
        ("validate", &["--json"], &phi3, PHI3),
        ("report", &[], &phi3, PHI3),
        ("compat", &["--json"], &phi3, PHI3),
        ("compare", &["--json", "tiny.gguf"], &phi3, PHI3),
    ];
    for (sub, extra, local, name) in cases {
        let url = server.url(name);
        let mut remote_args = vec![sub, url.as_str()];
        remote_args.extend(extra);
        let local_path = local.to_str().unwrap();
        let mut local_args = vec![sub, local_path];
        local_args.extend(extra);
        let in_tmp = |args: &[&str]| bin().current_dir(tmp.path()).args(args).output().unwrap();
        let (remote, local) = (in_tmp(&remote_args), in_tmp(&local_args));
        assert_eq!(remote.status.code(), local.status.code(), "{sub}");
        // Only inspect says how many bytes were fetched.
        let shown: String = stdout(&remote)
            .replace(&url, local_path)
            .lines()
            .filter(|l| !l.contains("\"fetched_bytes\""))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(shown, stdout(&local), "{sub} {extra:?}");
    }
}

#[test]
fn hf_sources_resolve_through_hf_endpoint() {
    let path = "/owner/repo/resolve/main/tiny.gguf";
    let server = Server::start(
        Mode::Range,
        vec![
            (path.into(), presets::tiny_llama().to_bytes()),
            (
                "/owner/repo/resolve/v1.0/sub/tiny.gguf".into(),
                presets::tiny_llama().to_bytes(),
            ),
        ],
    );
    let out = bin()
        .env("HF_ENDPOINT", server.base())
        .env("HF_TOKEN", "hf_test_token")
        .args(["config", "--json", "hf://owner/repo/tiny.gguf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = server.log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].path, path);
    assert_eq!(
        log[0].headers.get("authorization").map(String::as_str),
        Some("Bearer hf_test_token")
    );
    let out = bin()
        .env("HF_ENDPOINT", format!("{}/", server.base()))
        .env_remove("HF_TOKEN")
        .args(["tensors", "hf://owner/repo/sub/tiny.gguf@v1.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = server.log();
    assert_eq!(log[1].path, "/owner/repo/resolve/v1.0/sub/tiny.gguf");
    assert!(!log[1].headers.contains_key("authorization"));
}

#[test]
fn hf_source_not_found_names_the_resolved_url() {
    let server = Server::start(Mode::Range, vec![]);
    let out = bin()
        .env("HF_ENDPOINT", server.base())
        .args(["inspect", "hf://owner/repo/absent.gguf"])
        .output()
        .unwrap();
    fails_with(&out, "hf://owner/repo/absent.gguf");
    fails_with(&out, "404");
    fails_with(&out, "/owner/repo/resolve/main/absent.gguf");
}

/// A server that ignores Range: one request, read only as far as the metadata, then the
/// connection is dropped (the server could not write most of the 64 MiB).
#[test]
fn a_server_ignoring_range_is_read_only_as_far_as_needed() {
    let bytes = tiny_llama_with_data();
    let len = bytes.len() as u64;
    let server = served(Mode::IgnoreRange, "big.gguf", bytes.clone());
    let out = ok(run(&["-v", "inspect", "--json", &server.url("big.gguf")]));
    assert_eq!(server.requests(), 1);
    let log = stderr(&out);
    assert!(log.contains("ignored Range"), "{log}");
    assert!(log.contains("bytes=1048576"), "{log}");
    // Give the server's writer a moment to notice the closed connection.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.body_bytes() < len / 2,
        "{} of {len}",
        server.body_bytes()
    );

    let ranged = served(Mode::Range, "big.gguf", bytes);
    let same = ok(run(&["inspect", "--json", &ranged.url("big.gguf")]));
    assert_eq!(stdout(&out), stdout(&same));
}

#[test]
fn redirects_are_followed_with_the_range() {
    let server = served(Mode::Redirect, PHI3, read_real(PHI3));
    ok(run(&["config", &server.url(PHI3)]));
    let log = server.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1].path, format!("/moved/{PHI3}"));
    assert_eq!(
        log[1].headers.get("range").map(String::as_str),
        Some("bytes=0-1048575")
    );
}

#[test]
fn http_errors_exit_2_with_the_status_and_url() {
    for (code, text) in [(404, "404 Not Found"), (500, "500 Internal Server Error")] {
        let server = served(Mode::Status(code), PHI3, read_real(PHI3));
        let url = server.url(PHI3);
        for sub in ["inspect", "config", "validate"] {
            let out = run(&[sub, &url]);
            fails_with(&out, text);
            fails_with(&out, &format!("fetching {url}: "));
        }
    }
}

#[test]
fn a_body_shorter_than_promised_is_an_error() {
    let server = served(Mode::ShortBody, PHI3, read_real(PHI3));
    fails_with(&run(&["inspect", &server.url(PHI3)]), "promised");
}

#[test]
fn a_silent_server_times_out() {
    let server = served(Mode::Silent, PHI3, read_real(PHI3));
    let start = Instant::now();
    let out = bin()
        .env("GGUFSCOPE_HTTP_TIMEOUT", "0.5")
        .args(["inspect", &server.url(PHI3)])
        .output()
        .unwrap();
    fails_with(&out, "timeout");
    assert!(start.elapsed() < Duration::from_secs(20));
    let bad = bin()
        .env("GGUFSCOPE_HTTP_TIMEOUT", "soon")
        .args(["inspect", &server.url(PHI3)])
        .output()
        .unwrap();
    fails_with(&bad, "GGUFSCOPE_HTTP_TIMEOUT");
}

/// A remote file cut short fails exactly as the local one does, naming the URL.
#[test]
fn a_truncated_remote_file_is_a_located_parse_error() {
    let bytes = read_real(PHI3)[..1000].to_vec();
    let server = served(Mode::Range, "cut.gguf", bytes);
    let url = server.url("cut.gguf");
    let out = run(&["inspect", &url]);
    fails_with(&out, &format!("parsing {url}: input is truncated"));
    assert_eq!(server.requests(), 1);
}

/// The first answer says the file is shorter than its metadata needs: no further request.
#[test]
fn a_file_shorter_than_its_metadata_needs_stops_after_one_request() {
    let bytes = read_real(QWEN2)[..1_048_586].to_vec();
    let server = served(Mode::Range, "cut.gguf", bytes);
    let out = run(&["config", &server.url("cut.gguf")]);
    fails_with(&out, "input is truncated");
    fails_with(&out, "the whole file has 1048586 bytes");
    assert_eq!(server.requests(), 1);
}

#[test]
fn llamafy_refuses_a_remote_source_without_a_request() {
    let server = served(Mode::Range, "tiny.gguf", presets::tiny_phi3().to_bytes());
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("out.gguf");
    let out = run(&[
        "llamafy",
        &server.url("tiny.gguf"),
        "-o",
        dest.to_str().unwrap(),
    ]);
    fails_with(&out, "remote source is read for its metadata only");
    assert_eq!(server.requests(), 0);
    assert!(!dest.exists());
}

#[test]
fn malformed_sources_are_exit_2() {
    fails_with(
        &run(&["inspect", "hf://only-owner"]),
        "hf://OWNER/REPO/FILE",
    );
    fails_with(&run(&["inspect", "http://127.0.0.1:9"]), "names no file");
}

//! Running the binary on a file: a real fixture or bytes written to a temporary directory.
//!
//! The command runs in the file's directory with the bare file name as its argument, so the
//! recorded arguments never hold a machine's path; a filter also replaces the name (and any
//! full path) by `[FILE]` in stdout and stderr.

use std::path::PathBuf;
use std::process::Command;

use insta_cmd::get_cargo_bin;
use tempfile::TempDir;

/// A file to run the binary on.
pub struct Case {
    dir: PathBuf,
    file: String,
    _tmp: Option<TempDir>,
}

impl Case {
    /// A real fixture from `tests/fixtures/real/`.
    pub fn fixture(name: &str) -> Self {
        let path = ggufscope_testkit::real_fixture(name);
        assert!(path.exists(), "fixture {} is missing", path.display());
        Self {
            dir: path.parent().unwrap().to_path_buf(),
            file: name.to_owned(),
            _tmp: None,
        }
    }

    /// A file of the repository's fixtures, e.g. a head in `tests/fixtures/llama-archs/`.
    pub fn at(path: &std::path::Path) -> Self {
        assert!(path.exists(), "fixture {} is missing", path.display());
        Self {
            dir: path.parent().unwrap().to_path_buf(),
            file: path.file_name().unwrap().to_str().unwrap().to_owned(),
            _tmp: None,
        }
    }

    /// `bytes` written as `name` in a fresh temporary directory.
    pub fn temp(name: &str, bytes: &[u8]) -> Self {
        let tmp = TempDir::new().unwrap();
        std::fs::write(tmp.path().join(name), bytes).unwrap();
        Self::in_temp_dir(tmp, name)
    }

    /// A real fixture copied into a fresh temporary directory (so that other files can be
    /// written beside it).
    pub fn fixture_copy(name: &str) -> Self {
        Self::temp(name, &ggufscope_testkit::read_real(name))
    }

    /// Writes another file beside the case's file.
    pub fn add(&self, name: &str, bytes: &[u8]) -> &Self {
        std::fs::write(self.dir.join(name), bytes).unwrap();
        self
    }

    /// The case's directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `name` in a fresh temporary directory, not created.
    pub fn absent(name: &str) -> Self {
        Self::in_temp_dir(TempDir::new().unwrap(), name)
    }

    fn in_temp_dir(tmp: TempDir, name: &str) -> Self {
        Self {
            dir: tmp.path().to_path_buf(),
            file: name.to_owned(),
            _tmp: Some(tmp),
        }
    }

    /// The file name, as the command receives it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The full path of the file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.file)
    }

    /// `ggufscope SUBCOMMAND FILE EXTRA...`, run in the file's directory.
    pub fn cmd(&self, subcommand: &str, extra: &[&str]) -> Command {
        let mut cmd = bin();
        cmd.current_dir(&self.dir)
            .arg(subcommand)
            .arg(&self.file)
            .args(extra);
        cmd
    }

    /// Snapshot settings that replace the file's path or name by `[FILE]`.
    pub fn settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        for text in [self.path().display().to_string(), self.file.clone()] {
            settings.add_filter(&regex_escape(&text), "[FILE]");
        }
        settings
    }
}

/// The binary, with `RUST_LOG` cleared so the environment cannot add log lines, and the proxy
/// variables cleared so that the remote-source tests talk to their 127.0.0.1 server directly.
pub fn bin() -> Command {
    let mut cmd = Command::new(get_cargo_bin("ggufscope"));
    cmd.env_remove("RUST_LOG");
    for proxy in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
        cmd.env_remove(proxy).env_remove(proxy.to_ascii_lowercase());
    }
    cmd
}

/// Escapes regex metacharacters (the set `regex::escape` escapes).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshots `cmd` under `name` with the case's filters.
#[macro_export]
macro_rules! snapshot {
    ($case:expr, $name:expr, $cmd:expr) => {
        $case.settings().bind(|| {
            insta_cmd::assert_cmd_snapshot!($name, $cmd);
        })
    };
}

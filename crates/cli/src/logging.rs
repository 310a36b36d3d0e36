//! Diagnostics logging with `tracing`, always to stderr so stdout stays the report.
//!
//! The filter comes from `RUST_LOG` when it is set and valid, else from the flags: `-q` error,
//! default warn, `-v` info, `-vv` debug, `-vvv` trace.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

/// How chatty the log is, from `-v`/`-q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    /// Number of `-v`.
    pub verbose: u8,
    /// `-q` was given.
    pub quiet: bool,
}

impl Verbosity {
    /// The level the flags ask for.
    pub fn level(self) -> LevelFilter {
        if self.quiet {
            return LevelFilter::ERROR;
        }
        match self.verbose {
            0 => LevelFilter::WARN,
            1 => LevelFilter::INFO,
            2 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        }
    }
}

/// Installs the global subscriber (a second call does nothing).
pub fn init(verbosity: Verbosity, color: bool) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| EnvFilter::try_new(s).ok());
    let filter =
        from_env.unwrap_or_else(|| EnvFilter::default().add_directive(verbosity.level().into()));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_levels() {
        let v = |verbose, quiet| Verbosity { verbose, quiet }.level();
        assert_eq!(v(0, false), LevelFilter::WARN);
        assert_eq!(v(1, false), LevelFilter::INFO);
        assert_eq!(v(2, false), LevelFilter::DEBUG);
        assert_eq!(v(3, false), LevelFilter::TRACE);
        assert_eq!(v(9, false), LevelFilter::TRACE);
        assert_eq!(v(0, true), LevelFilter::ERROR);
    }
}

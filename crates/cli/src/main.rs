//! `ggufscope`: tells the truth about a GGUF model before a GPU worker loads it.
//!
//! The command is the `ggufscope` library (`src/lib.rs`): this file only calls it.

fn main() -> std::process::ExitCode {
    ggufscope::main()
}

//! The command line as typed (clap derive). Checked, resolved settings are built from it in
//! `main` (`Verbosity`, `Paint`), so that commands never look at raw flags they do not own.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::logging::Verbosity;

/// The cache types llama.cpp's `-ctk`/`-ctv` accept (the model crate's `KV_CACHE_TYPES`,
/// common/arg.cpp:304-314).
fn kv_types() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        ggufscope_model::KV_CACHE_TYPES
            .iter()
            .filter_map(|t| t.name()),
    )
}

/// Tells the truth about a GGUF model before a GPU worker loads it.
#[derive(Debug, Parser)]
#[command(name = "ggufscope", version, about, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to use colors (NO_COLOR in the environment turns `auto` off).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The log verbosity the flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        Verbosity {
            verbose: self.verbose,
            quiet: self.quiet,
        }
    }
}

/// The subcommands. Planned next: `compat`, `llamafy`, `memory`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Header, every metadata entry, a tensor summary, diagnostics and layout findings.
    Inspect(InspectArgs),
    /// Every tensor: name, type, shape, elements, bytes and offset, in file order.
    Tensors(TensorsArgs),
    /// The typed configuration and the facts derived from it.
    Config(SourceArgs),
    /// Every format and schema finding; exit 1 if any is an error.
    Validate(SourceArgs),
    /// Two models side by side: configuration, attention, tokenizer, tensor names and shapes.
    Compare(CompareArgs),
    /// The analysis report as markdown: summary, configuration, tensors, findings, assumptions.
    Report(ReportArgs),
    /// Whether a Llama-style pipeline can run the model, and the adapter steps that get there.
    Compat(CompatArgs),
    /// Rewrite a phi3 or qwen2 file into the llama layout (the adapter plan, executed).
    Llamafy(LlamafyArgs),
    /// Memory to load and run the model: weights, KV cache, output and compute buffers.
    Memory(MemoryArgs),
    /// Every tensor's bytes read once: llama.cpp's value checks, bounds, llama-gguf-hash hashes.
    Verify(crate::cmd::verify::VerifyArgs),
    /// Render the chat template as transformers does; its capabilities and serving findings.
    Template(crate::cmd::template::TemplateArgs),
    /// Would llama.cpp load the model with a projector, LoRA, control vector, imatrix or draft.
    Pair(crate::cmd::pair::PairArgs),
}

/// Arguments of `inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// The GGUF file: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION]; for a
    /// split set, its first shard.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// Show the first N elements of each array.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub array_limit: usize,

    /// Show every element of every array (overrides --array-limit).
    #[arg(long)]
    pub full_arrays: bool,
}

impl InspectArgs {
    /// How many elements of each array to show (`None`: all).
    pub fn array_limit(&self) -> Option<usize> {
        (!self.full_arrays).then_some(self.array_limit)
    }
}

/// Arguments of `tensors`.
#[derive(Debug, Clone, Args)]
pub struct TensorsArgs {
    /// The GGUF file: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION]; for a
    /// split set, its first shard.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,

    /// List the layout the architecture requires for this configuration instead of the
    /// file's tensors (works on vocab-only files).
    #[arg(long)]
    pub expected: bool,
}

/// Arguments of the commands that take one file and `--json` (`config`, `validate`).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// The GGUF file: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION]; for a
    /// split set, its first shard.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// The first GGUF file (column A): a path or a URL, as SOURCE elsewhere.
    #[arg(value_name = "A")]
    pub a: PathBuf,

    /// The second GGUF file (column B): a path or a URL.
    #[arg(value_name = "B")]
    pub b: PathBuf,

    /// Print one JSON object instead of text.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,

    /// Print markdown tables instead of text.
    #[arg(long)]
    pub markdown: bool,
}

/// Arguments of `report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The GGUF file to analyse: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION];
    /// for a split set, its first shard.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Also compare with this GGUF file (a path or a URL).
    #[arg(long, value_name = "OTHER")]
    pub compare: Option<PathBuf>,

    /// Write the report to FILE instead of stdout (replacing it).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print the report's data as one JSON object instead of markdown.
    #[arg(long)]
    pub json: bool,

    /// Also draw the memory plot (as `memory --plot`) into DIR and embed it in the markdown.
    #[arg(long, value_name = "DIR", conflicts_with = "json")]
    pub plot_dir: Option<PathBuf>,
}

/// The architecture `compat` checks against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// llama.cpp's `llama` architecture (NORM rope, separate Q/K/V and gate/up).
    Llama,
}

/// Arguments of `compat`.
#[derive(Debug, Clone, Args)]
pub struct CompatArgs {
    /// The GGUF file: a path, an http(s):// URL or hf://OWNER/REPO/FILE[@REVISION]; for a
    /// split set, its first shard.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// The target architecture.
    #[arg(long, value_enum, default_value_t = Target::Llama)]
    pub target: Target,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `llamafy`.
#[derive(Debug, Clone, Args)]
pub struct LlamafyArgs {
    /// The GGUF file to convert (a local file: the tensor data is read).
    #[arg(value_name = "IN")]
    pub input: PathBuf,

    /// Where to write the llama-layout file.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,

    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `memory`.
#[derive(Debug, Clone, Args)]
pub struct MemoryArgs {
    /// The GGUF file.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,

    /// Context length (default: the model's training context).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub ctx: u64,

    /// Logical batch size (llama.cpp `-b`).
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub batch: u64,

    /// Physical batch size (llama.cpp `-ub`).
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub ubatch: u64,

    /// Parallel sequences (llama.cpp `-np`).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub parallel: u64,

    /// K and V cache type (f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl q5_0 q5_1).
    #[arg(long, value_name = "TYPE", default_value = "f16", value_parser = kv_types())]
    pub kv_type: String,

    /// K cache type (llama.cpp `-ctk`), overrides --kv-type.
    #[arg(long, visible_alias = "ctk", value_name = "TYPE", value_parser = kv_types())]
    pub cache_type_k: Option<String>,

    /// V cache type (llama.cpp `-ctv`), overrides --kv-type.
    #[arg(long, visible_alias = "ctv", value_name = "TYPE", value_parser = kv_types())]
    pub cache_type_v: Option<String>,

    /// One KV stream for every sequence (llama.cpp `--kv-unified`).
    #[arg(long)]
    pub kv_unified: bool,

    /// Full-size cache for sliding-window layers (llama.cpp `--swa-full`).
    #[arg(long)]
    pub swa_full: bool,

    /// Flash attention (llama.cpp's default `auto` turns it on where supported, the CPU
    /// included); it changes the compute buffer.
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    pub flash_attn: String,

    /// Model llama.cpp's CPU backend, which keeps a repacked copy of q4_0/q4_K/iq4_nl matrices.
    #[arg(long)]
    pub cpu_repack: bool,

    /// Devices and placement (llama.cpp's -ngl, -ts, -sm, -ot …).
    #[command(flatten)]
    pub placement: Box<PlacementArgs>,

    /// What a scheduler asks: --fit, --ngl-step, --plot.
    #[command(flatten)]
    pub schedule: Box<ScheduleArgs>,

    /// For vocab-only files: the ggml type the weights are assumed to have.
    #[arg(long, value_name = "TYPE", default_value = "f16")]
    pub assume_type: String,

    /// Companion files whose weights are added (--mmproj, --lora, --draft).
    #[command(flatten)]
    pub companions: crate::cmd::pair::CompanionArgs,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `memory`'s device and placement arguments.
#[derive(Debug, Clone, Args)]
pub struct PlacementArgs {
    /// GPUs' memory (e.g. 24G,24G or repeated); implies the CUDA backend.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, value_delimiter = ',')]
    pub gpu_mem: Vec<u64>,

    /// Backend (default: cuda when a GPU option is given, else cpu).
    #[arg(long, value_name = "cpu|cuda", value_parser = ["cpu", "cuda"])]
    pub backend: Option<String>,

    /// Layers to offload (llama.cpp -ngl; counts the output layer; default: all).
    #[arg(long, value_name = "N")]
    pub ngl: Option<u64>,

    /// Proportions of the offloaded layers per GPU (llama.cpp -ts), e.g. 3,1.
    #[arg(long, value_name = "N0,N1,...", value_delimiter = ',')]
    pub tensor_split: Vec<f64>,

    /// How to split over GPUs (llama.cpp -sm).
    #[arg(long, value_name = "none|layer|row", default_value = "layer", value_parser = ["none", "layer", "row"])]
    pub split_mode: String,

    /// The GPU used with --split-mode none (llama.cpp -mg).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub main_gpu: usize,

    /// Keep the expert weights of the first N layers on the CPU (llama.cpp --n-cpu-moe).
    #[arg(long, value_name = "N")]
    pub n_cpu_moe: Option<u64>,

    /// Tensor buffer override REGEX=DEVICE (CPU, CUDA_Host, CUDA0…), repeatable (llama.cpp -ot).
    #[arg(long = "override-tensor", value_name = "REGEX=DEVICE")]
    pub override_tensor: Vec<String>,

    /// Keep every cache in host memory (llama.cpp --no-kv-offload).
    #[arg(long)]
    pub no_kv_offload: bool,

    /// Weights copied into host buffers instead of mapped from the file (llama.cpp --no-mmap).
    #[arg(long)]
    pub no_mmap: bool,

    /// Per-GPU driver and CUDA context memory (default: 730 MiB, measured on an H200 in
    /// tests/fixtures/llama-archs/cuda-truth.json).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub device_overhead: Option<u64>,
}

/// `memory`'s scheduler questions.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    /// The largest -ngl (with `ctx`: first the largest context) that fits --gpu-mem, as
    /// llama.cpp's llama-fit-params chooses it.
    #[arg(long, value_name = "ngl|ctx", num_args = 0..=1, default_missing_value = "ngl", value_parser = ["ngl", "ctx"])]
    pub fit: Option<String>,

    /// Memory --fit leaves free on each GPU (llama.cpp --fit-target; default 1GiB), e.g.
    /// 1GiB or 512MiB,2GiB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, value_delimiter = ',')]
    pub fit_target: Vec<u64>,

    /// The smallest context --fit ctx may choose, per sequence (llama.cpp --fit-ctx).
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub fit_ctx: u64,

    /// The offload curve: one plan per K offloaded layers (0, K, 2K, …, all).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub ngl_step: Option<u64>,

    /// Draw memory against context length and against offloaded layers, per device (SVG).
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

/// Parses `8GiB`, `24GB`, `6000MiB`, `512M` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 8GiB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0_f64.powi(4),
        "tb" => 1e12,
        other => return Err(format!("unknown size unit `{other}`")),
    };
    let bytes = (value * scale).round();
    if bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(bytes as u64)
    } else {
        Err(format!("`{text}` is out of range"))
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colors when the stream is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colors.
    Always,
    /// Never colors.
    Never,
}

impl ColorChoice {
    /// Whether a stream gets colors.
    pub fn enabled(self, is_terminal: bool, no_color: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color,
        }
    }
}

/// Whether `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_color_turns_auto_off_but_not_always() {
        assert!(ColorChoice::Auto.enabled(true, false));
        assert!(!ColorChoice::Auto.enabled(true, true));
        assert!(!ColorChoice::Auto.enabled(false, false));
        assert!(ColorChoice::Always.enabled(false, true));
        assert!(!ColorChoice::Never.enabled(true, false));
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli =
            Cli::try_parse_from(["ggufscope", "inspect", "x.gguf", "-vv", "--color", "never"])
                .unwrap();
        assert_eq!(cli.verbosity().verbose, 2);
        assert_eq!(cli.color, ColorChoice::Never);
        assert!(Cli::try_parse_from(["ggufscope", "-q", "-v", "tensors", "x"]).is_err());
    }

    #[test]
    fn report_takes_compare_and_output() {
        let cli = Cli::try_parse_from([
            "ggufscope",
            "report",
            "a.gguf",
            "--compare",
            "b.gguf",
            "-o",
            "out.md",
        ])
        .unwrap();
        let Command::Report(args) = cli.command else {
            panic!("not report")
        };
        assert_eq!(
            args.compare.as_deref(),
            Some(std::path::Path::new("b.gguf"))
        );
        assert_eq!(args.output.as_deref(), Some(std::path::Path::new("out.md")));
        assert!(
            Cli::try_parse_from(["ggufscope", "compare", "a", "b", "--json", "--markdown"])
                .is_err()
        );
    }

    #[test]
    fn full_arrays_overrides_the_limit() {
        let cli = Cli::try_parse_from(["ggufscope", "inspect", "x", "--array-limit", "3"]).unwrap();
        let Command::Inspect(args) = cli.command else {
            panic!("not inspect")
        };
        assert_eq!(args.array_limit(), Some(3));
        let args = InspectArgs {
            full_arrays: true,
            ..args
        };
        assert_eq!(args.array_limit(), None);
    }
}

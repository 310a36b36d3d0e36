#!/usr/bin/env bash
# Fuzz smoke run (issue 7): each target of fuzz/fuzz_targets/ for FUZZ_SECONDS seconds
# (default 20, so 60 s for the three), starting from the committed seed corpus in
# fuzz/corpus/<target>/. Called by .ci/run; runs on its own too: `bash fuzz/run.sh`.
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer=address, sanitizer coverage); the stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1, and ships the ASan runtime on
# x86_64-unknown-linux-gnu. cargo-fuzz itself is installed from crates.io when it is missing.
#
# New inputs the fuzzer finds go to a temporary folder, so the committed corpus only changes
# through `cargo run -p ggufscope-fuzzcheck --bin write-corpus`. A crash fails the run and
# leaves its input in fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# and keep it as a byte-literal regression test in crates/fuzzcheck/tests/.
#
# Where cargo-fuzz cannot be installed or cannot build (another platform, no C++ compiler), the
# script says so and runs the whole corpus through the same target bodies as plain functions
# instead (`cargo test -p ggufscope-fuzzcheck --test corpus`).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-20}"
targets=(parse roundtrip analyze)
cargo_fuzz_version="0.13.2"

fallback() {
  echo "fuzz/run.sh: $1; running the corpus through the target bodies instead" >&2
  cargo test --locked -p ggufscope-fuzzcheck --test corpus --manifest-path ../Cargo.toml
  exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz ${cargo_fuzz_version}"
  cargo install cargo-fuzz --locked --version "${cargo_fuzz_version}" \
    || fallback "cargo-fuzz could not be installed"
fi

export RUSTC_BOOTSTRAP=1
echo "== cargo fuzz build ($(cargo fuzz --version))"
cargo fuzz build || fallback "the fuzz targets do not build with cargo-fuzz here"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  echo "== cargo fuzz run ${target} (${seconds} s)"
  mkdir -p "${scratch}/${target}"
  # The first folder receives new inputs; the committed corpus is only read.
  if ! cargo fuzz run "${target}" "${scratch}/${target}" "corpus/${target}" -- \
      -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"${scratch}/${target}.log" 2>&1; then
    tail -n 60 "${scratch}/${target}.log" >&2
    echo "fuzz/run.sh: ${target} failed; the input is in fuzz/artifacts/${target}/" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "${scratch}/${target}.log" \
    | sed "s/^/  ${target}: /" || true
  grep -E '#[0-9]+[[:space:]]+DONE' "${scratch}/${target}.log" | sed "s/^/  ${target}: /" || true
done

#!/usr/bin/env bash
# Side-by-side speed benchmark of ggufscope against the other GGUF parsers (issue 7, "Speed").
#
# Run from anywhere, as root on a Debian machine with Rust stable, Python 3 + pip, gcc/g++ and
# network access to crates.io, PyPI and Debian only:
#
#     bash bench/peers.sh
#
# It installs and builds everything it needs into bench/.work/ (git-ignored) and reuses it on
# the next run, so a second run only re-times:
#   - hyperfine, cmake and GNU time from Debian (apt-get) when they are missing;
#   - the Python `gguf` package (llama.cpp's gguf-py, GGUFReader) in a venv;
#   - llama.cpp's own C parser, ggml/src/gguf.cpp, from the llama-cpp-python==0.3.36 source
#     distribution on PyPI, built with cmake (target ggml-base, static) and linked into
#     bench/peers/llama-cpp/gguf_open.cpp, which calls gguf_init_from_file with no_alloc;
#   - the Rust crates candle-core (gguf_file::Content::read through a BufReader) and ggus
#     (GGuf::new over a memory map), each a small cargo project in bench/peers/<name>/;
#   - ggufscope itself, as README's "Release binary" builds it: the workspace release profile
#     (fat LTO, one codegen unit, panic=abort), linked statically (`+crt-static`, for the host
#     triple); the Rust peers are built with the same profile and linkage, and the llama.cpp
#     program with `-static`, so that start-up costs compare like for like;
#   - the two generated files (cargo run --release -p ggufscope-testkit --example bench_files):
#     a Gemma-3-like file (262,144 tokens + scores + token types, 236 tensors) and a
#     Qwen2-7B-like file (152,064 tokens + 151,387 merges, 339 tensors), both sparse.
# Then it times, with hyperfine (whole processes, warm cache, same files, same run):
#   ggufscope config FILE --json, ggufscope inspect FILE --json and each peer's "open + read the
#   metadata" program, on the two generated files and the real fixtures (tests/fixtures/real),
# measures each one's peak RSS (GNU time, %M), times ggufscope's in-process parse
# (example parse_timing), and writes bench/RESULTS.md.
#
# Time: about 20 minutes on 2 cores (the Python peer needs 6-8 s a run on the large files), plus
# about 10 minutes of builds on the first run (candle-core, with fat LTO, is the longest).
#
# A peer that cannot be installed or built is reported as such in RESULTS.md (with the end of its
# build log); it does not stop the run. Logs are in bench/.work/logs/.
#
# Knobs (environment): RUNS (minimum hyperfine runs per command, default 20), WARMUP (default 3),
# RSS_RUNS (peak-RSS samples per command, median taken, default 3), WAIT_QUIET (seconds to wait
# at most, before timing each file, for the machine to be idle: at most 2 of 10 samples of
# /proc/loadavg's running-task count, taken 0.5 s apart, showing another runnable task; default
# 0: set e.g. WAIT_QUIET=600 on a shared machine), FIXTURES (folder of real fixtures, default
# tests/fixtures/real), OUT (default bench/RESULTS.md).
# REPORT_ONLY=1 rewrites RESULTS.md from the last run's measurements (bench/.work/results/)
# without building or timing anything.
# The load average before and after each file's timing is written to RESULTS.md: timings taken
# while other work ran on the machine are noisy (the medians less so than the means).
# Not run by CI.
set -uo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
WORK="$BENCH/.work"
LOGS="$WORK/logs"
RES="$WORK/results"
FILES_DIR="$WORK/files"
FIXTURES="${FIXTURES:-$ROOT/tests/fixtures/real}"
OUT="${OUT:-$BENCH/RESULTS.md}"
RUNS="${RUNS:-20}"
WARMUP="${WARMUP:-3}"
RSS_RUNS="${RSS_RUNS:-3}"
WAIT_QUIET="${WAIT_QUIET:-0}"

# Pinned peer versions.
GGUF_PY_VERSION="0.19.0"
LLAMA_CPP_PYTHON_VERSION="0.3.36"

REPORT_ONLY="${REPORT_ONLY:-0}"
GEMMA="$FILES_DIR/gemma3-like.gguf"
QWEN7="$FILES_DIR/qwen2-7b-like.gguf"
FILES=("$GEMMA" "$QWEN7")
for f in "$FIXTURES"/*.gguf; do [ -f "$f" ] && FILES+=("$f"); done

mkdir -p "$WORK" "$LOGS" "$RES" "$FILES_DIR"
[ "$REPORT_ONLY" = 1 ] || : >"$WORK/status.tsv" # peer <TAB> built|failed <TAB> detail
export CARGO_TERM_COLOR=never

say() { printf '\n== %s\n' "$*" >&2; }
status() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/status.tsv"; }
# The last lines of a log, on one line, for RESULTS.md.
log_tail() { tail -n "${2:-4}" "$1" 2>/dev/null | tr '\n\t|' '   ' | cut -c1-400; }

# Everything up to the report: install, build, generate, time. Skipped with REPORT_ONLY=1.
if [ "$REPORT_ONLY" != 1 ]; then
# ---------------------------------------------------------------------------------------------
say "tools (apt-get: hyperfine, cmake, time)"
need_apt=()
command -v hyperfine >/dev/null 2>&1 || need_apt+=(hyperfine)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"; } \
      >"$LOGS/apt.log" 2>&1 || echo "apt-get install ${need_apt[*]} failed: see $LOGS/apt.log" >&2
  else
    echo "missing ${need_apt[*]} and no apt-get" >&2
  fi
fi
if ! command -v hyperfine >/dev/null 2>&1; then
  echo "hyperfine is required and could not be installed (see $LOGS/apt.log)" >&2
  exit 1
fi
HAVE_TIME=1
[ -x /usr/bin/time ] || HAVE_TIME=0

# ---------------------------------------------------------------------------------------------
# Every native tool is linked statically: the dynamic loader's work (relocations, symbol
# lookups in libc/libm/libgcc_s) is most of a Rust program's start-up here. `--target` keeps
# the flag away from build scripts and proc macros, which must stay dynamic.
HOST="$(rustc -vV | sed -n 's/^host: //p')"
STATIC=(--target "$HOST" --config "target.$HOST.rustflags=['-C','target-feature=+crt-static']")
# "static" only when readelf reads the file and finds no shared library it needs.
linkage() {
  local out
  out="$(readelf -d "$1" 2>/dev/null)" || { echo "linkage unknown"; return; }
  case "$out" in *NEEDED*) echo dynamic ;; *) echo static ;; esac
}
# Where cargo puts ggufscope's build (CARGO_TARGET_DIR, build.target-dir, or target/).
TARGET_DIR="$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null)"
[ -n "$TARGET_DIR" ] || TARGET_DIR="$ROOT/target"
say "ggufscope (release profile, static, $HOST) and the generated files"
GGUFSCOPE="$TARGET_DIR/$HOST/release/ggufscope"
if (cd "$ROOT" && cargo build --release --locked -p ggufscope "${STATIC[@]}") >"$LOGS/ggufscope.log" 2>&1; then
  # No git here: a digest of the sources that went into the binary identifies the tree measured.
  digest="$(cd "$ROOT" && find Cargo.toml Cargo.lock crates/gguf crates/model crates/cli -type f \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -not -path '*/tests/*' 2>/dev/null | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)"
  status ggufscope built "$("$GGUFSCOPE" --version 2>/dev/null), $(stat -c %s "$GGUFSCOPE") bytes, $(linkage "$GGUFSCOPE"), source digest $digest ($(rustc --version))"
else
  echo "ggufscope does not build: see $LOGS/ggufscope.log" >&2
  log_tail "$LOGS/ggufscope.log" 20 >&2
  exit 1
fi
GEN_SRC="$ROOT/crates/testkit/examples/bench_files.rs"
if [ ! -s "$GEMMA" ] || [ ! -s "$QWEN7" ] || [ "$GEN_SRC" -nt "$GEMMA" ]; then
  if ! (cd "$ROOT" && cargo run --release -p ggufscope-testkit --example bench_files -- "$FILES_DIR") \
    >"$LOGS/bench_files.log" 2>&1; then
    echo "generating the benchmark files failed: see $LOGS/bench_files.log" >&2
    exit 1
  fi
fi
(cd "$ROOT" && cargo build --release -p ggufscope-testkit --example parse_timing) \
  >"$LOGS/parse_timing.log" 2>&1 || true
PARSE_TIMING="$TARGET_DIR/release/examples/parse_timing"

# ---------------------------------------------------------------------------------------------
say "peer: Python gguf $GGUF_PY_VERSION (GGUFReader) in a venv"
VENV="$WORK/venv"
PY_GGUF_DETAIL=""
(
  set -e
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("gguf"))' 2>/dev/null)" != "$GGUF_PY_VERSION" ]; then
    "$VENV/bin/pip" install --disable-pip-version-check -q "gguf==$GGUF_PY_VERSION"
  fi
  "$VENV/bin/python" -c 'from gguf import GGUFReader'
) >"$LOGS/python-gguf.log" 2>&1
if [ $? -eq 0 ]; then
  PY_GGUF_DETAIL="$("$VENV/bin/python" -c 'import importlib.metadata as m, sys; print("gguf", m.version("gguf") + ", numpy", m.version("numpy") + ", Python", sys.version.split()[0])')"
  status python-gguf built "$PY_GGUF_DETAIL"
else
  status python-gguf failed "$(log_tail "$LOGS/python-gguf.log")"
fi

# ---------------------------------------------------------------------------------------------
say "peer: llama.cpp gguf.cpp (ggml-base) from llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
SRC="$WORK/src"
SDIST="$SRC/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
LLAMA_DIR="$SRC/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
LLAMA_BUILD="$WORK/build/llama.cpp"
LLAMA_BIN="$WORK/bin/bench-llama-cpp"
LLAMA_SRC="$BENCH/peers/llama-cpp/gguf_open.cpp"
mkdir -p "$SRC" "$WORK/bin"
(
  set -e
  if [ ! -s "$SDIST" ]; then
    python3 -m pip download --disable-pip-version-check --no-binary :all: --no-deps \
      "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$SRC"
  fi
  [ -f "$LLAMA_DIR/ggml/src/gguf.cpp" ] || tar -xzf "$SDIST" -C "$SRC"
  # The standalone ggml project needs ggml.pc.in, which the sdist leaves out: configure the
  # whole llama.cpp tree with everything but the libraries switched off, build ggml-base only.
  # Static, and without OpenMP (the parser uses neither; it only saves the peer start-up time).
  if [ ! -f "$LLAMA_BUILD/ggml/src/libggml-base.a" ]; then
    cmake -S "$LLAMA_DIR" -B "$LLAMA_BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DGGML_OPENMP=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF \
      -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
      -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF
    cmake --build "$LLAMA_BUILD" --target ggml-base -j "$(nproc)"
  fi
  if [ ! -x "$LLAMA_BIN" ] || [ "$LLAMA_SRC" -nt "$LLAMA_BIN" ] || [ "$BENCH/peers.sh" -nt "$LLAMA_BIN" ]; then
    g++ -O2 -std=c++17 -I"$LLAMA_DIR/ggml/include" "$LLAMA_SRC" \
      "$LLAMA_BUILD/ggml/src/libggml-base.a" -static -lpthread -lm -o "$LLAMA_BIN"
  fi
) >"$LOGS/llama-cpp.log" 2>&1
if [ $? -eq 0 ]; then
  commit="$(grep -o -m1 'llama.cpp@[0-9a-f]*' "$SRC/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/CHANGELOG.md" 2>/dev/null || true)"
  ggml_v="$(grep -o -m1 'ggml version: [0-9.]*' "$LOGS/llama-cpp.log" "$LLAMA_BUILD/CMakeCache.txt" 2>/dev/null | head -n1 | sed 's/.*: //')"
  [ -n "$ggml_v" ] || ggml_v="$(grep -m1 'GGML_VERSION' "$LLAMA_BUILD/CMakeCache.txt" 2>/dev/null | sed 's/.*=//')"
  status llama-cpp built "llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist, vendored ${commit:-llama.cpp (commit unknown)}, ggml/src/gguf.cpp${ggml_v:+ (ggml $ggml_v)}, libggml-base.a (cmake Release, static, no OpenMP), program linked $(linkage "$LLAMA_BIN") (-O2 -static), $(g++ --version | head -n1)"
else
  status llama-cpp failed "$(log_tail "$LOGS/llama-cpp.log")"
fi

# ---------------------------------------------------------------------------------------------
RUST_TARGET="$WORK/target"
build_rust_peer() { # name crate
  local name="$1" crate="$2" dir="$BENCH/peers/$1"
  say "peer: Rust crate $crate ($dir)"
  local locked=()
  [ -f "$dir/Cargo.lock" ] && locked=(--locked)
  if (cd "$dir" && CARGO_TARGET_DIR="$RUST_TARGET" cargo build --release "${locked[@]}" "${STATIC[@]}") \
    >"$LOGS/$name.log" 2>&1; then
    local v
    v="$(grep -A1 "^name = \"$crate\"$" "$dir/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
    status "$name" built "$crate $v, release profile as ggufscope's, $(linkage "$RUST_TARGET/$HOST/release/bench-$name") ($(rustc --version))"
  else
    status "$name" failed "$(log_tail "$LOGS/$name.log")"
  fi
}
build_rust_peer ggus ggus
build_rust_peer candle candle-core

# ---------------------------------------------------------------------------------------------
# The tools: label <TAB> peer status key <TAB> command with FILE as a placeholder.
q() { printf '%q' "$1"; }
TOOLS="$WORK/tools.tsv"
{
  printf '(floor) /bin/true\tfloor\t/bin/true FILE\n'
  printf 'ggufscope config --json\tggufscope\t%s config FILE --json\n' "$(q "$GGUFSCOPE")"
  printf 'ggufscope inspect --json\tggufscope\t%s inspect FILE --json\n' "$(q "$GGUFSCOPE")"
  printf 'llama.cpp gguf_init_from_file (C++)\tllama-cpp\t%s FILE\n' "$(q "$LLAMA_BIN")"
  printf 'ggus GGuf::new (Rust, mmap)\tggus\t%s FILE\n' "$(q "$RUST_TARGET/$HOST/release/bench-ggus")"
  printf 'candle-core Content::read (Rust, BufReader)\tcandle\t%s FILE\n' "$(q "$RUST_TARGET/$HOST/release/bench-candle")"
  printf 'gguf-py GGUFReader (Python)\tpython-gguf\t%s %s FILE\n' "$(q "$VENV/bin/python")" "$(q "$BENCH/peers/python-gguf/gguf_reader.py")"
} >"$TOOLS"

[ "${#FILES[@]}" -gt 2 ] || echo "no real fixtures in $FIXTURES: timing the generated files only" >&2

status floor built "$(/bin/true --version 2>/dev/null | head -n1)"
built() { awk -F'\t' -v p="$1" '$1 == p && $2 == "built" { ok = 1 } END { exit !ok }' "$WORK/status.tsv"; }

rm -f "$RES"/*.json "$RES"/*.tsv
{
  echo "date	$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "nproc	$(nproc)"
  echo "cpu	$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n1 | sed 's/^\(..*\)$/\1 guest/'))"
  echo "memory	$(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
  echo "os	Debian $(cat /etc/debian_version 2>/dev/null), Linux $(uname -r)"
  echo "hyperfine	$(hyperfine --version)"
  echo "rustc	$(rustc --version)"
  echo "cmake	$(cmake --version 2>/dev/null | head -n1)"
} >"$RES/machine.tsv"
for file in "${FILES[@]}"; do
  base="$(basename "$file" .gguf)"
  qf="$(q "$file")"
  say "timing $base"
  if [ "$WAIT_QUIET" -gt 0 ]; then
    start_wait=$SECONDS
    while [ $((SECONDS - start_wait)) -lt "$WAIT_QUIET" ]; do
      busy=0
      for _ in $(seq 10); do
        # Field 4 is running/total; this shell, reading it with a builtin, is one running task.
        read -r _ _ _ tasks _ </proc/loadavg
        [ "${tasks%%/*}" -gt 1 ] && busy=$((busy + 1))
        sleep 0.5
      done
      [ "$busy" -le 2 ] && break
    done
    echo "waited $((SECONDS - start_wait)) s for an idle machine" >&2
  fi
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  # One check run per tool: exit code and the first line of stdout / stderr (the peers print
  # `arch n_kv n_tensors`, checked against ggufscope's counts in RESULTS.md).
  "$GGUFSCOPE" inspect "$file" --json >"$RES/$base.inspect.json" 2>/dev/null || true
  cmds=()
  names=()
  while IFS=$'\t' read -r label key cmd; do
    built "$key" || continue
    c="${cmd//FILE/$qf}"
    eval "$c" >"$RES/stdout.txt" 2>"$RES/stderr.txt"
    rc=$?
    out="$(head -n1 "$RES/stdout.txt" | cut -c1-200)"
    err="$(head -n1 "$RES/stderr.txt" | cut -c1-200)"
    rss=""
    if [ "$HAVE_TIME" = 1 ]; then
      samples=()
      for _ in $(seq "$RSS_RUNS"); do
        eval "/usr/bin/time -f %M -o $(q "$RES/rss.txt") $c" >/dev/null 2>&1
        samples+=("$(tail -n1 "$RES/rss.txt")")
      done
      rss="$(printf '%s\n' "${samples[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$rc" "$rss" "$out" "$err" >>"$RES/$base.check.tsv"
    cmds+=("$c")
    names+=(-n "$label")
  done <"$TOOLS"
  hyperfine -N -i --style basic --warmup "$WARMUP" --min-runs "$RUNS" \
    --export-json "$RES/$base.json" "${names[@]}" "${cmds[@]}" >"$LOGS/hyperfine-$base.log" 2>&1 ||
    echo "hyperfine failed on $base: see $LOGS/hyperfine-$base.log" >&2
  printf '%s\t%s\t%s\n' "$base" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/load.tsv"
done

if [ -x "$PARSE_TIMING" ]; then
  say "in-process parse (example parse_timing)"
  "$PARSE_TIMING" "${FILES[@]}" >"$RES/parse_timing.tsv" 2>"$LOGS/parse_timing-run.log" || true
fi
fi # REPORT_ONLY

# ---------------------------------------------------------------------------------------------
say "writing $OUT"
if [ ! -f "$RES/machine.tsv" ]; then
  echo "no measurements in $RES: run without REPORT_ONLY first" >&2
  exit 1
fi

if python3 - "$RES" "$WORK/status.tsv" "$OUT" "$RUNS" "$WARMUP" "$RSS_RUNS" "${FILES[@]}" <<'PY'
import json, os, statistics, sys

res, status_path, out, runs, warmup, rss_runs = sys.argv[1:7]
files = sys.argv[7:]
machine = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(res, "machine.tsv")))
status = {}
for line in open(status_path):
    peer, st, detail = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    status[peer] = (st, detail)

PEERS = [
    ("llama-cpp", "llama.cpp gguf_init_from_file (C++)"),
    ("ggus", "ggus GGuf::new (Rust, mmap)"),
    ("candle", "candle-core Content::read (Rust, BufReader)"),
    ("python-gguf", "gguf-py GGUFReader (Python)"),
]
OURS = ["ggufscope config --json", "ggufscope inspect --json"]
FLOOR = "(floor) /bin/true"
SHORT = {
    FLOOR: "floor: /bin/true",
    "ggufscope config --json": "ggufscope config",
    "ggufscope inspect --json": "ggufscope inspect",
    "llama.cpp gguf_init_from_file (C++)": "llama.cpp",
    "ggus GGuf::new (Rust, mmap)": "ggus",
    "candle-core Content::read (Rust, BufReader)": "candle-core",
    "gguf-py GGUFReader (Python)": "gguf-py",
}

def describe(path):
    name = os.path.basename(path)[:-5]
    try:
        r = json.load(open(os.path.join(res, name + ".inspect.json")))
    except Exception:
        return name, None
    md = {e["key"]: e["value"] for e in r["metadata"]}
    arch = md.get("general.architecture", "?")
    arrays = [f"{e['key'].rsplit('.', 1)[-1]} {e['value']['len']:,}" for e in r["metadata"]
              if isinstance(e["value"], dict) and e["value"].get("len", 0) >= 1000]
    meta_bytes = r["data_offset"]
    return name, dict(arch=arch, n_kv=r["kv_count"], n_tensors=r["tensor_count"],
                      arrays=", ".join(arrays), head_mib=meta_bytes / 2**20,
                      size=r["file_size"])

rows = []   # (file, label, median, stddev, mean, min, runs, rss, rc, agree, err)
notes = []
summary = {}
for path in files:
    name, info = describe(path)
    try:
        hf = json.load(open(os.path.join(res, name + ".json")))["results"]
    except Exception:
        hf = []
    checks = {}
    try:
        for line in open(os.path.join(res, name + ".check.tsv")):
            label, rc, rss, outl, err = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
            checks[label] = (int(rc or 0), rss, outl, err)
    except FileNotFoundError:
        pass
    for r in hf:
        label = r["command"]
        times = [t * 1000 for t in r["times"]]
        med = statistics.median(times)
        sd = statistics.stdev(times) if len(times) > 1 else 0.0
        rc, rss, outl, err = checks.get(label, (0, "", "", ""))
        agree = ""
        if label not in OURS and label != FLOOR and info is not None:
            want = f"{info['arch']} {info['n_kv']} {info['n_tensors']}"
            agree = "yes" if outl.strip() == want else f"no: printed `{outl.strip()}`, expected `{want}`"
        rows.append((name, label, med, sd, r["mean"] * 1000, min(times), len(times),
                     (int(rss) / 1024) if rss else None, rc, agree, err))
        summary.setdefault(name, {})[label] = (med, (int(rss) / 1024) if rss else None, rc)

L = []
w = L.append
w("# Peer benchmark: ggufscope against the other GGUF parsers")
w("")
w("Written by `bash bench/peers.sh` (do not edit by hand; re-run it). Every figure is a whole "
  "process, started by hyperfine without a shell (`-N`), warm page cache, "
  f"{warmup} warm-up runs, at least {runs} timed runs (more when a command is fast: hyperfine "
  "runs each command for at least 3 s). Peak RSS is GNU time's `%M` (maximum resident set "
  f"size), the median of {rss_runs} runs. All tools ran on the same files in the same run. "
  "The native tools are built alike: ggufscope and the Rust peers with the same release profile "
  "(fat LTO, one codegen unit, panic=abort) and `+crt-static`, the llama.cpp program with "
  "`-static`, so no tool pays for the dynamic loader and start-up costs compare like for like. "
  "What bounds ggufscope's times, with profiles and proposed fixes: [PROFILE.md](PROFILE.md) "
  "(hand-written).")
w("")
w("## Machine")
w("")
for k in ["date", "nproc", "cpu", "memory", "os", "hyperfine", "rustc", "cmake"]:
    w(f"- {k}: {machine.get(k, '?')}")
try:
    loads = [l.rstrip("\n").split("\t") for l in open(os.path.join(res, "load.tsv"))]
    w("- load average (1, 5, 15 min) before → after timing each file: " + "; ".join(
        f"{b}: {x} → {y}" for b, x, y in loads) + " (on 2 cores; anything well above 0 means "
        "other work shared the machine and the spread is wider)")
except FileNotFoundError:
    pass
w("")
w("## Tools and versions")
w("")
w("| tool | what is timed | version / build |")
w("|---|---|---|")
st, det = status.get("ggufscope", ("?", ""))
w(f"| ggufscope config | `ggufscope config FILE --json`: parse, typed configuration, derived facts, JSON | {det} (README's 'Release binary': release profile with fat LTO, 1 codegen unit, panic=abort; `+crt-static`) |")
w(f"| ggufscope inspect | `ggufscope inspect FILE --json`: parse, every metadata entry (arrays: first 8 elements), tensor summary, layout check, JSON | same binary |")
w(f"| floor: /bin/true | not a peer: the cost of starting any process here (`/bin/true FILE`) | {status.get('floor', ('', ''))[1]} |")
what = {
    "llama-cpp": "`bench/peers/llama-cpp/gguf_open.cpp`: `gguf_init_from_file(path, {.no_alloc = true, .ctx = NULL})`, architecture, n_kv, n_tensors",
    "ggus": "`bench/peers/ggus`: mmap + `GGuf::new` (header, every KV, every tensor info), architecture, counts",
    "candle": "`bench/peers/candle`: `gguf_file::Content::read(&mut BufReader<File>)`, architecture, counts",
    "python-gguf": "`bench/peers/python-gguf/gguf_reader.py`: `GGUFReader(path)`, architecture, counts",
}
for key, label in PEERS:
    st, det = status.get(key, ("failed", "not attempted"))
    if st == "built":
        w(f"| {SHORT[label]} | {what[key]} | {det} |")
    else:
        w(f"| {SHORT[label]} | {what[key]} | **NOT BUILT here**: {det} |")
w("")
not_built = [(SHORT[l], status.get(k, ('failed', 'not attempted'))[1]) for k, l in PEERS
             if status.get(k, ("failed",))[0] != "built"]
if not_built:
    w("**Peers missing from this run** (the script could not install or build them; see "
      "`bench/.work/logs/`):")
    w("")
    for n, d in not_built:
        w(f"- {n}: {d}")
    w("")

w("## Files")
w("")
w("| file | architecture | KVs | tensors | big arrays | metadata + tensor infos | file size (sparse) |")
w("|---|---|---:|---:|---|---:|---:|")
for path in files:
    name, info = describe(path)
    if info:
        w(f"| {name} | {info['arch']} | {info['n_kv']} | {info['n_tensors']} | {info['arrays']} | "
          f"{info['head_mib']:.2f} MiB | {info['size'] / 2**20:,.0f} MiB |")
w("")
w("`gemma3-like` and `qwen2-7b-like` are written by `cargo run --release -p ggufscope-testkit "
  "--example bench_files -- bench/.work/files` (seeded, so every run writes the same bytes; "
  "tensor data left as holes). The `ggml-vocab-*` files are the real vocab-only fixtures from "
  "llama.cpp (`tests/fixtures/real/`).")
w("")

labels_order = OURS + [l for _, l in PEERS] + [FLOOR]
w("## Summary: median wall time (ms), whole process")
w("")
present = [l for l in labels_order if any(l in summary.get(n, {}) for n in summary)]
w("| file | " + " | ".join(SHORT[l] for l in present) + " | fastest peer | ggufscope ahead? |")
w("|---|" + "---:|" * len(present) + "---|---|")
for path in files:
    name = os.path.basename(path)[:-5]
    s = summary.get(name, {})
    cells = []
    for l in present:
        if l in s:
            med, rss, rc = s[l]
            cells.append(f"{med:.2f}" + (f" (exit {rc})" if rc else ""))
        else:
            cells.append("–")
    peers = [(s[l][0], SHORT[l]) for _, l in PEERS if l in s and s[l][2] == 0]
    best = min(peers) if peers else None
    ours = [s[l][0] for l in OURS if l in s]
    if best and ours:
        ahead = "yes" if max(ours) < best[0] else "**no**"
        ahead += f" (fastest peer ÷ slower ggufscope command = {best[0] / max(ours):.2f})"
    else:
        ahead = "–"
    w(f"| {name} | " + " | ".join(cells) + f" | {best[1] + f' {best[0]:.2f}' if best else '–'} | {ahead} |")
w("")

w("## Summary: peak RSS (MiB)")
w("")
w("| file | " + " | ".join(SHORT[l] for l in present) + " |")
w("|---|" + "---:|" * len(present))
for path in files:
    name = os.path.basename(path)[:-5]
    s = summary.get(name, {})
    w(f"| {name} | " + " | ".join(
        (f"{s[l][1]:.1f}" if l in s and s[l][1] is not None else "–") for l in present) + " |")
w("")

w("## All measurements")
w("")
w("| file | tool | median ms | ± stddev ms | mean ms | min ms | runs | peak RSS MiB | exit | output agrees with ggufscope |")
w("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
for (name, label, med, sd, mean, mn, n, rss, rc, agree, err) in rows:
    rss_s = f"{rss:.1f}" if rss is not None else "–"
    ref = "(floor)" if label == FLOOR else "(reference)"
    w(f"| {name} | {SHORT.get(label, label)} | {med:.2f} | ± {sd:.2f} | {mean:.2f} | {mn:.2f} | {n} | {rss_s} | {rc} | {agree or ref} |")
    if rc:
        notes.append(f"- {name}, {SHORT.get(label, label)}: exit {rc}" + (f": `{err}`" if err else ""))
w("")
if notes:
    w("Non-zero exits (timed all the same; `ggufscope config` exits 3 by design on an "
      "architecture it does not model, such as `bert`):")
    w("")
    L.extend(notes)
    w("")

pt = os.path.join(res, "parse_timing.tsv")
if os.path.exists(pt):
    lines = [l.rstrip("\n").split("\t") for l in open(pt)][1:]
    if lines:
        w("## In-process parse (ggufscope_gguf, no process start)")
        w("")
        w("`cargo run --release -p ggufscope-testkit --example parse_timing -- FILE...`: "
          "`Gguf::parse_with(lenient)` on a memory-mapped file (header, every KV, every tensor "
          "info), repeated for 0.5 s; and `check_layout()` on the parsed file.")
        w("")
        w("| file | parse median µs | parse min µs | check_layout median µs | iterations |")
        w("|---|---:|---:|---:|---:|")
        for f, med, mn, lay, it in lines:
            w(f"| {f[:-5] if f.endswith('.gguf') else f} | {float(med):.0f} | {float(mn):.0f} | {float(lay):.1f} | {it} |")
        w("")

w("## Targets (issue 7)")
w("")
g = summary.get("gemma3-like", {})
def target_line(label):
    if label not in g:
        return f"- `{label}` on gemma3-like: not measured"
    med, rss, rc = g[label]
    ok_t = med <= 3.0
    ok_m = rss is not None and rss <= 10.0
    peers = [(g[l][0], SHORT[l]) for _, l in PEERS if l in g and g[l][2] == 0]
    best = min(peers) if peers else None
    ok_a = best is not None and med < best[0]
    return (f"- `{label}` on gemma3-like: median {med:.2f} ms (target ≤ 3 ms: "
            f"{'met' if ok_t else '**missed**'}), peak RSS "
            f"{'%.1f' % rss if rss is not None else '?'} MiB (target ≤ 10 MiB: "
            f"{'met' if ok_m else '**missed**'}), "
            + (f"fastest peer {best[1]} {best[0]:.2f} ms: {'ahead' if ok_a else '**not ahead**'}"
               if best else "no peer measured"))
for l in OURS:
    w(target_line(l))
if os.path.exists(pt):
    for f, med, *_ in [l.rstrip("\n").split("\t") for l in open(pt)][1:]:
        if f.startswith("gemma3-like"):
            w(f"- in-process parse of gemma3-like: median {float(med) / 1000:.3f} ms (target ≤ 1 ms: "
              f"{'met' if float(med) <= 1000 else '**missed**'})")
w("")
open(out, "w").write("\n".join(L))
PY
then
  echo "wrote $OUT" >&2
else
  echo "writing $OUT failed" >&2
  exit 1
fi

#!/usr/bin/env bash
# Writes one size set of llama.cpp's per-architecture test models and what llama.cpp says of them:
#
#   tools/llama-ref/make-set.sh DEST [--n-embd N --n-head N --n-head-kv N --n-ff N --n-layer N
#                                     --n-vocab N --n-ctx-train N]
#
# For each architecture of tests/fixtures/llama-archs/ (one generator run per architecture, so one
# that llama.cpp refuses at this size is logged and skipped), the patched generator writes the full
# model(s) into a scratch folder; llama-ref-load loads each full file at n_ctx 512 and 4096 (the
# settings of llama-truth.json) and cuts its head into DEST; the full file is then deleted. DEST gets
# the heads (gzip -9n: NAME.gguf.gz; UNCOMPRESSED=1 keeps NAME.gguf), llama-truth.json (same
# layout as tests/fixtures/llama-archs/llama-truth.json) and, when any, failures.txt (architectures not written or not loaded, with llama.cpp's message).
# Without size options the output is the corpus itself (the check of the pipeline).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEST=$1; shift
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

archs=$(ls "$REPO/tests/fixtures/llama-archs/" | sed -n 's/-\(dense\|moe\)\.gguf$//p' | sort -u)
# ARCHS="llama qwen2 ..." restricts the run to those architectures.
if [ -n "${ARCHS:-}" ]; then archs=$ARCHS; fi
: > "$DEST/failures.txt"
mkdir -p "$SCRATCH/json"
for arch in $archs; do
    mkdir -p "$SCRATCH/m"
    if ! "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" "$@" > "$SCRATCH/gen.log" 2>&1; then
        echo "$arch: generator failed: $(grep -E 'GGML_ASSERT|error|failed' "$SCRATCH/gen.log" | grep -v '^#' | head -n 2 | tr '\n' ' ')" >> "$DEST/failures.txt"
    fi
    grep -h "not written" "$SCRATCH/gen.log" >> "$DEST/failures.txt" || true
    for f in "$SCRATCH"/m/*.gguf; do
        [ -e "$f" ] || continue
        name=$(basename "$f")
        if "$TOOLS/llama-ref-load" "$f" 512 4096 > "$SCRATCH/json/$name.json" 2> "$SCRATCH/load.log"; then
            "$TOOLS/llama-ref-load" --head "$f" "$DEST/$name"
        else
            echo "$name: loader crashed: $(tail -n 3 "$SCRATCH/load.log" | tr '\n' ' ')" >> "$DEST/failures.txt"
            rm -f "$SCRATCH/json/$name.json"
        fi
        rm -f "$f"
    done
done

python3 - "$SCRATCH/json" "$DEST" "$*" <<'PY'
import json, os, sys
src, dest, sizes = sys.argv[1], sys.argv[2], sys.argv[3]
out = {
    "fields": "print_info: what llama.cpp printed while loading; n_params/model_size: "
              "llama_model_n_params/llama_model_size; *_mib: buffer sizes llama.cpp logged (MiB, "
              "2 decimals); memory_lines: those log lines verbatim",
    "settings": "llama_cpp 0c1e570 (vendored in llama-cpp-python 0.3.36), CPU backend, no weight "
                "repacking, n_batch 512, n_ubatch 512, 1 sequence, f16 KV cache, flash attention "
                "off (as in the corpus's truth), swa_full true; tools/llama-ref/llama-ref-load",
    "sizes": sizes or "upstream (the corpus)",
    "n_ctx_512": {}, "n_ctx_4096": {},
}
for name in sorted(os.listdir(src)):
    rec = json.load(open(os.path.join(src, name)))
    f = name[:-len(".json")]
    refused = [k for k in ("n_ctx_512", "n_ctx_4096") if not rec[k].get("loaded")]
    if refused:
        # llama.cpp refused the file: no head, no truth, the reason in failures.txt
        with open(os.path.join(dest, "failures.txt"), "a") as fh:
            for k in refused:
                log = rec[k].get("log", "").splitlines()
                last = [l for l in log if "error" in l.lower() or "fail" in l.lower()]
                fh.write(f"{f}: llama.cpp did not load it at {k}: {' | '.join(last[-3:])}\n")
        os.remove(os.path.join(dest, f))
        continue
    if not os.environ.get("UNCOMPRESSED"):
        os.system(f"gzip -9nf '{os.path.join(dest, f)}'")
    # the corpus's layout: the model's own figures on the n_ctx 4096 record only
    for k in ("n_params", "model_size", "n_ctx"):
        rec["n_ctx_512"].pop(k, None)
    for k in ("n_ctx_512", "n_ctx_4096"):
        out[k][f] = rec[k]
with open(os.path.join(dest, "llama-truth.json"), "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=True)
    fh.write("\n")
PY
echo "$(ls "$DEST"/*.gguf* 2>/dev/null | wc -l) heads in $DEST; failures: $(wc -l < "$DEST/failures.txt")"
[ -s "$DEST/failures.txt" ] || rm -f "$DEST/failures.txt"

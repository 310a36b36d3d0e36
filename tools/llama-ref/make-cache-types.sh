#!/usr/bin/env bash
# What llama.cpp allocates (and refuses) for each -ctk/-ctv cache type:
#
#   tools/llama-ref/make-cache-types.sh   (writes tests/fixtures/cache-types/)
#
# For four architectures of tests/fixtures/llama-archs/ (llama: one KV cache; gemma3: iSWA;
# deepseek2: MLA, K only; qwen35: hybrid, KV on attention layers only) the generator writes the
# corpus's full files again (same seed, so the same heads: checked), plus a llama with 48-wide
# heads (n_embd 384, 8 heads: no 32-element block divides them), whose head is saved as
# llama-head48-dense.gguf.gz. llama-ref-load creates a context at n_ctx 4096 for each cache-type
# case below (llama-truth.json's other settings). cache-types.json gets, per file (path under
# tests/fixtures/) and case, whether llama.cpp created the context, the KV MiB and the KV log
# lines, or the error it logged.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LLAMA_BUILD=${LLAMA_BUILD:-/work/ref/build-llama}
TOOLS="$LLAMA_BUILD/ggufscope"
DEST="$REPO/tests/fixtures/cache-types"
mkdir -p "$DEST"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/llama-ref.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# fa ctk ctv: every type of common/arg.cpp's kv_cache_types for K and V with flash attention on,
# two mixed pairs, a quantized K without flash attention (allowed) and a quantized V without it
# (refused, src/llama-context.cpp:3845-3848).
CASES="on:f32:f32 on:f16:f16 on:bf16:bf16 on:q8_0:q8_0 on:q4_0:q4_0 on:q4_1:q4_1
on:iq4_nl:iq4_nl on:q5_0:q5_0 on:q5_1:q5_1 on:q8_0:f16 on:q4_0:q5_1 off:q4_1:f16 off:f16:q8_0"

mkdir -p "$SCRATCH/m" "$SCRATCH/h48" "$SCRATCH/json"
for arch in llama gemma3 deepseek2 qwen35; do
    "$TOOLS/test-llama-archs-sized" -a "$arch" -s 42 -o "$SCRATCH/m" > "$SCRATCH/gen.log" 2>&1
done
"$TOOLS/test-llama-archs-sized" -a llama -s 42 -o "$SCRATCH/h48" --n-embd 384 --n-head 8 \
    --n-head-kv 4 --n-ff 1000 --n-layer 2 --n-vocab 333 --n-ctx-train 768 > "$SCRATCH/gen.log" 2>&1
mv "$SCRATCH/h48/llama-dense.gguf" "$SCRATCH/llama-head48-dense.gguf"
"$TOOLS/llama-ref-load" --head "$SCRATCH/llama-head48-dense.gguf" "$SCRATCH/head"
gzip -9nc "$SCRATCH/head" > "$DEST/llama-head48-dense.gguf.gz"
for f in "$SCRATCH"/m/*.gguf "$SCRATCH/llama-head48-dense.gguf"; do
    name=$(basename "$f")
    if [ "$name" = llama-head48-dense.gguf ]; then
        key=cache-types/$name.gz
    else
        key=llama-archs/$name
        "$TOOLS/llama-ref-load" --head "$f" "$SCRATCH/head"
        cmp -s "$SCRATCH/head" "$REPO/tests/fixtures/$key" \
            || { echo "$name: head differs from the corpus" >&2; exit 1; }
    fi
    for c in $CASES; do
        IFS=: read -r fa k v <<< "$c"
        "$TOOLS/llama-ref-load" --fa "$fa" --ctk "$k" --ctv "$v" "$f" 4096 \
            > "$SCRATCH/json/${key//\//#}@$c.json"
    done
done

python3 - "$SCRATCH/json" "$DEST/cache-types.json" <<'PY'
import json, os, sys
src, out = sys.argv[1], sys.argv[2]
res = {
    "settings": "llama_cpp 0c1e570 (vendored in llama-cpp-python 0.3.36), CPU backend, n_ctx 4096, "
                "n_batch/n_ubatch 512, 1 sequence, swa_full true; case = flash_attn:type_k:type_v; "
                "tools/llama-ref/make-cache-types.sh",
    "files": {},
}
for name in sorted(os.listdir(src)):
    file, case = name[: -len(".json")].split("@")
    file = file.replace("#", "/")
    r = json.load(open(os.path.join(src, name)))["n_ctx_4096"]
    rec = {"created": r["loaded"]}
    if r["loaded"]:
        rec["kv_mib"] = r["kv_mib"]
        rec["kv_lines"] = [l for l in r["memory_lines"] if l.startswith("llama_kv_cache")]
    else:
        rec["error"] = [l.strip() for l in r["log"].splitlines()
                        if "llama_init_from_model" in l or "failed" in l][:3]
    res["files"].setdefault(file, {})[case] = rec
with open(out, "w") as o:
    json.dump(res, o, indent=1, sort_keys=True)
    o.write("\n")
PY

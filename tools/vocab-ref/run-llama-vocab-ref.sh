#!/usr/bin/env bash
# Runs llama_vocab_ref on each file in its own process (a GGML_ASSERT aborts the process) and
# prints one JSON line per file; an abort prints {"file": ..., "abort": "<the GGML_ASSERT line>"}.
#   bash tools/vocab-ref/run-llama-vocab-ref.sh BINARY FILE... > OUT.jsonl
set -uo pipefail
export GGML_NO_BACKTRACE=1
bin=${1:?llama_vocab_ref binary}
shift
for f in "$@"; do
  err=$(mktemp)
  line=$("$bin" "$f" 2>"$err")
  if [ -n "$line" ]; then
    echo "$line"
  else
    msg=$(grep -o 'GGML_ASSERT(.*) failed' "$err" | head -1)
    printf '{"file":"%s","abort":"%s"}\n' "$(basename "$f")" "$msg"
  fi
  rm -f "$err"
done

#!/usr/bin/env python3
"""Renders chat templates exactly as transformers' apply_chat_template does, for ggufscope's tests.

    python3 tools/template-ref/render_reference.py TEMPLATE_DIR OUT.json [CONVERSATIONS.json]

Reads every TEMPLATE_DIR/*.jinja and the fixed conversations in
tests/fixtures/templates/conversations.json, and renders each template with each conversation
through transformers' own `render_jinja_template` (the function `apply_chat_template` calls, with
its jinja2 environment: ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
the `{% generation %}` extension, `raise_exception`, `strftime_now`, its `tojson`), passing the
special tokens as `apply_chat_template` passes the tokenizer's `special_tokens_map`. No tokenizer
or model is loaded. `strftime_now` sees the fixed time of the conversations file, so the output
is reproducible. Writes {template: {case: {"ok": text} | {"error": message}}}.

Needs `pip install transformers jinja2` (made with transformers 5.24.0, jinja2 3.1.6).
"""
import datetime as _dt
import json
import pathlib
import sys

import jinja2
import transformers
from transformers.utils import chat_template_utils as ctu


def main():
    tdir = pathlib.Path(sys.argv[1])
    out = pathlib.Path(sys.argv[2])
    conv_path = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else (
        pathlib.Path(__file__).resolve().parents[2] / "tests/fixtures/templates/conversations.json")
    conv = json.loads(conv_path.read_text(encoding="utf-8"))
    fixed = _dt.datetime.fromisoformat(conv["now"])

    class FixedDatetime(_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return fixed

    ctu.datetime = FixedDatetime  # strftime_now reads the module's `datetime` at call time

    result = {}
    for path in sorted(tdir.glob("*.jinja")):
        template = path.read_text(encoding="utf-8")
        per = {}
        for name, case in conv["cases"].items():
            try:
                rendered, _ = ctu.render_jinja_template(
                    conversations=[case["messages"]],
                    tools=case.get("tools"),
                    documents=case.get("documents"),
                    chat_template=template,
                    add_generation_prompt=case["add_generation_prompt"],
                    **conv["special_tokens"],
                )
                per[name] = {"ok": rendered[0]}
            except Exception as e:  # noqa: BLE001 - every failure is data here
                per[name] = {"error": f"{type(e).__name__}: {e}"}
        result[path.name] = per
    meta = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    out.write_text(json.dumps({"generator": meta, "templates": result}, indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")


if __name__ == "__main__":
    main()

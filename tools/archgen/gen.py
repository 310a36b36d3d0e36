#!/usr/bin/env python3
"""Generate crates/model/data/archs.txt (the architecture table, docs/architecture-table.md)
from a llama.cpp source tree.

    python3 tools/archgen/gen.py LLAMA_DIR [-o OUT] [--check] [--report]

Standard library only. The output is a pure function of the input tree (byte-identical runs).
Translation is mechanical and line-preserving: C++ tokens are rewritten in place (newlines are
tokens too, so every table line stays on its source line); the few constructs the rewriter cannot
handle generically are listed in OVERRIDES (keyed by file and the exact source line, so a changed
source fails loudly instead of being mistranslated).
"""

import argparse
import glob
import os
import re
import sys

VERSION = "0c1e570"

# --------------------------------------------------------------------------------------------
# tokenizer (newlines are tokens; comments dropped; each token remembers whether whitespace
# preceded it so that rendering keeps the source's look)
# --------------------------------------------------------------------------------------------

PUNCT = [
    "...", "<<=", ">>=", "::", "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--",
    "+=", "-=", "*=", "/=", "|=", "&=", "^=", "%=",
]
TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+|\\\n)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])+')
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)[uUlLfF]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<punct>""" + "|".join(re.escape(p) for p in PUNCT) + r"""|[{}()\[\];,.?:!~+\-*/%<>=&^|#])
    """,
    re.S | re.X,
)


class Tok:
    __slots__ = ("k", "t", "sp")

    def __init__(self, k, t, sp=True):
        self.k = k  # nl id num str punct
        self.t = t
        self.sp = sp

    def __repr__(self):
        return "%s:%r" % (self.k, self.t)


def tokenize(text):
    toks = []
    pos = 0
    sp = False
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise SyntaxError("cannot tokenize at %r" % text[pos:pos + 40])
        kind = m.lastgroup
        s = m.group(0)
        pos = m.end()
        if kind == "ws":
            sp = True
            if "\n" in s:  # line continuation: keep the newline
                toks.append(Tok("nl", "\n", False))
            continue
        if kind in ("lc",):
            sp = True
            continue
        if kind == "bc":
            for _ in range(s.count("\n")):
                toks.append(Tok("nl", "\n", False))
            sp = True
            continue
        if kind == "nl":
            toks.append(Tok("nl", "\n", False))
            sp = False
            continue
        if kind == "chr":
            kind = "num"
            s = str(ord(eval(s[1:-1].join('""')) if len(s) > 3 else s[1]))
        toks.append(Tok(kind, s, sp))
        sp = False
    return toks


def render(toks, indents):
    """Render tokens back to lines; indents[i] is the indentation of output line i."""
    lines = []
    cur = []
    for t in toks:
        if t.k == "nl":
            lines.append(cur)
            cur = []
        else:
            cur.append(t)
    lines.append(cur)
    out = []
    for i, ln in enumerate(lines):
        if not ln:
            out.append("")
            continue
        s = indents[i] if i < len(indents) else ""
        for j, t in enumerate(ln):
            if j > 0 and t.sp:
                s += " "
            s += t.t
        out.append(s.rstrip())
    return out


def match_close(toks, i):
    """toks[i] is an opener; return the index of its closer."""
    o = toks[i].t
    c = {"(": ")", "[": "]", "{": "}", "<": ">"}[o]
    d = 0
    for j in range(i, len(toks)):
        if toks[j].t == o and toks[j].k == "punct":
            d += 1
        elif toks[j].t == c and toks[j].k == "punct":
            d -= 1
            if d == 0:
                return j
    raise SyntaxError("unbalanced %s" % o)


def sig(toks, i):
    """index of the next non-newline token at or after i (len(toks) if none)"""
    while i < len(toks) and toks[i].k == "nl":
        i += 1
    return i


def sig_back(toks, i):
    while i >= 0 and toks[i].k == "nl":
        i -= 1
    return i


def blank_range(toks, a, b):
    """remove tokens a..b inclusive but keep their newlines"""
    keep = [t for t in toks[a:b + 1] if t.k == "nl"]
    toks[a:b + 1] = keep
    return a + len(keep)


def is_t(toks, i, text, kind=None):
    return 0 <= i < len(toks) and toks[i].t == text and (kind is None or toks[i].k == kind)


def seq(toks, i, *texts):
    """do the significant tokens from i on spell texts?  returns the index after, or -1"""
    for t in texts:
        i = sig(toks, i)
        if i >= len(toks) or toks[i].t != t:
            return -1
        i += 1
    return i


def stmt_end(toks, i):
    """index of the ';' ending the statement starting at i (depth-aware)"""
    d = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.k != "punct":
            continue
        if t.t in "([{":
            d += 1
        elif t.t in ")]}":
            d -= 1
        elif t.t == ";" and d == 0:
            return j
    raise SyntaxError("no statement end")


# --------------------------------------------------------------------------------------------
# C header parsing: enums, defines, maps
# --------------------------------------------------------------------------------------------

def strip_comments(text):
    # cheap: remove comments via the regex, keeping newlines
    res = []
    pos = 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            res.append(text[pos])
            pos += 1
            continue
        s = m.group(0)
        if m.lastgroup == "lc":
            pass
        elif m.lastgroup == "bc":
            res.append("\n" * s.count("\n"))
        else:
            res.append(s)
        pos = m.end()
    return "".join(res)


def c_eval(expr, env):
    e = expr.strip()
    e = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", e)
    e = re.sub(r"\b([A-Za-z_]\w*)\b", lambda m: "(%d)" % env[m.group(1)] if m.group(1) in env else m.group(1), e)
    if re.search(r"[A-Za-z_]", e):
        raise ValueError("unresolved in %r" % expr)
    return int(eval(e, {"__builtins__": {}}))


def parse_enums(text, env, origin):
    """parse every `enum [class] name [: T] { A = v, B, ... }` into env (name -> int)."""
    text = strip_comments(text)
    found = {}
    for m in re.finditer(r"\benum\s+(?:class\s+)?(\w+)?\s*(?::\s*[\w ]+)?\{([^}]*)\}", text):
        val = -1
        for item in m.group(2).split(","):
            item = item.strip()
            if not item or item.startswith("#"):
                continue
            if "=" in item:
                name, ex = item.split("=", 1)
                name = name.strip()
                try:
                    val = c_eval(ex, env)
                except Exception:
                    continue
            else:
                name = item
                val += 1
            if re.match(r"^\w+$", name):
                env[name] = val
                found[name] = origin
    return found


def parse_defines(text, env, names=None):
    for m in re.finditer(r"^\s*#define\s+(\w+)\s+([^\n]+)$", strip_comments(text), re.M):
        if names is not None and m.group(1) not in names:
            continue
        try:
            env[m.group(1)] = c_eval(m.group(2), env)
        except Exception:
            pass


def parse_map(text, name):
    """entries of `static const std::map<...> NAME = { {A, ...}, ... };` as (A, rest, line)"""
    lines = text.split("\n")
    start = None
    for i, l in enumerate(lines):
        if re.search(r"\b%s\s*=\s*\{" % name, l):
            start = i
            break
    if start is None:
        raise KeyError(name)
    out = []
    for i in range(start + 1, len(lines)):
        l = strip_comments(lines[i])
        if l.strip().startswith("};"):
            break
        m = re.match(r"\s*\{\s*(\w+)\s*,\s*(.*)\}\s*,?\s*$", l)
        if m:
            out.append((m.group(1), m.group(2).strip(), i + 1))
    return out


# --------------------------------------------------------------------------------------------
# translation of bodies
# --------------------------------------------------------------------------------------------

TYPE_WORDS = {"const", "static", "unsigned", "int", "int32_t", "int64_t", "uint32_t", "uint64_t",
              "size_t", "bool", "float", "double", "auto"}
# C++ types rewritten to a type word
TYPE_MAP = {
    "llama_token": "int32_t", "llm_tensor": "int", "llm_kv": "int", "llm_arch": "int",
    "llama_pos": "int32_t", "int8_t": "int32_t", "uint8_t": "uint32_t", "int16_t": "int32_t",
    "uint16_t": "uint32_t", "long": "int64_t",
}
ENUM_TYPES = {"llama_swa_type", "llama_non_causal_type", "llama_pooling_type", "llama_rope_type",
              "llama_rope_scaling_type", "llm_ffn_op_type", "llama_expert_gating_func_type",
              "llm_type", "ggml_type"}
ML_CALLS = {"get_key": "get_key", "get_key_or_arr": "get_key_or_arr", "get_arr": "get_arr",
            "get_arr_n": "get_arr_n", "get_tensor_meta": "get_tensor_meta", "llm_kv": "llm_kv"}
STD_FUNCS = {"max": "max", "min": "min", "sqrt": "sqrt", "abs": "abs", "log": "log", "pow": "pow",
             "to_string": "to_string", "fabs": "abs", "sqrtf": "sqrt", "powf": "pow", "logf": "log",
             "exp": "exp", "floor": "floor", "ceil": "ceil", "round": "round"}
C_FUNCS = {"sqrtf": "sqrt", "powf": "pow", "logf": "log", "fabsf": "abs", "expf": "exp",
           "floorf": "floor", "ceilf": "ceil", "roundf": "round"}
PRI = {"PRId64": "lld", "PRIu64": "llu", "PRIi64": "lld", "PRId32": "d", "PRIu32": "u",
       "PRIx64": "llx"}


class Ctx:
    def __init__(self, fname, first_line):
        self.fname = fname
        self.first_line = first_line
        self.unsupported = []
        self.renamed = []

    def where(self, toks, i):
        n = sum(1 for t in toks[:i] if t.k == "nl")
        return "%s:%d" % (self.fname, self.first_line + n)


def U(msg):
    return [Tok("id", "unsupported"), Tok("punct", "(", False), Tok("str", '"%s"' % msg.replace('"', "'"), False),
            Tok("punct", ")", False), Tok("punct", ";", False)]


def toks_of(s, sp=True):
    ts = [t for t in tokenize(s) if t.k != "nl"]
    if ts:
        ts[0].sp = sp
    return ts


def translate_tokens(toks, ctx, local_decls=None):
    """in-place rewrites; returns toks"""
    # pass 0: string literal concatenation ("a" PRId64 "b"  ->  "a%lldb"), keeps newlines
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.k == "str":
            j = sig(toks, i + 1)
            while j < len(toks) and (toks[j].k == "str" or (toks[j].k == "id" and toks[j].t in PRI)):
                piece = toks[j].t[1:-1] if toks[j].k == "str" else "%" + PRI[toks[j].t]
                if toks[j].k == "id":
                    # the '%' is at the end of the previous string
                    t.t = t.t[:-1] + PRI[toks[j].t] + '"'
                else:
                    t.t = t.t[:-1] + piece + '"'
                del toks[j]
                # keep newlines between, move on
                j = sig(toks, i + 1)
        i += 1

    i = 0
    while i < len(toks):
        t = toks[i]
        if t.k == "id":
            nx = sig(toks, i + 1)
            nt = toks[nx].t if nx < len(toks) else None
            pv = sig_back(toks, i - 1)
            pt = toks[pv].t if pv >= 0 else None
            # --- model->arch, model->hparams.X (llama_model_rope_type)
            if t.t == "model" and nt == "->":
                m = sig(toks, nx + 1)
                if toks[m].t == "arch":
                    toks[i:m + 1] = [Tok("id", "arch", t.sp)]
                    continue
                if toks[m].t == "hparams" and is_t(toks, sig(toks, m + 1), "."):
                    e = sig(toks, m + 1)
                    sp = t.sp
                    del toks[i:e + 1]
                    toks[i].sp = sp
                    continue
            # --- X->type  ->  tensor_type(X)
            if nt == "->" and is_t(toks, sig(toks, nx + 1), "type"):
                m = sig(toks, nx + 1)
                toks[i:m + 1] = [Tok("id", "tensor_type", t.sp), Tok("punct", "(", False), Tok("id", t.t, False),
                                 Tok("punct", ")", False)]
                i += 1
                continue
            # --- X->ne[k], X->tensor->ne[k]  ->  ne(X, k)
            if nt == "->":
                e = seq(toks, nx, "->", "ne", "[")
                if e < 0:
                    e = seq(toks, nx, "->", "tensor", "->", "ne", "[")
                if e > 0:
                    cb = match_close(toks, e - 1)
                    idx = toks[e:cb]
                    toks[i:cb + 1] = [Tok("id", "ne", t.sp), Tok("punct", "(", False), Tok("id", t.t, False),
                                      Tok("punct", ",", False)] + idx + [Tok("punct", ")", False)]
                    if idx:
                        idx[0].sp = True
                    i += 1
                    continue
            # --- f(ml, ...)  ->  f(...)
            if t.t == "ml" and pt == "(" and nt == ",":
                del toks[i:nx + 1]
                toks[i].sp = False
                continue
            if t.t == "ml" and pt == "(" and nt == ")":
                del toks[i]
                continue
            # --- layers[a] = layers[b];  (aliasing, no tensor)  -> blank
            if t.t == "layers" and nt == "[" and (pt in (";", "{", "}") or pv < 0):
                e = stmt_end(toks, i)
                blank_range(toks, i, e)
                continue
            # --- this->x
            if t.t == "this" and nt == "->":
                sp = t.sp
                del toks[i:nx + 1]
                toks[i].sp = sp
                continue
            if t.t == "llama_rope_scaling_type_from_string":
                t.t = "rope_scaling_type_from_string"
            # --- hparams.X  (not model.hparams)
            if t.t == "hparams" and nt == "." and pt not in (".", "->"):
                nn = sig(toks, nx + 1)
                sp = t.sp
                del toks[i:nn]
                toks[i].sp = sp
                continue
            if t.t == "hparams" and nt in ("=",):
                pass
            # --- ml.X / ml->X
            if t.t == "ml" and nt in (".", "->"):
                m = sig(toks, nx + 1)
                name = toks[m].t
                sp = t.sp
                if name in ML_CALLS:
                    toks[i:m + 1] = [Tok("id", ML_CALLS[name], sp)]
                    continue
                if name == "get_arch":
                    e = seq(toks, m + 1, "(", ")")
                    toks[i:e] = [Tok("id", "arch", sp)]
                    continue
                if name == "load_mtp":
                    toks[i:m + 1] = [Tok("id", "load_mtp", sp)]
                    continue
                if name == "get_weight":
                    op = sig(toks, m + 1)
                    cl = match_close(toks, op)
                    after = sig(toks, cl + 1)
                    if after < len(toks) and toks[after].t in ("==", "!=") and is_t(toks, sig(toks, after + 1), "nullptr"):
                        neg = toks[after].t == "=="
                        z = sig(toks, after + 1)
                        del toks[after:z + 1]
                        toks[i:m + 1] = ([Tok("punct", "!", sp)] if neg else []) + [Tok("id", "has_tensor", not neg and sp)]
                    else:
                        toks[i:m + 1] = [Tok("id", "has_tensor", sp)]
                    continue
                ctx.unsupported.append(("ml.%s" % name, ctx.where(toks, i)))
                toks[i:m + 1] = [Tok("id", "unsupported_ml_" + name, sp)]
                continue
            # --- vocab.n_tokens()
            if t.t == "vocab" and nt == ".":
                m = sig(toks, nx + 1)
                name = toks[m].t
                e = seq(toks, m + 1, "(", ")")
                rep = {"n_tokens": "n_vocab", "n_token_types": "n_token_types"}.get(name)
                if rep and e > 0:
                    toks[i:e] = [Tok("id", rep, t.sp)]
                    continue
            # --- std::
            if t.t == "std" and nt == "::":
                m = sig(toks, nx + 1)
                name = toks[m].t
                sp = t.sp
                if name in STD_FUNCS:
                    toks[i:m + 1] = [Tok("id", STD_FUNCS[name], sp)]
                    continue
                if name == "fill":
                    # std::fill(A.begin(), A.end(), v)  ->  fill(A, v)
                    op = sig(toks, m + 1)
                    cl = match_close(toks, op)
                    inner = toks[op + 1:cl]
                    txt = "".join(x.t for x in inner if x.k != "nl")
                    mm = re.match(r"^([\w.\[\]]+)\.begin\(\),\1\.end\(\),(.*)$", txt)
                    if mm:
                        new = [Tok("id", "fill", sp), Tok("punct", "(", False)] + toks_of(mm.group(1), False) + \
                              [Tok("punct", ",", False)] + toks_of(mm.group(2))
                        # strip hparams. in the args
                        new = translate_tokens(new, ctx)
                        toks[i:cl] = new
                        continue
                if name == "string":
                    # std::string stays a type word; std::string("x") is a cast
                    toks[i:m + 1] = [Tok("id", "std::string", sp)]
                    i += 1
                    continue
                if name == "runtime_error":
                    pass
                else:
                    ctx.unsupported.append(("std::%s" % name, ctx.where(toks, i)))
                    i += 1
                    continue
            # --- throw std::runtime_error(E)  ->  throw E
            if t.t == "throw":
                m = seq(toks, i + 1, "std", "::", "runtime_error", "(")
                if m > 0:
                    op = m - 1
                    cl = match_close(toks, op)
                    del toks[cl]
                    del toks[i + 1:op + 1]
                    toks[i + 1].sp = True
                    i += 1
                    continue
            # --- GGML_ASSERT / GGML_ABORT
            if t.t == "GGML_ASSERT":
                t.t = "assert"
                # assert(c && "msg")  ->  assert(c, "msg")
                op = sig(toks, i + 1)
                cl = match_close(toks, op)
                lt = sig_back(toks, cl - 1)
                la = sig_back(toks, lt - 1)
                if toks[lt].k == "str" and toks[la].t == "&&":
                    toks[la] = Tok("punct", ",", False)
                i += 1
                continue
            if t.t == "GGML_ABORT":
                op = sig(toks, i + 1)
                cl = match_close(toks, op)
                args = [x for x in toks[op + 1:cl] if x.k != "nl"]
                if len(args) == 1 and args[0].k == "str":
                    nls = [x for x in toks[op + 1:cl] if x.k == "nl"]
                    toks[i:cl + 1] = [Tok("id", "throw", t.sp), Tok("str", args[0].t)] + nls
                else:
                    toks[i] = Tok("id", "throw", t.sp)
                    toks.insert(i + 1, Tok("id", "format"))
                    toks[i + 2].sp = False
                i += 1
                continue
            # --- logging / unused: drop the statement
            if re.match(r"^LLAMA_LOG_\w+$", t.t) or t.t == "GGML_UNUSED":
                e = stmt_end(toks, i)
                blank_range(toks, i, e)
                continue
            # --- layers.resize(...)
            if t.t == "layers" and nt == "." and is_t(toks, sig(toks, nx + 1), "resize"):
                e = stmt_end(toks, i)
                blank_range(toks, i, e)
                continue
            # --- auto & layer = layers[i];  auto & sl = layer.switch_lora;
            if t.t == "auto" and nt == "&":
                m = sig(toks, nx + 1)
                if toks[m].k == "id" and is_t(toks, sig(toks, m + 1), "="):
                    rhs = sig(toks, sig(toks, m + 1) + 1)
                    if toks[rhs].t in ("layers", "layer"):
                        e = stmt_end(toks, i)
                        blank_range(toks, i, e)
                        continue
                # other references: a copy does (the bodies only read through them)
                del toks[nx]
                i += 1
                continue
            # --- create_tensor_qkv(layer, ...) / create_tensor_gate_up_exps(layer, ...)
            if t.t in ("create_tensor_qkv", "create_tensor_gate_up_exps") and nt == "(":
                a = sig(toks, nx + 1)
                if toks[a].t == "layer" and is_t(toks, sig(toks, a + 1), ","):
                    c = sig(toks, a + 1)
                    del toks[a:c + 1]
                    toks[a].sp = False
                elif toks[a].t != "layer":
                    ctx.unsupported.append(("%s first arg %s" % (t.t, toks[a].t), ctx.where(toks, i)))
                i += 1
                continue
            # --- arch_name()
            if t.t == "arch_name" and nt == "(":
                e = seq(toks, nx, "(", ")")
                toks[i:e] = [Tok("id", "arch", t.sp)]
                continue
            # --- NULL
            if t.t == "NULL":
                t.t = "nullptr"
            # --- C math
            if t.t in C_FUNCS and nt == "(":
                t.t = C_FUNCS[t.t]
            # --- static_cast<T>(e) -> T(e)
            if t.t in ("static_cast", "int_cast") and nt == "<":
                cl = match_close(toks, nx)
                ty = "".join(x.t for x in toks[nx + 1:cl])
                ty = TYPE_MAP.get(ty, ty)
                if ty in ENUM_TYPES:
                    del toks[i:cl + 1]
                else:
                    toks[i:cl + 1] = [Tok("id", ty, t.sp)]
                continue
            # --- type words
            if t.t in TYPE_MAP and (nt is not None and (toks[nx].k == "id" or nt in ("&", "*", ")"))):
                if t.t == "long" and is_t(toks, nx, "long"):
                    del toks[nx]
                t.t = TYPE_MAP[t.t]
            if t.t == "enum" and toks[nx].k == "id" and toks[nx].t in ENUM_TYPES:
                # enum llama_pooling_type x  ->  int x
                del toks[i:nx]
                toks[i].t = "int"
                continue
            if t.t in ENUM_TYPES and nx < len(toks) and toks[nx].k == "id" and pt not in ("(",):
                t.t = "int"
            # --- ggml_tensor * x / struct ggml_tensor * x / const char * x
            if t.t == "struct" and is_t(toks, nx, "ggml_tensor"):
                del toks[i:nx]
                continue
            if t.t == "ggml_tensor" and nt == "*":
                toks[i:nx + 1] = [Tok("id", "auto", t.sp)]
                continue
            if t.t == "char" and nt == "*":
                toks[i:nx + 1] = [Tok("id", "std::string", t.sp)]
                continue
            if t.t == "INFINITY":
                pass
            if t.t == "__func__":
                toks[i] = Tok("str", '"%s"' % getattr(ctx, "func", "?"), t.sp)
        elif t.k == "num":
            s = t.t
            if not s.lower().startswith("0x"):
                if re.search(r"[.eE]", s):
                    s = s.rstrip("fFlL")
                    if s.endswith("."):
                        s += "0"
                    if s.startswith("."):
                        s = "0" + s
                else:
                    s = s.rstrip("uUlL")
            else:
                s = s.rstrip("uUlL")
            t.t = s
        elif t.k == "punct":
            # member .c_str() / .str() / .size() / .empty()
            if t.t == ".":
                m = sig(toks, i + 1)
                name = toks[m].t if m < len(toks) else None
                e = seq(toks, m + 1, "(", ")")
                if name in ("c_str", "str") and e > 0:
                    del toks[i:e]
                    continue
                if name in ("size",) and e > 0:
                    # X.size()  ->  size(X)  (X: a name, possibly dotted / indexed)
                    a = i - 1
                    while a > 0 and (toks[a - 1].t == "." or toks[a].t == "." or toks[a].k == "id") and toks[a - 1].k in ("id", "punct") and toks[a - 1].t not in ("(", ",", "=", " ") and not (toks[a].k == "id" and toks[a - 1].k == "id"):
                        if toks[a - 1].k == "punct" and toks[a - 1].t != ".":
                            break
                        a -= 1
                    recv = toks[a:i]
                    sp = recv[0].sp
                    recv[0].sp = False
                    toks[a:e] = [Tok("id", "size", sp), Tok("punct", "(", False)] + recv + [Tok("punct", ")", False)]
                    i = a + len(recv) + 3
                    continue
            # C-style casts of enum types / long long
            if t.t == "(":
                m = sig(toks, i + 1)
                if m < len(toks) and toks[m].k == "id":
                    words = []
                    k = m
                    while k < len(toks) and toks[k].k == "id":
                        words.append(toks[k].t)
                        k += 1
                    if k < len(toks) and toks[k].t == ")" and words:
                        ty = " ".join(words)
                        after = sig(toks, k + 1)
                        castable = after < len(toks) and (toks[after].k in ("id", "num", "str") or toks[after].t in ("(", "-", "!"))
                        if castable:
                            if ty in ("long long", "long", "unsigned long long", "long int"):
                                toks[m:k] = [Tok("id", "int64_t", False)]
                            elif ty in ENUM_TYPES or (words[0] == "enum" and len(words) == 2):
                                del toks[i:k + 1]
                                if i < len(toks):
                                    toks[i].sp = True
                                continue
                            elif ty in TYPE_MAP:
                                toks[m:k] = [Tok("id", TYPE_MAP[ty], False)]
        i += 1
    return toks


def switch_to_if(toks, i, ctx):
    """translate the switch at toks[i] into an if/else chain in place (same lines);
    returns False (and leaves toks alone) when the switch has fall-through we cannot express."""
    op = sig(toks, i + 1)
    cl = match_close(toks, op)
    ob = sig(toks, cl + 1)
    cb = match_close(toks, ob)
    cond = "".join((" " if (x.sp and n) else "") + x.t for n, x in enumerate(y for y in toks[op + 1:cl] if y.k != "nl"))
    labels = []  # (start, colon, value text or None for default)
    d = 0
    k = ob + 1
    while k < cb:
        x = toks[k]
        if x.k == "punct" and x.t in "([{":
            d += 1
        elif x.k == "punct" and x.t in ")]}":
            d -= 1
        elif d == 0 and x.k == "id" and x.t in ("case", "default"):
            c = k + 1
            while not (toks[c].k == "punct" and toks[c].t == ":"):
                c += 1
            labels.append((k, c, None if x.t == "default" else " ".join(y.t for y in toks[k + 1:c] if y.k != "nl")))
            k = c
        k += 1
    if not labels:
        return False
    groups = []  # [labels, end, stmts]
    for n, (a, c, v) in enumerate(labels):
        nxt = labels[n + 1][0] if n + 1 < len(labels) else cb
        stmts = [y for y in toks[c + 1:nxt] if y.k != "nl"]
        if groups and not groups[-1][2]:
            groups[-1][0].append((a, c, v))
            groups[-1][1] = nxt
            groups[-1][2] = stmts
        else:
            groups.append([[(a, c, v)], nxt, stmts])
    for n, g in enumerate(groups):
        st = g[2]
        last = n == len(groups) - 1
        if any(v is None for _, _, v in g[0]) and not last:
            return False
        if not last:
            ends_break = len(st) >= 2 and st[-2].t == "break" and st[-1].t == ";"
            ends_jump = any(y.t in ("return", "throw", "GGML_ABORT") for y in st)
            if not (ends_break or ends_jump):
                return False
    out = toks[:i] + [Tok("punct", "{", toks[i].sp)] + [y for y in toks[i + 1:ob + 1] if y.k == "nl"]
    out += toks[ob + 1:labels[0][0]]
    for n, g in enumerate(groups):
        labs = g[0]
        vals = [v for _, _, v in labs]
        if None in vals:
            head = "} else {" if n > 0 else "{"
        else:
            conds = " || ".join("(%s) == %s" % (cond, v) for v in vals)
            head = ("} else if (%s) {" if n > 0 else "if (%s) {") % conds
        ht = toks_of(head)
        ht[0].sp = toks[labs[0][0]].sp
        out += ht
        pos = labs[0][0]
        for (a, c, v) in labs:
            out += [y for y in toks[pos:c + 1] if y.k == "nl"]
            pos = c + 1
        body = toks[pos:g[1]]
        bi = None
        dd = 0
        for q, y in enumerate(body):
            if y.k == "punct" and y.t in "([{":
                dd += 1
            elif y.k == "punct" and y.t in ")]}":
                dd -= 1
            elif dd == 0 and y.t == "break":
                bi = q
        if bi is not None:
            semi = sig(body, bi + 1)
            body = body[:bi] + [y for y in body[bi:semi + 1] if y.k == "nl"] + body[semi + 1:]
        out += body
    out.append(Tok("punct", "}"))
    rest = toks[cb:]
    # `};` after a switch: drop the empty statement
    j = sig(rest, 1)
    if j < len(rest) and rest[j].t == ";":
        del rest[j]
    out += rest
    toks[:] = out
    return True


def remove_type_switches(toks, ctx, keep_type=False):
    """switch statements that only set `type` -> blanked (unless the arch reads `type`);
    every other switch -> an if/else chain on the same lines"""
    i = 0
    while i < len(toks):
        if toks[i].t == "switch" and toks[i].k == "id":
            op = sig(toks, i + 1)
            cl = match_close(toks, op)
            ob = sig(toks, cl + 1)
            cb = match_close(toks, ob)
            body = [x for x in toks[ob:cb + 1] if x.k != "nl"]
            txt = " ".join(x.t for x in body)
            effectful = re.search(r"\b(create_tensor\w*|get_key\w*|get_arr\w*|throw|GGML_ABORT|GGML_ASSERT|assert|load_swa_pattern|set_swa_pattern|set_recr_pattern|fill|return)\b", txt)
            declared = set(re.findall(r"\b(?:bool|int|auto|uint32_t|int64_t|float)\s+(\w+)\s*=", txt))
            assigned = set(re.findall(r"([\w.\[\]]+)\s*(?:\|=|\+=|-=|=)(?!=)", txt))
            assigned = {a for a in assigned if a not in ("type",) and a not in declared}
            if not effectful and not assigned and not keep_type:
                e = cb
                if is_t(toks, sig(toks, cb + 1), ";"):
                    e = sig(toks, cb + 1)
                blank_range(toks, i, e)
                continue
            if not switch_to_if(toks, i, ctx):
                ctx.unsupported.append(("switch", ctx.where(toks, i)))
                where = ctx.where(toks, i)
                nls = [x for x in toks[i:cb + 1] if x.k == "nl"]
                toks[i:cb + 1] = U("switch at %s" % where) + nls
            continue
        i += 1
    return toks


def remove_type_assignments(toks, keep_type=False):
    """`type = LLM_TYPE_...;` statements (model type labels) -> blank"""
    if keep_type:
        return toks
    i = 0
    while i < len(toks):
        if toks[i].k == "id" and toks[i].t == "type" and is_t(toks, sig(toks, i + 1), "="):
            pv = sig_back(toks, i - 1)
            if pv < 0 or toks[pv].t in (";", "{", "}", "else", ":"):
                e = stmt_end(toks, i)
                blank_range(toks, i, e)
                continue
        i += 1
    return toks


def rewrite_range_for(toks, ctx):
    """for (DECL x : EXPR) {  ->  for (int64_t x_i = 0; x_i < size(EXPR); ++x_i) { DECL x = EXPR[x_i];"""
    i = 0
    while i < len(toks):
        if toks[i].t == "for" and toks[i].k == "id":
            op = sig(toks, i + 1)
            cl = match_close(toks, op)
            inner = toks[op + 1:cl]
            d = 0
            colon = None
            for k, x in enumerate(inner):
                if x.t in "([{":
                    d += 1
                elif x.t in ")]}":
                    d -= 1
                elif x.t == ";" and d == 0:
                    colon = None
                    break
                elif x.t == ":" and d == 0:
                    colon = k
            if colon is not None:
                decl = [x for x in inner[:colon] if x.k != "nl" and x.t not in ("&", "*")]
                expr = [x for x in inner[colon + 1:] if x.k != "nl"]
                name = decl[-1].t
                ob = sig(toks, cl + 1)
                if not is_t(toks, ob, "{"):
                    ctx.unsupported.append(("range-for without block", ctx.where(toks, i)))
                    i += 1
                    continue
                ix = name + "_i"
                et = " ".join(x.t for x in expr)
                new = toks_of("for (int64_t %s = 0; %s < size(%s); ++%s) {" % (ix, ix, et, ix), toks[i].sp)
                new += toks_of(" ".join(x.t for x in decl) + " = " + et + "[" + ix + "];")
                toks[i:ob + 1] = new
                continue
        i += 1
    return toks


def normalize_lambdas(toks, ctx):
    """[&](llm_tensor tid) -> [&](int tid); lambdas are kept (a documented archc extension)"""
    for i in range(len(toks) - 3):
        if i + 3 >= len(toks):
            break
        if toks[i].t == "[" and toks[i + 1].t == "&" and toks[i + 2].t == "]" and is_t(toks, i + 3, "("):
            cl = match_close(toks, i + 3)
            for k in range(i + 4, cl):
                if toks[k].k == "id" and toks[k].t in TYPE_MAP:
                    toks[k].t = TYPE_MAP[toks[k].t]
    return toks


def fix_try_catch(toks):
    i = 0
    while i < len(toks):
        if toks[i].t == "catch" and is_t(toks, sig(toks, i + 1), "("):
            op = sig(toks, i + 1)
            cl = match_close(toks, op)
            toks[op + 1:cl] = [Tok("punct", "...", False)]
        i += 1
    return toks


FIELD_NAMES = set()
RENAMED = []


def rename_shadowing_locals(toks, ctx):
    """a local named like a hparams field, in a body that also uses `hparams.NAME`, would capture
    the field once `hparams.` is stripped: rename the local to NAME_ from its declaration to the end
    of its block (unless it is a plain copy `= hparams.NAME` / `= hparams.NAME()`, which is harmless)"""
    decl_words = TYPE_WORDS | set(TYPE_MAP) | {"string"}
    for i, t in enumerate(toks):
        if t.k != "id" or t.t not in FIELD_NAMES:
            continue
        pv = sig_back(toks, i - 1)
        if pv < 0 or toks[pv].t not in decl_words:
            continue
        nx = sig(toks, i + 1)
        if nx >= len(toks) or toks[nx].t not in ("=", ";", "(", ","):
            continue
        init = []
        if toks[nx].t == "=":
            e = stmt_end(toks, nx)
            init = [x.t for x in toks[nx + 1:e] if x.k != "nl"]
        name = t.t
        if init in (["hparams", ".", name], ["hparams", ".", name, "(", ")"], [name]):
            continue
        uses_field = any(toks[k].t == "hparams" and is_t(toks, sig(toks, k + 1), ".") and
                         is_t(toks, sig(toks, sig(toks, k + 1) + 1), name) for k in range(len(toks)))
        if not uses_field:
            continue
        # block end
        d = 0
        end = len(toks)
        for k in range(i, len(toks)):
            if toks[k].k == "punct" and toks[k].t in "({[":
                d += 1
            elif toks[k].k == "punct" and toks[k].t in ")}]":
                d -= 1
                if d < 0:
                    end = k
                    break
        for k in range(i, end):
            x = toks[k]
            if x.k == "id" and x.t == name:
                p2 = sig_back(toks, k - 1)
                if p2 >= 0 and toks[p2].t in (".", "->"):
                    continue
                x.t = name + "_"
        ctx.renamed.append(name)
    return toks


def translate_body(lines, fname, first_line, overrides, used, extra_pre=None, func=None, keep_type=False):
    """lines: source lines (the body); returns (out_lines, unsupported list)"""
    src = []
    for k, l in enumerate(lines):
        key = (os.path.basename(fname), l.strip())
        keyn = (fname, first_line + k)
        ind = re.match(r"^[ \t]*", l).group(0)
        if keyn in overrides:
            used.add(keyn)
            src.append(ind + overrides[keyn] if overrides[keyn] else "")
        elif key in overrides:
            used.add(key)
            src.append(ind + overrides[key] if overrides[key] else "")
        else:
            src.append(l)
    indents = [re.match(r"^[ \t]*", l).group(0) for l in src]
    text = "\n".join(src)
    toks = tokenize(text)
    ctx = Ctx(fname, first_line)
    ctx.func = func
    remove_type_switches(toks, ctx, keep_type)
    remove_type_assignments(toks, keep_type)
    if not fname.endswith("llama-hparams.cpp"):
        rename_shadowing_locals(toks, ctx)
    if ctx.renamed:
        RENAMED.append((fname, first_line, sorted(set(ctx.renamed))))
    # LLAMA_LOAD_LOCALS
    i = 0
    while i < len(toks):
        if toks[i].t == "LLAMA_LOAD_LOCALS":
            e = sig(toks, i + 1)
            rep = [Tok(x.k, x.t, x.sp) for x in LOAD_LOCALS_TOKS]
            rep[0].sp = toks[i].sp
            toks[i:e + 1] = rep
            i += len(rep)
            continue
        i += 1

    translate_tokens(toks, ctx)
    rewrite_range_for(toks, ctx)
    normalize_lambdas(toks, ctx)
    fix_try_catch(toks)
    out = render(toks, indents)
    assert len(out) == len(lines), (fname, first_line, len(out), len(lines))
    return out, ctx.unsupported


LOAD_LOCALS_TOKS = []


# --------------------------------------------------------------------------------------------
# overrides: lines the generic rewriter cannot handle. key (file basename, stripped source line)
# or (path, line number) -> replacement source (still C++-ish, translated afterwards).
# --------------------------------------------------------------------------------------------

OVERRIDES = {
    # generic load_hparams
    ("llama-model.cpp", 'std::string rope_scaling("linear");'): 'std::string rope_scaling = "linear";',
    ("llama-model.cpp", "ml.get_arr(LLM_KV_CLASSIFIER_OUTPUT_LABELS, classifier_labels, false);"):
        "uint32_t n_cls_labels = 0; ml.get_arr_n(LLM_KV_CLASSIFIER_OUTPUT_LABELS, n_cls_labels, false);",
    ("llama-model.cpp", "if (!classifier_labels.empty()) {"): "if (n_cls_labels > 0) {",
    ("llama-model.cpp", "hparams.n_cls_out = classifier_labels.size();"): "hparams.n_cls_out = n_cls_labels;",
    # layer slots that hold other blocks' tensors (the generic .scale pass asks by slot,
    # src/llama-model.cpp:1636-1637): hrm_text's slot/block binding and its aliases, nanbeige's loops
    ("hrm-text.cpp", "auto &    layer = layers[slot_base + il];"): "layer_slot(slot_base + il, blk_base + il);",
    ("hrm-text.cpp", "layers[slot_base + il] = layers[src_base + il];"): "copy_layer(slot_base + il, src_base + il);",
    ("nanbeige.cpp", "layers[i + j * n_phys] = layers[i];"): "copy_layer(i + j * n_phys, i);",
    # dflash hparams: target_layer_ids (a model vector) and its log-only join
    ("dflash.cpp", "std::string layers;"): "",
    ("dflash.cpp", 'const char * sep = "";'): "",
    ("dflash.cpp", "layers += sep;"): "",
    ("dflash.cpp", "layers += std::to_string(id);"): "",
    ("dflash.cpp", 'sep = ", ";'): "",
    # dflash tensors: tensor metadata probes
    # granite / granite4 vision: unordered_set of deepstack indices, stringstream error
    ("granite.cpp", "std::unordered_set<uint32_t> unique_deepstack_idxs;"): "uint32_t unique_deepstack_idxs = array(0, 0);",
    ("granite.cpp", "unique_deepstack_idxs.insert(val);"): "insert(unique_deepstack_idxs, val);",
    ("granite.cpp", "std::stringstream ss;"): "",
    ("granite.cpp", 'ss << "Invalid deepstack index: " << val << " > " << hparams.n_deepstack_layers;'):
        'std::string ss = "Invalid deepstack index: " + std::to_string(val) + " > " + std::to_string(hparams.n_deepstack_layers);',
    ("granite.cpp", "throw std::runtime_error(ss.str());"): "throw ss;",
    ("granite-swa.cpp", "std::unordered_set<uint32_t> unique_deepstack_idxs;"): "uint32_t unique_deepstack_idxs = array(0, 0);",
    ("granite-swa.cpp", "unique_deepstack_idxs.insert(val);"): "insert(unique_deepstack_idxs, val);",
    ("granite-swa.cpp", "std::stringstream ss;"): "",
    ("granite-swa.cpp", 'ss << "Invalid deepstack index: " << val << " > " << hparams.n_deepstack_layers;'):
        'std::string ss = "Invalid deepstack index: " + std::to_string(val) + " > " + std::to_string(hparams.n_deepstack_layers);',
    ("granite-swa.cpp", "throw std::runtime_error(ss.str());"): "throw ss;",
    # granite-switch: adapter token vectors / maps
    ("granite-switch.cpp", "std::vector<llama_token> token_ids;"): "int32_t token_ids = array(0, 0);",
    ("granite-switch.cpp", "std::vector<llama_token> substitute_ids;"): "int32_t substitute_ids = array(0, 0);",
    ("granite-switch.cpp", "adapter_token_to_slot.clear();"): "",
    ("granite-switch.cpp", "adapter_token_to_substitute.clear();"): "adapter_token_to_substitute = substitute_ids;",
    ("granite-switch.cpp", "adapter_token_to_slot[token_ids[i]]       = (int32_t) (i + 1);"): "",
    ("granite-switch.cpp", "adapter_token_to_substitute[token_ids[i]] = substitute_ids[i];"): "",
    ("granite-switch.cpp", "const llama_token sub = kv.second;"): "const int32_t sub = kv;",
    # laguna / others: tensor metadata probes
    # qwen4exp: bitset and vectors
    ("qwen4exp.cpp", "hparams.is_ple_impl.reset();"): "std::fill(hparams.is_ple_impl.begin(), hparams.is_ple_impl.end(), 0);",
    ("qwen4exp.cpp", "std::vector<uint32_t> ple_layers;"): "uint32_t ple_layers = array(0, 0);",
    ("qwen4exp.cpp", "hparams.is_ple_impl.set(il);"): "hparams.is_ple_impl[il] = 1;",
    ("qwen4exp.cpp", "std::array<uint64_t, LLAMA_MAX_PLE_HEADS> head_offsets     = {};"):
        "uint64_t head_offsets     = array(LLAMA_MAX_PLE_HEADS, 0);",
    ("qwen4exp.cpp", "std::array<uint64_t, LLAMA_MAX_PLE_HEADS> head_vocab_sizes = {};"):
        "uint64_t head_vocab_sizes = array(LLAMA_MAX_PLE_HEADS, 0);",
    ("qwen4exp.cpp", "const std::string ple_name = tn(LLM_TENSOR_PER_LAYER_TOKEN_EMBD, \"weight\").str();"):
        "const std::string ple_name = tn(LLM_TENSOR_PER_LAYER_TOKEN_EMBD, \"weight\");",
    ("qwen4exp.cpp", "if (const auto * ple_w = ml.get_weight(ple_name.c_str())) {"):
        "if (const auto ple_w = ml.get_tensor_meta(ple_name); ple_w) {",
}


# --------------------------------------------------------------------------------------------
# source model: classes, bodies
# --------------------------------------------------------------------------------------------

# Graph-build rules: what llama.cpp's graph code (src/models/*.cpp, build_arch_graph) asserts
# or cannot build, for files whose every tensor the loader accepts. Written by hand: a graph is
# ggml calls, not loader code. Each rule cites the graph line that fails and is emitted as a
# `@graph FILE LINE` section of its architecture, run once the tensors are loaded; the generator
# stops when the cited line no longer holds `snippet` (llama.cpp changed: re-read the graph).
# Rules marked verified were checked by llama.cpp itself (tests/fixtures/llama-archs-refused);
# the MLA rule of the other architectures follows the same graph code as deepseek2's.
_MLA_K_ONE_HEAD = (
    'for (int il = 0; il < n_layer(); ++il) { if (%s) { assert(n_head_kv(il) == 1, '
    'format("the graph builds K with one head (MLA, compressed KV), the KV cache has %%u '
    '(attention.head_count_kv must be 1)", n_head_kv(il))); } }'
)
GRAPH_RULES = {
    # verified: olmoe-gqa.gguf aborts at ggml.c:2273 ggml_can_repeat
    "olmoe": [("src/models/olmoe.cpp", 95, "Kcur = build_norm(Kcur, model.layers[il].attn_k_norm",
               'for (int il = 0; il < n_layer(); ++il) { assert(n_embd_k_gqa(il) % n_embd == 0, '
               'format("attn_k_norm is {%u} but K is {%u}: the K norm cannot broadcast (ggml_can_repeat)",'
               ' n_embd, n_embd_k_gqa(il))); }')],
    # verified: dots1-gqa.gguf aborts at ggml.c:3758 reshape
    "dots1": [("src/models/dots1.cpp", 103, "build_qkv(model.layers[il], cur,",
               'for (int il = 0; il < n_layer(); ++il) { assert(n_head_kv(il) == n_head(il), '
               'format("attn_k is made with head_count (%u) heads, the graph reshapes K to head_count_kv '
               '(%u) heads", n_head(il), n_head_kv(il))); }')],
    # verified: minicpm3-gqa.gguf aborts at ggml.c:4014 mul_mat
    "minicpm3": [("src/models/minicpm3.cpp", 149, "k_nope = ggml_view_3d(ctx0, kv, n_embd_head_qk_nope, n_head",
                  'for (int il = 0; il < n_layer(); ++il) { assert(n_head_kv(il) == n_head(il), '
                  'format("the graph builds K with head_count (%u) heads, the KV cache has head_count_kv '
                  '(%u)", n_head(il), n_head_kv(il))); }')],
    # verified (MLA): deepseek2-mla-kv-heads.gguf aborts at ggml.c:4014 mul_mat
    "deepseek2": [
        ("src/models/deepseek2.cpp", 576, "Kcur = ggml_concat(ctx0, kv_cmpr, k_pe, 0)", _MLA_K_ONE_HEAD % "is_mla()"),
        ("src/models/deepseek2.cpp", 630, "MLA without the absorption optimization converts into MHA",
         'for (int il = 0; il < n_layer(); ++il) { if (!is_mla()) { assert(n_head_kv(il) == n_head(il), '
         'format("MLA without absorption builds K with head_count (%u) heads, the KV cache has '
         'head_count_kv (%u)", n_head(il), n_head_kv(il))); } }'),
    ],
    "deepseek32": [("src/models/deepseek32.cpp", 386, "kv_cmpr = ggml_reshape_3d(ctx0, kv_cmpr, kv_lora_rank, 1, n_tokens)",
                    _MLA_K_ONE_HEAD % "is_mla()")],
    "dots3note": [("src/models/dots3note.cpp", 364, "kv_cmpr = ggml_reshape_3d(ctx0, kv_cmpr, kv_lora_rank, 1, n_tokens)",
                   _MLA_K_ONE_HEAD % "is_mla()")],
    "glm-dsa": [("src/models/glm-dsa.cpp", 430, "kv_cmpr = ggml_reshape_3d(ctx0, kv_cmpr, kv_lora_rank, 1, n_tokens)",
                 _MLA_K_ONE_HEAD % "is_mla()")],
    "kimi-linear": [("src/models/kimi-linear.cpp", 440, "kv_cmpr = ggml_reshape_3d(ctx0, kv_cmpr, kv_lora_rank, 1, n_tokens)",
                     _MLA_K_ONE_HEAD % "is_mla() && !is_recr(il)")],
    # verified: deepseek4-heads-not-groups.gguf aborts at deepseek4.cpp:900
    "deepseek4": [
        ("src/models/deepseek4.cpp", 899, "GGML_ASSERT(n_embd_head == n_embd_head_v);",
         'assert(n_embd_head_k() == n_embd_head_v(), "GGML_ASSERT(n_embd_head == n_embd_head_v) failed");'),
        ("src/models/deepseek4.cpp", 900, "GGML_ASSERT(n_head % n_groups == 0);",
         'for (int il = 0; il < n_layer(); ++il) { assert(dsv4_o_group_count != 0 && n_head() % dsv4_o_group_count == 0, '
         'format("GGML_ASSERT(n_head %% n_groups == 0) failed: head_count %u, o_group_count %u", n_head(), '
         'dsv4_o_group_count)); }'),
    ],
}


def graph_sections(src, arch):
    out = []
    for rel, line, snippet, body in GRAPH_RULES.get(arch, []):
        if snippet not in src.lines(rel)[line - 1]:
            raise SystemExit("GRAPH_RULES %s: %s:%d no longer reads %r" % (arch, rel, line, snippet))
        out.append("@graph %s %d" % (rel, line))
        out.append(body)
    return out


def find_function(lines, pattern, start=0):
    """find a function definition whose first line matches pattern; returns
    (sig_line_idx, open_brace_line_idx, close_brace_line_idx) 0-based"""
    rx = re.compile(pattern)
    for i in range(start, len(lines)):
        if rx.search(lines[i]):
            # opening brace
            j = i
            while "{" not in strip_comments(lines[j]):
                j += 1
            d = 0
            for k in range(j, len(lines)):
                s = strip_comments(lines[k])
                s = re.sub(r'"(?:\\.|[^"\\])*"', '""', s)
                d += s.count("{") - s.count("}")
                if d == 0:
                    return i, j, k
            raise SyntaxError("unclosed function at %d" % (i + 1))
    return None


class Source:
    def __init__(self, root):
        self.root = root
        self.cache = {}

    def lines(self, rel):
        if rel not in self.cache:
            with open(os.path.join(self.root, rel), encoding="utf-8") as f:
                self.cache[rel] = f.read().split("\n")
        return self.cache[rel]

    def text(self, rel):
        return "\n".join(self.lines(rel))


def body_of(src, rel, pattern):
    ls = src.lines(rel)
    r = find_function(ls, pattern)
    if r is None:
        return None
    i, j, k = r
    # body = lines j+1 .. k-1 (the closing brace must be alone on its line)
    assert ls[k].strip() in ("}", "};"), (rel, k + 1, ls[k])
    assert ls[j].rstrip().endswith("{"), (rel, j + 1, ls[j])
    return j + 2, ls[j + 1:k]  # first body line (1-based), lines


# --------------------------------------------------------------------------------------------
# main generation
# --------------------------------------------------------------------------------------------

MEMBER_TYPES = {"uint32_t", "int32_t", "int64_t", "uint64_t", "int", "bool", "float", "double", "llm_type"}


def class_members(lines, struct_pat):
    """numeric / vector data members declared at the top level of a struct:
    [(line_idx, name, archc declaration)]"""
    r = find_function(lines, struct_pat)
    if r is None:
        return []
    out = []
    d = 0
    for k in range(r[1], r[2] + 1):
        s = strip_comments(lines[k])
        if d == 1:
            st = s.strip()
            m = re.match(r"^(\w+)\s+(\w+)\s*(?:=\s*([^;(]+))?;$", st)
            mv = re.match(r"^std::(?:vector|unordered_map|unordered_set|map|set)<(?:\w+\s*,\s*)?(\w+)>\s+(\w+)\s*;$", st)
            if m and m.group(1) in MEMBER_TYPES:
                ty, name, init = m.groups()
                if ty == "llm_type":
                    ty = "int"
                if init is None:
                    init = "0.0" if ty in ("float", "double") else ("false" if ty == "bool" else "0")
                init = re.sub(r"(\d)[fF]\b", r"\1", init.strip())
                out.append((k, name, "%s %s = %s;" % (ty, name, init)))
            elif mv and mv.group(1) in ("int32_t", "uint32_t", "int64_t", "uint64_t", "float", "llama_token", "int"):
                ety = {"llama_token": "int32_t", "int": "int32_t"}.get(mv.group(1), mv.group(1))
                out.append((k, mv.group(2), "%s %s = array(0, 0);" % (ety, mv.group(2))))
        d += s.count("{") - s.count("}")
    return out


def generate(root):
    src = Source(root)
    out = []
    report = []
    used = set()
    all_unsupported = []  # (section, what, where)

    arch_cpp = src.text("src/llama-arch.cpp")
    arch_h = src.text("src/llama-arch.h")
    hp_h = src.text("src/llama-hparams.h")
    model_cpp = src.text("src/llama-model.cpp")
    model_h = src.text("src/llama-model.h")
    loader_h = src.text("src/llama-model-loader.h")
    llama_h = src.text("include/llama.h")
    ggml_h = src.text("ggml/include/ggml.h")
    graph_h = src.text("src/llama-graph.h")

    # ---- constants
    env = {}
    parse_defines(ggml_h, env, {"GGML_ROPE_TYPE_NORMAL", "GGML_ROPE_TYPE_NEOX", "GGML_ROPE_TYPE_MROPE",
                                "GGML_ROPE_TYPE_VISION", "GGML_ROPE_TYPE_IMROPE", "GGML_MROPE_SECTIONS"})
    parse_defines(llama_h, env, {"LLAMA_TOKEN_NULL", "LLAMA_DEFAULT_SEED"})
    parse_defines(hp_h, env)
    const_origin = {}
    for name, text, origin in ((None, ggml_h, "ggml/include/ggml.h"), (None, llama_h, "include/llama.h"), (None, hp_h, "src/llama-hparams.h"),
                               (None, graph_h, "src/llama-graph.h"), (None, model_h, "src/llama-model.h")):
        const_origin.update(parse_enums(text, env, origin))
    arch_enum = {}
    parse_enums(arch_h, arch_enum, "src/llama-arch.h")
    tensor_flags = []
    for m in re.finditer(r"static const int (TENSOR_\w+)\s*=\s*([^;]+);", loader_h):
        env[m.group(1)] = c_eval(m.group(2), env)
        tensor_flags.append(m.group(1))
    env["INT32_MAX"] = 2 ** 31 - 1
    env["INT32_MIN"] = -2 ** 31
    env["UINT32_MAX"] = 2 ** 32 - 1
    env["INT64_MAX"] = 2 ** 63 - 1

    # ---- LLAMA_LOAD_LOCALS
    m = re.search(r"#define LLAMA_LOAD_LOCALS\s*\\\n((?:.*\\\n)*.*\n)", model_h)
    macro = re.sub(r"\\\n", " ", m.group(1))
    ctx0 = Ctx("src/llama-model.h", 0)
    global LOAD_LOCALS_TOKS
    LOAD_LOCALS_TOKS = [t for t in translate_tokens(tokenize(macro), ctx0) if t.k != "nl"]
    for t in LOAD_LOCALS_TOKS:
        pass

    # ---- file-level constant arrays used by loaders -> explicit element assignments
    gd = src.text("src/models/glm-dsa.cpp")
    mg = re.search(r"GLM_5_2_DEFAULT_INDEXER_TYPES = \{([^}]*)\}", gd)
    vals = [int(v) for v in re.findall(r"\d+", strip_comments(mg.group(1)))]
    OVERRIDES[("glm-dsa.cpp", "hparams.is_indexer_full_impl = GLM_5_2_DEFAULT_INDEXER_TYPES;")] = (
        "std::fill(hparams.is_indexer_full_impl.begin(), hparams.is_indexer_full_impl.end(), 0); " +
        " ".join("hparams.is_indexer_full_impl[%d] = %d;" % (k, v) for k, v in enumerate(vals) if v))

    # ---- keys / tensors / archs
    kv_names = parse_map(arch_cpp, "LLM_KV_NAMES")
    tn_names = parse_map(arch_cpp, "LLM_TENSOR_NAMES")
    tn_infos = {a: b for a, b, _ in parse_map(arch_cpp, "LLM_TENSOR_INFOS")}
    arch_names = parse_map(arch_cpp, "LLM_ARCH_NAMES")

    # rope types
    rope = {}
    rope_note = {}
    rl = src.lines("src/llama-model.cpp")
    r = find_function(rl, r"^llama_rope_type llama_model_rope_type\(")
    pending = []
    k = r[1] + 1
    while k < r[2]:
        s = strip_comments(rl[k]).strip()
        mm = re.match(r"case (LLM_ARCH_\w+):\s*(.*)$", s)
        if mm:
            pending.append(mm.group(1))
            s = mm.group(2)
        if s.startswith("return"):
            ret = s
            kk = k
            while not ret.endswith(";"):
                kk += 1
                ret += " " + strip_comments(rl[kk]).strip()
            simple = re.match(r"return LLAMA_ROPE_TYPE_(\w+);$", ret)
            for a in pending:
                if simple:
                    rope[a] = simple.group(1).lower()
                else:
                    # conditional: the last LLAMA_ROPE_TYPE in the statement is the fallback
                    last = re.findall(r"LLAMA_ROPE_TYPE_(\w+)", ret)[-1].lower()
                    rope[a] = last
                    rope_note[a] = "%s (src/llama-model.cpp:%d)" % (ret, k + 1)
            pending = []
        elif s.startswith("if (") and pending:
            # DFLASH: `if (...) { return MROPE; } return ...` -> collect the whole case
            cond = s
            kk = k
            block = []
            while True:
                kk += 1
                t2 = strip_comments(rl[kk]).strip()
                block.append(t2)
                if t2.startswith("return") and not block[:-1] == [] and block.count("}") >= 1:
                    break
            ret = block[-1]
            last = re.findall(r"LLAMA_ROPE_TYPE_(\w+)", ret)[-1].lower()
            for a in pending:
                rope[a] = last
                rope_note[a] = "%s %s (src/llama-model.cpp:%d)" % (cond, " ".join(block), k + 1)
            pending = []
            k = kk
        elif s.startswith("GGML_ABORT"):
            pending = []
        k += 1

    # ---- model classes
    fac = {}
    fl = src.lines("src/llama-model.cpp")
    r = find_function(fl, r"^static llama_model \* llama_model_mapping\(")
    last = []
    for k in range(r[1], r[2]):
        mm = re.match(r"\s*case (LLM_ARCH_\w+):", fl[k])
        if mm:
            last.append(mm.group(1))
        mm = re.match(r"\s*return new (llama_model_\w+)\(", fl[k])
        if mm:
            for a in last:
                fac[a] = mm.group(1)
            last = []
    models_h = src.text("src/models/models.h")
    parent = {}
    for mm in re.finditer(r"struct (llama_model_\w+)\s*:\s*public (llama_model_\w+)", models_h):
        parent[mm.group(1)] = mm.group(2)
    defs = {}  # (class, method) -> (rel, first_line, lines)
    model_files = sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "src/models/*.cpp")))
    src_create_tensor = 0
    for rel in model_files:
        ls = src.lines(rel)
        src_create_tensor += sum(len(re.findall(r"\bcreate_tensor\(", strip_comments(l))) for l in ls)
        for i, l in enumerate(ls):
            mm = re.match(r"void (llama_model_\w+)::(load_arch_hparams|load_arch_tensors)\(", l)
            if mm:
                b = body_of(src, rel, r"^void %s::%s\(" % (mm.group(1), mm.group(2)))
                defs[(mm.group(1), mm.group(2))] = (rel, b[0], b[1])

    def resolve(cls, meth):
        c = cls
        while c is not None:
            if (c, meth) in defs:
                return c, defs[(c, meth)]
            c = parent.get(c)
        return None, None

    # ============================ emit
    out.append("# generated by tools/archgen/gen.py from llama.cpp %s -- do not edit" % VERSION)
    out.append("# regenerate: python3 tools/archgen/gen.py LLAMA_DIR")
    out.append("@version %s" % VERSION)

    # ---- consts: emitted later once we know which names are used (collect bodies first)
    sections = []  # list of lists of lines, appended after consts

    # @keys
    sec = ["@keys"]
    for name, rest, _ in kv_names:
        mm = re.match(r'^("(?:\\.|[^"\\])*")$', rest)
        assert mm, (name, rest)
        sec.append("%s = %s;" % (name, mm.group(1)))
    sections.append(sec)
    key_set = {n for n, _, _ in kv_names}

    # @tensor_names
    sec = ["@tensor_names"]
    tensor_set = set()
    for name, rest, _ in tn_names:
        mm = re.match(r'^("(?:\\.|[^"\\])*")$', rest)
        assert mm, (name, rest)
        info = tn_infos.get(name)
        if info:
            mi = re.match(r"\{\s*LLM_TENSOR_LAYER_(\w+)\s*,\s*GGML_OP_(\w+)\s*\}", info)
            kind, op = mi.group(1).lower(), mi.group(2).lower()
        else:
            kind, op = "none", "none"
            report.append("tensor without LLM_TENSOR_INFOS entry: %s" % name)
        sec.append("%s = %s %s %s;" % (name, mm.group(1), kind, op))
        tensor_set.add(name)
    sections.append(sec)

    # @archs
    sec = ["@archs"]
    arch_str = {}
    for name, rest, _ in arch_names:
        mm = re.match(r'^("(?:\\.|[^"\\])*")$', rest)
        assert mm
        arch_str[name] = mm.group(1)[1:-1]
        rt = rope.get(name)
        if rt is None:
            if name != "LLM_ARCH_UNKNOWN":
                report.append("arch without rope type: %s" % name)
            rt = "none"
        if name in rope_note:
            sec.append("# %s rope type is conditional: %s" % (name, rope_note[name]))
        sec.append("%s = %s %s;" % (name, mm.group(1), rt))
    sections.append(sec)

    body_texts = []  # for const usage scan

    # @defaults
    hl = src.lines("src/llama-hparams.h")
    r = find_function(hl, r"^struct llama_hparams \{")
    d_start = r[1] + 2
    # last field line
    last_field = d_start
    dlines = []
    fields = {}
    SCALAR = {"bool": "bool", "uint32_t": "uint32_t", "int32_t": "int32_t", "int": "int32_t", "float": "float",
              "double": "double", "uint64_t": "uint64_t", "int64_t": "int64_t", "llama_token": "int32_t"}
    depth = 0
    for k in range(r[1] + 1, r[2]):
        raw_l = strip_comments(hl[k])
        s = raw_l.strip()
        o = ""
        at_top = depth == 0
        depth += raw_l.count("{") - raw_l.count("}")
        if not at_top:
            dlines.append(o)
            continue
        mm = re.match(r"^(enum\s+)?(\w+)\s+(\w+)\s*(?:=\s*([^;]+))?;$", s)
        ma = re.match(r"^std::array<\s*(\w+)\s*,\s*(\w+)\s*>\s+(\w+)\s*;$", s)
        mb = re.match(r"^std::bitset<\s*(\w+)\s*>\s+(\w+)\s*;$", s)
        ms = re.match(r"^struct (llama_hparams_\w+)\s+(\w+)\s*;$", s)
        if ma:
            ty, n, name = ma.groups()
            ety = SCALAR[ty]
            init = "0.0" if ety in ("float", "double") else "0"
            o = "%s %s = array(%s, %s);" % (ety, name, n, init)
            fields[name] = ety + "[]"
        elif mb:
            n, name = mb.groups()
            o = "uint32_t %s = array(%s, 0);" % (name, n)
            fields[name] = "uint32_t[]"
        elif ms:
            sty, name = ms.groups()
            sr = find_function(hl, r"^struct %s \{" % sty)
            parts = []
            for kk in range(sr[1] + 1, sr[2]):
                m2 = re.match(r"^\s*(\w+)\s+(\w+);", hl[kk])
                if m2:
                    parts.append("%s %s.%s = 0;" % (SCALAR[m2.group(1)], name, m2.group(2)))
                    fields[name + "." + m2.group(2)] = m2.group(1)
            o = " ".join(parts)
        elif mm and (mm.group(2) in SCALAR or mm.group(1) or mm.group(2) in ENUM_TYPES):
            is_enum, ty, name, init = mm.groups()
            if ty in SCALAR:
                ty = SCALAR[ty]
            else:
                ty = "int32_t"  # enum-typed field: its integer value
            if ty == "bool":
                v = (init or "false").strip()
            elif ty in ("float", "double"):
                v = (init or "0.0").strip()
                v = re.sub(r"(\d)[fF]\b", r"\1", v)
                if re.match(r"^-?\d+$", v):
                    v += ".0"
            else:
                if init is None:
                    v = "0"
                else:
                    try:
                        v = str(c_eval(init, env))
                    except Exception:
                        v = init.strip()
            o = "%s %s = %s;" % (ty, name, v)
            fields[name] = ty
        if o:
            last_field = k
        dlines.append(o)
    dlines = dlines[:last_field - r[1]]
    sec = ["@defaults src/llama-hparams.h %d" % d_start] + dlines
    sections.append(sec)
    body_texts.extend(dlines)
    field_set = set(fields)
    FIELD_NAMES.clear()
    FIELD_NAMES.update(f for f in fields if "." not in f)
    RENAMED.clear()

    # @fn : llama_hparams member functions
    fn_secs = []
    decl_defaults = {}
    for mm in re.finditer(r"^\s*(?:static\s+)?(\w+)\s+(\w+)\(([^)]*)\)\s*(?:const)?\s*;", hp_h, re.M):
        decl_defaults[mm.group(2)] = mm.group(3)
    hcl = src.lines("src/llama-hparams.cpp")
    fn_names = []
    for i, l in enumerate(hcl):
        mm = re.match(r"^(\w+) llama_hparams::(\w+)\(([^)]*)\)", l)
        if not mm:
            continue
        ret, name, params = mm.groups()
        b = body_of(src, "src/llama-hparams.cpp", r"^\w+ llama_hparams::%s\(" % name)
        dparams = decl_defaults.get(name, params)
        fn_secs.append(emit_fn("src/llama-hparams.cpp", b[0] - 1, ret, name, dparams, b[1], used, all_unsupported))
        fn_names.append(name)
    # header-inline members (one-liners) are none besides is_masked_swa (not used by loaders)
    # helpers in llama-model.cpp
    for name, pat in (("create_tensor_gate_up_exps", r"^void llama_model_base::create_tensor_gate_up_exps\("),
                      ("create_tensor_qkv", r"^void llama_model_base::create_tensor_qkv\("),
                      ("load_swa_pattern", r"^void llama_model_base::load_swa_pattern\(")):
        r = find_function(fl, pat)
        sigtxt = " ".join(x.strip() for x in fl[r[0]:r[1] + 1])
        params = re.search(r"\((.*)\)", sigtxt).group(1)
        params = ", ".join(p.strip() for p in params.split(",")
                           if "llama_layer" not in p and "llama_model_loader" not in p)
        if name == "load_swa_pattern":
            mh = re.search(r"void load_swa_pattern\(([^)]*)\)", model_h)
            params = ", ".join(p.strip() for p in mh.group(1).split(",") if "llama_model_loader" not in p)
        fn_secs.append(emit_fn("src/llama-model.cpp", r[1] + 1, "void", name, params, fl[r[1] + 1:r[2]], used, all_unsupported))
        fn_names.append(name)
    # llm_ffn_op_type_from_string: a map lookup -> if chain on the function's first body line
    r = find_function(fl, r"^llm_ffn_op_type llm_ffn_op_type_from_string\(")
    ffn_map = parse_map(model_cpp, "LLM_FFN_OP_TYPES_FROM_STRING")
    chain = " ".join('if (name == %s) { return %s; }' % (a.strip('"') and a, b.rstrip(" }").strip())
                     for a, b, _ in [(x[0], x[1], x[2]) for x in ffn_map])
    # parse_map keys are identifiers only; string keys need their own parse
    pairs = re.findall(r'\{\s*("(?:[^"\\]|\\.)*")\s*,\s*(LLM_FFN_\w+)\s*\}',
                       model_cpp[model_cpp.index("LLM_FFN_OP_TYPES_FROM_STRING"):])
    pairs = pairs[:len(pairs)]
    seen = []
    for a, b in pairs:
        if (a, b) in seen:
            break
        seen.append((a, b))
    blen = r[2] - r[1] - 1
    fbody = [""] * blen
    fbody[0] = "    " + " ".join("if (name == %s) { return %s; }" % (a, b) for a, b in seen) + " return fallback;"
    fn_secs.append(["@fn src/llama-model.cpp %d" % (r[1] + 1), "int llm_ffn_op_type_from_string(std::string name, int fallback) {"] + fbody + ["}"])
    body_texts.extend(fbody)
    fn_names.append("llm_ffn_op_type_from_string")
    # llm_arch_is_recurrent: switch over arch -> one comparison chain
    al = src.lines("src/llama-arch.cpp")
    r = find_function(al, r"^bool llm_arch_is_recurrent\(")
    cases = []
    for k in range(r[1] + 1, r[2]):
        mm = re.match(r"\s*case (LLM_ARCH_\w+):", al[k])
        if mm:
            cases.append(mm.group(1))
    body = [""] * (r[2] - r[1] - 1)
    body[0] = "    return " + " || ".join("arch == %s" % c for c in cases) + ";"
    fn_secs.append(["@fn src/llama-arch.cpp %d" % (r[1] + 1), "bool llm_arch_is_recurrent(std::string arch) {"] + body + ["}"])
    fn_names.append("llm_arch_is_recurrent")
    # llama_model_rope_type: the switch over the architecture becomes an if/else chain
    r = find_function(fl, r"^llama_rope_type llama_model_rope_type\(")
    fn_secs.append(emit_fn("src/llama-model.cpp", r[1] + 1, "int", "llama_model_rope_type", "", fl[r[1] + 1:r[2]],
                           used, all_unsupported))
    fn_names.append("llama_model_rope_type")
    # static helpers in src/models/*.cpp called by the loaders (collected; emitted if called)
    helper_cands = []
    for rel in model_files:
        ls = src.lines(rel)
        for i, l in enumerate(ls):
            mm = re.match(r"^static (void|bool|uint32_t|int64_t|int) (\w+)\(([^)]*)\)\s*\{", l)
            if mm:
                ret, name, params = mm.groups()
                b = body_of(src, rel, r"^static \w+ %s\(" % name)
                params = ", ".join(p.strip() for p in params.split(",") if "llama_model_loader" not in p)
                params = re.sub(r"\bllm_kv\b", "int", params)
                helper_cands.append((rel, b, ret, name, params))

    # @generic
    r = find_function(fl, r"^void llama_model_base::load_hparams\(")
    g0 = None
    g1 = None
    for k in range(r[1], r[2]):
        if g0 is None and "ml.get_key(LLM_KV_CONTEXT_LENGTH" in fl[k]:
            g0 = k  # the first line after the vocab_only / CLIP return
        if "load_arch_hparams(ml);" in fl[k]:
            g1 = k
    glines, gu = translate_body(fl[g0:g1], "src/llama-model.cpp", g0 + 1, OVERRIDES, used, func="load_hparams")
    all_unsupported.extend(("generic", a, b) for a, b in gu)
    sections.append(["@generic src/llama-model.cpp %d" % (g0 + 1)] + glines)
    body_texts.extend(glines)

    # @generic_post: the rest of load_hparams after load_arch_hparams (use_alibi, rope_type)
    for l in fl[g1 + 1:r[2]]:
        if "pimpl->" in l:
            OVERRIDES[("llama-model.cpp", l.strip())] = ""
    OVERRIDES[("llama-model.cpp", "hparams.rope_type = llama_model_rope_type(this);")] = \
        "hparams.rope_type = llama_model_rope_type();"
    plines, pu = translate_body(fl[g1 + 1:r[2]], "src/llama-model.cpp", g1 + 2, OVERRIDES, used, func="load_hparams")
    all_unsupported.extend(("generic_post", a, b) for a, b in pu)
    sections.append(["@generic_post src/llama-model.cpp %d" % (g1 + 2)] + plines)
    body_texts.extend(plines)

    # @generic_tensors: load_tensors' tensor block: the expert check, load_arch_tensors, then the
    # generic pass creating the optional per-tensor ".scale"/".input_scale" tensors
    r = find_function(fl, r"^bool llama_model_base::load_tensors\(")
    t0 = t1 = None
    for k in range(r[1], r[2]):
        if t0 is None and fl[k].strip() == "// create tensors for the weights":
            t0 = k + 1
        if "ml.done_getting_tensors();" in fl[k]:
            t1 = k
    assert fl[t0].strip() == "{", fl[t0]
    while fl[t1 - 1].strip() == "":
        t1 -= 1
    OVERRIDES[("llama-model.cpp", "const auto tn = LLM_TN(arch);")] = ""
    # `if (!layer.X_s && layer.X) {` + `layer.X_s = create_tensor(tn(T, "scale", i), ...)`: the layer
    # members are per-layer tensors; ask whether those tensors were created instead
    for k in range(t0, t1):
        mi = re.match(r"^\s*if \(!([\w.]+) && ([\w.]+)\) \{$", fl[k])
        mo = re.match(r"^\s*if \(!(\w+)\) \{$", fl[k])
        nxt = fl[k + 1]
        mc = re.search(r"=\s*create_tensor\(tn\((LLM_TENSOR_\w+),\s*(\"\w+\")(?:,\s*(\w+))?\)", nxt)
        if (mi or mo) and mc:
            T, S, b = mc.group(1), mc.group(2), mc.group(3)
            bid = (", " + b) if b else ""
            if mi:
                # `layer.X` is a member of layers[i]: `layer_has` asks through the slot map
                # (hrm_text and nanbeige alias slots to other blocks' tensors)
                rep = "if (!created(tn(%s, %s%s)) && layer_has(tn(%s, \"weight\"%s))) {" % (T, S, bid, T, bid)
            else:
                rep = "if (!created(tn(%s, %s%s))) {" % (T, S, bid)
            OVERRIDES[("src/llama-model.cpp", k + 1)] = rep
    tlines, tu = translate_body(fl[t0:t1], "src/llama-model.cpp", t0 + 1, OVERRIDES, used, func="load_tensors")
    all_unsupported.extend(("generic_tensors", a, b) for a, b in tu)
    sections.append(["@generic_tensors src/llama-model.cpp %d" % (t0 + 1)] + tlines)
    body_texts.extend(tlines)
    translated_generic_ct = sum(len(re.findall(r"\bcreate_tensor\(", x)) for x in tlines)

    # @arch sections
    arch_secs = []
    members_used = set()
    per_arch = []
    translated_ct = 0
    counted_bodies = set()
    no_class = []
    for name, rest, _ in arch_names:
        if name == "LLM_ARCH_UNKNOWN":
            continue
        cls = fac.get(name)
        if cls is None:
            no_class.append(name)
            continue
        s = ["@arch %s" % arch_str[name], "# %s -> %s" % (name, cls)]
        n_unsup = 0
        raw = ""
        for meth in ("load_arch_hparams", "load_arch_tensors"):
            c, d = resolve(cls, meth)
            if d is not None:
                raw += strip_comments("\n".join(d[2]))
        keep_type = re.search(r"(?<![\w.])type\s*(==|!=)", raw) is not None
        if keep_type:
            s.append("# this architecture reads the model type: its type switches are kept")
        n_head_lines = len(s)
        for meth, tag in (("load_arch_hparams", "@hparams"), ("load_arch_tensors", "@tensors")):
            if cls == "llama_model_clip":
                s.append("%s none" % tag)
                continue
            c, d = resolve(cls, meth)
            if d is None:
                s.append("%s none" % tag)
                report.append("%s: no %s" % (name, meth))
                continue
            rel, first, blines = d
            tl, un = translate_body(blines, rel, first, OVERRIDES, used, func=meth, keep_type=keep_type)
            all_unsupported.extend((arch_str[name], a, b) for a, b in un)
            n_unsup += sum(1 for x in tl if "unsupported(" in x)
            if c != cls:
                s.append("# %s from %s" % (meth, c))
            s.append("%s %s %d" % (tag, rel, first))
            s.extend(tl)
            body_texts.extend(tl)
            if (rel, first) not in counted_bodies:
                counted_bodies.add((rel, first))
                translated_ct += sum(len(re.findall(r"\bcreate_tensor\(", x)) for x in tl)
        mem_lines = []
        # data members of the model class (and llama_model) the bodies use -> @members
        chain = []
        c = cls
        while c is not None:
            chain.append(c)
            c = parent.get(c)
        mem_srcs = [("src/llama-model.h", r"^struct llama_model \{")] + \
            [("src/models/models.h", r"^struct %s\b" % c) for c in reversed(chain)]
        for mrel, mpat in mem_srcs:
            mem = [m for m in class_members(src.lines(mrel), mpat)
                   if re.search(r"(?<![\w.])%s\b" % m[1], re.sub(r'"(?:\\.|[^"\\])*"', '""', "\n".join(x for x in s[n_head_lines:] if not x.startswith(("@", "#"))))) and (m[1] != "type" or keep_type)]
            if mem:
                k0, k1 = mem[0][0], mem[-1][0]
                ml_ = [""] * (k1 - k0 + 1)
                for k, _, decl in mem:
                    ml_[k - k0] = "    " + decl
                mem_lines.append("@members %s %d" % (mrel, k0 + 1))
                mem_lines.extend(ml_)
                members_used.update(m[1] for m in mem)
        s[n_head_lines:n_head_lines] = mem_lines
        s.extend(graph_sections(src, arch_str[name]))
        s.append("@end")
        arch_secs.append(s)
        per_arch.append((arch_str[name], n_unsup))
    unknown_rules = set(GRAPH_RULES) - {a for a, _ in per_arch}
    if unknown_rules:
        raise SystemExit("GRAPH_RULES for architectures the table does not hold: %s" % sorted(unknown_rules))

    # static helpers actually called from the translated bodies
    called = set()
    for l in body_texts:
        called.update(re.findall(r"\b(\w+)\s*\(", l))
    for rel, b, ret, hname, params in helper_cands:
        if hname in called:
            fn_secs.append(emit_fn(rel, b[0] - 1, ret, hname, params, b[1], used, all_unsupported))
            fn_names.append(hname)
    gi = [k for k, sec_ in enumerate(sections) if sec_[0].startswith("@generic")][0]
    for s in fn_secs:
        sections.insert(gi, s)
        gi += 1
        body_texts.extend(s[1:])

    # ---- consts (now that all bodies are known)
    used_ids = set()
    for l in body_texts:
        used_ids.update(re.findall(r"\b[A-Z][A-Z0-9_]+\b", re.sub(r'"(?:\\.|[^"\\])*"', '""', l)))
    csec = ["@consts"]
    families = ("LLAMA_SWA_TYPE_", "LLAMA_EXPERT_GATING_FUNC_TYPE_", "LLAMA_ROPE_SCALING_TYPE_",
                "LLAMA_POOLING_TYPE_", "LLAMA_ROPE_TYPE_", "LLAMA_NON_CAUSAL_TYPE_", "LLM_FFN_")
    emitted = set()

    def emit_const(n):
        if n in emitted or n not in env:
            return
        emitted.add(n)
        csec.append("%s = %d;" % (n, env[n]))

    for n in ("LLAMA_MAX_LAYERS", "LLAMA_MAX_EXPERTS", "LLAMA_MAX_PLE_NGRAM", "LLAMA_MAX_PLE_HEADS"):
        emit_const(n)
    for n in tensor_flags:
        emit_const(n)
    for fam in families:
        for n in sorted((n for n in env if n.startswith(fam)), key=lambda n: (env[n], n)):
            emit_const(n)
    for n in sorted(used_ids):
        if n in key_set or n in tensor_set or n in arch_str:
            continue
        emit_const(n)
    csec.append("INFINITY = 1e999;")
    emitted.add("INFINITY")
    missing_consts = sorted(n for n in used_ids if n not in emitted and n not in key_set and n not in tensor_set
                            and n not in arch_str and n not in field_set and not n.startswith("LLM_TYPE_"))

    # ---- assemble
    out.append(csec[0])
    out.extend(csec[1:])
    for s in sections:
        out.extend(s)
    for s in arch_secs:
        out.extend(s)

    unused = sorted(set(OVERRIDES) - used, key=str)
    stats = {
        "archs": len(arch_secs), "per_arch": per_arch, "no_class": no_class,
        "src_create_tensor": src_create_tensor, "translated_create_tensor": translated_ct,
        "unsupported": all_unsupported, "unused_overrides": unused, "missing_consts": missing_consts,
        "report": report, "fn_names": fn_names, "fields": fields, "keys": key_set, "tensors": tensor_set,
        "consts": emitted, "arch_enums": set(arch_str), "arch_strings": [arch_str[n] for n, _, _ in arch_names if n in fac],
    }
    return "\n".join(out) + "\n", stats


def emit_fn(rel, sig_line, ret, name, params, blines, used, all_unsupported):
    """@fn section: header names the signature's line (the line holding the opening brace)"""
    # C++ parameter list -> archc
    ps = []
    for p in [p.strip() for p in params.split(",") if p.strip()]:
        p = re.sub(r"\bconst\b\s*", "", p)
        p = p.replace("&", "").strip()
        p = re.sub(r"\b(llm_kv|llm_tensor|llama_token)\b", "int", p)
        p = re.sub(r"\s+", " ", p)
        ps.append(p)
    tl, un = translate_body(blines, rel, sig_line + 1, OVERRIDES, used, func=name)
    all_unsupported.extend(("fn " + name, a, b) for a, b in un)
    return ["@fn %s %d" % (rel, sig_line), "%s %s(%s) {" % (ret, name, ", ".join(ps))] + tl + ["}"]


# --------------------------------------------------------------------------------------------
# self-check: tokens outside archc, bracket balance, unresolved names
# --------------------------------------------------------------------------------------------

ALLOWED_PUNCT = set("{ } ( ) [ ] ; , . ? : ! ~ + - * / % < > = & ^ |".split()) | {
    "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "|=", "&=", "++", "--", "..."}
KEYWORDS = {"if", "else", "for", "while", "break", "continue", "return", "throw", "true", "false", "nullptr",
            "try", "catch", "void", "std::string"} | TYPE_WORDS
BUILTINS = {"get_key", "get_key_or_arr", "get_arr", "get_arr_n", "fill", "arch", "min", "max", "sqrt", "abs",
            "log", "pow", "exp", "floor", "ceil", "round", "rope_scaling_type_from_string", "assert", "unsupported", "tn",
            "create_tensor", "has_tensor", "n_vocab", "n_token_types", "load_mtp", "array", "format", "to_string",
            "size", "insert", "get_tensor_meta", "ne", "llm_kv", "created", "tensor_type", "load_arch_tensors"}


def merge_std_string(toks):
    out = []
    for t in toks:
        if len(out) >= 2 and t.t == "string" and out[-1].t == "::" and out[-2].t == "std":
            out[-2:] = [Tok("id", "std::string", out[-2].sp)]
        else:
            out.append(t)
    return out


def check_table(text, stats):
    """returns {section: [problems]}: tokens outside archc, bracket balance, names that resolve
    to nothing (not a local/assigned name, field, constant, key, tensor, arch, builtin or @fn)"""
    probs = {}
    cur = None
    body = []
    sections = []
    arch = None
    for ln in text.split("\n"):
        if ln.startswith("@"):
            if cur:
                sections.append((cur, arch, body))
            cur = ln
            if ln.startswith("@arch "):
                arch = ln.split()[1]
            body = []
        elif ln.startswith("#"):
            continue
        else:
            body.append(ln)
    if cur:
        sections.append((cur, arch, body))
    known = set(stats["fields"]) | set(stats["consts"]) | stats["keys"] | stats["tensors"] | BUILTINS | \
        set(stats["fn_names"]) | KEYWORDS | stats["arch_enums"]
    parsed = []
    declared_by = {}
    # model-level names: assigned somewhere in the table without a declaration (tok_embd, output, ...)
    known |= set(re.findall(r"^\s*(\w+)\s*=[^=]", text, re.M))
    for head, arch, lines in sections:
        tag = head.split()[0]
        if tag not in ("@defaults", "@fn", "@generic", "@generic_post", "@generic_tensors", "@hparams", "@tensors",
                       "@members", "@graph"):
            continue
        key = arch if tag in ("@hparams", "@tensors", "@members", "@graph") else head
        try:
            toks = merge_std_string([t for t in tokenize("\n".join(lines)) if t.k != "nl"])
        except SyntaxError as e:
            probs.setdefault(key, []).append("tokenize: %s" % e)
            continue
        parsed.append((key, tag, toks))
        dec = declared_by.setdefault(key, set())
        for i, t in enumerate(toks):
            if t.k != "id":
                continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.k == "id" and (t.t in TYPE_WORDS or t.t == "std::string" or t.t == "void"):
                dec.add(nxt.t)  # declarations, parameters
            if nxt is not None and nxt.t in ("=", "+=", "|=") and "." not in t.t:
                dec.add(t.t)  # assigned model members (output = ..., n_loops = ...)
            if nxt is not None and nxt.k == "id" and nxt.t != "=" and t.t == "auto":
                dec.add(nxt.t)
    for key, tag, toks in parsed:
        dec = declared_by[key]
        stack = []
        for t in toks:
            if t.k == "punct" and t.t in "([{":
                stack.append(t.t)
            elif t.k == "punct" and t.t in ")]}":
                if not stack or {"(": ")", "[": "]", "{": "}"}[stack.pop()] != t.t:
                    probs.setdefault(key, []).append("unbalanced %s" % t.t)
                    break
        if stack:
            probs.setdefault(key, []).append("unclosed %s" % "".join(stack))
        for i, t in enumerate(toks):
            if t.k == "punct" and t.t not in ALLOWED_PUNCT:
                probs.setdefault(key, []).append("token %s" % t.t)
            if t.k == "id":
                if t.t in ("std", "c_str", "static_cast", "template", "ml", "hparams", "vocab", "model", "layers",
                           "GGML_ABORT", "GGML_ASSERT", "struct", "enum", "switch", "case", "default", "NULL", "this"):
                    probs.setdefault(key, []).append("token %s" % t.t)
                    continue
                prev = toks[i - 1].t if i > 0 else ""
                if prev == ".":
                    continue
                nxt = toks[i + 1].t if i + 1 < len(toks) else ""
                if t.t in known or t.t in dec:
                    continue
                if nxt == ".":
                    continue  # layer.x, sl.x, posnet.x: dotted names
                probs.setdefault(key, []).append("name %s" % t.t)
    return probs


# --------------------------------------------------------------------------------------------
# GGUF: general.architecture of fixture heads
# --------------------------------------------------------------------------------------------

def gguf_arch(path):
    return gguf_head(path)[0]


def gguf_head(path):
    """(general.architecture, [tensor names]) of a GGUF file (the head is enough)"""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        return None
    ver, = struct.unpack_from("<I", data, 4)
    n_t, n_kv = struct.unpack_from("<QQ", data, 8)
    off = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def rstr(o):
        n, = struct.unpack_from("<Q", data, o)
        return data[o + 8:o + 8 + n].decode("utf-8", "replace"), o + 8 + n

    def skip(ty, o):
        if ty in sizes:
            return o + sizes[ty]
        if ty == 8:
            return rstr(o)[1]
        if ty == 9:
            et, n = struct.unpack_from("<IQ", data, o)
            o += 12
            for _ in range(n):
                o = skip(et, o)
            return o
        raise ValueError(ty)

    arch = None
    for _ in range(n_kv):
        k, off = rstr(off)
        ty, = struct.unpack_from("<I", data, off)
        off += 4
        if k == "general.architecture" and ty == 8:
            arch = rstr(off)[0]
        off = skip(ty, off)
    names = []
    for _ in range(n_t):
        nm, off = rstr(off)
        nd, = struct.unpack_from("<I", data, off)
        off += 4 + 8 * nd + 4 + 8
        names.append(nm)
    return arch, names


def fixture_tensor_coverage(text, fixtures):
    """every tensor of every fixture file must match a tn(LLM_TENSOR_X, "suffix") the table's code for
    that architecture can ask for (its @tensors, the helpers, @generic_tensors); returns misses"""
    fmts = dict(re.findall(r'^(LLM_TENSOR_\w+) = "([^"]*)"', text, re.M))
    secs = {}
    cur = None
    mode = None
    common = []
    for ln in text.split("\n"):
        if ln.startswith("@arch "):
            cur = ln.split()[1]
            secs[cur] = []
            mode = "arch"
            continue
        if ln.startswith(("@fn", "@generic_tensors")):
            mode = "common"
            continue
        if ln.startswith("@"):
            if mode != "arch":
                mode = None
            continue
        if mode == "arch":
            secs[cur].append(ln)
        elif mode == "common":
            common.append(ln)
    common_t = "\n".join(common)
    misses = []
    for p in sorted(glob.glob(os.path.join(fixtures, "*.gguf"))):
        arch, names = gguf_head(p)
        body = "\n".join(secs.get(arch, [])) + "\n" + common_t
        tids = set(re.findall(r"\bLLM_TENSOR_\w+", body))
        sufs = set(re.findall(r'"(\w+)"', body))
        pats = []
        for tid in tids:
            if tid in fmts:
                base = re.escape(fmts[tid]).replace("%d", r"\d+")
                pats.append(re.compile("^" + base + r"(?:\.(\w+))?$"))
        for nm in names:
            ok = False
            for rx in pats:
                m = rx.match(nm)
                if m and (m.group(1) is None or m.group(1) in sufs):
                    ok = True
                    break
            if not ok:
                misses.append((os.path.basename(p), nm))
    return misses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("llama_dir")
    ap.add_argument("-o", "--out", default=None)
    ap.add_argument("--check", action="store_true", help="exit 1 if OUT differs from what would be written")
    ap.add_argument("--report", action="store_true", help="print the self-check and coverage report")
    ap.add_argument(
        "--fixtures",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "llama-archs"
        ),
    )
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = a.out or os.path.join(here, "..", "..", "crates", "model", "data", "archs.txt")
    text, stats = generate(a.llama_dir)
    if a.report:
        print_report(text, stats, a.fixtures)
    if a.check:
        try:
            with open(out_path, encoding="utf-8") as f:
                cur = f.read()
        except FileNotFoundError:
            cur = None
        if cur != text:
            print("%s is out of date" % out_path, file=sys.stderr)
            sys.exit(1)
        return
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def print_report(text, stats, fixtures):
    print("archs with sections: %d" % stats["archs"])
    print("LLM_ARCH without a model class: %s" % (", ".join(stats["no_class"]) or "none"))
    tab_ct = len(re.findall(r"\bcreate_tensor\(", text))
    print("create_tensor calls: source src/models/*.cpp %d, translated (distinct bodies) %d, table total %d"
          % (stats["src_create_tensor"], stats["translated_create_tensor"], tab_ct))
    print("create_tensor_qkv / create_tensor_gate_up_exps calls in the table: %d / %d"
          % (len(re.findall(r"\bcreate_tensor_qkv\(", text)) - 1, len(re.findall(r"\bcreate_tensor_gate_up_exps\(", text)) - 1))
    n_unsup = text.count("unsupported(")
    print("unsupported() in table: %d" % n_unsup)
    for ln_no, ln in enumerate(text.split("\n"), 1):
        if "unsupported(" in ln:
            print("   table:%d: %s" % (ln_no, ln.strip()))
    for sec, what, where in stats["unsupported"]:
        print("   generator: [%s] %s at %s" % (sec, what, where))
    for fname, line, names in sorted(set((a, b, tuple(c)) for a, b, c in RENAMED)):
        print("   renamed shadowing locals in %s:%d: %s" % (fname, line, ", ".join(names)))
    if stats["unused_overrides"]:
        print("UNUSED OVERRIDES: %s" % stats["unused_overrides"])
    if stats["missing_consts"]:
        print("upper-case names without a constant: %s" % ", ".join(stats["missing_consts"]))
    for r in stats["report"]:
        print("note: %s" % r)
    probs = check_table(text, stats)
    print("self-check problems per section (%d sections with problems):" % len(probs))
    for k in sorted(probs):
        print("   %s: %d  %s" % (k, len(probs[k]), "; ".join(sorted(set(probs[k]))[:12])))
    if os.path.isdir(fixtures):
        archs = set()
        for p in sorted(glob.glob(os.path.join(fixtures, "*.gguf"))):
            s = gguf_arch(p)
            if s:
                archs.add(s)
        have = set(re.findall(r"^@arch (\S+)$", text, re.M))
        miss = sorted(archs - have)
        print("fixture architectures: %d, with sections: %d, missing: %s" % (len(archs), len(archs & have), miss or "none"))
        misses = fixture_tensor_coverage(text, fixtures)
        print("fixture tensors without a matching tn(...) in their architecture's code: %d %s"
              % (len(misses), misses[:20]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes one valid mmproj GGUF file (vision projector, with random tensor data) that llama.cpp
0c1e570's clip_init (tools/mtmd/clip.cpp) loads, for one projector type at chosen sizes.

    make-mmproj.py TYPE OUT.gguf [--n-embd N] [--n-ff N] [--n-head N] [--n-layer N]
                   [--image-size N] [--patch-size N] [--merge N] [--proj-dim N] [...]

TYPE is the value of `clip.projector_type` (clip-impl.h PROJECTOR_TYPE_NAMES): gemma3, idefics3,
mlp, pixtral, qwen2.5vl_merger, qwen2vl_merger, gemma4v, lfm2, internvl, qwen3vl_merger, llama4,
glm4v, youtuvl, mimovl, resampler (MiniCPM-V).

Keys and tensors follow what clip.cpp's load_hparams / load_tensors read for the type and what
the converters write (conversion/*.py, tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py
for `mlp`, i.e. LLaVA-1.5):

- tensor types (ftype f16, the converters' default for mmproj files): 2-D+ weights F16; 1-D
  tensors, norms, biases, names not ending in `.weight` (class_embd, img_break, std_*) F32;
  position embeddings F32 (V_ENC_EMBD_POS is in base.py's always-F32 list); patch embeddings F16
  (MmprojModel.tensor_force_quant), except gemma3/idefics3 whose `.embeddings.` tensors are F32
  (Gemma3VisionModel / SmolVLMModel.tensor_force_quant). The legacy LLaVA converter writes 4-D
  and 2-D `.weight` tensors F16 (position_embd too) and the rest F32, and names fc1 `ffn_down`
  and fc2 `ffn_up` (clip.cpp swaps them back, "ffn up/down are swapped").
- `--ftype f32` writes every tensor F32.

Sizes: --n-embd (vision hidden), --n-ff, --n-head, --n-layer, --image-size, --patch-size,
--merge (scale factor / spatial merge / pooling kernel, written to the key the type reads, only
when the type has one), --proj-dim (text model embedding width = clip.vision.projection_dim and
the projector's output). Type-specific options are listed by --help. Values are random normal
* 0.02 (norm weights 1 + noise), seeded by --seed.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GGUF_PY = Path(os.environ.get("GGUF_PY", "/work/ref/llama_cpp_python-0.3.36/vendor/llama.cpp/gguf-py"))
sys.path.insert(0, str(GGUF_PY))

import numpy as np  # noqa: E402
import gguf  # noqa: E402

TYPES = [
    "gemma3", "idefics3", "mlp", "pixtral", "qwen2.5vl_merger", "qwen2vl_merger",
    "gemma4v", "lfm2", "internvl", "qwen3vl_merger", "llama4", "phi4", "janus_pro",
    "lightonocr", "paddleocr", "kimivl", "glm4v", "youtuvl", "mimovl", "resampler",
]

# per type: defaults when a size option is not given (make-set.sh gives every size explicitly).
DEFAULTS = {
    #                      embd  ff  head layer image patch merge proj
    "gemma3":           (64, 128, 2, 2, 112, 14, 4, 64),
    "idefics3":         (64, 128, 2, 2, 112, 14, 2, 64),
    "mlp":              (64, 128, 2, 2, 112, 14, 1, 64),
    "pixtral":          (64, 128, 2, 2, 64, 16, 1, 64),
    "qwen2.5vl_merger": (64, 128, 2, 2, 112, 14, 2, 64),
    "qwen2vl_merger":   (64, 128, 2, 2, 112, 14, 2, 64),
    "gemma4v":          (64, 128, 2, 2, 224, 16, 3, 64),
    "lfm2":             (64, 128, 2, 2, 64, 16, 2, 64),
    "internvl":         (64, 128, 2, 2, 112, 14, 2, 64),
    "qwen3vl_merger":   (64, 128, 2, 2, 64, 16, 2, 64),
    "llama4":           (64, 128, 2, 2, 112, 14, 2, 64),
    "phi4":             (64, 128, 2, 2, 64, 16, 1, 64),
    "janus_pro":        (64, 128, 2, 2, 112, 14, 1, 64),
    "lightonocr":       (64, 128, 2, 2, 112, 14, 2, 64),
    "paddleocr":        (64, 128, 2, 2, 64, 4, 2, 64),
    "kimivl":           (64, 128, 2, 2, 64, 4, 2, 64),
    "glm4v":            (64, 128, 2, 2, 112, 14, 2, 64),
    "youtuvl":          (64, 128, 2, 2, 112, 16, 2, 64),
    "mimovl":           (64, 128, 2, 2, 112, 14, 2, 64),
    "resampler":        (64, 128, 2, 2, 112, 14, 1, 128),
}

# image_mean / image_std as the real models' preprocessors give them
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
HALF = [0.5, 0.5, 0.5]
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class Writer:
    def __init__(self, args, path: str):
        self.args = args
        self.rng = np.random.default_rng(args.seed)
        self.w = gguf.GGUFWriter(path, arch="clip")
        self.f16 = args.ftype == "f16"
        self.n_tensors = 0

    def _data(self, ne, norm):
        shape = tuple(reversed(ne))  # numpy order is ggml's ne reversed
        x = self.rng.standard_normal(shape, dtype=np.float32) * 0.02
        if norm:
            x += 1.0
        return x

    def t(self, name, ne, kind="w"):
        """kind: w = weight (F16 under ftype f16), f32 = always F32, norm = F32 around 1,
        f16 = F16 under ftype f16 (forced)"""
        norm = kind == "norm"
        x = self._data(ne, norm)
        half = self.f16 and kind in ("w", "f16") and len(ne) >= 2
        self.w.add_tensor(name, x.astype(np.float16 if half else np.float32))
        self.n_tensors += 1

    def write(self):
        self.w.write_header_to_file()
        self.w.write_kv_data_to_file()
        self.w.write_tensors_to_file()
        self.w.close()


def common_keys(W: Writer, a, proj_type: str, eps: float, mean, std, mixed: bool = False):
    w = W.w
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_name(a.name or f"ggufscope-{proj_type}")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if W.f16 else gguf.LlamaFileType.ALL_F32)
    w.add_clip_has_vision_encoder(True)
    w.add_vision_projection_dim(a.proj_dim)
    w.add_vision_image_size(a.image_size)
    w.add_vision_patch_size(a.patch_size)
    w.add_vision_embedding_length(a.n_embd)
    w.add_vision_feed_forward_length(a.n_ff)
    w.add_vision_block_count(a.n_layer)
    w.add_vision_head_count(a.n_head)
    w.add_vision_image_mean(mean)
    w.add_vision_image_std(std)
    if mixed:
        w.add_clip_vision_projector_type(proj_type)
    else:
        w.add_clip_projector_type(proj_type)
    w.add_vision_attention_layernorm_eps(eps)


def layers(W: Writer, a, *, qkv_bias=True, o_bias=True, norm_bias=True, gate=False, ffn_bias=True,
           fused_qkv=False, qk_norm=False, layer_scale=False, post_norms=False, out_scale=False,
           swapped_ffn=False, clamp=False):
    E, F, H = a.n_embd, a.n_ff, a.n_head
    d_head = E // H
    clamp_names = []
    for il in range(a.n_layer):
        p = f"v.blk.{il}"
        if fused_qkv:
            W.t(f"{p}.attn_qkv.weight", [E, 3 * E])
            if qkv_bias:
                W.t(f"{p}.attn_qkv.bias", [3 * E], "f32")
        else:
            for n in ("q", "k", "v"):
                W.t(f"{p}.attn_{n}.weight", [E, E])
                clamp_names.append(f"{p}.attn_{n}")
                if qkv_bias:
                    W.t(f"{p}.attn_{n}.bias", [E], "f32")
        W.t(f"{p}.attn_out.weight", [E, E])
        clamp_names.append(f"{p}.attn_out")
        if o_bias:
            W.t(f"{p}.attn_out.bias", [E], "f32")
        if qk_norm:
            W.t(f"{p}.attn_q_norm.weight", [d_head], "norm")
            W.t(f"{p}.attn_k_norm.weight", [d_head], "norm")
        W.t(f"{p}.ln1.weight", [E], "norm")
        if norm_bias:
            W.t(f"{p}.ln1.bias", [E], "f32")
        W.t(f"{p}.ln2.weight", [E], "norm")
        if norm_bias:
            W.t(f"{p}.ln2.bias", [E], "f32")
        if post_norms:
            W.t(f"{p}.attn_post_norm.weight", [E], "norm")
            W.t(f"{p}.ffn_post_norm.weight", [E], "norm")
        if gate:
            W.t(f"{p}.ffn_gate.weight", [E, F])
            clamp_names.append(f"{p}.ffn_gate")
            if ffn_bias:
                W.t(f"{p}.ffn_gate.bias", [F], "f32")
        up, down = ("ffn_down", "ffn_up") if swapped_ffn else ("ffn_up", "ffn_down")
        W.t(f"{p}.{up}.weight", [E, F])
        clamp_names.append(f"{p}.{up}")
        if ffn_bias:
            W.t(f"{p}.{up}.bias", [F], "f32")
        W.t(f"{p}.{down}.weight", [F, E])
        clamp_names.append(f"{p}.{down}")
        if ffn_bias:
            W.t(f"{p}.{down}.bias", [E], "f32")
        if layer_scale:
            W.t(f"{p}.ls1.weight", [E], "f32")
            W.t(f"{p}.ls2.weight", [E], "f32")
        if out_scale:
            W.t(f"{p}.out_scale.weight", [1], "f32")
    if clamp:
        # Gemma4ClippableLinear scalars (1-element F32 tensors read by load_tensors' get_scalar)
        for n in clamp_names:
            for s, v in (("input_max", 8.0), ("input_min", -8.0), ("output_max", 8.0), ("output_min", -8.0)):
                W.w.add_tensor(f"{n}.{s}", np.array([v], dtype=np.float32))
                W.n_tensors += 1


def n_side(a):
    return a.image_size // a.patch_size


def build(a) -> Writer:
    W = Writer(a, a.out)
    w = W.w
    t = a.type
    E, P, p, m = a.n_embd, a.proj_dim, a.patch_size, a.merge
    n_patches = n_side(a) ** 2

    if t == "gemma3":
        common_keys(W, a, "gemma3", 1e-6, HALF, HALF)
        w.add_vision_use_gelu(True)
        if m != 4:  # Gemma3VisionModel writes it only when it is not the default 4
            w.add_vision_projector_scale_factor(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f32")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, n_patches], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        W.t("mm.input_projection.weight", [P, E], "f16")
        W.t("mm.soft_emb_norm.weight", [E], "norm")

    elif t == "idefics3":
        common_keys(W, a, "idefics3", 1e-5, HALF, HALF)
        w.add_vision_projector_scale_factor(m)
        w.add_vision_use_gelu(True)
        w.add_vision_preproc_image_size(a.preproc_image_size or a.image_size)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f32")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, n_patches], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        W.t("mm.model.fc.weight", [E * m * m, P])

    elif t == "mlp":
        # legacy convert_image_encoder_to_gguf.py (LLaVA-1.5): f16 for 4-D and 2-D .weight
        w.add_bool("clip.has_text_encoder", False)
        w.add_bool("clip.has_llava_projector", True)
        common_keys(W, a, "mlp", 1e-5, CLIP_MEAN, CLIP_STD)
        w.add_bool("clip.use_gelu", False)  # CLIP ViT-L: quick_gelu
        W.t("mm.0.weight", [E, P])
        W.t("mm.0.bias", [P], "f32")
        W.t("mm.2.weight", [P, P])
        W.t("mm.2.bias", [P], "f32")
        W.t("v.class_embd", [E], "f32")
        W.t("v.patch_embd.weight", [p, p, 3, E])
        W.t("v.position_embd.weight", [E, n_patches + 1])
        W.t("v.pre_ln.weight", [E], "norm")
        W.t("v.pre_ln.bias", [E], "f32")
        layers(W, a, swapped_ffn=True)

    elif t == "pixtral":
        common_keys(W, a, "pixtral", 1e-5, CLIP_MEAN, CLIP_STD)
        if a.silu:
            w.add_vision_use_silu(True)
        else:
            w.add_vision_use_gelu(True)
        if m > 1:  # Mistral Small 3.1: spatial_merge_size + patch merger
            w.add_vision_spatial_merge_size(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.pre_ln.weight", [E], "norm")
        layers(W, a, qkv_bias=False, o_bias=False, norm_bias=False, gate=True, ffn_bias=False)
        mm_bias = m == 1  # pixtral-12b has projector biases, Mistral Small 3.1 has none
        W.t("mm.1.weight", [E, P])
        if mm_bias:
            W.t("mm.1.bias", [P], "f32")
        W.t("mm.2.weight", [P, P])
        if mm_bias:
            W.t("mm.2.bias", [P], "f32")
        W.t("v.token_embd.img_break", [P], "f32")
        if m > 1:
            W.t("mm.input_norm.weight", [E], "norm")
            W.t("mm.patch_merger.weight", [E * m * m, E], "f16")

    elif t in ("qwen2vl_merger", "qwen2.5vl_merger"):
        q25 = t == "qwen2.5vl_merger"
        common_keys(W, a, t, 1e-6, CLIP_MEAN, CLIP_STD)
        if q25:
            w.add_vision_use_silu(True)
            w.add_vision_n_wa_pattern(a.n_wa_pattern)
        if m != 2:
            w.add_vision_spatial_merge_size(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.weight.1", [p, p, 3, E], "f16")
        if q25:
            layers(W, a, norm_bias=False, gate=True)
        else:
            layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        if not q25:
            W.t("v.post_ln.bias", [E], "f32")
        W.t("mm.0.weight", [4 * E, 4 * E])
        W.t("mm.0.bias", [4 * E], "f32")
        W.t("mm.2.weight", [4 * E, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "gemma4v":
        common_keys(W, a, "gemma4v", 1e-6, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], mixed=True)
        if m != 3:
            w.add_vision_projector_scale_factor(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.position_embd.weight", [E, a.pos_size, 2], "f32")
        layers(W, a, qkv_bias=False, o_bias=False, norm_bias=False, gate=True, ffn_bias=False,
               qk_norm=True, post_norms=True, out_scale=True, clamp=a.clamp)
        if a.std:
            W.t("v.std_bias", [E], "f32")
            W.t("v.std_scale", [E], "f32")
        W.t("mm.input_projection.weight", [E, P])

    elif t == "lfm2":
        common_keys(W, a, "lfm2", 1e-6, HALF, HALF)
        w.add_vision_projector_scale_factor(m)
        w.add_vision_use_gelu(True)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, a.pos_size], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        hid = a.proj_hidden or P
        W.t("mm.input_norm.weight", [E * m * m], "norm")
        W.t("mm.input_norm.bias", [E * m * m], "f32")
        W.t("mm.1.weight", [E * m * m, hid])
        W.t("mm.1.bias", [hid], "f32")
        W.t("mm.2.weight", [hid, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "internvl":
        common_keys(W, a, "internvl", 1e-6, IMAGENET_MEAN, IMAGENET_STD)
        w.add_vision_use_gelu(True)
        w.add_vision_projector_scale_factor(m)
        w.add_vision_preproc_min_tiles(1)
        w.add_vision_preproc_max_tiles(12)
        W.t("v.class_embd", [E, 1, 1], "f32")
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, n_patches + 1, 1], "f32")
        layers(W, a, layer_scale=True)
        W.t("mm.model.mlp.0.weight", [E * m * m], "norm")
        W.t("mm.model.mlp.0.bias", [E * m * m], "f32")
        W.t("mm.model.mlp.1.weight", [E * m * m, P])
        W.t("mm.model.mlp.1.bias", [P], "f32")
        W.t("mm.model.mlp.3.weight", [P, P])
        W.t("mm.model.mlp.3.bias", [P], "f32")

    elif t == "qwen3vl_merger":
        common_keys(W, a, "qwen3vl_merger", 1e-6, HALF, HALF)
        w.add_vision_use_gelu(True)
        w.add_vision_spatial_merge_size(m)
        ds = [int(x) for x in a.deepstack.split(",") if x != ""]
        w.add_vision_is_deepstack_layers([il in ds for il in range(a.n_layer)])
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.weight.1", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, a.pos_size], "f32")
        layers(W, a, fused_qkv=True)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        M = E * m * m
        W.t("mm.0.weight", [M, M])
        W.t("mm.0.bias", [M], "f32")
        W.t("mm.2.weight", [M, P])
        W.t("mm.2.bias", [P], "f32")
        for il in ds:
            W.t(f"v.deepstack.{il}.norm.weight", [M], "norm")
            W.t(f"v.deepstack.{il}.norm.bias", [M], "f32")
            W.t(f"v.deepstack.{il}.fc1.weight", [M, M])
            W.t(f"v.deepstack.{il}.fc1.bias", [M], "f32")
            W.t(f"v.deepstack.{il}.fc2.weight", [M, P])
            W.t(f"v.deepstack.{il}.fc2.bias", [P], "f32")

    elif t == "llama4":
        common_keys(W, a, "llama4", 1e-5, HALF, HALF)
        w.add_vision_projector_scale_factor(m)
        w.add_vision_use_gelu(True)
        W.t("v.patch_embd.weight", [p * p * 3, E], "f16")
        W.t("v.class_embd", [E], "f32")
        W.t("v.position_embd.weight", [E, n_patches + 1], "f32")
        W.t("v.pre_ln.weight", [E], "norm")
        W.t("v.pre_ln.bias", [E], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        hid = a.proj_hidden or P
        W.t("mm.model.mlp.1.weight", [E * m * m, hid])
        W.t("mm.model.mlp.2.weight", [hid, hid])
        W.t("mm.model.fc.weight", [hid, P])

    elif t == "lightonocr":
        # conversion/lighton_ocr.py (LlavaVisionModel, use_break_tok False): the pixtral tower,
        # Mistral3's patch merger and a bias-free two-layer projector, no [IMG_BREAK]
        common_keys(W, a, "lightonocr", 1e-5, CLIP_MEAN, CLIP_STD)
        if a.silu:
            w.add_vision_use_silu(True)
        else:
            w.add_vision_use_gelu(True)
        if m > 1:
            w.add_vision_spatial_merge_size(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.pre_ln.weight", [E], "norm")
        layers(W, a, qkv_bias=False, o_bias=False, norm_bias=False, gate=True, ffn_bias=False)
        W.t("mm.input_norm.weight", [E], "norm")
        W.t("mm.patch_merger.weight", [E * m * m, E], "f16")
        W.t("mm.1.weight", [E, P])
        W.t("mm.2.weight", [P, P])

    elif t in ("paddleocr", "kimivl"):
        # conversion/ernie.py PaddleOCRVisionModel (min/max pixels, image_size = sqrt(max_pixels),
        # gelu) / conversion/kimivl.py (scale factor 2, gelu, wqkv split in q, k, v); both: a
        # learned position grid, biased layers, post_ln, mm.input_norm over n_embd and a
        # two-layer projector from the merged width
        if t == "paddleocr":
            common_keys(W, a, t, 1e-6, HALF, HALF)
            w.add_vision_max_pixels(a.image_size * a.image_size)
            w.add_vision_min_pixels(4 * p * p * 4)
            w.add_vision_use_gelu(True)
        else:
            common_keys(W, a, t, 1e-5, HALF, HALF)
            w.add_vision_use_gelu(True)
            w.add_vision_projector_scale_factor(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, a.pos_size], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        M = E * m * m
        W.t("mm.input_norm.weight", [E], "norm")
        W.t("mm.input_norm.bias", [E], "f32")
        W.t("mm.1.weight", [M, M])
        W.t("mm.1.bias", [M], "f32")
        W.t("mm.2.weight", [M, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "phi4":
        # conversion/phi.py: SigLIP2 (naflex) tower without post_layernorm, image_size = the
        # position grid's side * patch, min/max pixels from min/max_num_patches, gelu.
        common_keys(W, a, "phi4", 1e-6, HALF, HALF)
        w.add_vision_min_pixels(256 * p * p)
        w.add_vision_max_pixels(3600 * p * p)
        w.add_vision_use_gelu(True)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, a.pos_size], "f32")
        layers(W, a)
        W.t("mm.0.weight", [E, P])
        W.t("mm.0.bias", [P], "f32")
        W.t("mm.2.weight", [P, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "janus_pro":
        # conversion/januspro.py: SigLIP tower (post_layernorm kept), aligner fc1 -> mm.0,
        # hidden_layers.0 -> mm.1
        common_keys(W, a, "janus_pro", 1e-6, HALF, HALF)
        w.add_vision_use_gelu(True)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, n_patches], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        hid = a.proj_hidden or P
        W.t("mm.0.weight", [E, hid])
        W.t("mm.0.bias", [hid], "f32")
        W.t("mm.1.weight", [hid, P])
        W.t("mm.1.bias", [P], "f32")
    elif t == "glm4v":
        # Glm4VVisionModel (conversion/qwen3vl.py): Qwen3-VL's two-frame patch conv, fused qkv
        # without bias, RMS norms, a gated SiLU FFN (width out_hidden_size), post-conv RMS norm
        # (v.norm_embd), learned positions, then the merger: a conv patch merger, mm.model.fc,
        # mm.post_norm (LayerNorm), GELU and a gated FFN mm.gate/up/down (width --proj-hidden).
        common_keys(W, a, "glm4v", 1e-5, CLIP_MEAN, CLIP_STD)
        w.add_vision_use_silu(True)
        if m != 2:
            w.add_vision_spatial_merge_size(m)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.weight.1", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.norm_embd.weight", [E], "norm")
        W.t("v.position_embd.weight", [E, a.pos_size], "f32")
        layers(W, a, fused_qkv=True, qkv_bias=False, o_bias=False, norm_bias=False, gate=True,
               ffn_bias=False)
        W.t("v.post_ln.weight", [E], "norm")
        hid = a.proj_hidden or P
        W.t("mm.patch_merger.weight", [m, m, E, P], "f16")
        W.t("mm.patch_merger.bias", [P], "f32")
        W.t("mm.model.fc.weight", [P, P])
        W.t("mm.post_norm.weight", [P], "norm")
        W.t("mm.post_norm.bias", [P], "f32")
        W.t("mm.gate.weight", [P, hid])
        W.t("mm.up.weight", [P, hid])
        W.t("mm.down.weight", [hid, P])

    elif t == "youtuvl":
        # YoutuVLVisionModel (conversion/youtuvl.py): SigLIP2 ViT with a linear patch
        # embedding, window attention except in the --full-layers, Qwen2.5-VL-style merger.
        common_keys(W, a, "youtuvl", 1e-6, HALF, HALF)
        w.add_vision_use_gelu(True)
        w.add_vision_spatial_merge_size(m)
        w.add_vision_window_size(a.window_size)
        w.add_vision_wa_layer_indexes(layers=[int(x) for x in a.full_layers.split(",") if x != ""])
        W.t("v.patch_embd.weight", [3 * p * p, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        layers(W, a)
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        W.t("mm.input_norm.weight", [E], "norm")
        W.t("mm.0.weight", [4 * E, 4 * E])
        W.t("mm.0.bias", [4 * E], "f32")
        W.t("mm.2.weight", [4 * E, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "mimovl":
        # MiMoV2VisionAudioModel's vision half (conversion/mimo.py), vision only: Qwen2.5-VL-style
        # ViT with GQA (--n-head-kv, --head-dim), fused qkv, per-layer window modes
        # (--wa-modes: -1 full, 0 row window, 1 col window), attention sinks on windowed layers.
        common_keys(W, a, "mimovl", 1e-6, CLIP_MEAN, CLIP_STD, mixed=True)
        w.add_vision_use_silu(True)
        w.add_vision_head_count_kv(a.n_head_kv)
        w.add_vision_spatial_merge_size(m)
        w.add_uint32(gguf.Keys.ClipVision.WINDOW_SIZE, a.window_size)
        modes = [int(x) for x in a.wa_modes.split(",")]
        if len(modes) != a.n_layer:
            raise SystemExit("--wa-modes needs one mode per layer")
        w.add_vision_wa_pattern_mode(modes)
        w.add_vision_min_pixels(4 * (p * m) ** 2)
        w.add_vision_max_pixels(4096 * (p * m) ** 2)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.weight.1", [p, p, 3, E], "f16")
        hd, nh, nkv, F = a.head_dim, a.n_head, a.n_head_kv, a.n_ff
        for il in range(a.n_layer):
            b = f"v.blk.{il}"
            W.t(f"{b}.attn_qkv.weight", [E, (nh + 2 * nkv) * hd])
            W.t(f"{b}.attn_qkv.bias", [(nh + 2 * nkv) * hd], "f32")
            W.t(f"{b}.attn_out.weight", [nh * hd, E])
            W.t(f"{b}.attn_out.bias", [E], "f32")
            if modes[il] != -1:
                W.t(f"{b}.attn_sinks", [nh], "f32")
            W.t(f"{b}.ln1.weight", [E], "norm")
            W.t(f"{b}.ln2.weight", [E], "norm")
            W.t(f"{b}.ffn_gate.weight", [E, F])
            W.t(f"{b}.ffn_gate.bias", [F], "f32")
            W.t(f"{b}.ffn_up.weight", [E, F])
            W.t(f"{b}.ffn_up.bias", [F], "f32")
            W.t(f"{b}.ffn_down.weight", [F, E])
            W.t(f"{b}.ffn_down.bias", [E], "f32")
        W.t("v.post_ln.weight", [E], "norm")
        W.t("v.post_ln.bias", [E], "f32")
        M = E * m * m
        W.t("mm.0.weight", [M, M])
        W.t("mm.0.bias", [M], "f32")
        W.t("mm.2.weight", [M, P])
        W.t("mm.2.bias", [P], "f32")

    elif t == "resampler":
        # MiniCPM-V (tools/mtmd/legacy-models/minicpmv-convert-image-encoder-to-gguf.py): SigLIP
        # ViT with a 70x70 learned position table, then the perceiver resampler (--query-num
        # queries, heads of 128: proj-dim must be a multiple of 128).
        common_keys(W, a, "resampler", 1e-6, HALF, HALF)
        w.add_vision_use_gelu(True)
        w.add_int32("clip.minicpmv_version", a.minicpmv_version)
        w.add_uint32("clip.minicpmv_query_num", a.query_num)
        W.t("v.patch_embd.weight", [p, p, 3, E], "f16")
        W.t("v.patch_embd.bias", [E], "f32")
        W.t("v.position_embd.weight", [E, 70 * 70], "f32")
        layers(W, a, swapped_ffn=True)  # the legacy script names fc1 ffn_down, fc2 ffn_up
        W.t("resampler.pos_embed_k", [P, 4900], "f32")
        W.t("resampler.query", [P, a.query_num], "f32")
        W.t("resampler.proj.weight", [P, P])
        W.t("resampler.kv.weight", [E, P])
        for n in ("q", "k", "v", "out"):
            W.t(f"resampler.attn.{n}.weight", [P, P])
            W.t(f"resampler.attn.{n}.bias", [P], "f32")
        for n in ("q", "kv", "post"):
            W.t(f"resampler.ln_{n}.weight", [P], "norm")
            W.t(f"resampler.ln_{n}.bias", [P], "f32")
    else:
        raise SystemExit(f"unsupported type {t}")
    return W


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("type", choices=TYPES)
    ap.add_argument("out")
    ap.add_argument("--n-embd", type=int)
    ap.add_argument("--n-ff", type=int)
    ap.add_argument("--n-head", type=int)
    ap.add_argument("--n-layer", type=int)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--patch-size", type=int)
    ap.add_argument("--merge", type=int, help="scale factor / spatial merge / pooling kernel")
    ap.add_argument("--proj-dim", type=int, help="text embedding width (projector output)")
    ap.add_argument("--proj-hidden", type=int,
                    help="lfm2: mm.1 output width; llama4: mm.model.mlp width (default proj-dim)")
    ap.add_argument("--pos-size", type=int,
                    help="gemma4v: rows of each position table (default 64); lfm2 / qwen3vl / phi4 / "
                         "paddleocr / kimivl / glm4v: position embeddings (default (image/patch)^2)")
    ap.add_argument("--n-wa-pattern", type=int, default=2,
                    help="qwen2.5vl: clip.vision.n_wa_pattern (real models: 8); layer il uses full "
                         "attention when (il+1) %% n == 0, window attention (a mask input) otherwise")
    ap.add_argument("--deepstack", default="0",
                    help="qwen3vl: comma-separated deepstack layer indices (default 0)")
    ap.add_argument("--silu", action="store_true", help="pixtral: use_silu instead of use_gelu")
    ap.add_argument("--clamp", action="store_true", help="gemma4v: Gemma4ClippableLinear scalars (<linear>.input_max etc.); they do not "
                         "change the graph: clip.cpp fills clamp_info_map for every .weight, with "
                         "+-FLT_MAX when a scalar is missing, so every gemma4v matmul is clamped")
    ap.add_argument("--std", action="store_true", help="gemma4v: v.std_bias / v.std_scale")
    ap.add_argument("--preproc-image-size", type=int, help="idefics3: longest edge (default image size)")
    ap.add_argument("--window-size", type=int, default=112,
                    help="youtuvl / mimovl: clip.vision.window_size")
    ap.add_argument("--full-layers", default="1",
                    help="youtuvl: comma-separated full-attention layers (clip.vision.wa_layer_indexes)")
    ap.add_argument("--wa-modes", default="0,-1",
                    help="mimovl: per-layer clip.vision.wa_pattern_mode (-1 full, 0 row, 1 col)")
    ap.add_argument("--n-head-kv", type=int, help="mimovl: KV heads (default n-head)")
    ap.add_argument("--head-dim", type=int, help="mimovl: head width (default n-embd / n-head)")
    ap.add_argument("--query-num", type=int, default=64, help="resampler: clip.minicpmv_query_num")
    ap.add_argument("--minicpmv-version", type=int, default=3, help="resampler: clip.minicpmv_version")
    ap.add_argument("--ftype", choices=["f16", "f32"], default="f16")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name")
    a = ap.parse_args()

    d = DEFAULTS[a.type]
    for i, k in enumerate(["n_embd", "n_ff", "n_head", "n_layer", "image_size", "patch_size", "merge", "proj_dim"]):
        if getattr(a, k) is None:
            setattr(a, k, d[i])
    if a.pos_size is None:
        a.pos_size = 64 if a.type == "gemma4v" else n_side(a) ** 2
    if a.n_head_kv is None:
        a.n_head_kv = a.n_head
    if a.head_dim is None:
        a.head_dim = a.n_embd // a.n_head
    if a.n_embd % a.n_head:
        raise SystemExit("n_embd must be a multiple of n_head")

    W = build(a)
    W.write()
    print(f"{a.out}: {a.type}, {W.n_tensors} tensors, {os.path.getsize(a.out)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()

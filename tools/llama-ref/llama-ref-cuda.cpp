// llama-ref-cuda: llama.cpp 0c1e570's placement and buffers for one NVIDIA GPU, on a machine
// without one. A ggml backend device registered as a GPU ("CUDA0") answers every question the
// model loader, the KV cache and the scheduler ask a device (buffer types, alignment, allocation
// sizes, which ops it runs, which ops it takes over from the CPU) as ggml-cuda answers them for an
// H200 (compute capability 9.0, CUDA 13), and keeps its tensors in host memory. Nothing is
// computed: loading a model and creating a context only reserves the graphs.
//
// What follows ggml-cuda (ggml/src/ggml-cuda/, lines of 0c1e570):
// - the device buffer type "CUDA0": 128-byte alignment (ggml-cuda.cu
//   ggml_backend_cuda_buffer_type_get_alignment), allocation sizes of
//   ggml_backend_cuda_buffer_type_get_alloc_size (903-920: quantized rows padded to 512, a flash
//   attention node's f16 copies of K and V when they are not f16, fattn-common.cuh:53-85);
// - the pinned host buffer type "CUDA_Host": host memory, the CPU buffer type's alignment (1309);
// - supports_op: ggml_backend_cuda_device_supports_op (5149-5628), with the flash attention kernel
//   choice of fattn.cu:541-653 reduced to "some kernel" for compute capability 9.0 and the
//   lightning indexer's check (lightning-indexer.cu:536-586); GGML_CUDA_USE_CUB (CUDA >= 11.7);
// - supports_buft: its own buffer type only (5630-5634, not an integrated GPU);
// - offload_op: a batch of at least 32 (5636-5656).
// Not followed: ggml_backend_cuda_graph_optimize's allocation dependencies of fused MoE ops
// (4522-4600), which keep some tensors alive longer.
//
// Usage: llama-ref-cuda [--fa auto|on|off] [--ngl N] [--n-batch N] [--n-ubatch N] FILE N_CTX
// Prints one JSON object: {"buffers": [{"func", "device", "kind", "MiB"}...], "flash_attn_resolved",
// "compute_bytes": {"CUDA0": B, "CUDA_Host": B}} with cuda-truth.json's buffer lines.

#include "llama.h"
#include "ggml-backend.h"
#include "ggml-backend-impl.h"
#include "ggml-impl.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// ---- the device's buffers: host memory --------------------------------------------------------

struct fake_buffer {
    void * data;
};

static void fb_free(ggml_backend_buffer_t b) {
    auto * ctx = (fake_buffer *) b->context;
    free(ctx->data);
    delete ctx;
}
static void * fb_base(ggml_backend_buffer_t b) {
    return ((fake_buffer *) b->context)->data;
}
static void fb_memset(ggml_backend_buffer_t, ggml_tensor * t, uint8_t v, size_t off, size_t size) {
    memset((char *) t->data + off, v, size);
}
static void fb_set(ggml_backend_buffer_t, ggml_tensor * t, const void * d, size_t off, size_t size) {
    memcpy((char *) t->data + off, d, size);
}
static void fb_get(ggml_backend_buffer_t, const ggml_tensor * t, void * d, size_t off, size_t size) {
    memcpy(d, (const char *) t->data + off, size);
}
static bool fb_cpy(ggml_backend_buffer_t, const ggml_tensor *, ggml_tensor *) {
    return false;
}
static void fb_clear(ggml_backend_buffer_t b, uint8_t v) {
    memset(((fake_buffer *) b->context)->data, v, b->size);
}

static const ggml_backend_buffer_i fake_buffer_iface = {
    /* .free_buffer   = */ fb_free,
    /* .get_base      = */ fb_base,
    /* .init_tensor   = */ nullptr,
    /* .memset_tensor = */ fb_memset,
    /* .set_tensor    = */ fb_set,
    /* .get_tensor    = */ fb_get,
    /* .set_tensor_2d = */ nullptr,
    /* .get_tensor_2d = */ nullptr,
    /* .cpy_tensor    = */ fb_cpy,
    /* .clear         = */ fb_clear,
    /* .reset         = */ nullptr,
};

static const char * buft_name(ggml_backend_buffer_type_t) {
    return "CUDA0";
}
static ggml_backend_buffer_t buft_alloc(ggml_backend_buffer_type_t buft, size_t size) {
    auto * ctx = new fake_buffer;
    ctx->data = aligned_alloc(128, GGML_PAD(size ? size : 1, 128));
    if (ctx->data == nullptr) {
        delete ctx;
        return nullptr;
    }
    return ggml_backend_buffer_init(buft, fake_buffer_iface, ctx, size);
}
static size_t buft_align(ggml_backend_buffer_type_t) {
    return 128;
}

// fattn.cu:525-539.
static bool fattn_kv_type_supported(ggml_type t) {
    switch (t) {
        case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
            return true;
        default:
            return false;
    }
}

// ggml_cuda_get_best_fattn_kernel (fattn.cu:541-653) != BEST_FATTN_KERNEL_NONE at compute
// capability 9.0 (Turing tensor cores available: every path past the checks returns a kernel).
static bool fattn_supported(const ggml_tensor * dst) {
    const ggml_tensor * Q = dst->src[0];
    const ggml_tensor * K = dst->src[1];
    const ggml_tensor * V = dst->src[2];
    const ggml_tensor * mask = dst->src[3];
    const int gqa_ratio = Q->ne[2] / K->ne[2];
    float max_bias = 0.0f;
    memcpy(&max_bias, (const float *) dst->op_params + 1, sizeof(float));
    bool gqa_opt_applies = gqa_ratio >= 2 && mask && max_bias == 0.0f && K->ne[1] % 256 == 0;
    for (const ggml_tensor * t : {Q, K, V, mask}) {
        if (t == nullptr || ggml_is_quantized(t->type)) {
            continue;
        }
        for (size_t i = 1; i < GGML_MAX_DIMS; ++i) {
            if (t->nb[i] % 16 != 0) {
                gqa_opt_applies = false;
                break;
            }
        }
    }
    switch (K->ne[0]) {
        case 40: case 64: case 72: case 80: case 96: case 128: case 112: case 256:
            if (V->ne[0] != K->ne[0]) return false;
            break;
        case 192:
            if (V->ne[0] != 128 || !gqa_opt_applies || gqa_ratio % 8 != 0) return false;
            break;
        case 320:
            if (V->ne[0] != 256 || !gqa_opt_applies || gqa_ratio % 32 != 0) return false;
            break;
        case 512:
            if (V->ne[0] != K->ne[0] || !gqa_opt_applies) return false;
            break;
        case 576:
            if (V->ne[0] != 512 || !gqa_opt_applies) return false;
            break;
        default:
            return false;
    }
    if (!fattn_kv_type_supported(K->type) || !fattn_kv_type_supported(V->type)) {
        return false;
    }
    return !(mask && mask->ne[2] != 1);
}

// ggml_backend_cuda_buffer_type_get_alloc_size (ggml-cuda.cu:903-920).
static size_t buft_alloc_size(ggml_backend_buffer_type_t, const ggml_tensor * t) {
    size_t size = ggml_nbytes(t);
    if (t->op == GGML_OP_FLASH_ATTN_EXT && fattn_supported(t)) {
        // fattn-common.cuh:53-85: the MMA kernel (compute capability 9.0, K and V as f16).
        const ggml_tensor * K = t->src[1];
        const ggml_tensor * V = t->src[2];
        const bool v_is_k = V->view_src && (V->view_src == K || (V->view_src == K->view_src && V->view_offs == K->view_offs));
        if (K->type != GGML_TYPE_F16) {
            size = GGML_PAD(size, 128) + ggml_nelements(K) * 2;
        }
        if (V->type != GGML_TYPE_F16 && !v_is_k) {
            size = GGML_PAD(size, 128) + ggml_nelements(V) * 2;
        }
    }
    if (ggml_is_quantized(t->type) && t->ne[0] % 512 != 0) {
        size += ggml_row_size(t->type, 512 - t->ne[0] % 512);
    }
    return size;
}

static ggml_backend_buffer_type fake_buft = {
    /* .iface   = */ { buft_name, buft_alloc, buft_align, nullptr, buft_alloc_size, nullptr },
    /* .device  = */ nullptr,
    /* .context = */ nullptr,
};

// The pinned host buffer type: a CPU buffer renamed (ggml-cuda.cu:1290-1320).
static const char * host_name(ggml_backend_buffer_type_t) {
    return "CUDA_Host";
}
static ggml_backend_buffer_type fake_host_buft;
static ggml_backend_buffer_t host_alloc(ggml_backend_buffer_type_t buft, size_t size) {
    ggml_backend_buffer_t b = ggml_backend_buft_alloc_buffer(ggml_backend_cpu_buffer_type(), size);
    if (b != nullptr) {
        b->buft = buft;
    }
    return b;
}
static size_t host_align(ggml_backend_buffer_type_t) {
    return ggml_backend_buft_get_alignment(ggml_backend_cpu_buffer_type());
}
static bool host_is_host(ggml_backend_buffer_type_t) {
    return true;
}

// ---- the backend: nothing computed -------------------------------------------------------------

static const char * be_name(ggml_backend_t) {
    return "CUDA0";
}
static void be_free(ggml_backend_t b) {
    delete b;
}
static ggml_status be_compute(ggml_backend_t, ggml_cgraph *) {
    return GGML_STATUS_SUCCESS;
}
static ggml_guid fake_guid = { 0x67, 0x67, 0x75, 0x66, 0x73, 0x63, 0x6f, 0x70, 0x65, 0x2d, 0x63, 0x75, 0x64, 0x61, 0x00, 0x01 };

// ---- the device ---------------------------------------------------------------------------------

static const char * dev_name(ggml_backend_dev_t) {
    return "CUDA0";
}
static const char * dev_desc(ggml_backend_dev_t) {
    return "NVIDIA H200 (ggufscope reference stand-in)";
}
static void dev_memory(ggml_backend_dev_t, size_t * free_b, size_t * total) {
    *free_b = 147430703104ull;
    *total = 150109880320ull;
}
static enum ggml_backend_dev_type dev_type(ggml_backend_dev_t) {
    return GGML_BACKEND_DEVICE_TYPE_GPU;
}
static void dev_props(ggml_backend_dev_t dev, ggml_backend_dev_props * p) {
    p->name = dev_name(dev);
    p->description = dev_desc(dev);
    p->type = GGML_BACKEND_DEVICE_TYPE_GPU;
    p->device_id = nullptr;
    dev_memory(dev, &p->memory_free, &p->memory_total);
    // mmap_support as ggml-cuda sets it for a discrete GPU (ggml-cuda.cu:5128): without it the
    // loader's AUTO mode turns mmap off (src/llama-model.cpp:1512-1521) and host weights go to
    // the pinned buffer instead of the file's mapping (src/llama-model-loader.cpp:1269-1277).
    p->caps = { /* async */ false, /* host_buffer */ true, /* buffer_from_host_ptr */ false, /* events */ false,
                /* mmap_support */ true };
}
static ggml_backend_t dev_init(ggml_backend_dev_t dev, const char *) {
    ggml_backend_i iface = {};
    iface.get_name = be_name;
    iface.free = be_free;
    iface.graph_compute = be_compute;
    return new ggml_backend { &fake_guid, iface, dev, nullptr };
}
static ggml_backend_buffer_type_t dev_buft(ggml_backend_dev_t) {
    return &fake_buft;
}
static ggml_backend_buffer_type_t dev_host_buft(ggml_backend_dev_t) {
    return &fake_host_buft;
}

// ggml_backend_cuda_device_supports_op (ggml-cuda.cu:5149-5628).
static bool dev_supports_op(ggml_backend_dev_t, const ggml_tensor * op) {
    switch (op->op) {
        case GGML_OP_UNARY:
            switch (ggml_get_unary_op(op)) {
                case GGML_UNARY_OP_ABS: case GGML_UNARY_OP_SGN: case GGML_UNARY_OP_NEG:
                case GGML_UNARY_OP_STEP: case GGML_UNARY_OP_GELU: case GGML_UNARY_OP_SILU:
                case GGML_UNARY_OP_RELU: case GGML_UNARY_OP_SIGMOID: case GGML_UNARY_OP_HARDSIGMOID:
                case GGML_UNARY_OP_HARDSWISH: case GGML_UNARY_OP_GELU_ERF: case GGML_UNARY_OP_GELU_QUICK:
                case GGML_UNARY_OP_TANH: case GGML_UNARY_OP_EXP: case GGML_UNARY_OP_EXPM1:
                case GGML_UNARY_OP_SOFTPLUS: case GGML_UNARY_OP_ELU: case GGML_UNARY_OP_XIELU:
                case GGML_UNARY_OP_FLOOR: case GGML_UNARY_OP_CEIL: case GGML_UNARY_OP_ROUND:
                case GGML_UNARY_OP_TRUNC:
                    if (op->src[0]->type == GGML_TYPE_BF16 && ggml_get_unary_op(op) == GGML_UNARY_OP_XIELU) {
                        return false;
                    }
                    return ggml_is_contiguous(op->src[0]);
                default:
                    return false;
            }
        case GGML_OP_GLU:
            switch (ggml_get_glu_op(op)) {
                case GGML_GLU_OP_REGLU: case GGML_GLU_OP_GEGLU: case GGML_GLU_OP_SWIGLU:
                case GGML_GLU_OP_SWIGLU_OAI: case GGML_GLU_OP_GEGLU_ERF: case GGML_GLU_OP_GEGLU_QUICK:
                case GGML_GLU_OP_SWIGLU_CLAMP:
                    if (op->src[0]->type == GGML_TYPE_BF16 &&
                            (ggml_get_glu_op(op) == GGML_GLU_OP_SWIGLU_OAI || ggml_get_glu_op(op) == GGML_GLU_OP_SWIGLU_CLAMP)) {
                        return false;
                    }
                    return ggml_is_contiguous_1(op->src[0]);
                default:
                    return false;
            }
        case GGML_OP_MUL_MAT:
        case GGML_OP_MUL_MAT_ID: {
            const ggml_tensor * a = op->src[0];
            const ggml_tensor * b = op->src[1];
            if (a->nb[0] != ggml_element_size(a) || b->nb[0] != ggml_element_size(b)) {
                return false;
            }
            // fwht.cu:101-109 (ggml_cuda_op_mul_mat_use_fwht).
            const bool fwht = op->op == GGML_OP_MUL_MAT && ggml_get_op_params_i32(op, 1) == GGML_HINT_SRC0_IS_HADAMARD &&
                a->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32 &&
                (b->type == GGML_TYPE_F32 || b->type == GGML_TYPE_F16) && ggml_is_contiguous(b) && ggml_is_contiguous(op) &&
                ggml_are_same_shape(b, op);
            if (b->type == GGML_TYPE_F16 && a->type != GGML_TYPE_F16 && !fwht) {
                return false;
            }
            if (op->op == GGML_OP_MUL_MAT_ID && ggml_get_op_params_i32(op, 3) == GGML_PREC_F32) {
                return false;
            }
            switch (a->type) {
                case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_Q1_0: case GGML_TYPE_Q2_0:
                case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1:
                case GGML_TYPE_Q8_0: case GGML_TYPE_MXFP4: case GGML_TYPE_NVFP4: case GGML_TYPE_Q2_K:
                case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
                case GGML_TYPE_Q8_K: case GGML_TYPE_IQ1_M: case GGML_TYPE_IQ1_S: case GGML_TYPE_IQ2_S:
                case GGML_TYPE_IQ2_XS: case GGML_TYPE_IQ2_XXS: case GGML_TYPE_IQ3_S: case GGML_TYPE_IQ3_XXS:
                case GGML_TYPE_IQ4_NL: case GGML_TYPE_IQ4_XS: case GGML_TYPE_BF16:
                    return true;
                default:
                    return false;
            }
        }
        case GGML_OP_OUT_PROD:
            return op->type == GGML_TYPE_F32 && op->src[0]->type == GGML_TYPE_F32 && op->src[1]->type == GGML_TYPE_F32;
        case GGML_OP_GET_ROWS:
            switch (op->src[0]->type) {
                case GGML_TYPE_F16: case GGML_TYPE_F32: case GGML_TYPE_BF16: case GGML_TYPE_I32:
                case GGML_TYPE_Q1_0: case GGML_TYPE_Q2_0: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1:
                case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0: case GGML_TYPE_Q2_K:
                case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
                case GGML_TYPE_IQ2_XXS: case GGML_TYPE_IQ2_XS: case GGML_TYPE_IQ2_S: case GGML_TYPE_IQ3_XXS:
                case GGML_TYPE_IQ3_S: case GGML_TYPE_IQ1_S: case GGML_TYPE_IQ1_M: case GGML_TYPE_IQ4_XS:
                    return true;
                case GGML_TYPE_IQ4_NL: case GGML_TYPE_MXFP4:
                    return op->src[0]->ne[0] % 256 == 0 /* QK_K */;
                default:
                    return false;
            }
        case GGML_OP_GET_ROWS_BACK:
            return op->type == GGML_TYPE_F32 && op->src[0]->type == GGML_TYPE_F32 && op->ne[2] == 1 && op->ne[3] == 1;
        case GGML_OP_SET_ROWS:
            return (((op->type == GGML_TYPE_F32 || op->type == GGML_TYPE_F16 || op->type == GGML_TYPE_BF16 ||
                      op->type == GGML_TYPE_Q4_0 || op->type == GGML_TYPE_Q4_1 || op->type == GGML_TYPE_Q5_0 ||
                      op->type == GGML_TYPE_Q5_1 || op->type == GGML_TYPE_Q8_0 || op->type == GGML_TYPE_IQ4_NL) &&
                     op->src[0]->type == GGML_TYPE_F32) ||
                    (op->type == GGML_TYPE_F16 && op->src[0]->type == GGML_TYPE_F16)) &&
                   (op->src[1]->type == GGML_TYPE_I64 || op->src[1]->type == GGML_TYPE_I32);
        case GGML_OP_SET: {
            const ggml_type t = op->type;
            return (t == GGML_TYPE_F32 || t == GGML_TYPE_I32) && t == op->src[0]->type && t == op->src[1]->type;
        }
        case GGML_OP_CPY: {
            const ggml_type s0 = op->src[0]->type;
            const ggml_type s1 = op->src[1]->type;
            const auto fb = [](ggml_type t) { return t == GGML_TYPE_F32 || t == GGML_TYPE_BF16 || t == GGML_TYPE_F16; };
            if (fb(s0) && fb(s1)) return true;
            if (s0 == GGML_TYPE_F32 && (s1 == GGML_TYPE_Q8_0 || s1 == GGML_TYPE_Q4_0 || s1 == GGML_TYPE_Q4_1 ||
                                        s1 == GGML_TYPE_Q5_0 || s1 == GGML_TYPE_Q5_1 || s1 == GGML_TYPE_IQ4_NL ||
                                        s1 == GGML_TYPE_I32)) return true;
            if (s1 == GGML_TYPE_F32 && (s0 == GGML_TYPE_Q8_0 || s0 == GGML_TYPE_Q4_0 || s0 == GGML_TYPE_Q4_1 ||
                                        s0 == GGML_TYPE_Q5_0 || s0 == GGML_TYPE_Q5_1 || s0 == GGML_TYPE_I32)) return true;
            if (s0 == GGML_TYPE_I32 && s1 == GGML_TYPE_I32) return true;
            return s0 == s1 && ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op->src[1]);
        }
        case GGML_OP_DUP: case GGML_OP_ARGMAX: case GGML_OP_COUNT_EQUAL:
            return true;
        case GGML_OP_REPEAT:
            return op->src[0]->type == GGML_TYPE_F32 || op->src[0]->type == GGML_TYPE_F16;
        case GGML_OP_REPEAT_BACK:
            return op->type == GGML_TYPE_F32 && (op->src[0]->ne[2] * op->src[0]->ne[3]) <= (1 << 15);
        case GGML_OP_CONCAT: {
            const ggml_type s0 = op->src[0]->type;
            const ggml_type s1 = op->src[1]->type;
            const int32_t dim = op->op_params[0];
            return s0 == s1 && s0 == op->type &&
                ((ggml_is_quantized(s0) &&
                  ((dim == 3 && ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op->src[1])) ||
                   (dim != 3 && ggml_is_contiguous_to_3(op->src[0]) && ggml_is_contiguous_to_3(op->src[1]))) &&
                  op->src[0]->ne[0] % ggml_blck_size(s0) == 0 && op->src[1]->ne[0] % ggml_blck_size(s0) == 0) ||
                 (!ggml_is_quantized(s0) && ggml_blck_size(s0) == 1 &&
                  (ggml_type_size(s0) == 1 || ggml_type_size(s0) == 2 || ggml_type_size(s0) == 4 || ggml_type_size(s0) == 8)));
        }
        case GGML_OP_CONV_TRANSPOSE_1D:
            return op->src[0]->type == GGML_TYPE_F32 && op->src[1]->type == GGML_TYPE_F32;
        case GGML_OP_COL2IM_1D: {
            const ggml_type s0 = op->src[0]->type;
            return (s0 == GGML_TYPE_F32 || s0 == GGML_TYPE_F16 || s0 == GGML_TYPE_BF16) && op->type == s0 &&
                   ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op);
        }
        case GGML_OP_SILU_BACK:
            return ggml_is_contiguous(op->src[0]) && op->src[0]->type == GGML_TYPE_F32;
        case GGML_OP_NORM: case GGML_OP_RMS_NORM: case GGML_OP_L2_NORM:
            return ggml_is_contiguous_rows(op->src[0]);
        case GGML_OP_RMS_NORM_BACK:
            return ggml_is_contiguous(op->src[0]);
        case GGML_OP_NONE: case GGML_OP_RESHAPE: case GGML_OP_VIEW: case GGML_OP_PERMUTE:
        case GGML_OP_TRANSPOSE: case GGML_OP_ADD_ID: case GGML_OP_ADD1: case GGML_OP_SQR:
        case GGML_OP_SQRT: case GGML_OP_SIN: case GGML_OP_COS: case GGML_OP_CLAMP: case GGML_OP_LOG:
            return true;
        case GGML_OP_SCALE:
            return (op->src[0]->type == GGML_TYPE_F32 || op->src[0]->type == GGML_TYPE_BF16) && op->type == op->src[0]->type;
        case GGML_OP_ADD: case GGML_OP_SUB: case GGML_OP_MUL: case GGML_OP_DIV:
            if (op->src[0]->type == GGML_TYPE_BF16 || op->src[1]->type == GGML_TYPE_BF16 || op->type == GGML_TYPE_BF16) {
                return op->src[0]->type == GGML_TYPE_BF16 && op->type == GGML_TYPE_BF16 &&
                    (op->src[1]->type == GGML_TYPE_BF16 || op->src[1]->type == GGML_TYPE_F32);
            }
            return (op->src[0]->type == GGML_TYPE_F32 || op->src[0]->type == GGML_TYPE_F16) &&
                   (op->src[1]->type == GGML_TYPE_F32 || op->src[1]->type == GGML_TYPE_F16) &&
                   (op->type == GGML_TYPE_F32 || op->type == GGML_TYPE_F16);
        case GGML_OP_SSM_SCAN: {
            const int32_t K = ggml_get_op_params_i32(op, 0);
            if (op->src[3]->ne[0] == 1) {
                const int64_t d_state = op->src[0]->ne[0];
                return (d_state == 96 || d_state == 128 || d_state == 256) && op->src[0]->ne[1] % 16 == 0;
            }
            if (K > 1) {
                return false;
            }
            return op->src[0]->ne[0] == 16 && op->src[0]->ne[1] == 1 && op->src[0]->ne[2] % 128 == 0 && op->src[4]->ne[1] == 1;
        }
        case GGML_OP_SSM_CONV:
            return op->src[0]->ne[1] % 128 == 0;
        case GGML_OP_CONT: case GGML_OP_DIAG_MASK_INF: case GGML_OP_SOFT_MAX:
            return true;
        case GGML_OP_SOFT_MAX_BACK: {
            float max_bias = 0.0f;
            memcpy(&max_bias, (const float *) op->op_params + 1, sizeof(float));
            return max_bias == 0.0f;
        }
        case GGML_OP_ROLL:
            return op->src[0]->type == GGML_TYPE_F32 && ggml_is_contiguous(op->src[0]);
        case GGML_OP_ROPE: case GGML_OP_ROPE_BACK:
            return op->src[0]->nb[0] == ggml_type_size(op->src[0]->type) && ggml_is_contiguous_2(op->src[0]);
        case GGML_OP_IM2COL: case GGML_OP_IM2COL_3D: case GGML_OP_CONV_2D:
            return ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op->src[1]);
        case GGML_OP_CONV_3D:
            return (op->src[0]->type == GGML_TYPE_F16 || op->src[0]->type == GGML_TYPE_F32) &&
                   op->src[1]->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32 &&
                   ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op->src[1]) && ggml_is_contiguous(op);
        case GGML_OP_CONV_2D_DW:
            return (op->src[0]->type == GGML_TYPE_F16 || op->src[0]->type == GGML_TYPE_F32) &&
                   op->src[1]->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32;
        case GGML_OP_CONV_TRANSPOSE_2D: case GGML_OP_POOL_1D: case GGML_OP_POOL_2D:
            return true;
        case GGML_OP_ACC:
            return ggml_is_contiguous(op->src[0]) && ggml_is_contiguous(op->src[1]);
        case GGML_OP_SUM:
            return ggml_is_contiguous_rows(op->src[0]);
        case GGML_OP_TOP_K: case GGML_OP_ARGSORT:
            return true; // GGML_CUDA_USE_CUB
        case GGML_OP_SUM_ROWS: case GGML_OP_MEAN:
            return op->src[0]->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32 && ggml_is_contiguous_rows(op->src[0]);
        case GGML_OP_GROUP_NORM:
            return ggml_is_contiguous(op->src[0]);
        case GGML_OP_PAD: case GGML_OP_UPSCALE: case GGML_OP_PAD_REFLECT_1D: case GGML_OP_ARANGE:
        case GGML_OP_TIMESTEP_EMBEDDING: case GGML_OP_LEAKY_RELU: case GGML_OP_RWKV_WKV6:
        case GGML_OP_GATED_LINEAR_ATTN: case GGML_OP_RWKV_WKV7: case GGML_OP_GATED_DELTA_NET:
            return true;
        case GGML_OP_DSV4_HC_COMB:
            return op->src[0]->type == GGML_TYPE_F32 && op->src[1]->type == GGML_TYPE_F32 &&
                op->src[2]->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32;
        case GGML_OP_DSV4_HC_PRE:
            return op->src[0]->type == GGML_TYPE_F32 && op->src[1]->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32;
        case GGML_OP_DSV4_HC_POST:
            return op->src[0]->type == GGML_TYPE_F32 && op->src[1]->type == GGML_TYPE_F32 &&
                op->src[2]->type == GGML_TYPE_F32 && (op->src[3] == nullptr || op->src[3]->type == GGML_TYPE_F32) &&
                op->type == GGML_TYPE_F32;
        case GGML_OP_FLASH_ATTN_EXT:
            return fattn_supported(op);
        case GGML_OP_CROSS_ENTROPY_LOSS: case GGML_OP_CROSS_ENTROPY_LOSS_BACK: case GGML_OP_OPT_STEP_ADAMW:
        case GGML_OP_OPT_STEP_SGD: case GGML_OP_FILL: case GGML_OP_CUMSUM: case GGML_OP_TRI:
        case GGML_OP_DIAG: case GGML_OP_SOLVE_TRI:
            return true;
        case GGML_OP_LIGHTNING_INDEXER: {
            // lightning-indexer.cu:536-586.
            const ggml_tensor * q = op->src[0];
            const ggml_tensor * k = op->src[1];
            if (q->ne[0] != 128 || (q->ne[1] != 64 && q->ne[1] != 32)) return false;
            for (const ggml_tensor * t : {q, k}) {
                if (ggml_is_quantized(t->type)) continue;
                for (size_t i = 1; i < GGML_MAX_DIMS; ++i) {
                    if (t->nb[i] % 16 != 0) return false;
                }
            }
            switch (k->type) {
                case GGML_TYPE_F32: case GGML_TYPE_BF16: case GGML_TYPE_F16: case GGML_TYPE_Q8_0:
                case GGML_TYPE_Q5_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q4_0:
                    return true;
                default:
                    return false;
            }
        }
        default:
            return false;
    }
}

static bool dev_supports_buft(ggml_backend_dev_t, ggml_backend_buffer_type_t buft) {
    return buft == &fake_buft;
}

// get_op_batch_size and ggml_backend_cuda_device_offload_op (ggml-cuda.cu:5636-5656).
static bool dev_offload_op(ggml_backend_dev_t, const ggml_tensor * op) {
    int64_t n;
    switch (op->op) {
        case GGML_OP_GET_ROWS: n = 0; break;
        case GGML_OP_MUL_MAT: n = op->ne[1]; break;
        case GGML_OP_MUL_MAT_ID: case GGML_OP_ROPE: case GGML_OP_ROPE_BACK: n = op->ne[2]; break;
        default: n = ggml_nrows(op);
    }
    return n >= 32;
}

static const char * reg_name(ggml_backend_reg_t) {
    return "CUDA";
}
static ggml_backend_device fake_dev;
static size_t reg_count(ggml_backend_reg_t) {
    return 1;
}
static ggml_backend_dev_t reg_get(ggml_backend_reg_t, size_t) {
    return &fake_dev;
}
static void * reg_proc(ggml_backend_reg_t, const char *) {
    return nullptr;
}
static ggml_backend_reg fake_reg = { GGML_BACKEND_API_VERSION, { reg_name, reg_count, reg_get, reg_proc }, nullptr };

static void register_fake_cuda() {
    fake_buft.device = &fake_dev;
    fake_host_buft = { { host_name, host_alloc, host_align, nullptr, nullptr, host_is_host }, &fake_dev, nullptr };
    ggml_backend_device_i di = {};
    di.get_name = dev_name;
    di.get_description = dev_desc;
    di.get_memory = dev_memory;
    di.get_type = dev_type;
    di.get_props = dev_props;
    di.init_backend = dev_init;
    di.get_buffer_type = dev_buft;
    di.get_host_buffer_type = dev_host_buft;
    di.supports_op = dev_supports_op;
    di.supports_buft = dev_supports_buft;
    di.offload_op = dev_offload_op;
    fake_dev = { di, &fake_reg, nullptr };
    ggml_backend_device_register(&fake_dev);
}

// ---- loading --------------------------------------------------------------------------------------

static std::string g_log;
static void log_cb(ggml_log_level, const char * text, void *) {
    g_log += text;
    if (getenv("LLAMA_REF_LOG") != nullptr) {
        fputs(text, stderr);
    }
}

int main(int argc, char ** argv) {
    llama_flash_attn_type fa = LLAMA_FLASH_ATTN_TYPE_AUTO;
    int ngl = 999;
    uint32_t n_batch = 2048, n_ubatch = 512;
    while (argc > 2 && strncmp(argv[1], "--", 2) == 0) {
        if (strcmp(argv[1], "--fa") == 0) {
            fa = strcmp(argv[2], "on") == 0 ? LLAMA_FLASH_ATTN_TYPE_ENABLED
               : strcmp(argv[2], "off") == 0 ? LLAMA_FLASH_ATTN_TYPE_DISABLED
               : LLAMA_FLASH_ATTN_TYPE_AUTO;
        } else if (strcmp(argv[1], "--ngl") == 0) {
            ngl = atoi(argv[2]);
        } else if (strcmp(argv[1], "--n-batch") == 0) {
            n_batch = (uint32_t) atoi(argv[2]);
        } else if (strcmp(argv[1], "--n-ubatch") == 0) {
            n_ubatch = (uint32_t) atoi(argv[2]);
        } else {
            break;
        }
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s [--fa auto|on|off] [--ngl N] [--n-batch N] [--n-ubatch N] FILE N_CTX\n", argv[0]);
        return 2;
    }
    llama_log_set(log_cb, nullptr);
    register_fake_cuda();
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = ngl;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (model == nullptr) {
        fprintf(stderr, "%s", g_log.c_str());
        return 1;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) atoi(argv[2]);
    cp.n_batch = n_batch;
    cp.n_ubatch = n_ubatch;
    cp.n_seq_max = 1;
    cp.flash_attn_type = fa;
    cp.swa_full = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (ctx == nullptr) {
        fprintf(stderr, "%s", g_log.c_str());
        return 1;
    }
    llama_free(ctx);
    llama_model_free(model);

    // The buffer lines, as cuda-truth.json records them.
    std::string out = "{\"buffers\": [";
    bool first = true;
    std::string resolved = "\"\"";
    size_t pos = 0;
    while (pos < g_log.size()) {
        size_t nl = g_log.find('\n', pos);
        if (nl == std::string::npos) nl = g_log.size();
        std::string l = g_log.substr(pos, nl - pos);
        pos = nl + 1;
        // `auto` resolved by the probe (resolve_fused_ops), else the setting the context printed
        // (`flash_attn = disabled` where the architecture forces it off).
        const bool probe = l.find("Flash Attention") != std::string::npos && l.find("resolve") == 0;
        if (probe || (l.find("llama_context: flash_attn ") == 0 && resolved == "\"\"")) {
            if (l.find("enabled") != std::string::npos) {
                resolved = "\"enabled\"";
            } else if (l.find("disabled") != std::string::npos) {
                resolved = "\"disabled\"";
            }
        }
        size_t bs = l.find(" buffer size = ");
        if (bs == std::string::npos || l.find("~llama_context") == 0) continue;
        size_t colon = l.find(": ");
        if (colon == std::string::npos) continue;
        std::string func = l.substr(0, colon);
        std::string rest = l.substr(colon + 2);
        while (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
        size_t sp = rest.find(' ');
        size_t rbs = rest.find(" buffer size = ");
        if (sp == std::string::npos || rbs == std::string::npos || rbs < sp) continue;
        std::string dev = rest.substr(0, sp);
        std::string what = rest.substr(sp + 1, rbs - sp - 1);
        while (!what.empty() && what[0] == ' ') what.erase(0, 1);
        std::string kind = what.substr(0, what.find(' '));
        double mib = atof(l.c_str() + bs + strlen(" buffer size = "));
        char buf[256];
        snprintf(buf, sizeof buf, "%s{\"func\": \"%s\", \"device\": \"%s\", \"kind\": \"%s\", \"MiB\": %.2f}",
                 first ? "" : ", ", func.c_str(), dev.c_str(), kind.c_str(), mib);
        out += buf;
        first = false;
    }
    out += "], \"flash_attn_resolved\": " + resolved + "}";
    printf("%s\n", out.c_str());
    llama_backend_free();
    return 0;
}

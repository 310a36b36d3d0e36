//! A replay of ggml's graph allocator: a graph is built here as ggml builds it (tensors with
//! shapes, types, sources and views, ordered by `ggml_build_forward_expand`), and the compute
//! buffer is what `ggml_gallocr_reserve_n` would reserve for it on one backend
//! (ggml/src/ggml-alloc.c of llama.cpp 0c1e570: `ggml_gallocr_alloc_graph_impl` 718-822, the
//! in-place reuse of `ggml_gallocr_allocate_node` 623-689, the best-fit free list of
//! `ggml_dyn_tallocr_alloc` 202-310 and `ggml_dyn_tallocr_free_bytes` 312-350).
//!
//! Only what a graph needs to be allocated is modelled: each tensor's bytes, its layout (for the
//! in-place check), its op (which ops may run in place, `ggml_op_can_inplace` 22-50), its
//! sources, and the tensor it views. Weights are external (already in their own buffer) and
//! never allocated here. Sizes are `u64` and saturate; a graph is built from a handful of
//! header values, never from a count read off a file without bound.

// Every index here is an `Id` this graph handed out (tensors are never removed) or an axis of a
// four-dimensional shape: no index comes from input.
#![allow(clippy::indexing_slicing)]

/// A tensor element type of a compute graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    F32,
    F16,
    BF16,
    I32,
    I64,
}

impl Ty {
    fn size(self) -> u64 {
        match self {
            Ty::I64 => 8,
            Ty::F32 | Ty::I32 => 4,
            Ty::F16 | Ty::BF16 => 2,
        }
    }
}

/// The ops a graph here uses, named as ggml names them. Only two facts of an op matter to the
/// allocator: whether it may reuse a source in place and whether it is a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A leaf: an input or a weight.
    None,
    Add,
    Mul,
    Div,
    Scale,
    Norm,
    RmsNorm,
    MulMat,
    Unary,
    Glu,
    SoftMax,
    FlashAttnExt,
    Cont,
    Cpy,
    GetRows,
    Concat,
    Im2Col,
    Pool2d,
    Rope,
    Clamp,
    Sub,
    Upscale,
    /// `ggml_fill` (ggml.c:5398-5414): a copy of its source's shape set to one value.
    Fill,
    /// Any other op that writes a new tensor (never in place).
    Other,
    /// `ggml_set_rows` (a view of its destination, not a view op to the scheduler).
    SetRows,
    /// `ggml_mul_mat_id`: the experts' products (a batch of `ne[2]` to the scheduler).
    MulMatId,
    Reshape,
    View,
    Permute,
    Transpose,
}

impl Op {
    /// `ggml_op_can_inplace` (ggml-alloc.c:22-50) for the ops above.
    fn can_inplace(self) -> bool {
        matches!(
            self,
            Op::Fill
                | Op::Add
                | Op::Mul
                | Op::Div
                | Op::Scale
                | Op::RmsNorm
                | Op::Unary
                | Op::SoftMax
                | Op::Rope
                | Op::Clamp
                | Op::Sub
        )
    }
}

/// A tensor's index in its [`Graph`].
pub type Id = usize;

#[derive(Debug, Clone)]
struct Tensor {
    ty: Ty,
    ne: [u64; 4],
    nb: [u64; 4],
    op: Op,
    src: Vec<Id>,
    /// The tensor this one views (`view_src`), and whether at offset 0.
    view_src: Option<(Id, bool)>,
    input: bool,
    /// A graph output (`ggml_set_output`): never freed, never reused in place.
    output: bool,
    /// Weights: data in their own buffer.
    external: bool,
    /// The part of the model being built when the tensor was made.
    stage: Stage,
    /// A cache or recurrent state (external, but not a weight).
    cache: bool,
    /// A layer's `build_norm` output (`cb(cur, "norm", il)`), which llama.cpp pins to the layer's
    /// device in small batches (src/llama-context.cpp:2643-2657).
    norm: bool,
    /// CUDA has no kernel for this node's op and shapes (set where the graph knows it).
    no_cuda: bool,
    /// A weight's (or its copy's) bytes in the file's type, where known.
    bytes: Option<u64>,
    /// Bytes a GPU buffer adds (a quantized tensor's rows padded to 512,
    /// `ggml_backend_cuda_buffer_type_get_alloc_size`, ggml-cuda.cu:911-917).
    gpu_pad: u64,
}

/// Where in the model a tensor was made: the inputs and embeddings, a layer, the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    #[default]
    Input,
    Layer(u32),
    Output,
}

impl Tensor {
    /// `ggml_dup_tensor_layout`: a new tensor of the same type, shape and strides (a weight's
    /// copy as large as the weight).
    fn dup_layout(&self) -> Tensor {
        Tensor {
            stage: self.stage,
            bytes: self.bytes,
            gpu_pad: self.gpu_pad,
            ..Tensor::plain(self.ty, self.ne, self.nb, Op::None, Vec::new())
        }
    }

    /// A tensor made by an op: no view, not an input, output or weight.
    fn plain(ty: Ty, ne: [u64; 4], nb: [u64; 4], op: Op, src: Vec<Id>) -> Tensor {
        Tensor {
            ty,
            ne,
            nb,
            op,
            src,
            view_src: None,
            input: false,
            output: false,
            external: false,
            stage: Stage::Input,
            cache: false,
            norm: false,
            no_cuda: false,
            bytes: None,
            gpu_pad: 0,
        }
    }

    /// `ggml_backend_buft_get_alloc_size` in buffer `b` (0 the host, else a GPU).
    fn alloc_size(&self, b: usize) -> u64 {
        let pad = if b > 0 { self.gpu_pad } else { 0 };
        self.nbytes().saturating_add(pad)
    }

    /// `ggml_nbytes` of a tensor the allocator places (always contiguous here).
    fn nbytes(&self) -> u64 {
        if let Some(b) = self.bytes {
            return b;
        }
        let mut n = self.ty.size();
        for (i, &e) in self.ne.iter().enumerate() {
            if e == 0 {
                return 0;
            }
            n = n.saturating_add((e - 1).saturating_mul(self.nb[i]));
        }
        n
    }
}

fn contiguous_nb(ty: Ty, ne: [u64; 4]) -> [u64; 4] {
    let mut nb = [ty.size(), 0, 0, 0];
    for i in 1..4 {
        nb[i] = nb[i - 1].saturating_mul(ne[i - 1]);
    }
    nb
}

/// A compute graph under construction, then allocated by [`Graph::reserve`].
#[derive(Debug, Clone, Default)]
pub struct Graph {
    tensors: Vec<Tensor>,
    nodes: Vec<Id>,
    leafs: Vec<Id>,
    visited: Vec<bool>,
    stage: Stage,
    /// The file's weights, to size the weights a graph reads ([`Graph::set_weight_sizes`]).
    weight_sizes: Vec<WeightSize>,
}

/// A weight of the file as the scheduler's copies see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightSize {
    /// Its layer (`None`: the input or output layer's).
    pub layer: Option<u32>,
    /// `ne[0]`, `ne[1]`.
    pub ne: [u64; 2],
    /// `ggml_nbytes`.
    pub bytes: u64,
    /// What a GPU buffer adds to it.
    pub gpu_pad: u64,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, mut t: Tensor) -> Id {
        t.stage = self.stage;
        self.tensors.push(t);
        self.visited.push(false);
        self.tensors.len() - 1
    }

    /// The shape of a tensor.
    pub fn ne(&self, t: Id) -> [u64; 4] {
        self.tensors[t].ne
    }

    /// `ggml_is_contiguous` (ggml.c, `ggml_is_contiguous_n` with n = 0): rows packed, each
    /// dimension of more than one element right after the one before.
    pub fn is_contiguous(&self, t: Id) -> bool {
        let x = &self.tensors[t];
        let mut next = x.ty.size();
        if x.ne[0] != 1 && x.nb[0] != next {
            return false;
        }
        next = next.saturating_mul(x.ne[0]);
        for i in 1..4 {
            if x.ne[i] != 1 {
                if x.nb[i] != next {
                    return false;
                }
                next = next.saturating_mul(x.ne[i]);
            }
        }
        true
    }

    fn new_op(&mut self, ty: Ty, ne: [u64; 4], op: Op, src: Vec<Id>) -> Id {
        self.push(Tensor::plain(ty, ne, contiguous_nb(ty, ne), op, src))
    }

    /// Tensors made from now on belong to `stage`.
    pub fn set_stage(&mut self, stage: Stage) {
        self.stage = stage;
    }

    /// Marks a layer's norm output ([`Tensor::norm`]).
    pub fn mark_norm(&mut self, t: Id) {
        self.tensors[t].norm = true;
    }

    /// An `ssm_conv` node (its input the convolved columns): CUDA's kernel takes channel counts
    /// that are multiples of 128 (ggml-cuda.cu:5434-5437).
    pub fn mark_ssm_conv(&mut self, t: Id) {
        let x = self.tensors[t].src.first().map(|&s| self.tensors[s].ne[1]);
        self.tensors[t].no_cuda = x.is_none_or(|c| c % 128 != 0);
    }

    /// An `ssm_scan` node (sources: states, x, dt, A, B, C, ids): CUDA's kernels
    /// (ggml-cuda.cu:5418-5433) take Mamba-2 (A one wide) with 96, 128 or 256 states and heads a
    /// multiple of 16 wide, Mamba-1 with 16 states, one-wide heads, a multiple of 128 heads and
    /// one group.
    pub fn mark_ssm_scan(&mut self, t: Id) {
        let ne = |i: usize| self.tensors[t].src.get(i).map(|&s| self.tensors[s].ne);
        let ok = match (ne(0), ne(3), ne(4)) {
            (Some(s), Some(a), _) if a[0] == 1 => matches!(s[0], 96 | 128 | 256) && s[1] % 16 == 0,
            (Some(s), Some(_), Some(b)) => s[0] == 16 && s[1] == 1 && s[2] % 128 == 0 && b[1] == 1,
            _ => false,
        };
        self.tensors[t].no_cuda = !ok;
    }

    /// A cache or recurrent state: data in the cache's own buffer, on its layer's device.
    pub fn cache(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        let t = self.weight(ty, ne);
        self.tensors[t].cache = true;
        t
    }

    /// A graph input (`ggml_new_tensor` + `ggml_set_input`).
    pub fn input(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        let t = self.new_op(ty, ne, Op::None, Vec::new());
        self.tensors[t].input = true;
        t
    }

    /// Marks a graph output (`ggml_set_output`: `llm_graph_result::set_outputs` marks the logits
    /// and the final embeddings, src/llama-graph.cpp:1367-1373): the allocator never frees it
    /// nor lets a consumer take its memory (ggml-alloc.c:646, 693).
    pub fn output(&mut self, t: Id) {
        self.tensors[t].output = true;
    }

    /// `ggml_set_rows(a, b, c)` (ggml.c:4015-4034): a view of `a` whose sources are `b` (the
    /// rows), `c` (their indices) and `a`; nothing to allocate when `a` has its own data (a
    /// KV cache).
    pub fn set_rows(&mut self, a: Id, b: Id, c: Id) -> Id {
        let (ne, nb) = (self.tensors[a].ne, self.tensors[a].nb);
        let t = self.view_of(a, ne, nb, Op::SetRows, true);
        self.tensors[t].src = vec![b, c, a];
        t
    }

    /// `ggml_cpy(a, b)` (ggml.c:3591-3610): a view of `b` whose sources are `a` and `b`; nothing
    /// to allocate when `b` has its own data (a recurrent state).
    pub fn cpy_into(&mut self, a: Id, b: Id) -> Id {
        let (ne, nb) = (self.tensors[b].ne, self.tensors[b].nb);
        let t = self.view_of(b, ne, nb, Op::Cpy, true);
        self.tensors[t].src = vec![a, b];
        t
    }

    /// An op run in place (`ggml_add_inplace`: `ggml_view_tensor(a)`, ggml.c:2067-2081): a view
    /// of `a` whose sources are `a` and `others`; nothing to allocate.
    pub fn inplace(&mut self, op: Op, a: Id, others: &[Id]) -> Id {
        let (ne, nb) = (self.tensors[a].ne, self.tensors[a].nb);
        let t = self.view_of(a, ne, nb, op, true);
        self.tensors[t].src.extend_from_slice(others);
        t
    }

    /// A tensor the graph creates without an op and without marking it an input
    /// (`ggml_new_tensor` alone): a leaf the allocator places like an input.
    pub fn leaf(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        self.new_op(ty, ne, Op::None, Vec::new())
    }

    /// A weight: its data lives in the model's buffer.
    pub fn weight(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        let t = self.new_op(ty, ne, Op::None, Vec::new());
        self.tensors[t].external = true;
        // The largest of the file's weights of this stage and shape (a graph's weights carry no
        // names; same-shaped ones of a layer differ only in type).
        let layer = match self.stage {
            Stage::Layer(il) => Some(il),
            _ => None,
        };
        let known = self
            .weight_sizes
            .iter()
            .filter(|w| w.layer == layer && w.ne == [ne[0], ne[1]])
            .max_by_key(|w| w.bytes);
        if let Some(w) = known {
            self.tensors[t].bytes = Some(w.bytes);
            self.tensors[t].gpu_pad = w.gpu_pad;
        }
        t
    }

    /// The file's weights: the weights made from now on take their bytes (the copies the
    /// scheduler makes of them are as large).
    pub fn set_weight_sizes(&mut self, sizes: Vec<WeightSize>) {
        self.weight_sizes = sizes;
    }

    fn view_of(&mut self, a: Id, ne: [u64; 4], nb: [u64; 4], op: Op, at_zero: bool) -> Id {
        let base = self.tensors[a].view_src.map_or(a, |(v, _)| v);
        let at_zero = at_zero && self.tensors[a].view_src.is_none_or(|(_, z)| z);
        let ty = self.tensors[a].ty;
        self.push(Tensor {
            view_src: Some((base, at_zero)),
            ..Tensor::plain(ty, ne, nb, op, vec![a])
        })
    }

    /// `ggml_reshape_*`: a contiguous view of another shape.
    pub fn reshape(&mut self, a: Id, ne: [u64; 4]) -> Id {
        let ty = self.tensors[a].ty;
        self.view_of(a, ne, contiguous_nb(ty, ne), Op::Reshape, true)
    }

    /// `ggml_view_*` at a byte offset with the given strides.
    pub fn view(&mut self, a: Id, ne: [u64; 4], nb: [u64; 4], offset: u64) -> Id {
        self.view_of(a, ne, nb, Op::View, offset == 0)
    }

    /// `ggml_permute(a, p0, p1, p2, p3)`: axis i of `a` goes to position `p[i]`.
    pub fn permute(&mut self, a: Id, p: [usize; 4]) -> Id {
        let (ne0, nb0) = (self.tensors[a].ne, self.tensors[a].nb);
        let (mut ne, mut nb) = ([0; 4], [0; 4]);
        for i in 0..4 {
            ne[p[i]] = ne0[i];
            nb[p[i]] = nb0[i];
        }
        self.view_of(a, ne, nb, Op::Permute, true)
    }

    /// `ggml_transpose`: axes 0 and 1 swapped.
    pub fn transpose(&mut self, a: Id) -> Id {
        let t = self.permute(a, [1, 0, 2, 3]);
        self.tensors[t].op = Op::Transpose;
        t
    }

    /// An op whose result has `a`'s shape and type (`ggml_add`, `ggml_mul`, norms, unary ops,
    /// `ggml_soft_max_ext`, `ggml_rope_ext`, `ggml_scale` …).
    pub fn like(&mut self, op: Op, a: Id, others: &[Id]) -> Id {
        let (ty, ne) = (self.tensors[a].ty, self.tensors[a].ne);
        let mut src = vec![a];
        src.extend_from_slice(others);
        self.new_op(ty, ne, op, src)
    }

    /// `ggml_mul_mat(a, b)`: f32 `[a.ne1, b.ne1, b.ne2, b.ne3]`.
    pub fn mul_mat(&mut self, a: Id, b: Id) -> Id {
        let (na, nb) = (self.tensors[a].ne, self.tensors[b].ne);
        self.new_op(
            Ty::F32,
            [na[1], nb[1], nb[2], nb[3]],
            Op::MulMat,
            vec![a, b],
        )
    }

    /// A new tensor of the given type and shape computed from `src` (`ggml_cont_*`,
    /// `ggml_cast`, `ggml_glu_split`, `ggml_get_rows`, `ggml_concat`, pooling, `ggml_im2col`,
    /// `ggml_flash_attn_ext`).
    pub fn op(&mut self, op: Op, ty: Ty, ne: [u64; 4], src: &[Id]) -> Id {
        self.new_op(ty, ne, op, src.to_vec())
    }

    /// `ggml_cont`: a contiguous copy of `a` in its (viewed) shape.
    pub fn cont(&mut self, a: Id) -> Id {
        let (ty, ne) = (self.tensors[a].ty, self.tensors[a].ne);
        self.new_op(ty, ne, Op::Cont, vec![a])
    }

    /// `ggml_cast(a, ty)`.
    pub fn cast(&mut self, a: Id, ty: Ty) -> Id {
        let ne = self.tensors[a].ne;
        self.new_op(ty, ne, Op::Cpy, vec![a])
    }

    fn visit(&mut self, t: Id) {
        if self.visited[t] {
            return;
        }
        self.visited[t] = true;
        let src = self.tensors[t].src.clone();
        for s in src {
            self.visit(s);
        }
        if self.tensors[t].op == Op::None {
            self.leafs.push(t);
        } else {
            self.nodes.push(t);
        }
    }

    /// `ggml_build_forward_expand` (and `ggml_build_forward_order`): appends `t` and the
    /// tensors it needs, sources first in source order (`ggml_visit_parents_graph`,
    /// ggml/src/ggml.c:7245-7311).
    pub fn expand(&mut self, t: Id) {
        self.visit(t);
    }

    /// The bytes `ggml_gallocr_reserve_n` reserves for the graph on one backend whose buffers
    /// align tensors to `alignment` bytes and size them by `ggml_nbytes` (the CPU: 32,
    /// `TENSOR_ALIGNMENT`, ggml/src/ggml-impl.h:44).
    pub fn reserve(&self, alignment: u64) -> u64 {
        let leafs: Vec<(Id, usize)> = self.leafs.iter().map(|&t| (t, 0)).collect();
        let nodes: Vec<(Id, usize)> = self.nodes.iter().map(|&t| (t, 0)).collect();
        let sizes = Allocator::new(self, &[alignment]).run(&leafs, &nodes);
        sizes.first().copied().unwrap_or(0)
    }
}

/// The device the scheduler gives each tensor of a graph: 0 the CPU (the lowest-priority
/// backend), 1 and up the GPUs in priority order.
pub type Device = u8;

/// What the scheduler needs to know of the model's placement and of the GPU's ops.
pub struct Placement<W: Fn(Stage) -> Device, C: Fn(Stage) -> Device, S: Fn(&Graph, Id) -> bool> {
    /// The device of a weight made at a stage (`token_embd` stays on the CPU).
    pub weight: W,
    /// The device of a cache or state made at a stage.
    pub cache: C,
    /// Whether the GPU runs the op of a node.
    pub gpu_supports: S,
    /// Layer norms pinned to their layer's device (`ubatch.n_tokens < 32` or full offload).
    pub pin_norms: bool,
}

impl Graph {
    /// A tensor's shape, op and sources, for a placement's `gpu_supports`.
    pub fn op_of(&self, t: Id) -> Op {
        self.tensors[t].op
    }

    /// A tensor's sources.
    pub fn src_of(&self, t: Id) -> &[Id] {
        &self.tensors[t].src
    }

    /// The stage a tensor was made at.
    pub fn stage_of(&self, t: Id) -> Stage {
        self.tensors[t].stage
    }

    /// The nodes of an op, in graph order.
    pub fn nodes_of(&self, op: Op) -> impl Iterator<Item = Id> + '_ {
        self.nodes
            .iter()
            .copied()
            .filter(move |&t| self.tensors[t].op == op)
    }

    /// The scheduler's first two passes (`ggml_backend_sched_split_graph`,
    /// ggml/src/ggml-backend.cpp:1069-1196): each node on the device of its own or viewed buffer,
    /// an input on the CPU, a node reading a weight on the weight's device (not a RoPE or a
    /// flash attention: lines 921-991) unless the weight is in host memory and the GPU takes the
    /// op over (a batch of 32 or more, `offload_op`), the layer norms pinned where the context
    /// pins them; then the GPUs' assignments spread down and up the graph over nodes not yet
    /// placed (the CPU's do not spread), then every device's. A node is left `None` only when
    /// nothing placed reaches it. View ops take no part in the spreading.
    pub fn sched_devices<W, C, S>(&self, p: &Placement<W, C, S>) -> Vec<Option<Device>>
    where
        W: Fn(Stage) -> Device,
        C: Fn(Stage) -> Device,
        S: Fn(&Graph, Id) -> bool,
    {
        // get_op_batch_size (ggml-cuda.cu:5636-5649).
        let batch = |x: &Tensor| match x.op {
            Op::GetRows => 0,
            Op::MulMat => x.ne[1],
            Op::Rope | Op::MulMatId => x.ne[2],
            _ => x.ne[1].saturating_mul(x.ne[2]).saturating_mul(x.ne[3]),
        };
        let supports = |t: Id, d: Device| d == 0 || (p.gpu_supports)(self, t);
        let from_cur = |t: Id| -> Option<Device> {
            let x = &self.tensors[t];
            if p.pin_norms && x.norm && matches!(x.stage, Stage::Layer(_)) {
                let d = (p.weight)(x.stage);
                if supports(t, d) {
                    return Some(d);
                }
            }
            // Its own buffer's or the one it views (`1.dst`, `1.vsrc`).
            if let Some(d) = self.buffer_device(p, t) {
                return Some(d);
            }
            if x.input {
                return Some(0);
            }
            if x.op == Op::Rope || x.op == Op::FlashAttnExt {
                return None;
            }
            let s = x
                .src
                .iter()
                .find(|&&s| self.tensors[s].external && !self.tensors[s].cache)?;
            let d = (p.weight)(self.tensors[*s].stage);
            if d == 0 && batch(x) >= 32 && (p.gpu_supports)(self, t) {
                return Some(1);
            }
            // `ggml_backend_sched_backend_from_buffer` (:887-908): the weight's device only if it
            // runs the op (no other reads its buffer); else left to the spreading.
            supports(t, d).then_some(d)
        };
        let mut dev: Vec<Option<Device>> = vec![None; self.tensors.len()];
        for &t in &self.nodes {
            dev[t] = from_cur(t);
        }
        let is_view_op = |t: Id| {
            matches!(
                self.tensors[t].op,
                Op::Reshape | Op::View | Op::Permute | Op::Transpose
            )
        };
        let order: Vec<Id> = self
            .nodes
            .iter()
            .copied()
            .filter(|&t| !is_view_op(t))
            .collect();
        for (gpu_only, rev) in [(true, false), (true, true), (false, false), (false, true)] {
            let mut cur: Option<Device> = None;
            let mut step = |t: Id| match dev[t] {
                Some(d) => cur = (!gpu_only || d != 0).then_some(d),
                None => {
                    if let Some(c) = cur {
                        if supports(t, c) {
                            dev[t] = Some(c);
                        }
                    }
                }
            };
            if rev {
                order.iter().rev().for_each(|&t| step(t));
            } else {
                order.iter().for_each(|&t| step(t));
            }
        }
        dev
    }

    /// The device whose buffer holds a tensor's data: its own (a weight, a cache) or the one it
    /// views.
    fn buffer_device<W, C, S>(&self, p: &Placement<W, C, S>, t: Id) -> Option<Device>
    where
        W: Fn(Stage) -> Device,
        C: Fn(Stage) -> Device,
        S: Fn(&Graph, Id) -> bool,
    {
        let root = self.tensors[t].view_src.map_or(t, |(v, _)| v);
        let x = &self.tensors[root];
        x.external.then(|| {
            if x.cache {
                (p.cache)(x.stage)
            } else {
                (p.weight)(x.stage)
            }
        })
    }

    /// Whether CUDA runs a node (`ggml_backend_cuda_device_supports_op`,
    /// ggml/src/ggml-cuda/ggml-cuda.cu:5149-5628, for the ops and types these graphs hold; a
    /// flash attention's own check is the placement's).
    pub fn cuda_runs(&self, t: Id) -> bool {
        let x = &self.tensors[t];
        if x.no_cuda {
            return false;
        }
        let src0 = x.src.first().map(|&s| &self.tensors[s]);
        let rows = |y: &Tensor| y.nb[0] == y.ty.size();
        match (x.op, src0) {
            (Op::Unary, Some(a)) => self.is_contiguous(x.src[0]) && a.ty != Ty::BF16,
            (Op::Glu | Op::RmsNorm | Op::Norm, Some(a)) => rows(a),
            (Op::Rope, Some(a)) => rows(a),
            (Op::MulMat | Op::MulMatId, Some(a)) => {
                let b = x.src.get(1).map(|&s| &self.tensors[s]);
                rows(a) && b.is_some_and(|b| rows(b) && !(b.ty == Ty::F16 && a.ty != Ty::F16))
            }
            (Op::Scale, Some(a)) => a.ty == Ty::F32 || a.ty == Ty::BF16,
            _ => true,
        }
    }

    /// The scheduler's placement, splits and copies (`ggml_backend_sched_split_graph`,
    /// ggml/src/ggml-backend.cpp:1069-1606: [`Self::sched_devices`], then the nodes left to the
    /// device reading most of their sources' buffers, views on their source's device, the
    /// splits — a new one where the device changes or a weight of another device is read after
    /// the split's first copies — and a copy of each source kept on another device, made once
    /// per device and allocated at the start of the first split reading it, its original kept
    /// alive until then), and the graph allocator's reservation of the split graph, one buffer
    /// per device (`alignments[d]`: 0 the host, 1.. the GPUs). Returns each buffer's bytes.
    pub fn sched_reserve<W, C, S>(&self, p: &Placement<W, C, S>, alignments: &[u64]) -> Vec<u64>
    where
        W: Fn(Stage) -> Device,
        C: Fn(Stage) -> Device,
        S: Fn(&Graph, Id) -> bool,
    {
        let n_dev = u8::try_from(alignments.len()).unwrap_or(u8::MAX);
        let mut dev = self.sched_devices(p);
        let supports = |t: Id, d: Device| d == 0 || (p.gpu_supports)(self, t);
        let is_view_op = |t: Id| {
            matches!(
                self.tensors[t].op,
                Op::Reshape | Op::View | Op::Permute | Op::Transpose
            )
        };
        let root = |t: Id| self.tensors[t].view_src.map_or(t, |(v, _)| v);
        for &t in &self.leafs {
            let x = &self.tensors[t];
            dev[t] = self.buffer_device(p, t).or_else(|| x.input.then_some(0));
        }
        // Pass 3 (ggml-backend.cpp:1207-1267): a node no spreading reached goes to the device
        // (GPUs first) reading most of its placed sources from its own buffers.
        let buft = |dev: &[Option<Device>], s: Id| {
            self.buffer_device(p, s).or(dev[s]).or_else(|| dev[root(s)])
        };
        for &t in &self.nodes {
            if is_view_op(t) || dev[t].is_some() {
                continue;
            }
            let mut best: Option<(usize, Device)> = None;
            for d in (1..n_dev).chain([0]) {
                if !supports(t, d) {
                    continue;
                }
                let n = self.tensors[t]
                    .src
                    .iter()
                    .filter(|&&s| {
                        (dev[s].is_some() || dev[root(s)].is_some()) && buft(&dev, s) == Some(d)
                    })
                    .count();
                if best.is_none_or(|(m, _)| n > m) {
                    best = Some((n, d));
                }
            }
            dev[t] = best.map(|(_, d)| d);
        }
        // Pass 4 (:1269-1302): views with their source; sources left with their reader.
        for &t in &self.nodes {
            if self.tensors[t].view_src.is_some() && dev[t].is_none() {
                dev[t] = buft(&dev, root(t));
            }
            for i in 0..self.tensors[t].src.len() {
                let s = self.tensors[t].src[i];
                if dev[s].is_none() {
                    dev[s] = if self.tensors[s].view_src.is_some() {
                        buft(&dev, root(s))
                    } else {
                        dev[t]
                    };
                }
            }
            if dev[t].is_none() {
                dev[t] = (1..n_dev).chain([0]).find(|&d| supports(t, d));
            }
        }
        let at = |dev: &[Option<Device>], t: Id| dev[t].unwrap_or(0);
        // Pass 5 (:1304-1392) and the split graph (:1470-1535).
        let mut g = self.clone();
        struct Split {
            dev: Device,
            start: usize,
            end: usize,
            inputs: Vec<Id>,
        }
        let Some(first) = self.nodes.iter().position(|&t| !is_view_op(t)) else {
            return vec![0; alignments.len()];
        };
        let mut cur = at(&dev, self.nodes[first]);
        let mut splits = vec![Split {
            dev: cur,
            start: 0,
            end: self.nodes.len(),
            inputs: Vec::new(),
        }];
        let mut copies: std::collections::HashMap<(Id, Device), Id> =
            std::collections::HashMap::new();
        for (i, &t) in self.nodes.iter().enumerate().skip(first) {
            if is_view_op(t) {
                continue;
            }
            let nd = at(&dev, t);
            let has_inputs = splits.last().is_some_and(|s| !s.inputs.is_empty());
            let weight_elsewhere = self.tensors[t].src.iter().any(|&s| {
                let y = &self.tensors[s];
                y.external && !y.cache && at(&dev, s) != cur && buft(&dev, s) != Some(cur)
            });
            if nd != cur || (has_inputs && weight_elsewhere) {
                if let Some(last) = splits.last_mut() {
                    last.end = i;
                }
                splits.push(Split {
                    dev: nd,
                    start: i,
                    end: self.nodes.len(),
                    inputs: Vec::new(),
                });
                cur = nd;
            }
            for j in 0..self.tensors[t].src.len() {
                let s = self.tensors[t].src[j];
                if at(&dev, s) == cur || buft(&dev, s) == Some(cur) {
                    continue;
                }
                let c = match copies.get(&(s, cur)) {
                    Some(&c) => c,
                    None => {
                        let c = g.push(self.tensors[s].dup_layout());
                        dev.push(Some(cur));
                        copies.insert((s, cur), c);
                        if let Some(last) = splits.last_mut() {
                            last.inputs.push(s);
                        }
                        c
                    }
                };
                g.tensors[t].src[j] = c;
            }
        }
        let mut nodes: Vec<(Id, usize)> = Vec::new();
        // `RUST_LOG=ggufscope::sched=trace`: the splits, as `GGML_SCHED_DEBUG=2` prints them.
        if tracing::enabled!(target: "ggufscope::sched", tracing::Level::TRACE) {
            for (k, sp) in splits.iter().enumerate() {
                let inputs: Vec<_> = sp
                    .inputs
                    .iter()
                    .map(|&i| (self.tensors[i].op, self.tensors[i].ne))
                    .collect();
                tracing::trace!(target: "ggufscope::sched", "split {k}: device {}, inputs {inputs:?}", sp.dev);
                for &t in self.nodes.get(sp.start..sp.end).unwrap_or(&[]) {
                    if !is_view_op(t) {
                        let x = &self.tensors[t];
                        tracing::trace!(target: "ggufscope::sched", "  {:?} {:?} {:?}", x.op, x.ne, x.stage);
                    }
                }
            }
        }
        for sp in &splits {
            for &s in &sp.inputs {
                // The dependency keeping the copied tensor alive until the split starts: a view
                // without an op, reading it (`ggml_view_tensor`, ggml-backend.cpp:1505-1510).
                let dep = g.push(Tensor {
                    src: vec![s],
                    view_src: Some((root(s), true)),
                    ..self.tensors[s].dup_layout()
                });
                nodes.push((dep, usize::from(at(&dev, s))));
                if let Some(&c) = copies.get(&(s, sp.dev)) {
                    nodes.push((c, usize::from(sp.dev)));
                }
            }
            for &t in self.nodes.get(sp.start..sp.end).unwrap_or(&[]) {
                nodes.push((t, usize::from(at(&dev, t))));
            }
        }
        let leafs: Vec<(Id, usize)> = self
            .leafs
            .iter()
            .map(|&t| (t, usize::from(at(&dev, t))))
            .collect();
        Allocator::new(&g, alignments).run(&leafs, &nodes)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct HashNode {
    n_children: u32,
    n_views: u32,
    allocated: bool,
    buffer: usize,
    offset: u64,
}

/// `ggml_dyn_tallocr` with one chunk (a buffer's maximum size is unbounded).
struct DynAlloc {
    alignment: u64,
    /// Free blocks `(offset, size)`, sorted by offset; the last one is open-ended.
    free: Vec<(u64, u64)>,
    max_size: u64,
}

const OPEN_END: u64 = u64::MAX / 2;

impl DynAlloc {
    fn new(alignment: u64) -> Self {
        Self {
            alignment: alignment.max(1),
            free: vec![(0, OPEN_END)],
            max_size: 0,
        }
    }

    fn aligned(&self, size: u64) -> u64 {
        size.div_ceil(self.alignment).saturating_mul(self.alignment)
    }

    /// `ggml_dyn_tallocr_alloc`: the best-fitting free block other than the last, else the last.
    /// The last block is open-ended and never removed (ggml's is `SIZE_MAX/2` bytes, "virtually
    /// endless"); offsets saturate, so sizes a hostile header makes enormous give `u64::MAX`.
    fn alloc(&mut self, size: u64) -> u64 {
        let size = self.aligned(size);
        let last = self.free.len().saturating_sub(1);
        let mut best: Option<usize> = None;
        let mut best_size = u64::MAX;
        for (i, &(_, s)) in self.free[..last].iter().enumerate() {
            if s >= size && s <= best_size {
                best = Some(i);
                best_size = s;
            }
        }
        let offset = match best {
            Some(i) => {
                let offset = self.free[i].0;
                self.free[i] = (offset.saturating_add(size), self.free[i].1 - size);
                if self.free[i].1 == 0 {
                    self.free.remove(i);
                }
                offset
            }
            None => {
                let (offset, open) = self.free[last];
                self.free[last] = (offset.saturating_add(size), open.saturating_sub(size));
                offset
            }
        };
        self.max_size = self.max_size.max(offset.saturating_add(size));
        offset
    }

    /// `ggml_dyn_tallocr_free_bytes`: merges with a neighbour or inserts a block.
    fn free_bytes(&mut self, offset: u64, size: u64) {
        let size = self.aligned(size);
        let end = offset.saturating_add(size);
        for i in 0..self.free.len() {
            let (bo, bs) = self.free[i];
            if bo.saturating_add(bs) == offset {
                self.free[i].1 = bs.saturating_add(size);
                if let Some(&(no, ns)) = self.free.get(i + 1) {
                    if end == no {
                        self.free[i].1 = self.free[i].1.saturating_add(ns);
                        self.free.remove(i + 1);
                    }
                }
                return;
            }
            if end == bo {
                self.free[i] = (offset, bs.saturating_add(size));
                if i > 0 {
                    let (po, ps) = self.free[i - 1];
                    if po.saturating_add(ps) == offset {
                        self.free[i - 1].1 = ps.saturating_add(self.free[i].1);
                        self.free.remove(i);
                    }
                }
                return;
            }
        }
        let pos = self.free.iter().position(|&(o, _)| o >= offset);
        let pos = pos.unwrap_or(self.free.len());
        self.free.insert(pos, (offset, size));
    }
}

/// `ggml_gallocr` over one buffer per backend.
struct Allocator<'g> {
    g: &'g Graph,
    bufs: Vec<DynAlloc>,
    hn: Vec<HashNode>,
}

impl<'g> Allocator<'g> {
    fn new(g: &'g Graph, alignments: &[u64]) -> Self {
        Self {
            g,
            bufs: alignments.iter().map(|&a| DynAlloc::new(a)).collect(),
            hn: vec![HashNode::default(); g.tensors.len()],
        }
    }

    fn is_view(&self, t: Id) -> bool {
        self.g.tensors[t].view_src.is_some()
    }

    fn is_allocated(&self, t: Id) -> bool {
        self.g.tensors[t].external || self.hn[t].allocated
    }

    /// `ggml_gallocr_allocate_node` (ggml-alloc.c:623-689).
    fn allocate_node(&mut self, node: Id, buffer: usize) {
        if self.is_allocated(node) || self.is_view(node) {
            return;
        }
        self.hn[node].allocated = true;
        let t = &self.g.tensors[node];
        if t.op.can_inplace() {
            for &parent in &t.src {
                let p = &self.g.tensors[parent];
                if !self.hn[parent].allocated {
                    continue; // external (or a view, whose own entry is never allocated)
                }
                let p_out = p.output || p.view_src.is_some_and(|(v, _)| self.g.tensors[v].output);
                if p_out || p.ty != t.ty || p.ne != t.ne || p.nb != t.nb {
                    continue;
                }
                let ph = self.hn[parent];
                if ph.n_children == 1 && ph.n_views == 0 {
                    // A view parent is never "own" (`allocated`), so only a plain parent
                    // reaches here. The node takes the parent's buffer.
                    self.hn[node].offset = ph.offset;
                    self.hn[node].buffer = ph.buffer;
                    self.hn[parent].allocated = false;
                    let Some(b) = self.bufs.get_mut(ph.buffer) else {
                        return;
                    };
                    let (psz, nsz) = (b.aligned(p.nbytes()), b.aligned(t.nbytes()));
                    if psz > nsz {
                        b.free_bytes(ph.offset + nsz, psz - nsz);
                    }
                    return;
                }
            }
        }
        let size = t.alloc_size(buffer);
        self.hn[node].buffer = buffer;
        if let Some(b) = self.bufs.get_mut(buffer) {
            self.hn[node].offset = b.alloc(size);
        }
    }

    /// `ggml_gallocr_free_node` (ggml-alloc.c:691-712).
    fn free_node(&mut self, node: Id) {
        if self.g.tensors[node].output {
            return;
        }
        let h = self.hn[node];
        let size = self.g.tensors[node].alloc_size(h.buffer);
        if let Some(b) = self.bufs.get_mut(h.buffer) {
            b.free_bytes(h.offset, size);
        }
        self.hn[node].allocated = false;
    }

    /// `ggml_gallocr_alloc_graph_impl` (ggml-alloc.c:718-822) over `nodes` and `leafs` placed in
    /// the buffers given; returns each buffer's chunk `max_size`.
    fn run(mut self, leafs: &[(Id, usize)], nodes: &[(Id, usize)]) -> Vec<u64> {
        let g = self.g;
        // Every leaf without data of its own: inputs, and tensors a graph creates and fills
        // itself (weights are external and skipped).
        for &(leaf, b) in leafs {
            self.allocate_node(leaf, b);
        }
        for &(node, b) in nodes {
            // A dependency node of the scheduler (a view without an op) adds no view.
            if let Some((v, _)) = g.tensors[node].view_src {
                if g.tensors[node].op != Op::None {
                    self.hn[v].n_views += 1;
                }
            }
            if g.tensors[node].input {
                self.allocate_node(node, b);
            }
            for &src in &g.tensors[node].src {
                self.hn[src].n_children += 1;
                if g.tensors[src].input {
                    self.allocate_node(src, b);
                }
            }
        }
        for &(node, b) in nodes {
            for &parent in &g.tensors[node].src {
                self.allocate_node(parent, b);
            }
            self.allocate_node(node, b);
            for &parent in &g.tensors[node].src {
                let ph = &mut self.hn[parent];
                ph.n_children -= 1;
                if ph.n_children == 0 && ph.n_views == 0 {
                    if let Some((v, _)) = g.tensors[parent].view_src {
                        self.hn[v].n_views = self.hn[v].n_views.saturating_sub(1);
                        let vh = self.hn[v];
                        if vh.n_views == 0 && vh.n_children == 0 && vh.allocated {
                            self.free_node(v);
                        }
                    } else if self.hn[parent].allocated {
                        self.free_node(parent);
                    }
                }
            }
        }
        self.bufs.iter().map(|b| b.max_size).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An op that may run in place takes its only consumer's parent's memory; one that may not
    /// gets new memory; a freed hole is reused by the best fit.
    #[test]
    fn inplace_and_best_fit() {
        let mut g = Graph::new();
        let x = g.input(Ty::F32, [256, 1, 1, 1]); // 1024 bytes
        let w = g.weight(Ty::F16, [256, 512, 1, 1]);
        let y = g.mul_mat(w, x); // 2048 bytes
        let z = g.like(Op::Unary, y, &[]); // in place of y
        let n = g.like(Op::Norm, z, &[]); // not in place: 2048 more
        g.expand(n);
        // x at 0..1024, freed once y is computed; y at 1024..3072, z in y's place; n does not fit
        // x's 1024-byte hole and takes the open end, 3072..5120.
        assert_eq!(g.reserve(32), 5120);
    }

    /// A view keeps its source alive until the view's consumers are done.
    #[test]
    fn views_keep_sources() {
        let mut g = Graph::new();
        let x = g.input(Ty::F32, [64, 4, 1, 1]); // 1024
        let a = g.like(Op::Norm, x, &[]); // 1024 at 1024
        let v = g.permute(a, [1, 0, 2, 3]);
        let c = g.cont(v);
        let d = g.like(Op::Norm, c, &[]);
        g.expand(d);
        // x at 0..1024 and a at 1024..2048; x is freed once a is computed and c takes its hole;
        // a is freed once c (the view's consumer) is computed, and d takes a's place.
        assert_eq!(g.reserve(32), 2048);
    }
}

#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod arch;
pub mod companion;
mod compare;
mod compat;
mod config;
mod error;
mod facts;
pub mod keys;
mod llamafy;
mod memory;
mod model;
mod schema;
pub mod story;
pub mod table;
pub mod tokenizer;
mod validate;

pub use arch::{lookup, supported, ArchSpec, Dim, Presence, QkvLayout, RopeType, TensorSpec};
pub use compare::{
    compare, compare_facts, Comparison, FactsSide, Field, Row, TensorRow, TensorSource,
};
pub use compat::{plan, plan_for, AdapterPlan, AdapterStep, Blocker, RowSlice, Verdict};
pub use config::{
    spec_of, AttentionKind, LayerDims, ModelConfig, RopeScaling, TokenizerFacts, MAX_LAYERS,
};
pub use error::{ArchError, Inconsistency};
pub use facts::{ArchFacts, FileKind, LayerEntry, PerLayer, SsmFacts};
pub use llamafy::{llamafy, neox_to_norm_order, LlamafyError};
pub use memory::{
    alloc_bytes, apply_placement, cache_type_refusal, fit_gpus, implausible as memory_implausible,
    llama_memory, n_cpu_moe_overrides, place, plan_memory, plan_memory_loaded, plan_memory_table,
    plan_memory_with, swa_layers, Backend, CacheBuffer, CacheKind, CacheLayer, CacheParams,
    DeviceMemory, GpuFit, GpuPlacement, LayerKind, LayerMemory, LlamaMemory, MemoryOptions,
    MemoryPlan, OverrideTarget, Placement, PlacementError, PlacementOptions, PlanTensor, SplitMode,
    TensorOverride, TypeBytes, DEFAULT_CUDA_OVERHEAD, FFN_EXPS_REGEX, KV_CACHE_TYPES,
};
pub use memory::{
    fit_params, offload_curve, projector_compute, vision_compute, CurvePoint, FitMode, FitOptions,
    FitOutcome, FitOverride, ProjectorCompute, DEFAULT_FIT_MARGIN, DEFAULT_FIT_MIN_CTX,
};
pub use model::{LoadCheck, Model, TensorIndex};
pub use schema::{eval, expected_layout, instantiate, ExpectedTensor};
pub use tokenizer::Vocab;
pub use validate::{validate, SchemaIssue, SchemaReport};

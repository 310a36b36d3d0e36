//! What GGUF metadata and tensor names mean: one spec per architecture, the typed
//! configuration of a model with its derived facts, the seed's `Phi3Config`/`QwenConfig`
//! views, the expected tensor layout and schema validation.
//!
//! ```no_run
//! use ggufscope_gguf::{open, Gguf};
//! use ggufscope_model::{validate, ModelConfig, Phi3Config};
//!
//! let map = open("phi-3-mini-4k-instruct-q4.gguf")?;
//! let gguf = Gguf::parse(&map)?;
//! let config = ModelConfig::from_gguf(&gguf)?;
//! let phi3 = Phi3Config::try_from(&config)?;
//! assert!(phi3.is_mha);
//! let report = validate(&gguf, &config);
//! assert!(!report.has_errors());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod arch;
mod compare;
mod compat;
mod config;
mod error;
mod facts;
pub mod keys;
mod llamafy;
mod memory;
mod schema;
mod seed;
pub mod table;
mod validate;
mod views;

pub use arch::{
    lookup, supported, ArchSpec, Dim, Presence, QkvLayout, RopeType, TensorSpec, ARCHITECTURES,
};
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
    alloc_bytes, apply_placement, fit_gpus, llama_memory, n_cpu_moe_overrides, place,
    plan_memory, plan_memory_loaded, plan_memory_table, swa_layers, Backend, CacheBuffer,
    CacheKind, CacheLayer, CacheParams, DeviceMemory, GpuFit, GpuPlacement, LayerKind,
    LayerMemory, LlamaMemory, MemoryOptions, MemoryPlan, OverrideTarget, Placement,
    PlacementError, PlacementOptions, PlanTensor, SplitMode, TensorOverride, TypeBytes,
    DEFAULT_CUDA_OVERHEAD, FFN_EXPS_REGEX,
};
pub use schema::{eval, expected_layout, instantiate, ExpectedTensor};
pub use seed::{seed_claims, ClaimCheck};
pub use validate::{validate, SchemaIssue, SchemaReport};
pub use views::{Phi3Config, QwenConfig};

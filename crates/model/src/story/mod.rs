//! The Phi-3 story's own items (story LT-029 "Phi-3 Metadata Analysis"): its typed views
//! [`Phi3Config`] and [`QwenConfig`], and the check of its assumptions against a file
//! ([`seed_claims`], one [`ClaimCheck`] each). What the report's "assumptions" section shows;
//! nothing else in the crate depends on them.
//!
//! ```
//! use ggufscope_gguf::{open, Gguf};
//! use ggufscope_model::story::{seed_claims, Phi3Config};
//! use ggufscope_model::ModelConfig;
//!
//! let map = open(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/real/ggml-vocab-phi-3.gguf"))?;
//! let gguf = Gguf::parse(&map)?;
//! let config = ModelConfig::from_gguf(&gguf)?;
//! let phi3 = Phi3Config::try_from(&config)?;
//! assert!(phi3.is_mha);
//! // The story assumed the `llama` architecture: the file says `phi3`.
//! let claims = seed_claims(&gguf, &config);
//! assert!(claims.iter().any(|c| !c.holds));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claims;
mod views;

pub use claims::{seed_claims, ClaimCheck};
pub use views::{Phi3Config, QwenConfig};

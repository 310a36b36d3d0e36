//! Report data: serde structures shared by the JSON output and the text and markdown renderers,
//! so that they can never disagree. Nothing here decides an exit status.

pub mod analysis;
pub mod companion;
pub mod compare;
pub mod compat;
pub mod config;
pub mod expected;
pub mod findings;
pub mod inspect;
pub mod issues;
pub mod llama_layout;
pub mod llamafy;
pub mod markdown;
pub mod memory;
pub mod memory_plot;
pub mod pair;
pub mod table_report;
pub mod template;
pub mod tensor_table;
pub mod tensors;
pub mod validate;
pub mod value;
pub mod verify;
pub mod vocab;

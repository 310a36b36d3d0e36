//! Chat templates of GGUF files (`tokenizer.chat_template`): rendered byte-for-byte as
//! transformers' `apply_chat_template` renders them ([`render`]), their capabilities as
//! llama.cpp's probe finds them ([`caps`]), and what breaks serving ([`findings`]).

pub mod caps;
pub mod findings;
pub mod pyjson;
pub mod pyobj;
pub mod render;
pub mod strftime;
pub mod track;

pub use caps::{probe, Capabilities};
pub use findings::{check, Finding, Tokenizer};
pub use render::{Clock, RenderError, RenderInput, Renderer};

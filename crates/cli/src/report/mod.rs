//! Report data: serde structures shared by the JSON output and the text renderers, so the two
//! can never disagree. Nothing here prints.

pub mod issues;
pub mod value;

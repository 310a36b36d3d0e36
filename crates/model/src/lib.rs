//! Architecture knowledge (in progress).

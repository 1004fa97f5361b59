//! satya-adapt's validator core. Plain Rust: schema compilation, checks,
//! JSON/NDJSON reading, the batch engine and profile sampling. Only `py/`
//! knows about Python, behind the `python` feature.

pub mod format;
pub mod json;
pub mod value;

#[cfg(feature = "python")]
mod py;

//! satya-adapt's validator core. Plain Rust: schema compilation, checks,
//! JSON/NDJSON reading, the batch engine and profile sampling. Only `py/`
//! knows about Python, behind the `python` feature.

pub mod check;
pub mod engine;
pub mod error;
pub mod format;
pub mod fused;
pub mod json;
pub mod metaschemas;
pub mod pattern;
pub mod profile;
pub mod schema;
pub mod stream;
pub mod uri;
pub mod value;

#[cfg(feature = "python")]
mod py;

//! satya-adapt's validator core. Plain Rust: schema compilation, checks,
//! JSON/NDJSON reading, the batch engine and profile sampling. It knows
//! nothing of Python; the bindings (`crates/python`) convert and delegate.
//!
//! The modules are private; what the bindings and the tests use is re-exported
//! here.

#[cfg(feature = "arrow")]
pub mod arrow;
mod check;
mod detect;
mod engine;
mod error;
mod format;
mod fused;
mod json;
mod metaschemas;
mod pattern;
mod profile;
mod schema;
mod sharing;
mod stack;
mod stream;
mod text;
mod uri;
mod value;
mod vocabulary;

// Schema and its compile entry points (`Schema::compile`, `Schema::from_json_text`);
// the nodes a `Record` implementation reads while checking.
pub use schema::{
    Additional, Draft, Node, ObjectChecks, Options, Schema, SchemaError, MAX_SCHEMA_DEPTH,
};
// Checks of one record: `is_valid` (first failure, no allocation), `collect`
// (every error); `is_valid_bytes` checks a record straight from its JSON text.
pub use check::{collect, is_valid, remember_every_visit, validate_capped};
pub use fused::is_valid as is_valid_bytes;
// The engine: entry points, batch configuration knobs and outcome types.
pub use engine::{
    check_in_place, pool, usable_cores, validate_in_place, validate_records, validate_spans,
    workers, ChunkOutcome, EngineError, Interrupt, Knobs, OnParseError, Pipeline, PollSteps,
    Shares, Span, POLL_INTERVAL, POLL_RECORDS,
};
// Readers and chunkers of JSON arrays and NDJSON.
pub use json::{
    locate, parse_value, ArrayElements, JsonError, JsonErrorKind, NdjsonLines, PointerError,
};
pub use stream::{
    skip_bom, ArrayChunker, NdjsonChunker, NdjsonReader, RecordTooLong, BOM,
    DEFAULT_MAX_RECORD_BYTES, READ_BLOCK,
};
// Profiles: schema features, sampling, and detection on a call's input.
pub use detect::{
    profile_json, profile_ndjson, profile_ndjson_file, profile_ndjson_prefix, profile_records,
    Profile, READ_AHEAD_BYTES,
};
pub use profile::{sample_indexes, spread_indexes, SampleStats, SAMPLE_RECORDS, SAMPLE_SPANS};
// Errors of a failing record.
pub use error::{one_string, Path, RecordError};
// The record representation every check reads.
pub use value::{Defect, EntryKey, Json, Keys, KeysOnce, Kind, Number, Record, MAX_DEPTH};
// Key comparison, shared with the bindings' dict walk.
pub use text::same_text;

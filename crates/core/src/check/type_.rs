//! type: the bits of [`Node::types`](crate::schema::Node::types) and
//! [`compile`]. The check itself comes first among a node's checks, in
//! `check_here` (`check/mod.rs`), with `type_names` for its messages.

use serde_json::Value;

use crate::schema::{err, json_type, shorten, SchemaError};

/// Bits of [`Node::types`](crate::schema::Node::types), one per type name.
pub const NULL: u8 = 1;
pub const BOOLEAN: u8 = 2;
pub const INTEGER: u8 = 4;
pub const NUMBER: u8 = 8;
pub const STRING: u8 = 16;
pub const ARRAY: u8 = 32;
pub const OBJECT: u8 = 64;
pub const NAMES: [(&str, u8); 7] = [
    ("null", NULL),
    ("boolean", BOOLEAN),
    ("integer", INTEGER),
    ("number", NUMBER),
    ("string", STRING),
    ("array", ARRAY),
    ("object", OBJECT),
];

/// Compiles `type`: a name or a non-empty array of names, as bits.
pub(crate) fn compile(t: &Value, location: &str) -> Result<u8, SchemaError> {
    let one = |name: &str| -> Result<u8, SchemaError> {
        match NAMES.iter().find(|(n, _)| *n == name) {
            Some((_, bit)) => Ok(*bit),
            None => err(location, format!("unknown type `{}`", shorten(name))),
        }
    };
    match t {
        Value::String(name) => one(name),
        Value::Array(names) if !names.is_empty() => {
            let mut bits = 0;
            for name in names {
                match name {
                    Value::String(n) => bits |= one(n)?,
                    other => {
                        return err(
                            location,
                            format!("`type` entries must be strings, got {}", json_type(other)),
                        )
                    }
                }
            }
            Ok(bits)
        }
        other => err(
            location,
            format!(
                "`type` must be a string or a non-empty array of strings, got {}",
                json_type(other)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::{Schema, SchemaError};

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            compile(r#"{"type": "strin"}"#).unwrap_err().0,
            "unknown type `strin` (at the root)"
        );
    }
}

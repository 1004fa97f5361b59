//! `$vocabulary` (2019-09, 2020-12): a custom meta-schema names the
//! vocabularies its schemas use. Keywords of a known vocabulary it leaves out
//! are annotations; a vocabulary it requires that satya-adapt does not know
//! refuses the schema (the specification's rule: an implementation must not
//! process a schema whose required vocabularies it does not understand).
//!
//! Only the validation vocabulary can be switched off here: its keywords hold
//! no subschemas, so the schema documents are copied without them, before
//! compiling, and nothing that a reference can point into moves. A meta-schema
//! that leaves out the applicator vocabulary keeps its keywords applied (rare;
//! noted in the docs).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::schema::{Draft, SchemaError, SCHEMA_KEYWORDS, SCHEMA_MAPS};
use crate::uri;

/// The vocabularies satya-adapt implements (or reads as annotations), 2019-09 then 2020-12.
const KNOWN: [&str; 14] = [
    "https://json-schema.org/draft/2019-09/vocab/core",
    "https://json-schema.org/draft/2019-09/vocab/applicator",
    "https://json-schema.org/draft/2019-09/vocab/validation",
    "https://json-schema.org/draft/2019-09/vocab/meta-data",
    "https://json-schema.org/draft/2019-09/vocab/format",
    "https://json-schema.org/draft/2019-09/vocab/content",
    "https://json-schema.org/draft/2020-12/vocab/core",
    "https://json-schema.org/draft/2020-12/vocab/applicator",
    "https://json-schema.org/draft/2020-12/vocab/unevaluated",
    "https://json-schema.org/draft/2020-12/vocab/validation",
    "https://json-schema.org/draft/2020-12/vocab/meta-data",
    "https://json-schema.org/draft/2020-12/vocab/format-annotation",
    "https://json-schema.org/draft/2020-12/vocab/format-assertion",
    "https://json-schema.org/draft/2020-12/vocab/content",
];

/// The keywords of the validation vocabulary (the same in 2019-09 and 2020-12).
const VALIDATION: [&str; 20] = [
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
];

/// The custom meta-schemas among `resources`: URI (without fragment) -> document.
pub(crate) struct MetaSchemas<'d> {
    by_uri: HashMap<String, &'d Value>,
}

impl<'d> MetaSchemas<'d> {
    /// Every resource document is a possible meta-schema, under the URI it is
    /// given with and under its own `$id`.
    pub(crate) fn new(resources: &'d [(String, Value)]) -> MetaSchemas<'d> {
        let mut by_uri = HashMap::new();
        for (key, doc) in resources {
            by_uri.insert(absolute(key), doc);
            if let Some(Value::String(id)) = doc.get("$id") {
                by_uri.entry(absolute(id)).or_insert(doc);
            }
        }
        MetaSchemas { by_uri }
    }

    /// The document the schema object `v` names in `$schema`, when it is one
    /// of `resources` (not one of the five drafts' meta-schemas).
    fn custom(&self, v: &Value) -> Option<&'d Value> {
        match v.get("$schema") {
            Some(Value::String(s)) if Draft::from_meta_schema(s).is_none() => {
                self.by_uri.get(&absolute(s)).copied()
            }
            _ => None,
        }
    }

    /// The draft of the schema object `v` when its `$schema` names a custom
    /// meta-schema: the draft that meta-schema declares (followed through a
    /// few custom meta-schemas of custom meta-schemas).
    pub(crate) fn draft_of(&self, v: &Value) -> Option<Draft> {
        let mut at = v;
        for _ in 0..8 {
            at = self.custom(at)?;
            if let Some(Value::String(s)) = at.get("$schema") {
                if let Some(draft) = Draft::from_meta_schema(s) {
                    return Some(draft);
                }
            }
        }
        None
    }

    /// Whether the schema object `v` turns the validation vocabulary off or on
    /// (`None`: its `$schema` says nothing of vocabularies; the enclosing
    /// resource's choice holds). An error when its meta-schema requires a
    /// vocabulary satya-adapt does not know.
    fn validation(&self, v: &Value, location: &str) -> Result<Option<bool>, SchemaError> {
        let Some(Value::String(uri)) = v.get("$schema") else {
            return Ok(None);
        };
        if Draft::from_meta_schema(uri).is_some() {
            return Ok(Some(true));
        }
        let Some(meta) = self.custom(v) else {
            return Ok(None);
        };
        if self.draft_of(v).is_none_or(|d| d < Draft::Draft201909) {
            return Ok(None);
        }
        let Some(vocabularies) = meta.get("$vocabulary") else {
            return Ok(None);
        };
        let Value::Object(vocabularies) = vocabularies else {
            return crate::schema::err(
                location,
                format!("the meta-schema `{uri}` has a `$vocabulary` that is not an object"),
            );
        };
        let unknown: Vec<&str> = vocabularies
            .iter()
            .filter(|(name, required)| {
                **required == Value::Bool(true) && !KNOWN.contains(&name.as_str())
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if !unknown.is_empty() {
            return crate::schema::err(
                location,
                format!(
                    "the meta-schema `{uri}` requires vocabularies satya-adapt does not know: `{}`",
                    unknown.join("`, `")
                ),
            );
        }
        Ok(Some(vocabularies.keys().any(|name| {
            name.ends_with("/vocab/validation") && KNOWN.contains(&name.as_str())
        })))
    }
}

/// `uri` resolved as the compiler registers documents: absolute, no fragment.
fn absolute(uri: &str) -> String {
    uri::split_fragment(&uri::resolve(uri::DEFAULT_BASE, uri))
        .0
        .to_string()
}

/// `doc` without the keywords of the vocabularies its meta-schemas leave out,
/// or `None` when it keeps them all (the usual case: nothing is copied).
pub(crate) fn without_inactive(
    doc: &Value,
    metas: &MetaSchemas<'_>,
) -> Result<Option<Value>, SchemaError> {
    if !mentions_custom_meta(doc, metas) {
        return Ok(None);
    }
    let mut copy = doc.clone();
    strip(&mut copy, metas, true, "")?;
    Ok(Some(copy))
}

/// Whether any schema object of `doc` names a custom meta-schema in `$schema`.
fn mentions_custom_meta(doc: &Value, metas: &MetaSchemas<'_>) -> bool {
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        let Value::Object(map) = v else { continue };
        if metas.custom(v).is_some() {
            return true;
        }
        stack.extend(subschemas(map));
    }
    false
}

/// Removes the validation keywords from the schema object `v` and its
/// subschemas while the validation vocabulary is off (`validation` is the
/// enclosing resource's choice; a `$schema` below changes it for its resource).
fn strip(
    v: &mut Value,
    metas: &MetaSchemas<'_>,
    validation: bool,
    location: &str,
) -> Result<(), SchemaError> {
    let validation = metas.validation(v, location)?.unwrap_or(validation);
    let Value::Object(map) = v else {
        return Ok(());
    };
    if !validation {
        map.retain(|key, _| !VALIDATION.contains(&key.as_str()));
    }
    for (key, child) in map.iter_mut() {
        let at = format!("{location}/{}", crate::schema::escape_pointer(key));
        if SCHEMA_MAPS.contains(&key.as_str()) {
            if let Value::Object(children) = child {
                for (name, sub) in children.iter_mut() {
                    let at = format!("{at}/{}", crate::schema::escape_pointer(name));
                    strip(sub, metas, validation, &at)?;
                }
            }
        } else if SCHEMA_KEYWORDS.contains(&key.as_str()) {
            match child {
                Value::Array(items) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        strip(item, metas, validation, &format!("{at}/{i}"))?;
                    }
                }
                _ => strip(child, metas, validation, &at)?,
            }
        }
    }
    Ok(())
}

/// The subschemas of the schema object `map` (where the compiler looks for them).
fn subschemas(map: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    map.iter().flat_map(|(key, child)| {
        let children: Box<dyn Iterator<Item = &Value>> =
            match (SCHEMA_MAPS.contains(&key.as_str()), child) {
                (true, Value::Object(children)) => Box::new(children.values()),
                (false, Value::Array(items)) if SCHEMA_KEYWORDS.contains(&key.as_str()) => {
                    Box::new(items.iter())
                }
                (false, Value::Object(_)) if SCHEMA_KEYWORDS.contains(&key.as_str()) => {
                    Box::new(std::iter::once(child))
                }
                _ => Box::new(std::iter::empty()),
            };
        children
    })
}

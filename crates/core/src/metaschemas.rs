//! The meta-schemas of the five drafts, embedded so that a reference to one
//! (`{"$ref": "http://json-schema.org/draft-07/schema#"}`) resolves without
//! any network. From json-schema.org, as packaged by `jsonschema-specifications`
//! (see `metaschemas/README.md`).

use std::sync::OnceLock;

use serde_json::Value;

const TEXTS: [&str; 19] = [
    include_str!("../metaschemas/draft4-metaschema.json"),
    include_str!("../metaschemas/draft6-metaschema.json"),
    include_str!("../metaschemas/draft7-metaschema.json"),
    include_str!("../metaschemas/draft201909-metaschema.json"),
    include_str!("../metaschemas/draft201909-vocabularies-applicator.json"),
    include_str!("../metaschemas/draft201909-vocabularies-content.json"),
    include_str!("../metaschemas/draft201909-vocabularies-core.json"),
    include_str!("../metaschemas/draft201909-vocabularies-format.json"),
    include_str!("../metaschemas/draft201909-vocabularies-meta-data.json"),
    include_str!("../metaschemas/draft201909-vocabularies-validation.json"),
    include_str!("../metaschemas/draft202012-metaschema.json"),
    include_str!("../metaschemas/draft202012-vocabularies-applicator.json"),
    include_str!("../metaschemas/draft202012-vocabularies-content.json"),
    include_str!("../metaschemas/draft202012-vocabularies-core.json"),
    include_str!("../metaschemas/draft202012-vocabularies-format-annotation.json"),
    include_str!("../metaschemas/draft202012-vocabularies-format-assertion.json"),
    include_str!("../metaschemas/draft202012-vocabularies-meta-data.json"),
    include_str!("../metaschemas/draft202012-vocabularies-unevaluated.json"),
    include_str!("../metaschemas/draft202012-vocabularies-validation.json"),
];

/// The meta-schema documents, parsed once per process.
pub fn all() -> &'static [Value] {
    static PARSED: OnceLock<Vec<Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        TEXTS
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect()
    })
}

/// Whether a reference anywhere in `doc` names a json-schema.org URI.
pub fn mentioned_in(doc: &Value) -> bool {
    match doc {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (matches!(k.as_str(), "$ref" | "$dynamicRef" | "$recursiveRef")
                && v.as_str().is_some_and(|s| s.contains("json-schema.org/")))
                || mentioned_in(v)
        }),
        Value::Array(items) => items.iter().any(mentioned_in),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_meta_schema_parses() {
        assert_eq!(super::all().len(), super::TEXTS.len());
    }
}

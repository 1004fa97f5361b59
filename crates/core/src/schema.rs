//! Compiling a JSON Schema document (drafts 4, 6, 7, 2019-09 and 2020-12, each
//! with its own semantics) into immutable [`Node`]s. Only compiling can fail.
//!
//! Compiling runs in two passes. The first walks every document (the schema and
//! the `resources` given with it) and records where each schema resource
//! (`$id`/`id`) and anchor (`$anchor`, `$dynamicAnchor`, draft 4-7 `#name`
//! ids) lives. The second compiles the schema into a tree of nodes; a
//! reference (`$ref`, `$dynamicRef`, `$recursiveRef`) is resolved against the
//! base URI in effect and its target compiled once into an arena
//! ([`Schema::nodes`]), so a reference is an index and recursive schemas are
//! finite.
//!
//! This module holds what concerns the document as a whole: drafts, options,
//! errors, the [`Node`] that holds the keyword families, resource indexing,
//! reference resolution and cycle checks. Each keyword family (its compiled
//! form, its `compile` and its `check`) lives in one module of `crate::check`:
//! `string`, `number`, `array`, `object`, `logic`, `equal` (`enum`, `const`)
//! and `type_` (`type`); `Compiler::compile_node` calls each family's
//! `compile` in turn.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::check::{array, equal, logic, number, object, string, MAX_HOPS};
use crate::json;
use crate::pattern::{Pattern, PatternError};
use crate::uri;
use crate::value::{Json, Number};
use crate::vocabulary::{self, MetaSchemas};

// The compiled keyword families a `Node` holds, each defined next to its check.
pub use crate::check::array::ArrayChecks;
pub use crate::check::logic::{Annotations, Logic, Ref};
pub use crate::check::number::NumberChecks;
pub use crate::check::object::{Additional, ObjectChecks};
pub use crate::check::string::StringChecks;
pub use crate::check::type_ as types;

/// A JSON Schema draft; each has its own keywords and semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Draft {
    Draft4,
    Draft6,
    Draft7,
    Draft201909,
    Draft202012,
}

impl Draft {
    /// A draft's name, alone or after `draft` or `draft-`; drafts 4, 6 and 7
    /// also with two digits, as their meta-schemas' URIs write them: `"7"`,
    /// `"07"`, `"draft7"`, `"draft07"`, `"draft-7"`, `"draft-07"`; `"2020-12"`,
    /// `"draft2020-12"`, `"draft-2020-12"`. Nothing else (`"-7"`, `"draftdraft7"`).
    pub fn from_name(name: &str) -> Option<Draft> {
        let n = name
            .strip_prefix("draft")
            .map_or(name, |rest| rest.strip_prefix('-').unwrap_or(rest));
        match n {
            "4" | "04" => Some(Draft::Draft4),
            "6" | "06" => Some(Draft::Draft6),
            "7" | "07" => Some(Draft::Draft7),
            "2019-09" => Some(Draft::Draft201909),
            "2020-12" => Some(Draft::Draft202012),
            _ => None,
        }
    }

    /// The draft a `$schema` URI names, if it is one of the five meta-schemas.
    pub fn from_meta_schema(uri: &str) -> Option<Draft> {
        let u = uri.trim_end_matches('#');
        let u = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))?;
        match u {
            "json-schema.org/draft-04/schema" => Some(Draft::Draft4),
            "json-schema.org/draft-06/schema" => Some(Draft::Draft6),
            "json-schema.org/draft-07/schema" => Some(Draft::Draft7),
            "json-schema.org/draft/2019-09/schema" => Some(Draft::Draft201909),
            "json-schema.org/draft/2020-12/schema" => Some(Draft::Draft202012),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Draft::Draft4 => "draft4",
            Draft::Draft6 => "draft6",
            Draft::Draft7 => "draft7",
            Draft::Draft201909 => "draft2019-09",
            Draft::Draft202012 => "draft2020-12",
        }
    }
}

/// How to compile: the draft when `$schema` names none, whether unknown keywords
/// are an error, and the documents that references may name besides the schema.
#[derive(Debug, Default)]
pub struct Options {
    /// Overrides the root document's `$schema` (an embedded resource or a
    /// `resources` document naming its own keeps it); 2020-12 when neither says.
    pub draft: Option<Draft>,
    /// Unknown keywords raise one error listing them all (else they are annotations).
    pub strict: bool,
    /// `(uri, document)` pairs that references resolve to without any network.
    pub resources: Vec<(String, Value)>,
    /// `format` is an annotation (else the formats of the draft are asserted).
    pub annotate_formats: bool,
}

impl Options {
    /// `resources` from JSON text: an object mapping URIs to documents.
    pub fn parse_resources(text: &str) -> Result<Vec<(String, Value)>, SchemaError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
            _ => Err(SchemaError(
                "`resources` must map URIs to JSON documents".to_string(),
            )),
        }
    }
}

#[derive(Debug)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An index into [`Schema::nodes`].
pub type NodeId = usize;

/// A schema resource's dynamic anchors (`$dynamicAnchor`, and `$recursiveAnchor`
/// under the name `""`).
#[derive(Debug, Default)]
pub struct Resource {
    /// Looked up at each resource in scope for each dynamic reference resolved: hashed
    /// fast (the names are the schema's own).
    pub dynamic_anchors: FxHashMap<String, NodeId>,
}

/// One compiled (sub)schema. Keyword families apply to the kinds they concern.
///
/// Laid out in this order (`repr(C)`): the flags every visit reads, the logic, the
/// string keywords (their pattern boxed), then the object keywords' most read fields,
/// so that a visit of a string or object node reads its first two or three cache
/// lines, not five spread over 968 bytes (the node is 792 now).
#[derive(Debug, Default)]
#[repr(C)]
pub struct Node {
    /// The `false` schema: nothing is valid.
    pub always_false: bool,
    /// `{}`/`true`, or only annotations: everything is valid, nothing to look at.
    pub trivial: bool,
    /// Allowed types as [`types`] bits; 0 = any.
    pub types: u8,
    /// `const` or `enum` present: read before them, next to the other flags, so a node
    /// without them costs no read of where they lie (another cache line).
    pub equality: bool,
    /// Its only check is one static reference (see [`Node::ref_alone`]): known next to the
    /// other flags, so that following it reads none of the checks it lacks (six cache
    /// lines of the node).
    pub ref_alone: bool,
    /// Its only check is `type` (a leaf such as `{"type": "string"}` with annotations):
    /// a value of an allowed kind passes without the full visit (see
    /// [`crate::check::check`]).
    pub types_only: bool,
    /// Named by two references or more (or the end of a chain of references from such a
    /// node): a walk may reach it at one value many times, and remembers its verdicts
    /// (see `check::revisit`).
    pub revisited: bool,
    /// The schema resource this node starts (an index into [`Schema::resources`]).
    pub resource: Option<u32>,
    /// References, combinators, conditionals, `unevaluated*`.
    pub logic: Option<Box<Logic>>,
    pub string: Option<StringChecks>,
    pub object: Option<ObjectChecks>,
    pub array: Option<ArrayChecks>,
    pub number: Option<NumberChecks>,
    pub const_value: Option<Json<'static>>,
    pub enum_values: Option<crate::check::Enum>,
    /// Set where `unevaluated*` may read this node's annotations.
    pub annotations: Option<Box<Annotations>>,
    /// Where the node is in the schema, as a JSON pointer (the target of a
    /// reference: where it was first reached, through the `$ref`).
    pub location: Box<str>,
}

impl Node {
    /// Whether the node has no check of its own besides its logic (`$ref`,
    /// combinators, ...) and `false`.
    pub fn no_own_checks(&self) -> bool {
        self.types == 0 && self.no_checks_but_type()
    }

    /// Whether the node checks nothing but `type`, its logic and `false`.
    fn no_checks_but_type(&self) -> bool {
        self.const_value.is_none()
            && self.enum_values.is_none()
            && self.string.is_none()
            && self.number.is_none()
            && self.array.is_none()
            && self.object.is_none()
    }

    /// The target of a node whose only check is one static reference (the `ref_alone`
    /// flag, see [`Node::ref_alone`]): a value passes the node exactly when it passes it.
    #[inline(always)]
    pub fn static_target(&self) -> Option<NodeId> {
        if !self.ref_alone {
            return None;
        }
        match self.logic.as_deref()?.refs.as_slice() {
            [(Ref::Static(target), _)] => Some(*target),
            _ => None,
        }
    }

    /// Whether the node's only check is one static reference (a value passes it exactly
    /// when it passes the target; in a schema with dynamic references, only when the node
    /// starts no resource either).
    pub fn ref_alone(&self) -> bool {
        let Some(logic) = self.logic.as_deref() else {
            return false;
        };
        matches!(logic.refs.as_slice(), [(Ref::Static(_), _)])
            && logic.all_of.is_empty()
            && logic.any_of.is_empty()
            && logic.one_of.is_empty()
            && logic.not.is_none()
            && logic.cond.is_none()
            && logic.unevaluated_properties.is_none()
            && logic.unevaluated_items.is_none()
            && self.no_own_checks()
            && !self.always_false
            && self.annotations.is_none()
    }

    /// Whether `type` is the node's only check (see [`Node::types_only`]).
    pub fn types_only(&self) -> bool {
        self.types != 0
            && self.no_checks_but_type()
            && self.logic.is_none()
            && self.annotations.is_none()
            && !self.always_false
    }

    /// Whether checking this node may read any part of the value (so a host that
    /// converts values for the checks converts it whole).
    pub fn reads_whole(&self) -> bool {
        // `false` prints the value it refuses.
        self.always_false
            || self.logic.is_some()
            || self.annotations.is_some()
            || self.object.as_ref().is_some_and(|o| {
                !o.patterns.is_empty()
                    || o.property_names.is_some()
                    || !o.dependent_required.is_empty()
                    || !o.dependent_schemas.is_empty()
            })
            || self.array.as_ref().is_some_and(|a| a.contains.is_some())
    }
}

/// A compiled schema, immutable and shared between calls and threads.
#[derive(Debug)]
pub struct Schema {
    pub root: Node,
    /// Targets of references, indexed by [`NodeId`].
    pub nodes: Vec<Node>,
    /// Schema resources, for dynamic references.
    pub resources: Vec<Resource>,
    /// Whether any reference is dynamic (checks then track the dynamic scope).
    pub dynamic: bool,
    /// Whether a walk counts its visits of [`Node::revisited`] nodes: some node is.
    pub revisits: bool,
    /// Whether a chain of references followed in place can reach
    /// [`crate::check::MAX_HOPS`] (where a walk gives up): a node's verdict then
    /// depends on how many led to it.
    pub hops_matter: bool,
    /// Whether a walk may follow more than [`crate::check::MAX_HOPS`] references in place
    /// (compiling refuses such chains, loops included, where it can follow every walk with
    /// its dynamic scope; past `MAX_SCOPED_STATES` it cannot): such a walk stops the
    /// record's (see `check::revisit::Looped`).
    pub may_loop: bool,
    /// Compiled for tests to remember every visit (see `check::remember_every_visit`).
    pub remembers_every_visit: bool,
    /// The draft of the root document.
    pub draft: Draft,
    /// Leaf fields: properties and array items that are not objects with properties.
    pub field_count: usize,
    /// 0..1, see [`crate::profile::constraint_complexity`].
    pub constraint_complexity: f64,
    /// What compiling noticed that the schema's author should hear, though it compiles:
    /// each `$schema` that names no draft (see [`Compiler::unrecognised`]).
    pub warnings: Vec<String>,
}

/// How deeply a schema document may nest objects and arrays (the root is level 1).
pub const MAX_SCHEMA_DEPTH: usize = 100;

/// Stack of the thread that compiles a schema (see [`Schema::compile_with`]).
const COMPILE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// How many definitions compiling may enter, each first met inside the one before (a
/// chain of definitions, each naming the next). Compiling recurses once per level,
/// and each level's location names the whole path to it: 20,000 levels (a 700 KB
/// schema) overflowed the compiler's stack, 8,000 took 2-3 GB; 1,000 take 70 MB. The
/// 925 SchemaStore schemas nest 14 at most.
const MAX_TARGET_NESTING: usize = 1000;

fn too_many_nested_targets() -> String {
    format!(
        "definitions first reached through more than {MAX_TARGET_NESTING} references, each \
         inside the last (a chain of definitions, each naming the next): refused"
    )
}

fn too_deep_error() -> SchemaError {
    SchemaError(format!(
        "the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    ))
}

impl Schema {
    /// Compiles a JSON Schema document given as JSON text.
    pub fn from_json_text(text: &str) -> Result<Schema, SchemaError> {
        Schema::compile(&Schema::parse_document(text)?)
    }

    /// A schema document from JSON text, held to [`MAX_SCHEMA_DEPTH`] before it
    /// is parsed (so the parser's own recursion limit is never what answers).
    pub fn parse_document(text: &str) -> Result<Value, SchemaError> {
        if text_depth_exceeds(text.as_bytes(), MAX_SCHEMA_DEPTH) {
            return Err(too_deep_error());
        }
        serde_json::from_str(text)
            .map_err(|e| SchemaError(format!("the schema is not valid JSON: {e}")))
    }

    pub fn compile(doc: &Value) -> Result<Schema, SchemaError> {
        Schema::compile_with(doc, &Options::default())
    }

    pub fn compile_with(doc: &Value, options: &Options) -> Result<Schema, SchemaError> {
        if value_depth_exceeds(doc, MAX_SCHEMA_DEPTH) {
            return Err(too_deep_error());
        }
        // Compiling recurses once per nesting level (and through references):
        // a stack of its own keeps a schema at the depth limit from overflowing
        // a caller's small stack (a test thread, a pool thread).
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("satya-adapt-compile".into())
                .stack_size(COMPILE_STACK_BYTES)
                .spawn_scoped(scope, || Schema::compile_here(doc, options))
                .map_err(|e| SchemaError(format!("could not start the schema compiler: {e}")))?
                .join()
                .unwrap_or_else(|_| {
                    Err(SchemaError(
                        "internal error while compiling the schema (please report it)".into(),
                    ))
                })
        })
    }

    fn compile_here(doc: &Value, options: &Options) -> Result<Schema, SchemaError> {
        let metas = MetaSchemas::new(&options.resources);
        // Documents whose meta-schemas switch a vocabulary off are compiled
        // from copies without its keywords.
        let doc_copy = vocabulary::without_inactive(doc, &metas)?;
        let doc = doc_copy.as_ref().unwrap_or(doc);
        let resource_copies = options
            .resources
            .iter()
            .map(|(_, r)| vocabulary::without_inactive(r, &metas))
            .collect::<Result<Vec<_>, _>>()?;
        let resources = options
            .resources
            .iter()
            .zip(&resource_copies)
            .map(|((uri, r), copy)| (uri, copy.as_ref().unwrap_or(r)));
        let mut c = Compiler::new(options, metas);
        let draft = options
            .draft
            .or_else(|| c.declared_draft(doc))
            .unwrap_or(Draft::Draft202012);
        if options.draft.is_some() {
            c.root_draft = Some((doc, draft));
        }
        c.register(uri::DEFAULT_BASE, doc, draft, uri::DEFAULT_BASE);
        c.index(doc, uri::DEFAULT_BASE, draft, true);
        for (uri, resource) in resources {
            let base = uri::split_fragment(&uri::resolve(uri::DEFAULT_BASE, uri))
                .0
                .to_string();
            let d = c.declared_draft(resource).unwrap_or(draft);
            c.register(&base, resource, d, &base);
            c.index(resource, &base, d, true);
        }
        if crate::metaschemas::mentioned_in(doc)
            || options
                .resources
                .iter()
                .any(|(_, r)| crate::metaschemas::mentioned_in(r))
        {
            for meta in crate::metaschemas::all() {
                let d = root_meta_draft(meta).unwrap_or(draft);
                c.index(meta, uri::DEFAULT_BASE, d, false);
            }
        }
        // A schema of a draft satya-adapt does not implement (draft 3's `required: true`)
        // fails as the draft it is read as: the error says why it was read so.
        let explained = |e: SchemaError, c: &Compiler| {
            let warnings = unrecognised_warnings(&c.unrecognised);
            if warnings.is_empty() {
                e
            } else {
                SchemaError(format!("{}; {}", e.0, warnings.join("; ")))
            }
        };
        let root = match c.compile_node(doc, uri::DEFAULT_BASE, draft, "", true) {
            Ok(root) => root,
            Err(e) => return Err(explained(e, &c)),
        };
        if let Err(e) = c.finish_dynamic(root.resource) {
            return Err(explained(e, &c));
        }
        if !c.unknown.is_empty() {
            let shown: Vec<&str> = c.unknown.iter().take(20).map(String::as_str).collect();
            let more = if c.unknown.len() > 20 {
                format!(" and {} more", c.unknown.len() - 20)
            } else {
                String::new()
            };
            let e = SchemaError(format!("unknown keywords: {}{more}", shown.join(", ")));
            return Err(explained(e, &c));
        }
        let warnings = unrecognised_warnings(&c.unrecognised);
        if options.strict && !warnings.is_empty() {
            return Err(SchemaError(warnings.join("; ")));
        }
        let mut nodes: Vec<Node> = c.nodes.into_iter().map(Option::unwrap_or_default).collect();
        let chain = check_cycles(&root, &nodes, &c.resources, &c.locations, &c.references)?;
        let every_visit = crate::check::every_visit();
        let revisits = mark_revisited(&root, &mut nodes, &c.referrers, every_visit);
        let field_count = crate::profile::field_count(&root, &nodes);
        let constraint_complexity = crate::profile::constraint_complexity(&root, &nodes);
        Ok(Schema {
            root,
            nodes,
            resources: c.resources,
            dynamic: c.dynamic,
            revisits,
            hops_matter: chain >= MAX_HOPS,
            may_loop: chain > MAX_HOPS,
            remembers_every_visit: every_visit,
            draft,
            field_count,
            constraint_complexity,
            warnings,
        })
    }
}

/// What the schema's author is told of each `$schema` that names no draft.
fn unrecognised_warnings(unrecognised: &[(String, Draft, String)]) -> Vec<String> {
    unrecognised
        .iter()
        .map(|(named, draft, location)| {
            let draft = draft.name().trim_start_matches("draft");
            let (at, read) = if location.is_empty() {
                (
                    String::new(),
                    format!("the schema is read as draft {draft}; `draft=` (the command line's `--draft`) chooses another"),
                )
            } else {
                (
                    format!(" (at {location})"),
                    format!("the schema there is read as draft {draft}, the draft around it"),
                )
            };
            format!(
                "`$schema` `{}`{at} names none of the drafts satya-adapt implements (4, 6, 7, \
                 2019-09, 2020-12) nor a meta-schema given in `resources`: {read}",
                shorten(named)
            )
        })
        .collect()
}

/// Whether the objects and arrays of JSON `text` nest deeper than `max` (a
/// scan that skips strings; malformed text is left to the parser).
fn text_depth_exceeds(text: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Whether the objects and arrays of `doc` nest deeper than `max` (no recursion).
fn value_depth_exceeds(doc: &Value, max: usize) -> bool {
    let mut stack = vec![(doc, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

fn root_meta_draft(doc: &Value) -> Option<Draft> {
    match doc.get("$schema") {
        Some(Value::String(s)) => Draft::from_meta_schema(s),
        _ => None,
    }
}

pub(crate) fn err<T>(location: &str, message: impl std::fmt::Display) -> Result<T, SchemaError> {
    let at = if location.is_empty() {
        "the root"
    } else {
        location
    };
    Err(SchemaError(format!("{message} (at {at})")))
}

/// Keywords whose values are a schema or an array of schemas.
pub(crate) const SCHEMA_KEYWORDS: [&str; 17] = [
    "additionalProperties",
    "additionalItems",
    "items",
    "prefixItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "allOf",
    "anyOf",
    "oneOf",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
    "extends",
];
/// Keywords whose values map names to schemas.
pub(crate) const SCHEMA_MAPS: [&str; 6] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
    "dependencies",
];

/// Whether `key` is a keyword of `draft` (assertion, applicator or annotation).
fn is_keyword(key: &str, draft: Draft) -> bool {
    let common = matches!(
        key,
        "$schema"
            | "title"
            | "description"
            | "default"
            | "examples"
            | "$comment"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "definitions"
            | "format"
            | "type"
            | "enum"
            | "minLength"
            | "maxLength"
            | "pattern"
            | "minimum"
            | "maximum"
            | "exclusiveMinimum"
            | "exclusiveMaximum"
            | "multipleOf"
            | "items"
            | "additionalItems"
            | "minItems"
            | "maxItems"
            | "uniqueItems"
            | "properties"
            | "patternProperties"
            | "required"
            | "additionalProperties"
            | "minProperties"
            | "maxProperties"
            | "allOf"
            | "anyOf"
            | "oneOf"
            | "not"
            | "$ref"
            | "contentEncoding"
            | "contentMediaType"
    );
    if common {
        return true;
    }
    match draft {
        Draft::Draft4 => matches!(key, "id" | "dependencies"),
        Draft::Draft6 => matches!(
            key,
            "$id" | "dependencies" | "const" | "contains" | "propertyNames"
        ),
        Draft::Draft7 => matches!(
            key,
            "$id"
                | "dependencies"
                | "const"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else"
        ),
        Draft::Draft201909 | Draft::Draft202012 => {
            matches!(
                key,
                "$id"
                    | "$anchor"
                    | "$defs"
                    | "$vocabulary"
                    | "const"
                    | "contains"
                    | "minContains"
                    | "maxContains"
                    | "propertyNames"
                    | "if"
                    | "then"
                    | "else"
                    | "dependentRequired"
                    | "dependentSchemas"
                    | "dependencies"
                    | "unevaluatedProperties"
                    | "unevaluatedItems"
                    | "contentSchema"
            ) || (draft == Draft::Draft201909
                && matches!(key, "$recursiveRef" | "$recursiveAnchor"))
                || (draft == Draft::Draft202012
                    && matches!(key, "prefixItems" | "$dynamicRef" | "$dynamicAnchor"))
        }
    }
}

/// The `$id` (`id` in draft 4) of a schema object, if it sets a base URI.
/// Drafts 4-7 ignore it next to `$ref`, and a draft 4-7 id of the form
/// `#name` is an anchor, not a base.
fn id_of(map: &Map<String, Value>, draft: Draft) -> Option<&str> {
    let key = if draft == Draft::Draft4 { "id" } else { "$id" };
    let Some(Value::String(id)) = map.get(key) else {
        return None;
    };
    if draft <= Draft::Draft7 && map.contains_key("$ref") {
        return None;
    }
    if draft <= Draft::Draft7 && id.starts_with('#') {
        return None;
    }
    Some(id)
}

/// A location (schema value, the base URI in effect at its parent, its draft).
#[derive(Clone, Copy)]
struct Place<'d> {
    value: &'d Value,
    draft: Draft,
}

struct Compiler<'d> {
    /// Absolute URI (no fragment) -> the resource's root, with the base URI in
    /// effect at its parent.
    documents: HashMap<String, (Place<'d>, String)>,
    /// `uri#name` -> the schema carrying the anchor, with the base in effect at its parent.
    anchors: HashMap<String, (Place<'d>, String)>,
    /// Resource URI -> its `$dynamicAnchor` names (and `""` for `$recursiveAnchor: true`),
    /// each with the schema carrying it and the base in effect at that schema's parent.
    dynamic_anchors: HashMap<String, Vec<(String, Place<'d>, String)>>,
    /// The anchor names dynamic references look up (see [`Compiler::finish_dynamic`]).
    dynamic_names: HashSet<String>,
    /// Addresses of the schemas that start a resource (an `$id`, or a document's root):
    /// only there does a 2019-09 `$recursiveAnchor` count.
    resource_roots: HashSet<usize>,
    /// Arena slots; `None` while the target is being compiled.
    nodes: Vec<Option<Node>>,
    locations: Vec<String>,
    /// The reference each arena node was first reached by, as written (for messages).
    references: Vec<String>,
    /// Address of a schema value -> its arena node.
    memo: HashMap<usize, NodeId>,
    /// References compiled to each arena node.
    referrers: Vec<u32>,
    resources: Vec<Resource>,
    resource_ids: HashMap<String, u32>,
    /// Each resource's URI, indexed like `resources`.
    resource_uris: Vec<String>,
    dynamic: bool,
    strict: bool,
    strict_seen: HashSet<usize>,
    unknown: Vec<String>,
    annotate_formats: bool,
    /// `unevaluated*` occurs somewhere: nodes keep their annotations.
    keep_annotations: bool,
    /// The root document and the draft `Options::draft` gives it: the override
    /// wins over the root's own `$schema` however the root is reached.
    root_draft: Option<(&'d Value, Draft)>,
    /// Custom meta-schemas among the resources (their drafts, their vocabularies).
    metas: MetaSchemas<'d>,
    /// Targets being compiled, each inside the last (see [`MAX_TARGET_NESTING`]).
    nesting: usize,
    /// Each `$schema` value that names neither one of the five drafts nor a custom
    /// meta-schema among the resources (once each), with the draft its schema is read
    /// as and whether it is the root document's: a warning (an error when strict).
    unrecognised: Vec<(String, Draft, String)>,
}

impl<'d> Compiler<'d> {
    fn new(options: &Options, metas: MetaSchemas<'d>) -> Compiler<'d> {
        Compiler {
            metas,
            documents: HashMap::new(),
            anchors: HashMap::new(),
            dynamic_anchors: HashMap::new(),
            dynamic_names: HashSet::new(),
            resource_roots: HashSet::new(),
            nodes: Vec::new(),
            locations: Vec::new(),
            references: Vec::new(),
            memo: HashMap::new(),
            referrers: Vec::new(),
            resources: Vec::new(),
            resource_ids: HashMap::new(),
            resource_uris: Vec::new(),
            dynamic: false,
            strict: options.strict,
            strict_seen: HashSet::new(),
            unknown: Vec::new(),
            annotate_formats: options.annotate_formats,
            keep_annotations: false,
            root_draft: None,
            nesting: 0,
            unrecognised: Vec::new(),
        }
    }

    /// The draft a schema object declares for itself: the `$schema` it names,
    /// except the root document under `Options::draft`. An embedded resource
    /// or a `resources` document naming its own `$schema` keeps it.
    fn declared_draft(&self, v: &Value) -> Option<Draft> {
        match self.root_draft {
            Some((root, draft)) if std::ptr::eq(v, root) => Some(draft),
            _ => root_meta_draft(v).or_else(|| self.metas.draft_of(v)),
        }
    }

    /// Remembers a `$schema` value (`named`) that names no draft, of the schema compiled
    /// at `location`: it is read as `draft` (2020-12 at the root, else the draft around
    /// it). A few are kept, each value once.
    fn note_unrecognised(&mut self, named: &Value, draft: Draft, location: &str) {
        let text = match named {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if self.unrecognised.len() < 8 && !self.unrecognised.iter().any(|(t, ..)| *t == text) {
            self.unrecognised
                .push((text, draft, shorten(location).into_owned()));
        }
    }

    fn register(&mut self, uri: &str, value: &'d Value, draft: Draft, parent_base: &str) {
        self.documents
            .entry(uri.to_string())
            .or_insert((Place { value, draft }, parent_base.to_string()));
    }

    /// First pass: records the resources and anchors of the schema `v`, whose
    /// parent's base URI is `base`.
    fn index(&mut self, v: &'d Value, base: &str, draft: Draft, doc_root: bool) {
        let Value::Object(map) = v else {
            return;
        };
        let draft = self.declared_draft(v).unwrap_or(draft);
        if map.contains_key("unevaluatedProperties") || map.contains_key("unevaluatedItems") {
            self.keep_annotations = true;
        }
        let parent_base = base.to_string();
        let mut base = base.to_string();
        let resource_root = doc_root || id_of(map, draft).is_some();
        if resource_root {
            self.resource_roots.insert(v as *const Value as usize);
        }
        if let Some(id) = id_of(map, draft) {
            let (resolved, fragment) = {
                let r = uri::resolve(&base, id);
                let (a, f) = uri::split_fragment(&r);
                (a.to_string(), f.to_string())
            };
            self.register(&resolved, v, draft, &parent_base);
            if !fragment.is_empty() && draft <= Draft::Draft7 {
                self.anchors.insert(
                    format!("{resolved}#{fragment}"),
                    (Place { value: v, draft }, parent_base.clone()),
                );
            }
            base = resolved;
        } else if doc_root {
            self.register(&base, v, draft, &parent_base);
        }
        let anchor = |name: &str, this: &mut Self| {
            this.anchors.insert(
                format!("{base}#{name}"),
                (Place { value: v, draft }, parent_base.clone()),
            );
        };
        if draft <= Draft::Draft7 {
            let key = if draft == Draft::Draft4 { "id" } else { "$id" };
            if let Some(Value::String(id)) = map.get(key) {
                if let Some(name) = id.strip_prefix('#') {
                    if !map.contains_key("$ref") {
                        anchor(name, self);
                    }
                }
            }
        }
        if draft >= Draft::Draft201909 {
            if let Some(Value::String(name)) = map.get("$anchor") {
                anchor(name, self);
            }
        }
        if draft == Draft::Draft202012 {
            if let Some(Value::String(name)) = map.get("$dynamicAnchor") {
                anchor(name, self);
                self.dynamic_anchors.entry(base.clone()).or_default().push((
                    name.clone(),
                    Place { value: v, draft },
                    parent_base.clone(),
                ));
            }
        }
        // 2019-09 gives `$recursiveAnchor` a meaning only at a resource's root.
        if draft == Draft::Draft201909
            && resource_root
            && map.get("$recursiveAnchor") == Some(&Value::Bool(true))
        {
            self.dynamic_anchors.entry(base.clone()).or_default().push((
                String::new(),
                Place { value: v, draft },
                parent_base.clone(),
            ));
        }
        // Only subschemas are searched: an `$id` inside an unknown keyword or
        // inside data (`enum`, `const`) identifies nothing.
        for (key, child) in map {
            if SCHEMA_MAPS.contains(&key.as_str()) {
                if let Value::Object(children) = child {
                    for sub in children.values() {
                        self.index(sub, &base, draft, false);
                    }
                }
            } else if SCHEMA_KEYWORDS.contains(&key.as_str()) {
                match child {
                    Value::Object(_) => self.index(child, &base, draft, false),
                    Value::Array(items) => {
                        for item in items {
                            self.index(item, &base, draft, false);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The schema a reference names, with the base URI in effect at its parent.
    fn locate(
        &self,
        base: &str,
        reference: &str,
        location: &str,
        keyword: &str,
    ) -> Result<(Place<'d>, String), SchemaError> {
        let absolute = uri::resolve(base, reference);
        let (doc_uri, fragment) = uri::split_fragment(&absolute);
        let unresolvable = || {
            err(
                location,
                format!(
                    "cannot resolve `{keyword}` `{}`",
                    shown_reference(reference)
                ),
            )
        };
        let Some(fragment) = uri::percent_decode(fragment) else {
            return unresolvable();
        };
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return match self.anchors.get(&format!("{doc_uri}#{fragment}")) {
                Some((place, b)) => Ok((*place, b.clone())),
                None => unresolvable(),
            };
        }
        let Some((doc, doc_parent)) = self.documents.get(doc_uri) else {
            return unresolvable();
        };
        if fragment.is_empty() {
            return Ok((*doc, doc_parent.clone()));
        }
        let Some(tokens) = uri::pointer_tokens(&fragment) else {
            return unresolvable();
        };
        let mut current = doc.value;
        let mut at = doc_uri.to_string();
        let mut draft = doc.draft;
        for (i, token) in tokens.iter().enumerate() {
            if i > 0 {
                if let Value::Object(map) = current {
                    if let Some(d) = self.declared_draft(current) {
                        draft = d;
                    }
                    if let Some(id) = id_of(map, draft) {
                        at = uri::split_fragment(&uri::resolve(&at, id)).0.to_string();
                    }
                }
            }
            current = match current {
                Value::Object(map) => match map.get(token) {
                    Some(v) => v,
                    None => return unresolvable(),
                },
                // RFC 6901: `0` or digits without a leading zero (Rust's `usize` parse
                // took `00` and `+0` too).
                Value::Array(items) => match json::array_index(token).and_then(|i| items.get(i)) {
                    Some(v) => v,
                    None => return unresolvable(),
                },
                _ => return unresolvable(),
            };
        }
        Ok((
            Place {
                value: current,
                draft,
            },
            at,
        ))
    }

    /// Compiles the schema `place`, which `reference` names, into the arena (once) and
    /// returns its index.
    fn target(
        &mut self,
        place: Place<'d>,
        base: &str,
        location: &str,
        reference: &str,
    ) -> Result<NodeId, SchemaError> {
        let key = place.value as *const Value as usize;
        if let Some(&id) = self.memo.get(&key) {
            return Ok(id);
        }
        let id = self.nodes.len();
        self.nodes.push(None);
        self.locations.push(location.to_string());
        self.references.push(reference.to_string());
        self.memo.insert(key, id);
        if self.nesting >= MAX_TARGET_NESTING {
            // (The location is the chain itself: its start tells where.)
            return err(&shorten_to(location, 200), too_many_nested_targets());
        }
        self.nesting += 1;
        let node = self.compile_node(place.value, base, place.draft, location, false);
        self.nesting -= 1;
        let mut node = node?;
        if node.resource.is_none() {
            // Entering a reference enters the resource its target lives in.
            node.resource = Some(self.resource_id(base));
        }
        self.nodes[id] = Some(node);
        Ok(id)
    }

    fn resolve_ref(
        &mut self,
        base: &str,
        reference: &Value,
        location: &str,
        keyword: &'static str,
    ) -> Result<NodeId, SchemaError> {
        let Value::String(reference) = reference else {
            return err(
                location,
                format!("`{keyword}` must be a string, got {}", json_type(reference)),
            );
        };
        let (place, at) = self.locate(base, reference, location, keyword)?;
        let target_location = format!("{location}/{keyword}");
        let id = self.target(place, &at, &target_location, reference)?;
        if self.referrers.len() <= id {
            self.referrers.resize(id + 1, 0);
        }
        self.referrers[id] += 1;
        Ok(id)
    }

    fn resource_id(&mut self, uri: &str) -> u32 {
        if let Some(&id) = self.resource_ids.get(uri) {
            return id;
        }
        let id = self.resources.len() as u32;
        self.resources.push(Resource::default());
        self.resource_ids.insert(uri.to_string(), id);
        self.resource_uris.push(uri.to_string());
        id
    }

    /// Compiles the dynamic anchors a dynamic reference may resolve to: those of each
    /// resource entered that some dynamic reference names (compiling them may enter
    /// resources and add references: repeated to a fixpoint), except those the root's
    /// resource (`root_resource`) declares too: every walk starts there, so the root's
    /// wins. An anchor never looked up is not compiled: an error inside it would refuse
    /// a schema whose checks never reach it, as an unreferenced `$defs` entry is not.
    fn finish_dynamic(&mut self, root_resource: Option<u32>) -> Result<(), SchemaError> {
        if !self.dynamic {
            return Ok(());
        }
        let root_anchors: HashSet<String> = root_resource
            .and_then(|r| self.dynamic_anchors.get(&self.resource_uris[r as usize]))
            .map(|anchors| anchors.iter().map(|(name, ..)| name.clone()).collect())
            .unwrap_or_default();
        let mut compiled: HashSet<(usize, String)> = HashSet::new();
        loop {
            let names_before = self.dynamic_names.len();
            // In resource order, so that arena indexes (and which error wins) are the
            // same at every run; resources entered meanwhile are taken in this pass.
            let mut rid = 0;
            while rid < self.resources.len() {
                let uri_ = self.resource_uris[rid].clone();
                let anchors = self.dynamic_anchors.get(&uri_).cloned().unwrap_or_default();
                let is_root = root_resource.is_some_and(|r| r as usize == rid);
                for (name, place, parent_base) in anchors {
                    if !self.dynamic_names.contains(&name)
                        || (!is_root && root_anchors.contains(&name))
                        || !compiled.insert((rid, name.clone()))
                    {
                        continue;
                    }
                    let named = format!("{uri_}#{name}");
                    // Compiled against its parent's base, as a reference to it is: its
                    // own `$id` is resolved once.
                    let id = self.target(place, &parent_base, &named, &named)?;
                    self.resources[rid]
                        .dynamic_anchors
                        .entry(name)
                        .or_insert(id);
                }
                rid += 1;
            }
            if self.dynamic_names.len() == names_before {
                return Ok(());
            }
        }
    }

    fn compile_node(
        &mut self,
        doc: &'d Value,
        base: &str,
        draft: Draft,
        location: &str,
        doc_root: bool,
    ) -> Result<Node, SchemaError> {
        let map = match doc {
            Value::Bool(true) => {
                return Ok(Node {
                    trivial: true,
                    location: location.into(),
                    ..Node::default()
                })
            }
            Value::Bool(false) => {
                return Ok(Node {
                    always_false: true,
                    location: location.into(),
                    ..Node::default()
                })
            }
            Value::Object(map) => map,
            other => {
                return err(
                    location,
                    format!(
                        "a schema must be an object or a boolean, got {}",
                        json_type(other)
                    ),
                )
            }
        };
        let declared = self.declared_draft(doc);
        if declared.is_none() {
            if let Some(named) = map.get("$schema") {
                self.note_unrecognised(named, draft, location);
            }
        }
        let draft = declared.unwrap_or(draft);
        let mut node = Node {
            location: location.into(),
            ..Node::default()
        };
        let base_owned;
        let mut base = base;
        if let Some(id) = id_of(map, draft) {
            base_owned = uri::split_fragment(&uri::resolve(base, id)).0.to_string();
            base = &base_owned;
            node.resource = Some(self.resource_id(base));
        } else if doc_root {
            node.resource = Some(self.resource_id(base));
        }
        let mut refs = Vec::new();
        if let Some(r) = map.get("$ref") {
            let id = self.resolve_ref(base, r, location, "$ref")?;
            refs.push((Ref::Static(id), "$ref"));
            if draft <= Draft::Draft7 {
                // Drafts 4-7: `$ref` stands alone, its siblings are ignored.
                node.logic = Some(Box::new(Logic {
                    refs,
                    ..Logic::default()
                }));
                node.ref_alone = node.ref_alone();
                return Ok(node);
            }
        }
        // A schema reached inline and through a reference is compiled twice:
        // its unknown keywords are listed once, where it was first reached.
        if self.strict
            && self
                .strict_seen
                .insert(map as *const Map<String, Value> as usize)
        {
            for key in map.keys() {
                if !is_keyword(key, draft) {
                    let at = if location.is_empty() {
                        "the root"
                    } else {
                        location
                    };
                    self.unknown
                        .push(format!("`{}` (at {})", shorten(key), shorten(at)));
                }
            }
        }
        if draft == Draft::Draft202012 {
            if let Some(r) = map.get("$dynamicRef") {
                let reference = r.as_str().unwrap_or("");
                let id = self.resolve_ref(base, r, location, "$dynamicRef")?;
                // Dynamic only when the static target carries the same dynamic anchor.
                let name = uri::split_fragment(reference).1;
                let target_anchor = self.nodes_value_anchor(id, "$dynamicAnchor", base, reference);
                let r = match target_anchor {
                    Some(a) if a == name && !name.is_empty() && !name.starts_with('/') => {
                        self.dynamic = true;
                        self.dynamic_names.insert(name.to_string());
                        Ref::Dynamic {
                            target: id,
                            anchor: name.into(),
                        }
                    }
                    _ => Ref::Static(id),
                };
                refs.push((r, "$dynamicRef"));
            }
        }
        if draft == Draft::Draft201909 {
            if let Some(r) = map.get("$recursiveRef") {
                let reference = r.as_str().unwrap_or("");
                let id = self.resolve_ref(base, r, location, "$recursiveRef")?;
                // Dynamic only when the target is a resource's root with `$recursiveAnchor`.
                let recursive = self
                    .locate(base, reference, location, "$recursiveRef")
                    .ok()
                    .is_some_and(|(p, _)| {
                        p.value.get("$recursiveAnchor") == Some(&Value::Bool(true))
                            && self
                                .resource_roots
                                .contains(&(p.value as *const Value as usize))
                    });
                let r = if recursive {
                    self.dynamic = true;
                    self.dynamic_names.insert(String::new());
                    Ref::Dynamic {
                        target: id,
                        anchor: "".into(),
                    }
                } else {
                    Ref::Static(id)
                };
                refs.push((r, "$recursiveRef"));
            }
        }
        let formats = (!self.annotate_formats).then_some(draft);
        let keep_annotations = self.keep_annotations;
        let mut subschemas = Subschemas {
            compiler: self,
            base,
            draft,
            location,
        };
        // Each family in turn (the order fixes arena indexes and which error wins).
        node.logic = logic::compile(map, &mut subschemas, refs)?;
        if let Some(t) = map.get("type") {
            node.types = types::compile(t, location)?;
        }
        (node.const_value, node.enum_values) = equal::compile(map, draft, location)?;
        node.equality = node.const_value.is_some() || node.enum_values.is_some();
        node.string = string::compile(map, formats, location)?;
        node.number = number::compile(map, draft, location)?;
        node.array = array::compile(map, &mut subschemas)?;
        node.object = object::compile(map, &mut subschemas)?;
        if keep_annotations {
            node.annotations = Some(Box::new(logic::annotations(map, draft)?));
        }
        node.trivial = node.no_own_checks() && node.logic.is_none();
        node.ref_alone = node.ref_alone();
        node.types_only = node.types_only();
        Ok(node)
    }

    /// The value of `keyword` at the schema a reference resolves to.
    fn nodes_value_anchor(
        &self,
        _id: NodeId,
        keyword: &str,
        base: &str,
        reference: &str,
    ) -> Option<String> {
        let (place, _) = self.locate(base, reference, "", keyword).ok()?;
        place.value.get(keyword)?.as_str().map(str::to_string)
    }
}

/// What a keyword family's `compile` needs to compile its subschemas: the
/// compiler, and the base URI, draft and location of the schema being compiled.
pub(crate) struct Subschemas<'c, 'd> {
    compiler: &'c mut Compiler<'d>,
    base: &'c str,
    pub(crate) draft: Draft,
    pub(crate) location: &'c str,
}

impl<'d> Subschemas<'_, 'd> {
    /// Compiles the subschema `value` found at `location`.
    pub(crate) fn compile(
        &mut self,
        value: &'d Value,
        location: &str,
    ) -> Result<Node, SchemaError> {
        self.compiler
            .compile_node(value, self.base, self.draft, location, false)
    }

    /// Whether `unevaluated*` occurs somewhere: nodes then keep what they evaluate.
    pub(crate) fn keep_annotations(&self) -> bool {
        self.compiler.keep_annotations
    }
}

pub(crate) fn compile_pattern(
    source: &str,
    keyword: &str,
    location: &str,
) -> Result<Pattern, SchemaError> {
    Pattern::new(source).or_else(|e| match e {
        // The pattern named (which of a `patternProperties`' keys), its reason once:
        // "`pattern` is not a valid regular expression: error: ..." said "error" twice.
        PatternError::Syntax(reason) => err(
            location,
            format!(
                "`{keyword}` `{}` is not a valid regular expression: {}",
                shorten(source),
                reason.strip_prefix("error: ").unwrap_or(&reason)
            ),
        ),
        PatternError::TooLarge { limit } => err(
            location,
            format!(
                "`{keyword}` `{}` is too large: it compiles to more than {limit} bytes",
                shorten(source)
            ),
        ),
        PatternError::TooManyRepeats { limit } => err(
            location,
            format!(
                "`{keyword}` `{}` repeats too much to match in linear time: its counted \
                 repetitions write out more than {limit} characters and a match may start \
                 anywhere (anchored by `^` or `$` it is allowed; `minLength`/`maxLength` \
                 bound a length)",
                shorten(source)
            ),
        ),
    })
}

/// Marks the nodes that two references or more name and that a walk may reach twice
/// at one value (see [`crate::sharing`]; every node a reference names for `every_visit`),
/// and the nodes their chains of plain references lead to (the walk checks the end of
/// such a chain, see `check::skip_refs`); whether any is marked.
fn mark_revisited(root: &Node, nodes: &mut [Node], referrers: &[u32], every_visit: bool) -> bool {
    let least = if every_visit { 1 } else { 2 };
    // A node named by one reference is reached twice at a value only where the node
    // holding that reference is: marked there, if it needs to be.
    let met = if every_visit || !referrers.iter().any(|&n| n >= 2) {
        None
    } else {
        crate::sharing::met_twice(root, nodes)
    };
    let mut any = false;
    for (id, &n) in referrers.iter().enumerate() {
        if n < least || met.as_ref().is_some_and(|met| !met[id]) {
            continue;
        }
        any = true;
        mark_with_chain(nodes, id, |n| n.revisited = true);
    }
    any
}

/// Marks node `id` and the nodes its chain of plain references leads to (a walk
/// checks the end of such a chain, see `check::skip_refs`).
fn mark_with_chain(nodes: &mut [Node], id: NodeId, mark: impl Fn(&mut Node)) {
    mark(&mut nodes[id]);
    // Cycles of plain references were rejected: the chain ends.
    let mut at = id;
    while let Some(next) = nodes[at].static_target() {
        mark(&mut nodes[next]);
        at = next;
    }
}

/// The message of a chain of more than [`MAX_HOPS`] references followed in place.
fn too_many_hops() -> String {
    format!(
        "references followed one after another without descending into the value (a \
         definition that names the next in place) are more than {MAX_HOPS}: refused, as a loop is"
    )
}

/// `location` for a message: whole when short; else its first and last steps around
/// `...` and its number of steps (the location of a chain past [`MAX_HOPS`] repeats
/// `/$ref/allOf/0` hundreds of times: the message ran to 3-8 KB).
fn shortened_location(location: &str) -> Cow<'_, str> {
    const SHOWN: usize = 6;
    let steps: Vec<&str> = location.split('/').skip(1).collect();
    if steps.len() <= 3 * SHOWN {
        return if location.len() <= 300 {
            Cow::Borrowed(location)
        } else {
            crate::check::shorten(location)
        };
    }
    let (first, last) = (
        steps[..SHOWN].join("/"),
        steps[steps.len() - SHOWN..].join("/"),
    );
    let first = crate::check::shorten(&first);
    let last = crate::check::shorten(&last);
    Cow::Owned(format!("/{first}/.../{last}, {} steps", steps.len()))
}

/// The references a walk follows at `node` without descending into the value (its own,
/// and those of its subschemas applied in place), in the order it follows them.
fn in_place_refs<'n>(node: &'n Node, out: &mut Vec<&'n (Ref, &'static str)>) {
    if let Some(o) = &node.object {
        for (_, n) in &o.dependent_schemas {
            in_place_refs(n, out);
        }
    }
    let Some(logic) = &node.logic else {
        return;
    };
    out.extend(&logic.refs);
    for n in logic
        .all_of
        .iter()
        .chain(&logic.any_of)
        .chain(&logic.one_of)
        .chain(logic.not.as_deref())
    {
        in_place_refs(n, out);
    }
    if let Some(cond) = &logic.cond {
        let (c, t, e) = &**cond;
        for n in std::iter::once(c).chain(t).chain(e) {
            in_place_refs(n, out);
        }
    }
}

/// The nodes `r` may lead to at run time, whatever the dynamic scope: its target, and for
/// a dynamic reference each node a resource declares its anchor on (the outermost such
/// resource in scope wins). Every walk starts in the root's resource (`root_resource`):
/// where that declares the anchor, it always wins.
fn any_scope_targets(r: &Ref, resources: &[Resource], root_resource: Option<u32>) -> Vec<NodeId> {
    let (target, anchor) = match r {
        Ref::Static(id) => return vec![*id],
        Ref::Dynamic { target, anchor } => (*target, anchor),
    };
    let declared = |r: usize| resources[r].dynamic_anchors.get(anchor.as_ref());
    if let Some(&id) = root_resource.and_then(|r| declared(r as usize)) {
        return vec![id];
    }
    let mut targets = vec![target];
    for r in 0..resources.len() {
        if let Some(&id) = declared(r) {
            if !targets.contains(&id) {
                targets.push(id);
            }
        }
    }
    targets
}

/// Every reference of `node` and of its inline subschemas, in place or not.
fn every_ref<'n>(node: &'n Node, out: &mut Vec<&'n Ref>) {
    if let Some(logic) = &node.logic {
        out.extend(logic.refs.iter().map(|(r, _)| r));
    }
    crate::sharing::inline_subschemas(node, |n, _| every_ref(n, out));
}

/// How many (node, resolutions) pairs [`ScopedWalks`] explores before it gives up.
const MAX_SCOPED_STATES: usize = 20_000;

/// The walks from the root with their dynamic scopes: each node reached, with what each
/// anchor named by a dynamic reference resolves to there (the first resource entered that
/// declares it: the outermost), and the references followed from it. With the scope
/// known, a dynamic reference has one target: a loop in place is one that some walk from
/// the root follows forever.
struct ScopedWalks {
    /// Per state: the node (`nodes.len()` for the root) and its resolutions.
    states: Vec<(usize, usize)>,
    /// Per state: the states its references lead to, whether in place, and the keyword.
    next: Vec<Vec<(usize, bool, &'static str)>>,
}

impl ScopedWalks {
    /// `None` past [`MAX_SCOPED_STATES`].
    fn of(root: &Node, nodes: &[Node], resources: &[Resource]) -> Option<ScopedWalks> {
        let mut refs = Vec::new();
        every_ref(root, &mut refs);
        for node in nodes {
            every_ref(node, &mut refs);
        }
        let mut names: Vec<&str> = Vec::new();
        for r in refs {
            if let Ref::Dynamic { anchor, .. } = r {
                if !names.contains(&anchor.as_ref()) {
                    names.push(anchor);
                }
            }
        }
        /// Per name of `names`, the resource it resolves to (`u32::MAX`: none yet).
        type Resolutions = Vec<u32>;
        struct Explorer<'a> {
            nodes: &'a [Node],
            resources: &'a [Resource],
            names: Vec<&'a str>,
            resolutions: Vec<Resolutions>,
            resolutions_ids: HashMap<Resolutions, usize>,
            states: Vec<(usize, usize)>,
            state_ids: HashMap<(usize, usize), usize>,
            next: Vec<Vec<(usize, bool, &'static str)>>,
        }
        impl Explorer<'_> {
            fn enter(&mut self, at: usize, resource: Option<u32>) -> usize {
                let Some(resource) = resource else {
                    return at;
                };
                let anchors = &self.resources[resource as usize].dynamic_anchors;
                let mut entered = self.resolutions[at].clone();
                for (i, name) in self.names.iter().enumerate() {
                    if entered[i] == u32::MAX && anchors.contains_key(*name) {
                        entered[i] = resource;
                    }
                }
                self.interned(entered)
            }
            fn interned(&mut self, resolutions: Resolutions) -> usize {
                if let Some(&id) = self.resolutions_ids.get(&resolutions) {
                    return id;
                }
                self.resolutions.push(resolutions.clone());
                self.resolutions_ids
                    .insert(resolutions, self.resolutions.len() - 1);
                self.resolutions.len() - 1
            }
            fn state(&mut self, node: usize, at: usize) -> usize {
                if let Some(&id) = self.state_ids.get(&(node, at)) {
                    return id;
                }
                self.states.push((node, at));
                self.next.push(Vec::new());
                self.state_ids.insert((node, at), self.states.len() - 1);
                self.states.len() - 1
            }
            /// The references of `node` and its inline subschemas, for state `from`.
            fn scan(&mut self, from: usize, node: &Node, at: usize, in_place: bool) {
                let at = self.enter(at, node.resource);
                if let Some(logic) = &node.logic {
                    for (r, keyword) in &logic.refs {
                        let target = match r {
                            Ref::Static(id) => *id,
                            Ref::Dynamic { target, anchor } => {
                                let i = self.names.iter().position(|n| n == &anchor.as_ref());
                                match i.map(|i| self.resolutions[at][i]) {
                                    Some(resource) if resource != u32::MAX => self.resources
                                        [resource as usize]
                                        .dynamic_anchors
                                        .get(anchor.as_ref())
                                        .copied()
                                        .unwrap_or(*target),
                                    _ => *target,
                                }
                            }
                        };
                        let to = self.state(target, at);
                        self.next[from].push((to, in_place, keyword));
                    }
                }
                let mut inline = Vec::new();
                crate::sharing::inline_subschemas(node, |n, here| inline.push((n, here)));
                for (n, here) in inline {
                    self.scan(from, n, at, in_place && here);
                }
            }
        }
        let mut e = Explorer {
            nodes,
            resources,
            resolutions: Vec::new(),
            resolutions_ids: HashMap::new(),
            names: names.clone(),
            states: Vec::new(),
            state_ids: HashMap::new(),
            next: Vec::new(),
        };
        let none = e.interned(vec![u32::MAX; names.len()]);
        e.state(nodes.len(), none);
        let mut done = 0;
        while done < e.states.len() {
            if e.states.len() > MAX_SCOPED_STATES {
                return None;
            }
            let (node, at) = e.states[done];
            let n = if node == nodes.len() {
                root
            } else {
                &e.nodes[node]
            };
            e.scan(done, n, at, true);
            done += 1;
        }
        Some(ScopedWalks {
            states: e.states,
            next: e.next,
        })
    }

    /// Fails on a loop in place that some walk from the root follows (see
    /// [`check_cycles`] for the message); else the longest chain of references in place.
    fn check(&self, locations: &[String], references: &[String]) -> Result<u32, SchemaError> {
        /// Per state: `None` unvisited, `Some(None)` on the stack, `Some(Some(n))` done.
        fn visit(
            s: usize,
            walks: &ScopedWalks,
            state: &mut Vec<Option<Option<u32>>>,
            entered: &mut Vec<usize>,
            locations: &[String],
            references: &[String],
        ) -> Result<u32, SchemaError> {
            state[s] = Some(None);
            entered.push(s);
            let mut longest = 0;
            for &(to, in_place, keyword) in &walks.next[s] {
                if !in_place {
                    continue;
                }
                let chain = match state[to] {
                    Some(None) => {
                        let from = entered.iter().rposition(|&e| e == to).unwrap_or(0);
                        let chain: Vec<usize> =
                            entered[from..].iter().map(|&e| walks.states[e].0).collect();
                        let node = walks.states[to].0;
                        return err(
                            &locations[node],
                            format!(
                                "`{keyword}` loops back to itself without descending into the \
                                 value: {}",
                                shown_loop(&chain, references)
                            ),
                        );
                    }
                    Some(Some(n)) => n,
                    None => visit(to, walks, state, entered, locations, references)?,
                };
                longest = longest.max(chain.saturating_add(1));
            }
            entered.pop();
            state[s] = Some(Some(longest));
            Ok(longest)
        }
        let mut state = vec![None; self.states.len()];
        let mut longest = 0;
        for s in 0..self.states.len() {
            if state[s].is_none() {
                let mut entered = Vec::new();
                longest = longest.max(visit(
                    s,
                    self,
                    &mut state,
                    &mut entered,
                    locations,
                    references,
                )?);
            }
        }
        Ok(longest)
    }
}

/// A loop as its messages show it: the references that enter its targets, the first
/// repeated at the end.
fn shown_loop(chain: &[NodeId], references: &[String]) -> String {
    let mut shown: Vec<String> = chain
        .iter()
        .chain(chain.first())
        .map(|&e| format!("`{}`", shorten_to(&references[e], 120)))
        .collect();
    if shown.len() > 8 {
        let more = shown.len() - 7;
        shown.splice(3..shown.len() - 4, [format!("({more} more)")]);
    }
    shown.join(" -> ")
}

/// Fails on a cycle of references that never descends into the value
/// (`{"$ref": "#"}`): checking it would never end; and on a chain of more than
/// [`MAX_HOPS`] of them, where a walk would give up (the dict path failed such a record
/// and the JSON text path, which follows chains apart, passed it). Otherwise returns
/// the most references a walk may follow in place, one after another ([`MAX_HOPS`] where
/// dynamic references may loop).
///
/// A dynamic reference may resolve to another node in another dynamic scope
/// (`B: {"$dynamicAnchor": "n", "$dynamicRef": "#n"}` entered from a resource that
/// declares `n` too resolves there): such a loop is refused only where a walk from the
/// root, with its scope, follows it (see [`ScopedWalks`]).
fn check_cycles(
    root: &Node,
    nodes: &[Node],
    resources: &[Resource],
    locations: &[String],
    references: &[String],
) -> Result<u32, SchemaError> {
    /// Per node: `None` unvisited, `Some(None)` on the stack, `Some(Some(n))` done, its
    /// longest chain of references in place `n`.
    type State = Vec<Option<Option<u32>>>;
    /// What the walk holds: each node's state, the targets entered (innermost last).
    struct Walk<'a> {
        nodes: &'a [Node],
        resources: &'a [Resource],
        root_resource: Option<u32>,
        locations: &'a [String],
        references: &'a [String],
        /// Follow a dynamic reference to every node it may resolve to, and count a loop
        /// as [`MAX_HOPS`] instead of refusing it (else only references with one target
        /// whatever the scope are followed).
        every_target: bool,
        /// Some dynamic reference may resolve to more than one node.
        shifting: bool,
        state: State,
        entered: Vec<NodeId>,
    }
    impl Walk<'_> {
        /// The nodes the walk follows `r` to (see [`Walk::every_target`]).
        fn targets(&mut self, r: &Ref) -> Vec<NodeId> {
            let targets = any_scope_targets(r, self.resources, self.root_resource);
            if targets.len() > 1 {
                self.shifting = true;
                if !self.every_target {
                    return Vec::new();
                }
            }
            targets
        }
    }
    fn visit(node: &Node, w: &mut Walk) -> Result<u32, SchemaError> {
        let mut longest = 0;
        let mut refs = Vec::new();
        in_place_refs(node, &mut refs);
        for (r, keyword) in refs {
            for id in w.targets(r) {
                let chain = match w.state[id] {
                    Some(None) if w.every_target => MAX_HOPS,
                    Some(None) => {
                        let from = w.entered.iter().rposition(|&e| e == id).unwrap_or(0);
                        return err(
                            &w.locations[id],
                            format!(
                                "`{keyword}` loops back to itself without descending into the \
                                 value: {}",
                                shown_loop(&w.entered[from..], w.references)
                            ),
                        );
                    }
                    Some(Some(n)) => n,
                    None => target(id, w)?,
                };
                longest = longest.max(chain.saturating_add(1));
            }
        }
        Ok(longest)
    }
    fn target(id: NodeId, w: &mut Walk) -> Result<u32, SchemaError> {
        w.state[id] = Some(None);
        w.entered.push(id);
        let mut chain = visit(&w.nodes[id], w)?;
        w.entered.pop();
        if chain > MAX_HOPS {
            if !w.every_target {
                return err(&shortened_location(&w.locations[id]), too_many_hops());
            }
            chain = MAX_HOPS;
        }
        w.state[id] = Some(Some(chain));
        Ok(chain)
    }
    fn walk(root: &Node, w: &mut Walk) -> Result<u32, SchemaError> {
        let mut longest = visit(root, w)?;
        if longest > MAX_HOPS && !w.every_target {
            return err("", too_many_hops());
        }
        for id in 0..w.nodes.len() {
            let chain = match w.state[id] {
                Some(Some(n)) => n,
                _ => target(id, w)?,
            };
            longest = longest.max(chain);
        }
        Ok(longest)
    }
    let mut w = Walk {
        nodes,
        resources,
        root_resource: root.resource,
        locations,
        references,
        every_target: false,
        shifting: false,
        state: vec![None; nodes.len()],
        entered: Vec::new(),
    };
    // Loops whatever the dynamic scope, wherever they are (as a static loop is refused
    // though no record may reach it).
    let fixed = walk(root, &mut w)?;
    if !w.shifting {
        return Ok(fixed);
    }
    if let Some(walks) = ScopedWalks::of(root, nodes, resources) {
        let scoped = walks.check(locations, references)?;
        // As a static chain is: a walk would give up there.
        if scoped > MAX_HOPS {
            return err("", too_many_hops());
        }
        return Ok(fixed.max(scoped));
    }
    // Too many scopes to follow: what a walk may meet, for `Schema::hops_matter`; a walk
    // may meet a loop (see `Schema::may_loop`).
    w.every_target = true;
    w.state = vec![None; nodes.len()];
    Ok(fixed.max(walk(root, &mut w)?).max(MAX_HOPS + 1))
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn non_negative(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<usize>, SchemaError> {
    Ok(non_negative_with_text(map, key, location)?.map(|(n, _)| n))
}

/// A count and, when it is beyond `usize::MAX`, the schema's spelling of it.
pub(crate) type Count = (usize, Option<Box<str>>);

/// A non-negative integer keyword; a value beyond `usize::MAX` (no array or
/// object has that many entries) is `usize::MAX`, with the schema's spelling.
pub(crate) fn non_negative_with_text(
    map: &Map<String, Value>,
    key: &str,
    location: &str,
) -> Result<Option<Count>, SchemaError> {
    let Some(v) = map.get(key) else {
        return Ok(None);
    };
    let beyond = || {
        Some((
            usize::MAX,
            Some(shorten(&v.to_string()).into_owned().into_boxed_str()),
        ))
    };
    // Draft 2020-12 allows integral floats such as 2.0 here.
    #[allow(clippy::cast_precision_loss)]
    let parsed = match v {
        Value::Number(n) => match Number::parse(&n.to_string()) {
            Some(Number::Int(i)) if i >= 0 => usize::try_from(i).ok().map(|n| (n, None)),
            Some(Number::Float(f)) if f >= 0.0 && f.is_finite() && f.fract() == 0.0 => {
                if f >= usize::MAX as f64 {
                    beyond()
                } else {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Some((f as usize, None))
                }
            }
            Some(Number::Big(b)) if b.sign() != num_bigint::Sign::Minus => {
                match usize::try_from(b.as_ref()) {
                    Ok(n) => Some((n, None)),
                    Err(_) => beyond(),
                }
            }
            Some(Number::Decimal(d)) if d.is_integer() && !d.neg => beyond(),
            // Positive with an exponent beyond `e1152921504606846976`: an integer.
            Some(Number::OutOfRange(text))
                if !text.starts_with('-') && !text.contains("e-") && !text.contains("E-") =>
            {
                beyond()
            }
            _ => None,
        },
        _ => None,
    };
    match parsed {
        Some(n) => Ok(Some(n)),
        None => err(
            location,
            format!(
                "`{key}` must be a non-negative integer, got {}",
                shorten(&v.to_string())
            ),
        ),
    }
}

/// Characters of a schema value quoted in a message before it is cut short.
const QUOTE_CHARS: usize = 40;

/// Characters of a reference quoted in a message before it is cut short: the whole
/// URI of the document a user must supply (`https://raw.githubusercontent.com/...`),
/// which 40 characters cut before its file name.
const REFERENCE_CHARS: usize = 200;

/// A reference for a message: whole if at most [`REFERENCE_CHARS`] characters,
/// else cut, `...` and its length.
fn shown_reference(s: &str) -> Cow<'_, str> {
    shorten_to(s, REFERENCE_CHARS)
}

/// `s` for a message: whole if short, else its first [`QUOTE_CHARS`]
/// characters, `...` and its length.
pub fn shorten(s: &str) -> Cow<'_, str> {
    shorten_to(s, QUOTE_CHARS)
}

/// `s` whole if at most `most` characters, else its first `most`, `...` and its length.
fn shorten_to(s: &str, most: usize) -> Cow<'_, str> {
    match s.char_indices().nth(most) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!(
            "{}... ({} characters)",
            &s[..end],
            s.chars().count()
        )),
    }
}

/// RFC 6901 escaping of one pointer token.
pub fn escape_pointer(token: &str) -> Cow<'_, str> {
    if token.bytes().any(|b| b == b'~' || b == b'/') {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Result<Schema, SchemaError> {
        Schema::from_json_text(text)
    }

    #[test]
    fn draft_names_are_the_same_forms_for_every_draft() {
        for (number, draft) in [
            ("4", Draft::Draft4),
            ("6", Draft::Draft6),
            ("7", Draft::Draft7),
            ("2019-09", Draft::Draft201909),
            ("2020-12", Draft::Draft202012),
        ] {
            let mut names = vec![number.to_owned()];
            if number.len() == 1 {
                names.push(format!("0{number}"));
            }
            for n in names.clone() {
                names.push(format!("draft{n}"));
                names.push(format!("draft-{n}"));
            }
            for name in &names {
                assert_eq!(Draft::from_name(name), Some(draft), "{name}");
            }
            for name in [
                format!("-{number}"),
                format!("draftdraft{number}"),
                format!("draft--{number}"),
                format!("Draft{number}"),
                format!(" {number}"),
            ] {
                assert_eq!(Draft::from_name(&name), None, "{name}");
            }
        }
        assert_eq!(Draft::from_name("draft"), None);
        assert_eq!(Draft::from_name(""), None);
    }

    #[test]
    fn annotations_are_trivial() {
        let s = compile(r#"{"title": "x", "description": "y", "default": 1, "x-foo": 2}"#).unwrap();
        assert!(s.root.trivial);
    }

    #[test]
    fn shortens_long_values() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"é".repeat(40)), "é".repeat(40));
        assert_eq!(
            shorten(&"é".repeat(41)),
            format!("{}... (41 characters)", "é".repeat(40))
        );
        let name = "x".repeat(100_000);
        let quoted = format!("{}... (100000 characters)", "x".repeat(40));
        assert_eq!(
            compile(&format!(r#"{{"type": "{name}"}}"#)).unwrap_err().0,
            format!("unknown type `{quoted}` (at the root)")
        );
        // Unknown keywords are annotations; strict mode lists them, shortened.
        let doc: Value = serde_json::from_str(&format!(r#"{{"{name}": 1}}"#)).unwrap();
        assert!(Schema::compile(&doc).is_ok());
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        assert_eq!(
            Schema::compile_with(&doc, &strict).unwrap_err().0,
            format!("unknown keywords: `{quoted}` (at the root)")
        );
    }

    #[test]
    fn nesting_beyond_the_limit_is_one_error() {
        let nested =
            |n: usize| format!("{}{{}}{}", r#"{"items":"#.repeat(n - 1), "}".repeat(n - 1));
        assert!(compile(&nested(MAX_SCHEMA_DEPTH)).is_ok());
        for n in [MAX_SCHEMA_DEPTH + 1, 128, 600, 100_000] {
            assert_eq!(
                compile(&nested(n)).unwrap_err().0,
                "the schema is nested deeper than 100 levels"
            );
        }
        // Brackets inside strings do not count.
        let text = format!(r#"{{"enum": ["{}"]}}"#, "[{".repeat(200));
        assert!(compile(&text).is_ok());
        // A document built in memory is held to the same limit.
        let mut doc = serde_json::json!({});
        for _ in 0..MAX_SCHEMA_DEPTH {
            doc = serde_json::json!({ "items": doc });
        }
        assert_eq!(
            Schema::compile(&doc).unwrap_err().0,
            "the schema is nested deeper than 100 levels"
        );
    }

    /// A chain of definitions, each first met inside the last, is held to
    /// `MAX_TARGET_NESTING` (20,000 of them overflowed the compiler's stack).
    #[test]
    fn definitions_nested_through_references_beyond_the_limit_are_refused() {
        let chain = |n: usize| {
            let defs: Vec<String> = (0..n)
                .map(|i| match i + 1 {
                    next if next < n => format!(
                        r##""d{i}": {{"properties": {{"a": {{"$ref": "#/$defs/d{next}"}}}}}}"##
                    ),
                    _ => format!(r##""d{i}": {{"type": "integer"}}"##),
                })
                .collect();
            compile(&format!(
                r##"{{"$defs": {{{}}}, "$ref": "#/$defs/d0"}}"##,
                defs.join(", ")
            ))
        };
        assert!(chain(MAX_TARGET_NESTING).is_ok());
        for n in [MAX_TARGET_NESTING + 1, 30_000] {
            let refused = chain(n).unwrap_err().0;
            assert!(
                refused.starts_with("definitions first reached through more than 1000 references"),
                "{refused}"
            );
        }
    }

    #[test]
    fn counts_beyond_usize_keep_their_spelling() {
        let s = compile(r#"{"minItems": 18446744073709551616, "minProperties": 1e30}"#);
        let s = s.unwrap();
        let a = s.root.array.as_ref().unwrap();
        assert_eq!(a.min_items, Some(usize::MAX));
        assert_eq!(a.min_items_text.as_deref(), Some("18446744073709551616"));
        let o = s.root.object.as_ref().unwrap();
        assert_eq!(o.min_properties, Some(usize::MAX));
        assert_eq!(o.min_properties_text.as_deref(), Some("1e+30"));
        let s = compile(r#"{"minItems": 18446744073709551615, "maxItems": 2.0}"#).unwrap();
        let a = s.root.array.as_ref().unwrap();
        assert_eq!(
            (a.min_items, a.min_items_text.as_deref()),
            (Some(usize::MAX), None)
        );
        assert_eq!(a.max_items, Some(2));
        assert_eq!(
            compile(r#"{"minItems": -18446744073709551616}"#)
                .unwrap_err()
                .0,
            "`minItems` must be a non-negative integer, got -18446744073709551616 (at the root)"
        );
        let long = format!(r#"{{"minItems": -{}}}"#, "9".repeat(100));
        assert_eq!(
            compile(&long).unwrap_err().0,
            format!(
                "`minItems` must be a non-negative integer, got -{}... (101 characters) (at the root)",
                "9".repeat(39)
            )
        );
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn references_are_arena_indexes() {
        let s = compile(
            r##"{"$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"}"##,
        )
        .unwrap();
        assert_eq!(s.nodes.len(), 1);
        let logic = s.root.logic.as_ref().unwrap();
        assert!(matches!(logic.refs[0], (Ref::Static(0), "$ref")));
    }

    #[test]
    fn unresolvable_reference_is_named() {
        assert_eq!(
            compile(r##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##)
                .unwrap_err()
                .0,
            "cannot resolve `$ref` `#/$defs/missing` (at /properties/a)"
        );
        assert_eq!(
            compile(r##"{"$ref": "other.json"}"##).unwrap_err().0,
            "cannot resolve `$ref` `other.json` (at the root)"
        );
    }

    #[test]
    fn a_reference_names_an_array_item_as_rfc_6901_does() {
        assert!(compile(r##"{"$ref": "#/allOf/0", "allOf": [{"type": "integer"}]}"##).is_ok());
        for index in ["00", "+0", "01", "-", " 0", "0x0"] {
            let text = format!(r##"{{"$ref": "#/allOf/{index}", "allOf": [{{}}]}}"##);
            assert_eq!(
                compile(&text).unwrap_err().0,
                format!("cannot resolve `$ref` `#/allOf/{index}` (at the root)")
            );
        }
    }

    #[test]
    fn reference_cycles_that_never_descend_fail() {
        assert_eq!(
            compile(
                r##"{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##
            )
            .unwrap_err()
            .0,
            "`$ref` loops back to itself without descending into the value: `#/$defs/a` -> \
             `#/$defs/a` (at /$ref)"
        );
        // A long loop shows its first three references, how many more, and its last four.
        let defs: Vec<String> = (0..12)
            .map(|i| {
                format!(
                    r##""d{i}": {{"allOf": [{{"$ref": "#/$defs/d{}"}}]}}"##,
                    (i + 1) % 12
                )
            })
            .collect();
        let doc = format!(
            r##"{{"$defs": {{{}}}, "$ref": "#/$defs/d0"}}"##,
            defs.join(", ")
        );
        assert_eq!(
            compile(&doc).unwrap_err().0,
            "`$ref` loops back to itself without descending into the value: `#/$defs/d0` -> \
             `#/$defs/d1` -> `#/$defs/d2` -> (6 more) -> `#/$defs/d9` -> `#/$defs/d10` -> \
             `#/$defs/d11` -> `#/$defs/d0` (at /$ref)"
        );
    }

    #[test]
    fn strict_lists_every_unknown_keyword() {
        let options = Options {
            strict: true,
            ..Options::default()
        };
        let doc: Value = serde_json::from_str(
            r#"{"markdownDescription": "x", "properties": {"a": {"minlength": 1, "const": 1}}}"#,
        )
        .unwrap();
        assert_eq!(
            Schema::compile_with(&doc, &options).unwrap_err().0,
            "unknown keywords: `markdownDescription` (at the root), `minlength` (at /properties/a)"
        );
        let draft4 = Options {
            strict: true,
            draft: Some(Draft::Draft4),
            ..Options::default()
        };
        assert_eq!(
            Schema::compile_with(&doc, &draft4).unwrap_err().0,
            "unknown keywords: `markdownDescription` (at the root), `minlength` (at /properties/a), `const` (at /properties/a)"
        );
    }

    #[test]
    fn strict_names_a_keyword_once_when_a_schema_is_reached_twice() {
        let options = Options {
            strict: true,
            ..Options::default()
        };
        let doc: Value = serde_json::from_str(
            r##"{"properties": {"a": {"x-tag": 1}, "b": {"$ref": "#/properties/a"}}}"##,
        )
        .unwrap();
        assert_eq!(
            Schema::compile_with(&doc, &options).unwrap_err().0,
            "unknown keywords: `x-tag` (at /properties/a)"
        );
    }

    #[test]
    fn draft_is_chosen_by_schema_keyword() {
        let s = compile(r#"{"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 3, "exclusiveMaximum": true}"#).unwrap();
        assert_eq!(s.draft, Draft::Draft4);
        let n = s.root.number.as_ref().unwrap();
        assert!(n.maximum.is_none());
        assert_eq!(n.exclusive_maximum.as_ref().unwrap().to_string(), "3");
    }

    fn verdicts(schema: &Schema, records: &[&str]) -> Vec<bool> {
        records
            .iter()
            .map(|text| {
                let record = crate::json::parse_value(text.as_bytes(), 64).unwrap();
                crate::check::is_valid(schema, &&record)
            })
            .collect()
    }

    fn compile_as(text: &str, draft: Option<Draft>) -> Result<Schema, SchemaError> {
        let doc: Value = serde_json::from_str(text).unwrap();
        let options = Options {
            draft,
            ..Options::default()
        };
        Schema::compile_with(&doc, &options)
    }

    #[test]
    fn draft_option_overrides_the_root_schema_keyword() {
        let doc = r#"{"$schema": "http://json-schema.org/draft-04/schema#",
                      "oneOf": [{"const": "a"}, {"const": "b"}]}"#;
        // Draft 4: `const` is an annotation, both branches match everything.
        let own = compile_as(doc, None).unwrap();
        assert_eq!(own.draft, Draft::Draft4);
        assert_eq!(
            verdicts(&own, &[r#""a""#, r#""b""#, r#""c""#]),
            [false, false, false]
        );
        let six = compile_as(doc, Some(Draft::Draft6)).unwrap();
        assert_eq!(six.draft, Draft::Draft6);
        assert_eq!(
            verdicts(&six, &[r#""a""#, r#""b""#, r#""c""#]),
            [true, true, false]
        );
    }

    #[test]
    fn draft_option_holds_when_a_reference_reenters_the_root() {
        // `items` reaches the root again through `$ref`: it too is read as draft 6.
        let doc = r##"{"$schema": "http://json-schema.org/draft-04/schema#",
                       "items": {"$ref": "#"},
                       "oneOf": [{"const": "a"}, {"type": "array"}]}"##;
        let six = compile_as(doc, Some(Draft::Draft6)).unwrap();
        assert_eq!(
            verdicts(&six, &[r#""a""#, r#"["a"]"#, r#"["b"]"#, r#"[["a"]]"#]),
            [true, true, false, true]
        );
    }

    #[test]
    fn an_embedded_resource_keeps_its_own_schema_keyword_under_the_draft_option() {
        let embedded = r#"{"id": "http://example.com/x.json",
                           "$schema": "http://json-schema.org/draft-04/schema#",
                           "oneOf": [{"const": "a"}, {"const": "b"}]}"#;
        let doc = format!(
            r#"{{"$schema": "http://json-schema.org/draft-04/schema#",
                 "properties": {{"x": {embedded}, "y": {{"const": 1}}}}}}"#
        );
        let records = [r#"{"y": 1}"#, r#"{"y": 2}"#, r#"{"x": "a"}"#, r#"{"x": 1}"#];
        // The root is read as 2020-12 (`y`'s `const` asserts); the embedded draft 4
        // resource keeps its own `$schema` (`const` an annotation: both branches match).
        let s = compile_as(&doc, Some(Draft::Draft202012)).unwrap();
        assert_eq!(s.draft, Draft::Draft202012);
        assert_eq!(verdicts(&s, &records), [true, false, false, false]);
        // Without its own `$schema` the embedded resource follows the root's draft.
        let inherits = doc.replace(
            r#""$schema": "http://json-schema.org/draft-04/schema#",
                           "oneOf""#,
            r#""oneOf""#,
        );
        assert_ne!(inherits, doc);
        let s = compile_as(&inherits, Some(Draft::Draft202012)).unwrap();
        assert_eq!(verdicts(&s, &records), [true, false, true, false]);
    }

    #[test]
    fn strict_follows_the_draft_option() {
        let doc: Value = serde_json::from_str(
            r#"{"$schema": "http://json-schema.org/draft-04/schema#", "const": 1}"#,
        )
        .unwrap();
        let strict = |draft| Options {
            strict: true,
            draft,
            ..Options::default()
        };
        assert_eq!(
            Schema::compile_with(&doc, &strict(None)).unwrap_err().0,
            "unknown keywords: `const` (at the root)"
        );
        let six = Schema::compile_with(&doc, &strict(Some(Draft::Draft6))).unwrap();
        assert_eq!(verdicts(&six, &["1", "2"]), [true, false]);
    }

    #[test]
    fn an_unrecognised_meta_schema_is_a_warning_and_strict_refuses_it() {
        let doc: Value = serde_json::from_str(
            r#"{"$schema": "http://json-schema.org/draft-03/schema#", "type": "integer"}"#,
        )
        .unwrap();
        let s = Schema::compile(&doc).unwrap();
        assert_eq!(s.draft, Draft::Draft202012);
        assert_eq!(
            s.warnings,
            [
                "`$schema` `http://json-schema.org/draft-03/schema#` names none of the drafts \
              satya-adapt implements (4, 6, 7, 2019-09, 2020-12) nor a meta-schema given in \
              `resources`: the schema is read as draft 2020-12; `draft=` (the command line's \
              `--draft`) chooses another"
            ]
        );
        assert_eq!(verdicts(&s, &["1", "1.5"]), [true, false]);
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        assert_eq!(
            Schema::compile_with(&doc, &strict).unwrap_err().0,
            s.warnings[0]
        );
        // The draft option reads the root as a draft: nothing to say.
        let seven = Options {
            draft: Some(Draft::Draft7),
            strict: true,
            ..Options::default()
        };
        assert!(Schema::compile_with(&doc, &seven)
            .unwrap()
            .warnings
            .is_empty());
        // The five drafts (either scheme, with or without `#`) are known.
        for uri in [
            "http://json-schema.org/draft-04/schema#",
            "https://json-schema.org/draft-06/schema",
            "http://json-schema.org/draft-07/schema",
            "https://json-schema.org/draft/2019-09/schema",
            "https://json-schema.org/draft/2020-12/schema#",
        ] {
            let s = compile(&format!(r#"{{"$schema": "{uri}"}}"#)).unwrap();
            assert!(s.warnings.is_empty(), "{uri}");
        }
    }

    #[test]
    fn an_unrecognised_meta_schema_inside_is_read_as_the_draft_around_it() {
        let doc = r#"{"$schema": "http://json-schema.org/draft-07/schema#",
                      "properties": {"a": {"$id": "http://x.test/a", "$schema": "draft-7",
                                           "type": "string"},
                                     "b": {"$schema": 4}}}"#;
        let s = compile(doc).unwrap();
        assert_eq!(s.draft, Draft::Draft7);
        assert_eq!(s.warnings.len(), 2);
        assert!(s.warnings[0].starts_with("`$schema` `draft-7` (at /properties/a) names none"));
        assert!(s.warnings[0].ends_with("the schema there is read as draft 7, the draft around it"));
        assert!(s.warnings[1].starts_with("`$schema` `4` (at /properties/b) names none"));
        // A resource that is never reached says nothing; a custom meta-schema given in
        // `resources` is known.
        let options = Options {
            resources: vec![
                (
                    "http://x.test/unused".into(),
                    serde_json::json!({"$schema": "https://json-schema.org/v1"}),
                ),
                (
                    "http://x.test/meta".into(),
                    serde_json::json!({"$schema": "http://json-schema.org/draft-07/schema#"}),
                ),
            ],
            ..Options::default()
        };
        let doc = serde_json::json!({"$schema": "http://x.test/meta", "type": "string"});
        let s = Schema::compile_with(&doc, &options).unwrap();
        assert!(s.warnings.is_empty());
        assert_eq!(s.draft, Draft::Draft7);
    }

    #[test]
    fn a_schema_error_says_the_schema_was_read_as_another_draft() {
        // Draft 3's boolean `required`, read as 2020-12.
        let e = compile(
            r#"{"$schema": "http://json-schema.org/draft-03/schema#",
                "properties": {"a": {"required": true}}}"#,
        )
        .unwrap_err()
        .0;
        assert!(
            e.starts_with(
                "`required` must be an array, got a boolean (at /properties/a); `$schema` \
                 `http://json-schema.org/draft-03/schema#` names none of the drafts"
            ),
            "{e}"
        );
        let e = compile(r#"{"properties": {"a": {"required": true}}}"#)
            .unwrap_err()
            .0;
        assert_eq!(
            e,
            "`required` must be an array, got a boolean (at /properties/a)"
        );
    }

    #[test]
    fn formats_follow_the_draft_option() {
        // `date` is a format of draft 7 on: an annotation in draft 4, asserted in draft 7.
        let doc = r#"{"$schema": "http://json-schema.org/draft-04/schema#", "format": "date"}"#;
        let records = [r#""2020-01-31""#, r#""2020-13-01""#];
        assert_eq!(
            verdicts(&compile_as(doc, None).unwrap(), &records),
            [true, true]
        );
        let seven = compile_as(doc, Some(Draft::Draft7)).unwrap();
        assert_eq!(verdicts(&seven, &records), [true, false]);
    }

    const DRAFT_2020_12: &str = r#""$schema": "https://json-schema.org/draft/2020-12/schema""#;
    const DRAFT_2019_09: &str = r#""$schema": "https://json-schema.org/draft/2019-09/schema""#;

    /// A dynamic reference that lands on an embedded resource with a relative `$id` in a
    /// folder (`d/r3`) resolves that resource's own references against `d/r3`: the `$id`
    /// was resolved twice (`d/d/r3`), so `$ref: x` named `d/d/x` (or nothing at all).
    #[test]
    fn a_dynamic_anchor_resource_resolves_its_id_once() {
        let schema = compile(&format!(
            r##"{{{DRAFT_2020_12}, "$id": "https://ex.test/root",
                "properties": {{"b": {{"$id": "d/r3", "$dynamicAnchor": "m",
                    "properties": {{"v": {{"$ref": "x"}}, "w": {{"$dynamicRef": "/t#m"}}}}}}}},
                "$defs": {{"t": {{"$id": "t", "$dynamicAnchor": "m", "type": "integer"}},
                          "x1": {{"$id": "d/x", "type": "string"}},
                          "x2": {{"$id": "d/d/x", "type": "integer"}}}}}}"##
        ))
        .unwrap();
        let records = [r#"{"b": {"v": "s"}}"#, r#"{"b": {"w": {"v": "s"}}}"#];
        assert_eq!(verdicts(&schema, &records), [true, true]);
        assert_eq!(verdicts(&schema, &[r#"{"b": {"w": {"v": 1}}}"#]), [false]);
        let schema = compile(&format!(
            r##"{{{DRAFT_2019_09}, "$id": "https://ex.test/root",
                "properties": {{"b": {{"$id": "d/r3", "$recursiveAnchor": true,
                    "properties": {{"v": {{"$ref": "x"}}, "w": {{"$ref": "/t"}}}}}}}},
                "$defs": {{"t": {{"$id": "/t", "$recursiveAnchor": true,
                                  "properties": {{"q": {{"$recursiveRef": "#"}}}}}},
                          "x1": {{"$id": "d/x", "type": "string"}},
                          "x2": {{"$id": "d/d/x", "type": "integer"}}}}}}"##
        ))
        .unwrap();
        let records = [
            r#"{"b": {"w": {"q": {"v": "s"}}}}"#,
            r#"{"b": {"w": {"q": {"v": 1}}}}"#,
        ];
        assert_eq!(verdicts(&schema, &records), [true, false]);
        // `../r2` from `d/r3` is the root: it compiled against `d/d/r3` and was not found.
        let schema = compile(&format!(
            r##"{{{DRAFT_2020_12}, "$id": "https://ex.test/r2",
                "properties": {{"b": {{"$id": "d/r3", "$dynamicAnchor": "m",
                    "properties": {{"z": {{"$dynamicRef": "../r2#m"}}}}}}}},
                "$defs": {{"d0": {{"$dynamicAnchor": "m", "type": "string"}}}}}}"##
        ))
        .unwrap();
        let records = [r#"{"b": {"z": 1}}"#, r#"{"b": {"z": "x"}}"#];
        assert_eq!(verdicts(&schema, &records), [false, true]);
    }

    /// In 2019-09 a `$recursiveAnchor: true` counts only at a resource's root: one on a
    /// property inside the root resource does not take `$recursiveRef` there.
    #[test]
    fn a_recursive_anchor_below_a_resource_root_is_ignored() {
        let schema = compile(&format!(
            r##"{{{DRAFT_2019_09}, "$id": "https://ex/root",
                "properties": {{"x": {{"$recursiveAnchor": true, "type": "string"}},
                               "t": {{"$ref": "tree"}}}},
                "$defs": {{"tree": {{"$id": "tree", "$recursiveAnchor": true, "type": "object",
                                     "properties": {{"c": {{"$recursiveRef": "#"}}}}}}}}}}"##
        ))
        .unwrap();
        let records = [r#"{"t": {"c": {"c": {}}}}"#, r#"{"t": {"c": "str"}}"#];
        assert_eq!(verdicts(&schema, &records), [true, false]);
        // Nor is a `$recursiveRef` to such a schema dynamic: it stays where it points.
        let schema = compile(&format!(
            r##"{{{DRAFT_2019_09}, "$recursiveAnchor": true, "type": "object",
                "properties": {{"a": {{"$recursiveRef": "#/$defs/s"}}}},
                "$defs": {{"s": {{"$recursiveAnchor": true, "type": "string"}}}}}}"##
        ))
        .unwrap();
        assert!(!schema.dynamic);
        assert_eq!(
            verdicts(&schema, &[r#"{"a": "s"}"#, r#"{"a": {}}"#]),
            [true, false]
        );
    }

    /// A dynamic anchor and a dynamic reference to it, in each draft that has them.
    const SELF_REFERENCES: [(&str, &str, &str); 2] = [
        (
            DRAFT_2020_12,
            r#""$dynamicAnchor": "n""#,
            r##""$dynamicRef": "#n""##,
        ),
        (
            DRAFT_2019_09,
            r#""$recursiveAnchor": true"#,
            r##""$recursiveRef": "#""##,
        ),
    ];

    /// A dynamic reference in place that names its own schema is no loop when another
    /// resource declares the anchor too: entered from there, it resolves there. A loop that
    /// a walk from the root follows, with the scope it has there, is still refused.
    #[test]
    fn an_in_place_dynamic_reference_that_may_resolve_outwards_compiles() {
        for (draft, anchor, reference) in SELF_REFERENCES {
            let schema = compile(&format!(
                r##"{{{draft}, "$id": "https://ex.test/A", {anchor}, "type": "object",
                    "properties": {{"x": {{"$ref": "B"}}}},
                    "$defs": {{"B": {{"$id": "B", {anchor}, {reference}}}}}}}"##
            ))
            .unwrap();
            let records = [r#"{"x": {"x": {}}}"#, r#"{"x": 1}"#];
            assert_eq!(verdicts(&schema, &records), [true, false], "{draft}");
        }
        // Nor when only a resource between the root and it declares the anchor too
        // (reached another way, it would loop).
        for (draft, anchor, reference) in SELF_REFERENCES {
            let schema = compile(&format!(
                r##"{{{draft}, "$id": "https://ex.test/root", "properties": {{"p": {{"$ref": "A"}}}},
                    "$defs": {{"A": {{"$id": "A", {anchor}, "type": "object",
                                      "properties": {{"x": {{"$ref": "B"}}}}}},
                              "B": {{"$id": "B", {anchor}, {reference}}}}}}}"##
            ))
            .unwrap();
            let records = [r#"{"p": {"x": {"x": {}}}}"#, r#"{"p": {"x": 1}}"#];
            assert_eq!(verdicts(&schema, &records), [true, false], "{draft}");
        }
        // Where every resource it may resolve to leads back to it in place, refused.
        let error = compile(&format!(
            r##"{{{DRAFT_2020_12}, "$id": "https://ex.test/root", "properties": {{"p": {{"$ref": "A"}}}},
                "$defs": {{"A": {{"$id": "A", "$dynamicAnchor": "n", "$ref": "B"}},
                          "B": {{"$id": "B", "$dynamicAnchor": "n", "$dynamicRef": "#n"}}}}}}"##
        ))
        .unwrap_err();
        assert_eq!(
            error.0,
            "`$ref` loops back to itself without descending into the value: `B` -> `A` -> `B` \
             (at /properties/p/$ref/$ref)"
        );
        // Refused too where the walk from the root meets it with no such resource in scope,
        // though another walk would leave.
        let error = compile(&format!(
            r##"{{{DRAFT_2020_12}, "$id": "https://ex.test/root", "allOf": [{{"$ref": "B"}}],
                "properties": {{"p": {{"$ref": "A"}}}},
                "$defs": {{"A": {{"$id": "A", "$dynamicAnchor": "n", "properties": {{"x": {{"$ref": "B"}}}}}},
                          "B": {{"$id": "B", "$dynamicAnchor": "n", "$dynamicRef": "#n"}}}}}}"##
        ))
        .unwrap_err();
        assert_eq!(
            error.0,
            "`$dynamicRef` loops back to itself without descending into the value: `B` -> `B` \
             (at /allOf/0/$ref)"
        );
        // With no other resource to go to, it loops whatever the dynamic scope: refused.
        for (draft, keyword, anchor, reference) in [
            (
                DRAFT_2020_12,
                "$dynamicRef",
                r#""$dynamicAnchor": "n""#,
                "#n",
            ),
            (
                DRAFT_2019_09,
                "$recursiveRef",
                r#""$recursiveAnchor": true"#,
                "#",
            ),
        ] {
            let error = compile(&format!(
                r##"{{{draft}, "$id": "https://ex.test/root", "properties": {{"x": {{"$ref": "B"}}}},
                    "$defs": {{"B": {{"$id": "B", {anchor},
                                      "{keyword}": "{reference}"}}}}}}"##
            ))
            .unwrap_err();
            assert_eq!(
                error.0,
                format!(
                    "`{keyword}` loops back to itself without descending into the value: `B` \
                     -> `B` (at /properties/x/$ref)"
                )
            );
        }
    }

    /// A dynamic anchor that no dynamic reference names is never looked up: it is not
    /// compiled, so a reference inside it that resolves nowhere is no error (as in an
    /// unreferenced `$defs` entry); one a dynamic reference names still is.
    #[test]
    fn a_dynamic_anchor_no_reference_names_is_not_compiled() {
        let schema = |named: &str| {
            compile(&format!(
                r##"{{{DRAFT_2020_12}, "$dynamicAnchor": "n",
                    "properties": {{"x": {{"$dynamicRef": "#n"}},
                                   "y": {{"$ref": "https://ex.test/a#/$defs/z"}},
                                   "w": {{"$dynamicRef": "https://ex.test/a#{named}"}}}},
                    "$defs": {{"a": {{"$id": "https://ex.test/a", "$dynamicAnchor": "q",
                                      "$ref": "nowhere", "$defs": {{"z": {{}}, "m": {{"$anchor": "m"}}}}}}}}}}"##
            ))
        };
        assert!(schema("m").is_ok());
        assert_eq!(
            schema("q").unwrap_err().0,
            "cannot resolve `$ref` `nowhere` (at /properties/x/$dynamicRef/properties/w/$dynamicRef)"
        );
    }

    /// A loop that closes through a `$ref` and a `$dynamicRef` is named the same way at
    /// every compile (the dynamic anchors were compiled in a hash map's order).
    #[test]
    fn a_loop_through_dynamic_anchors_is_named_the_same_every_time() {
        let text = format!(
            r##"{{{DRAFT_2020_12}, "$id": "https://ex.test/root",
                "properties": {{"a": {{"$dynamicRef": "r3#q"}},
                               "b": {{"$ref": "r1#/$defs/x"}}, "c": {{"$ref": "r2#/$defs/x"}}}},
                "$defs": {{"r3": {{"$id": "r3", "$dynamicAnchor": "q", "type": "object"}},
                          "r1": {{"$id": "r1", "$dynamicAnchor": "n", "allOf": [{{"$ref": "r2"}}],
                                   "$defs": {{"x": {{}}}}}},
                          "r2": {{"$id": "r2", "$dynamicAnchor": "q", "$dynamicRef": "r1#n",
                                  "$defs": {{"x": {{}}}}}}}}}}"##
        );
        let first = compile(&text).unwrap_err().0;
        assert!(first.contains("loops back to itself"), "{first}");
        for _ in 0..20 {
            assert_eq!(compile(&text).unwrap_err().0, first);
        }
    }
}
#[cfg(test)]
mod layout {
    /// What every visit of a string or object node reads lies in the node's first 192
    /// bytes: its flags, its logic, the string keywords, and the object keywords' most
    /// read fields (see [`Node`]).
    #[test]
    fn string_and_object_nodes_are_read_from_their_first_cache_lines() {
        use super::{Node, ObjectChecks};
        use std::mem::{offset_of, size_of};
        let object = offset_of!(Node, object);
        for (name, end) in [
            ("flags", offset_of!(Node, ref_alone) + 1),
            ("logic", offset_of!(Node, logic) + 8),
            (
                "string",
                offset_of!(Node, string) + size_of::<Option<crate::check::string::StringChecks>>(),
            ),
            (
                "properties",
                object + offset_of!(ObjectChecks, properties) + 24,
            ),
            (
                "additional",
                object + offset_of!(ObjectChecks, additional) + 8,
            ),
            (
                "n_required",
                object + offset_of!(ObjectChecks, n_required) + 8,
            ),
            ("patterns", object + offset_of!(ObjectChecks, patterns) + 24),
            ("names", object + offset_of!(ObjectChecks, names) + 16),
        ] {
            assert!(end <= 192, "{name} ends at byte {end} of a node");
        }
    }
}

//! Validation fused with parsing: a verdict on one JSON record read straight
//! from its bytes, without building it.
//!
//! The verdict is one-sided. `true` means the text is valid JSON and the record
//! passes every check; `false` means "invalid, or not decided here" (unusual
//! input: e.g. more than 8 required properties beyond the 64th), and the caller then
//! parses the record and runs the ordinary checks, which decide and explain.
//! So this path can only make valid records cheaper, never change a result.
//! Scalars are checked by the ordinary checks, on a value made on the stack.
//!
//! Every structure this path shortcuts (`Node`, `Logic`, `ObjectChecks`,
//! `ArrayChecks`) is destructured field by field, without `..`: a keyword added
//! to one of them does not compile until this path decides what to do with it.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use crate::check;
use crate::check::logic::{KeyShapes, OnNames, RequiredNames, Tags};
use crate::check::object::reads_named_entries_only;
use crate::json::{JsonError, JsonErrorKind, Parser};
use crate::schema::{types, Additional, ArrayChecks, Logic, Node, ObjectChecks, Ref, Schema};
use crate::text::same_text;
use crate::value::{Json, KeysOnce, Kind, MAX_DEPTH};

/// Why this path stopped short of "valid".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// A check failed: the record is invalid, provided its text is JSON (the
    /// walk stops at the failure, the rest unread) and none of its objects
    /// repeats a key (this walk checks every entry of a repeated key, the
    /// parsed path the last): see [`verdict`].
    Invalid,
    /// The root failed its checks on the whole record, parsed: invalid, provided
    /// only whitespace follows (a repeated key means what it means on the parsed
    /// path, which parses and checks the same way).
    InvalidRecord,
    /// Not decided here: text that is not JSON, or beyond what this path
    /// handles; the parsed path decides.
    Unsure,
}

impl From<JsonError> for Stop {
    fn from(_: JsonError) -> Self {
        Stop::Unsure
    }
}

type Verdict = Result<(), Stop>;

/// A check: `ok`, or the record is invalid.
#[inline]
fn ensure(ok: bool) -> Verdict {
    ok.then_some(()).ok_or(Stop::Invalid)
}

/// A condition of this path: `ok`, or it leaves the record to the parsed path.
#[inline]
fn decidable(ok: bool) -> Verdict {
    ok.then_some(()).ok_or(Stop::Unsure)
}

/// Whether `input` holds exactly one JSON value that is valid against `schema`.
pub fn is_valid(schema: &Schema, input: &[u8]) -> bool {
    walk(schema, input) == Ok(true)
}

/// The verdict on `input` when this path decides it: `Some(true)` when it holds
/// exactly one JSON value valid against `schema`, `Some(false)` when it holds
/// one that is invalid (or nested deeper than [`MAX_DEPTH`]: an invalid record
/// too), `None` when the parsed path must decide (text that is not JSON among
/// them: it alone says how).
pub fn verdict(schema: &Schema, input: &[u8]) -> Option<bool> {
    match walk(schema, input) {
        Ok(valid) => valid.then_some(true),
        // The walk stopped at the failure: the rest must be JSON too, and the
        // failure one the parsed path finds.
        Err(Stop::Invalid) => json_with_unique_keys(input).then_some(false),
        Err(Stop::InvalidRecord) => Some(false),
        Err(Stop::Unsure) => None,
    }
}

/// The walk of `input`: `Ok(true)` when it holds one valid value and nothing
/// else, `Ok(false)` when text follows the value, or what stopped it.
fn walk(schema: &Schema, input: &[u8]) -> Result<bool, Stop> {
    if schema.dynamic {
        // Dynamic references depend on the path through the schema: the
        // ordinary checks track it.
        return Err(Stop::Unsure);
    }
    let mut p = Parser::new(input);
    p.reread_left = if schema.remembers_every_visit {
        0
    } else {
        REREAD_BYTES.saturating_add(input.len().saturating_mul(REREAD_PER_BYTE))
    };
    let walked = value(schema, &schema.root, &mut p, 0);
    // Only whitespace may follow.
    let alone = matches!(p.peek(), Err(e) if e.offset == input.len());
    match walked {
        Ok(()) => Ok(alone),
        // Text after the record: the parsed path says what it is.
        Err(Stop::InvalidRecord) if !alone => Err(Stop::Unsure),
        Err(stop) => Err(stop),
    }
}

/// Whether `input` is one JSON value none of whose objects repeats a key (or one
/// nested deeper than [`MAX_DEPTH`], which the parsed path reports as a failing
/// record, not as text that is not JSON). One pass, nothing built but the keys
/// with escapes; linear (an object's keys past the first few go to a hash set),
/// whatever the keys.
fn json_with_unique_keys(input: &[u8]) -> bool {
    let mut p = Parser::new(input);
    match unique_keys(&mut p, 0) {
        Ok(unique) => unique && matches!(p.peek(), Err(e) if e.offset == input.len()),
        Err(e) => e.kind == JsonErrorKind::TooDeep,
    }
}

/// [`json_with_unique_keys`] for the value at the cursor, at `depth`; the cursor
/// left after it (when it answers `Ok(true)`).
fn unique_keys(p: &mut Parser<'_>, depth: usize) -> Result<bool, JsonError> {
    let c = p.peek()?;
    if c != b'{' && c != b'[' {
        p.skip_scalar(c, 0, &mut ())?;
        return Ok(true);
    }
    if depth >= MAX_DEPTH {
        // Nested too deep: the parsed path's error, which `skip_here` with no depth
        // left gives for a container.
        p.skip_here(0)?;
        return Ok(false);
    }
    p.pos += 1;
    let close = if c == b'{' { b'}' } else { b']' };
    if p.peek()? == close {
        p.pos += 1;
        return Ok(true);
    }
    let mut keys = KeysSeen::default();
    loop {
        if c == b'{' {
            let k = p.peek()?;
            if !keys.insert(p.key(k)?) {
                return Ok(false);
            }
        }
        // A scalar is passed here: a call less for most values.
        let v = p.peek()?;
        if v == b'{' || v == b'[' {
            if !unique_keys(p, depth + 1)? {
                return Ok(false);
            }
        } else {
            p.skip_scalar(v, 0, &mut ())?;
        }
        match p.peek()? {
            b',' => p.pos += 1,
            b if b == close => {
                p.pos += 1;
                return Ok(true);
            }
            // Not JSON.
            _ => return Ok(false),
        }
    }
}

/// The keys of one object read so far, compared as the parsed path reads them (escapes
/// decoded): the first few unescaped ones in a list on the stack (most objects: nothing
/// allocated), the others in a set made when the first of them comes.
#[derive(Default)]
struct KeysSeen<'a> {
    listed: [&'a str; KeysSeen::LISTED],
    count: usize,
    // SipHash with a random key: the keys are the record's, and crafted ones must not
    // make their lookups collide (FxHash can be made to, for quadratic time).
    rest: Option<std::collections::HashSet<Cow<'a, str>>>,
}

impl<'a> KeysSeen<'a> {
    /// Keys compared in the list up to this many, then looked up in the set.
    const LISTED: usize = 16;

    /// Adds `key`: `false` when the object already has it.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        if self.listed[..self.count].contains(&&*key) {
            return false;
        }
        match key {
            Cow::Borrowed(text) if self.count < Self::LISTED && self.rest.is_none() => {
                self.listed[self.count] = text;
                self.count += 1;
                true
            }
            key => self.rest.get_or_insert_with(Default::default).insert(key),
        }
    }
}

#[inline(always)]
fn value(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    if node.always_false {
        return Err(Stop::Invalid);
    }
    match &node.logic {
        // One call per node on the common path, as before `Logic` existed.
        None => plain(s, node, p, depth),
        Some(_) if node.ref_alone => target(s, node, p, depth),
        Some(logic) => with_logic(s, node, logic, p, depth),
    }
}

/// A node that is only a static `$ref` (often a property's whole schema): its target,
/// through any chain of such nodes, walked without [`with_logic`], whose setup was a fifth
/// of a union's branch whose properties are each a `$ref`. (A chain longer than
/// [`check::MAX_HOPS`] is left to `with_logic` past that.)
#[inline(never)]
fn target<'s>(s: &'s Schema, mut node: &'s Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    let mut hops = 0;
    while let Some(target) = node.static_target().filter(|_| hops < check::MAX_HOPS) {
        node = &s.nodes[target];
        hops += 1;
    }
    if node.always_false {
        return Err(Stop::Invalid);
    }
    match &node.logic {
        None => plain(s, node, p, depth),
        Some(logic) => with_logic(s, node, logic, p, depth),
    }
}

/// Bytes of a record this walk may read for in-place subschemas, besides
/// [`REREAD_PER_BYTE`] times the record, before it leaves the record to the parsed path:
/// reaching a node at one value along many paths, it would read the value again along
/// each (12 nested `allOf`s of 12 references to one definition: 12^7 readings of the
/// record), while the parsed path's walk remembers verdicts (see `check::revisit`).
/// Real schemas read a value a few times (once per in-place subschema).
const REREAD_BYTES: usize = 1 << 16;
const REREAD_PER_BYTE: usize = 16;

/// A node with references or combinators: its in-place subschemas, then its own keywords.
#[inline(never)]
fn with_logic(s: &Schema, node: &Node, logic: &Logic, p: &mut Parser<'_>, depth: usize) -> Verdict {
    // Where this walk nests deepest: references and combinators in place.
    if crate::stack::low(p.nest.wrapping_add(1)) {
        return crate::stack::on_new_segment(|| with_logic(s, node, logic, p, depth));
    }
    p.nest = p.nest.wrapping_add(1);
    let verdict = in_place(s, node, logic, p, depth);
    p.nest = p.nest.wrapping_sub(1);
    verdict
}

/// [`with_logic`], on enough stack.
#[inline(always)]
fn in_place(s: &Schema, node: &Node, logic: &Logic, p: &mut Parser<'_>, depth: usize) -> Verdict {
    let Logic {
        refs,
        all_of,
        all_of_patterns: _,
        all_of_probes: _,
        any_of,
        one_of,
        // Read by `decided_on_parsed`.
        not: _,
        cond: _,
        if_probe: _,
        unevaluated_properties: _,
        unevaluated_items: _,
        any_of_tags: _,
        one_of_tags: _,
        // Read by `on_names`.
        on_names: _,
        // Read below.
        any_of_names,
        one_of_names,
        one_of_shapes,
        keep_heavy,
    } = logic;
    // The branch of `if` that applies, `then` or `else`, when it is checked as an in-place
    // subschema (not decided on named entries with `if`).
    let mut chosen = None;
    if decided_on_parsed(logic) {
        // `not` and `if` need "invalid" proven, which this path cannot do. When they
        // look only at a few named entries of an object (`"not": {"required": ["a",
        // "b"]}`, `"if": {"properties": {"kind": {"const": "x"}}}`: most of them in
        // real schemas), those entries are parsed and they decide on them; the rest
        // of the object is only skipped here, and read by the other keywords below.
        // Otherwise the value is parsed whole and checked.
        let on = match on_names(s, logic) {
            Some(on) if few_readings(s, node, logic) && p.peek()? == b'{' => on,
            _ => return whole(s, node, p, depth),
        };
        let names = &on.names;
        // Named entries that are most of the object (`"if": {"properties": {"runs":
        // {"properties": {"using": ...}}}}` keeps `runs`, the whole record) are parsed
        // anyway, and read twice besides: the next records are parsed whole.
        let heavy = keep_heavy.load(Ordering::Relaxed);
        if heavy > 0 {
            keep_heavy.store(heavy - 1, Ordering::Relaxed);
            return whole(s, node, p, depth);
        }
        let start = p.pos;
        let note = |kept: usize, end: usize| {
            if kept > HEAVY_BYTES && kept.saturating_mul(2) > end - start {
                keep_heavy.store(HEAVY_RECORDS, Ordering::Relaxed);
            }
        };
        let mut keep = Keep {
            names,
            entries: Vec::new(),
            bytes: 0,
        };
        if keeps_in_its_walk(s, node, logic) {
            // The node's own walk of the object is the only reading: it keeps the
            // named entries as it checks them.
            object_keeping(s, node, p, depth, &mut keep)?;
            note(keep.bytes, p.pos);
            return decide(s, logic, on, &keep.into_object(), depth).map(|_| ());
        }
        projection(p, &mut keep, depth)?;
        note(keep.bytes, p.pos);
        p.pos = start;
        chosen = decide(s, logic, on, &keep.into_object(), depth)?;
    }
    // A `oneOf` whose branches take values of different kinds (a string, an array,
    // an object) is the branch that can take this value's kind: the others fail
    // for certain. Otherwise it needs its other branches proven invalid.
    let mut one_branch = None;
    let mut by_names = None;
    if !one_of.is_empty() {
        let kind = match p.peek()? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b't' | b'f' => Kind::Bool,
            b'n' => Kind::Null,
            _ => Kind::Number,
        };
        match logic.one_of_branch_for(s, kind) {
            Some(Some(i)) => one_branch = Some(&one_of[i]),
            Some(None) => return Err(Stop::Invalid),
            // Branches that only require names (`[{"required": ["files"]},
            // {"required": ["folder"]}]`: exactly one of them) are decided by the
            // names the object holds (see `names_held`), not on the parsed value.
            None => match one_of_names {
                Some(names) if kind == Kind::Object => by_names = Some(names),
                // A tagged union: the object's tag leaves few branches (see
                // `tag_candidates`; most unions over objects are tagged, a tag read
                // instead of the object parsed: enonic-xp-mixin 1.16-1.18x). Closed objects,
                // or objects requiring names: its keys may leave fewer (see `KeyShapes`).
                // Parsed when two branches or more are left.
                _ if kind == Kind::Object => {
                    let tags = logic.one_of_tags.get_or_init(|| Tags::of(s, one_of));
                    let mut left = tag_candidates(tags, one_of.len(), p, depth, true)?;
                    let shapes = one_of_shapes.get_or_init(|| KeyShapes::of(s, one_of));
                    if let Some(shapes) = shapes
                        .as_ref()
                        .filter(|_| left.is_none_or(|m| m.count_ones() > 1))
                    {
                        let by_keys = shape_candidates(shapes, p, depth)?;
                        left = Some(left.map_or(by_keys, |m| m & by_keys));
                    }
                    match left.map(|m| (m, m.count_ones())) {
                        Some((_, 0)) => return Err(Stop::Invalid),
                        Some((m, 1)) => one_branch = Some(&one_of[m.trailing_zeros() as usize]),
                        _ => return whole(s, node, p, depth),
                    }
                }
                _ => return whole(s, node, p, depth),
            },
        }
    }
    // An in-place subschema decided on the parsed value would parse it anew (a tagged union
    // written as an `allOf` of `if`/`then`, one per tag, parsed its object once per
    // branch): the value is parsed once, and the node checked on it.
    let parsed_anyway = |sub: &Node| {
        sub.logic.as_deref().is_some_and(|l| {
            decided_on_parsed(l)
                && !(few_readings(s, node, logic)
                    && few_readings(s, sub, l)
                    && on_names(s, l).is_some())
        })
    };
    if all_of
        .iter()
        .chain(one_branch)
        .chain(chosen)
        .any(parsed_anyway)
        || refs
            .iter()
            .any(|(r, _)| matches!(r, Ref::Static(id) if parsed_anyway(&s.nodes[*id])))
    {
        return whole(s, node, p, depth);
    }
    // A whole record read twice or more (an `allOf` of a `$ref` beside the root's own
    // properties, an `anyOf` of `required` beside them) costs less parsed once and
    // checked: foundryvtt 1.10-1.15x, gaspar-3.0 1.09-1.20x. Not below the root: there
    // the values re-read are small, and parsing each was slower (netlify 0.80x).
    if depth == 0 && !few_readings(s, node, logic) {
        return whole(s, node, p, depth);
    }
    // In-place subschemas re-read the same text from the same position.
    let start = p.pos;
    let mut end = None;
    // Each reading counted (see `REREAD_BYTES`), passed or failed: a union whose branches
    // all fail reads them all.
    let mut again = |p: &mut Parser<'_>, sub: &Node| -> Verdict {
        decidable(p.reread_left > 0)?;
        p.pos = start;
        let read = value(s, sub, p, depth);
        p.reread_left = p.reread_left.saturating_sub(p.pos.saturating_sub(start));
        read?;
        if end.is_none() {
            end = Some(p.pos);
        }
        Ok(())
    };
    for (r, _) in refs {
        let Ref::Static(id) = r else {
            return Err(Stop::Unsure);
        };
        again(p, &s.nodes[*id])?;
    }
    for sub in all_of.iter().chain(one_branch).chain(chosen) {
        again(p, sub)?;
    }
    let any_by_names = match any_of_names {
        Some(names) => {
            p.pos = start;
            (p.peek()? == b'{').then_some(names)
        }
        None => None,
    };
    if let Some(names) = any_by_names {
        // Branches that only require names: one of them must find all its names among
        // the object's keys (see `names_held`).
        let held = names_held(names, p, start, depth)?;
        ensure(names.passed(held).next().is_some())?;
        decidable(end.is_none_or(|e| e == p.pos))?;
        end = Some(p.pos);
    } else if !any_of.is_empty() {
        // Of a tagged union of 3 branches or more, only the branches the object's tag
        // leaves are walked: the others fail for certain (a union of 4 closed objects, each
        // its own `type`, walked up to 3 that failed at their `type`, a regex checked in each
        // on the way). Looking for the tag reads the object once more: of 2 branches, the
        // first taking half the records and failing the others at their first key (packer),
        // that reading cost more than the walks it saved (+17% instructions).
        p.pos = start;
        let picked = if any_of.len() > 2 && p.peek()? == b'{' {
            let tags = logic.any_of_tags.get_or_init(|| Tags::of(s, any_of));
            tag_candidates(tags, any_of.len(), p, depth, false)?
        } else {
            None
        };
        // No branch passed: invalid when every branch failed a check.
        let mut stop = Err(Stop::Invalid);
        for (i, sub) in any_of.iter().enumerate() {
            if picked.is_some_and(|m| m & (1 << i) == 0) {
                continue;
            }
            match again(p, sub) {
                Ok(()) => {
                    stop = Ok(());
                    break;
                }
                Err(Stop::Unsure) => stop = Err(Stop::Unsure),
                Err(Stop::Invalid | Stop::InvalidRecord) => {}
            }
        }
        stop?;
    }
    if let Some(names) = by_names {
        // Exactly one branch finds all its names among the object's keys.
        let held = names_held(names, p, start, depth)?;
        ensure(names.passed(held).take(2).count() == 1)?;
        decidable(end.is_none_or(|e| e == p.pos))?;
        end = Some(p.pos);
    }
    if let Some(e) = end {
        if has_no_own_keywords(node) {
            // A subschema read (and checked as JSON) the whole value, and the
            // node's own keywords accept anything: not read again (a `$ref`
            // to an object schema read its object twice, nested ones more).
            p.pos = e;
            return Ok(());
        }
    }
    p.pos = start;
    plain(s, node, p, depth)?;
    // Every branch read the same value: they all end where it ends.
    decidable(end.is_none_or(|e| e == p.pos))
}

/// For a `oneOf` or `anyOf` of branches that only require names ([`RequiredNames`]), the
/// bits of those names that the object at `start` holds: its keys read again (values
/// skipped). Leaves the cursor after the object.
fn names_held(
    names: &RequiredNames,
    p: &mut Parser<'_>,
    start: usize,
    depth: usize,
) -> Result<u64, Stop> {
    let mut held = 0u64; // the bits of the names that are keys of the object
    p.pos = start;
    entries(p, depth, |key, p| {
        held |= names.bit(&key);
        skip(p, depth + 1)?;
        Ok(true)
    })?;
    Ok(held)
}

/// The `oneOf` branches the object at the cursor may pass by its keys ([`KeyShapes`]), as
/// bits: its keys read (values skipped) until at most one branch is left (a key rules a
/// branch out for good; required names are counted only when every key was read).
/// Leaves the cursor where it was.
fn shape_candidates(shapes: &KeyShapes, p: &mut Parser<'_>, depth: usize) -> Result<u64, Stop> {
    let start = p.pos;
    let (mut held, mut left, mut all_read) = (0u64, shapes.objects, true);
    entries(p, depth, |key, p| {
        let (bit, out) = shapes.key(&key);
        held |= bit;
        left &= !out;
        if left.count_ones() <= 1 {
            all_read = false;
            return Ok(false);
        }
        skip(p, depth + 1)?;
        Ok(true)
    })?;
    p.pos = start;
    Ok(if all_read {
        shapes.with_required(left, held)
    } else {
        left
    })
}

/// Reads the entries of the object at the cursor, in order: `visit` gets each key with the
/// cursor on its value, which it reads or skips, and says whether to go on. Leaves the
/// cursor after the object, unless `visit` stopped. (The loop of [`object`], written again:
/// shared through a closure it cost `object` 2-4%.)
#[inline(always)]
fn entries<'a>(
    p: &mut Parser<'a>,
    depth: usize,
    mut visit: impl FnMut(Cow<'a, str>, &mut Parser<'a>) -> Result<bool, Stop>,
) -> Verdict {
    if depth + 1 > MAX_DEPTH {
        return Err(Stop::Unsure);
    }
    decidable(p.peek()? == b'{')?;
    p.pos += 1;
    if p.peek()? == b'}' {
        p.pos += 1;
        return Ok(());
    }
    loop {
        let c = p.peek()?;
        let key = p.key(c)?;
        if !visit(key, p)? {
            return Ok(());
        }
        match p.peek()? {
            b',' => p.pos += 1,
            b'}' => {
                p.pos += 1;
                return Ok(());
            }
            _ => return Err(Stop::Unsure),
        }
    }
}

/// Of a tagged `anyOf` or `oneOf` ([`Tags`]) of at most 64 branches, the branches that the
/// object at the cursor may pass, as bits ([`Tags::object_candidates`]): its keys read up to
/// the tag (values skipped, the tag parsed), the reading counted against the record's
/// rereads; `None` when the union is untagged. Leaves the cursor where it was.
///
/// A later entry of the tag (the parsed path reads the last) needs no look when a candidate
/// that passes has checked every entry of it and "no candidate passed" is a failure, which
/// [`verdict`] keeps only for an object without repeated keys: in an `anyOf`, and in a
/// `oneOf` whose branches left are all tagged. Otherwise (`one_of`, an untagged branch left,
/// which passes whatever the tag and would be taken as the only one left by the first entry)
/// the other entries are read to find a repeat, and there is one: `None`.
fn tag_candidates(
    tags: &Tags,
    n: usize,
    p: &mut Parser<'_>,
    depth: usize,
    one_of: bool,
) -> Result<Option<u64>, Stop> {
    let Some(name) = tags.name().filter(|_| n <= 64) else {
        return Ok(None);
    };
    decidable(p.reread_left > 0)?;
    let start = p.pos;
    let (mut picked, mut repeated) = (None, false);
    entries(p, depth, |key, p| {
        if key == name {
            if picked.is_some() {
                repeated = true;
                return Ok(false);
            }
            let tag = tag_value(p, depth)?;
            let left = tags.object_candidates(n, Some(&&tag), depth);
            picked = Some(left);
            return Ok(one_of && left.is_some_and(|m| !tags.all_tagged(m)));
        }
        skip(p, depth + 1)?;
        Ok(true)
    })?;
    p.reread_left = p.reread_left.saturating_sub(p.pos.saturating_sub(start));
    p.pos = start;
    if repeated {
        return Ok(None);
    }
    Ok(match picked {
        Some(left) => left,
        None => tags.object_candidates::<&Json<'_>>(n, None, depth),
    })
}

/// The value at the cursor, the tag of an object at `depth`: a string read as text, without
/// the parser's scratch (most tags; parsing it cost a `oneOf` of 21 tagged branches 12%).
fn tag_value<'a>(p: &mut Parser<'a>, depth: usize) -> Result<Json<'a>, Stop> {
    if p.peek()? == b'"' {
        p.pos += 1;
        return Ok(Json::String(p.string()?));
    }
    Ok(p.parse_here(MAX_DEPTH.saturating_sub(depth + 1))?)
}

/// Whether [`with_logic`] decides a node with this logic on the parsed value (or on the
/// parsed entries named by [`on_names`]).
fn decided_on_parsed(logic: &Logic) -> bool {
    logic.unevaluated_properties.is_some()
        || logic.unevaluated_items.is_some()
        || logic.not.is_some()
        || logic.cond.is_some()
}

/// Whether [`with_logic`] reads the value at most once besides deciding `not`/`if` on
/// named entries: each reading of the text costs about what parsing it once and checking
/// the parsed value costs (an `allOf` of 8 `if`/`then` read its object 3 to 7 times
/// slower than parsed; a `then` and the node's own properties, 1.2-1.7 times).
fn few_readings(s: &Schema, node: &Node, logic: &Logic) -> bool {
    in_place_readings(s, logic) + usize::from(!has_no_own_keywords(node)) <= 1
}

/// How many times [`with_logic`] reads the value for `logic`: once per reference and
/// `allOf` branch, once for `anyOf`, `oneOf`, and `then`/`else` unless they are decided
/// on named entries (besides the node's own keywords).
fn in_place_readings(s: &Schema, logic: &Logic) -> usize {
    let branch = logic
        .cond
        .as_deref()
        .is_some_and(|(_, then, otherwise)| then.is_some() || otherwise.is_some())
        && !on_names(s, logic).is_some_and(|on| on.branches);
    logic.refs.len()
        + logic.all_of.len()
        + usize::from(!logic.any_of.is_empty())
        + usize::from(!logic.one_of.is_empty())
        + usize::from(branch)
}

/// Whether [`with_logic`] decides `not`/`if` on the entries kept by the node's own walk
/// of the object ([`object_keeping`]): that walk is the value's only reading, and the
/// node's keywords are all decided by it.
fn keeps_in_its_walk(s: &Schema, node: &Node, logic: &Logic) -> bool {
    in_place_readings(s, logic) == 0
        && !node.trivial
        && node.const_value.is_none()
        && node.enum_values.is_none()
        && (node.types == 0 || node.types & types::OBJECT != 0)
        && node
            .object
            .as_ref()
            .is_some_and(|o| o.dependent_required.is_empty() && o.dependent_schemas.is_empty())
}

/// `not` and `if` of `logic` decided on `cut` (the value, or the object cut down to the
/// entries they read): [`Stop::Invalid`] when `not` fails; else the branch of `if` that
/// applies, or `None` when there is none or `on` decides it here too (`Invalid` if it fails).
fn decide<'s>(
    s: &Schema,
    logic: &'s Logic,
    on: &OnNames,
    cut: &Json<'_>,
    depth: usize,
) -> Result<Option<&'s Node>, Stop> {
    if let Some(not) = logic.not.as_deref() {
        ensure(!plain_is_valid(s, not, &cut, depth))?;
    }
    let chosen = logic.cond.as_deref().and_then(|(when, then, otherwise)| {
        let holds = logic.if_probe.as_ref().and_then(|p| p.holds(&cut, depth));
        if holds.unwrap_or_else(|| plain_is_valid(s, when, &cut, depth)) {
            then.as_ref()
        } else {
            otherwise.as_ref()
        }
    });
    match chosen {
        Some(branch) if on.branches => {
            ensure(plain_is_valid(s, branch, &cut, depth))?;
            Ok(None)
        }
        chosen => Ok(chosen),
    }
}

/// Records parsed whole after one whose named entries were most of its object and longer
/// than [`HEAVY_BYTES`] (then one is tried again).
const HEAVY_RECORDS: u8 = 32;

/// Named entries shorter than this are cheap to keep, whatever share of the object.
const HEAVY_BYTES: usize = 256;

/// The most names, and nodes looked at, for [`on_names`].
const MAX_NAMES: usize = 32;

/// The names of an object's entries on which the verdicts of `logic`'s `not` and `if`
/// depend, when they depend on no other entries and not on how many there are: each
/// then decides an object as it decides the object cut down to those entries
/// ([`projection`]); with `then` and `else` too when they read only named entries as
/// well (`"then": {"properties": {"outputs": ...}}`). `None` otherwise, or with
/// `unevaluated*`. Found once per `Logic`.
fn on_names<'s>(s: &'s Schema, logic: &'s Logic) -> Option<&'s OnNames> {
    logic
        .on_names
        .get_or_init(|| {
            if logic.unevaluated_properties.is_some() || logic.unevaluated_items.is_some() {
                return None;
            }
            let mut names = Vec::new();
            let mut budget = MAX_NAMES;
            let deciders = logic.not.as_deref().into_iter();
            let deciders = deciders.chain(logic.cond.as_deref().map(|(when, _, _)| when));
            for node in deciders {
                if !reads_only_names(s, node, &mut names, &mut budget) {
                    return None;
                }
            }
            let mut with_branches = names.clone();
            let branches = logic.cond.as_deref().is_some_and(|(_, then, otherwise)| {
                [then, otherwise]
                    .into_iter()
                    .flatten()
                    .all(|b| reads_only_names(s, b, &mut with_branches, &mut budget))
            });
            if branches {
                names = with_branches;
            }
            Some(OnNames {
                names: names.into_iter().map(Box::from).collect(),
                branches,
            })
        })
        .as_ref()
}

/// Whether `node` decides an object by the entries whose names it adds to `names` alone
/// (and by its kind): named properties and `required`, through in-place subschemas and
/// static references, nothing that counts or ranges over every entry (`const`/`enum` of
/// the object, `additionalProperties`, `patternProperties`, `propertyNames`, `min/
/// maxProperties`, dependencies, `unevaluated*`). The properties' own subschemas may be
/// anything: they are checked on the entries' parsed values. At most `budget` nodes and
/// [`MAX_NAMES`] names (a reference cycle ends there).
fn reads_only_names<'s>(
    s: &'s Schema,
    node: &'s Node,
    names: &mut Vec<&'s str>,
    budget: &mut usize,
) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Node {
        // Decide without reading the value.
        always_false: _,
        trivial: _,
        // The kind of the value: the same for the object cut down.
        types: _,
        const_value,
        enum_values,
        // Says whether `const_value` or `enum_values` is there.
        equality: _,
        // Says what `logic` holds.
        ref_alone: _,
        // Says what the other fields hold.
        types_only: _,
        // How walks visit it, not what it checks.
        revisited: _,
        // Only for values of other kinds.
        string: _,
        number: _,
        array: _,
        object,
        logic,
        // Only `unevaluated*` read them, which this answer excludes.
        annotations: _,
        // A schema with dynamic references never takes this path.
        resource: _,
        // Only for errors.
        location: _,
    } = node;
    if const_value.is_some() || enum_values.is_some() {
        return false;
    }
    if let Some(checks) = object {
        if !reads_named_entries_only(checks) {
            return false;
        }
        for property in &checks.properties {
            if !names.contains(&property.name.as_str()) {
                if names.len() == MAX_NAMES {
                    return false;
                }
                names.push(&property.name);
            }
        }
    }
    let Some(logic) = logic.as_deref() else {
        return true;
    };
    let Logic {
        refs,
        all_of,
        // Only for strings.
        all_of_patterns: _,
        // A shortcut of `all_of`.
        all_of_probes: _,
        any_of,
        one_of,
        not,
        cond,
        unevaluated_properties,
        unevaluated_items,
        // Shortcuts of `any_of`, `one_of` and `cond`.
        any_of_tags: _,
        one_of_tags: _,
        any_of_names: _,
        one_of_names: _,
        one_of_shapes: _,
        if_probe: _,
        on_names: _,
        keep_heavy: _,
    } = logic;
    if unevaluated_properties.is_some() || unevaluated_items.is_some() {
        return false;
    }
    let mut each = |n: &'s Node| reads_only_names(s, n, names, budget);
    for (r, _) in refs {
        let Ref::Static(id) = r else {
            return false;
        };
        if !each(&s.nodes[*id]) {
            return false;
        }
    }
    let branches = all_of
        .iter()
        .chain(any_of)
        .chain(one_of)
        .chain(not.as_deref());
    let cond = cond.as_deref().into_iter();
    let cond =
        cond.flat_map(|(when, then, otherwise)| [Some(when), then.as_ref(), otherwise.as_ref()]);
    branches.chain(cond.flatten()).all(each)
}

/// The entries of the object at the cursor that `keep` wants, parsed into it (the others
/// skipped); the cursor left after the object. [`Stop::Unsure`] as [`Keep::keep`] decides.
fn projection<'a>(p: &mut Parser<'a>, keep: &mut Keep<'_, 'a>, depth: usize) -> Verdict {
    entries(p, depth, |key, p| {
        if keep.wants(&key) {
            let at = p.pos;
            let value = p.parse_here(MAX_DEPTH.saturating_sub(depth + 1))?;
            keep.keep(key, value, p.pos - at)?;
        } else {
            skip(p, depth + 1)?;
        }
        Ok(true)
    })
}

/// Whether the node's own keywords (not its [`Logic`]) accept every value.
fn has_no_own_keywords(node: &Node) -> bool {
    let Node {
        always_false,
        trivial: _,
        types,
        const_value,
        enum_values,
        // Says whether `const_value` or `enum_values` is there.
        equality: _,
        // Says what `logic` holds.
        ref_alone: _,
        // Says what the other fields hold.
        types_only: _,
        // How walks visit it, not what it checks.
        revisited: _,
        string,
        number,
        array,
        object,
        // The keywords this answer leaves out.
        logic: _,
        annotations: _,
        resource: _,
        location: _,
    } = node;
    !always_false
        && *types == 0
        && const_value.is_none()
        && enum_values.is_none()
        && string.is_none()
        && number.is_none()
        && array.is_none()
        && object.is_none()
}

/// The node's own keywords (not its [`crate::schema::Logic`]).
fn plain(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    let Node {
        // Checked by `value`, the only caller.
        always_false: _,
        trivial,
        types,
        const_value,
        enum_values,
        // Says whether `const_value` or `enum_values` is there.
        equality: _,
        // Says what `logic` holds.
        ref_alone: _,
        // Says what the other fields hold.
        types_only: _,
        // How walks visit it, not what it checks.
        revisited: _,
        string,
        number,
        array: array_checks,
        object: object_checks,
        // Checked by `value`; only read here to skip a container it alone constrains.
        logic,
        // Only `unevaluated*` read them, and those are decided on the parsed value.
        annotations: _,
        // A schema with dynamic references never takes this path.
        resource: _,
        // Only for errors.
        location: _,
    } = node;
    let c = p.peek()?;
    let scalar = match c {
        b'{' | b'[' => {
            if *trivial
                || (logic.is_some()
                    && *types == 0
                    && object_checks.is_none()
                    && array_checks.is_none()
                    && const_value.is_none()
                    && enum_values.is_none())
            {
                return skip(p, depth);
            }
            if const_value.is_some() || enum_values.is_some() {
                return whole_plain(s, node, p, depth);
            }
            // A level of the value: where a walk without combinators nests (see
            // `crate::stack`; every few levels, not at a record's root).
            return crate::stack::at_level(depth as u32 + 1, || container(s, node, p, depth, c));
        }
        b'"' => {
            p.pos += 1;
            if const_value.is_none() && enum_values.is_none() {
                ensure(*types == 0 || types & types::STRING != 0)?;
                return match string {
                    // Only its type matters: checked as JSON, escapes not decoded. (Not
                    // valid Unicode, it fails where a check reaches it: the parsed
                    // path's error.)
                    None => decidable(p.skip_text()?),
                    Some(checks) => ensure(check::string_is_valid(checks, &p.string()?)),
                };
            }
            Json::String(p.string()?)
        }
        b'-' | b'0'..=b'9' => {
            let n = p.number()?;
            // Out of range: the parsed path reports it (before `type`, which a
            // `not` or a union would read as a verdict on the number).
            decidable(n.is_finite())?;
            if const_value.is_none() && enum_values.is_none() {
                let type_ok = *types == 0
                    || types & types::NUMBER != 0
                    || (types & types::INTEGER != 0 && n.is_integer());
                ensure(type_ok)?;
                return match number {
                    None => Ok(()),
                    Some(checks) => ensure(check::number_is_valid(checks, &n)),
                };
            }
            Json::Number(n)
        }
        b't' => {
            p.literal(b"true")?;
            Json::Bool(true)
        }
        b'f' => {
            p.literal(b"false")?;
            Json::Bool(false)
        }
        b'n' => {
            p.literal(b"null")?;
            Json::Null
        }
        _ => return Err(Stop::Unsure),
    };
    ensure(*trivial || plain_is_valid(s, node, &&scalar, depth))
}

/// The object or array (`c`, its first byte) at the cursor, checked against `node`.
#[inline(always)]
fn container(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize, c: u8) -> Verdict {
    if c == b'{' {
        object(s, node, p, depth)
    } else {
        array(s, node, p, depth)
    }
}

/// Whether `value` passes the node (its logic included: checked twice, which is
/// correct, only slower).
fn plain_is_valid(s: &Schema, node: &Node, v: &&Json<'_>, depth: usize) -> bool {
    check::node_is_valid(s, node, v, depth)
}

/// Checks that the value at the cursor is JSON, without building it.
fn skip(p: &mut Parser<'_>, depth: usize) -> Verdict {
    // A scalar is passed here: `skip_here` sets up for containers first (the values
    // skipped by a walk of an object's keys are mostly strings and numbers).
    let c = p.peek()?;
    if c != b'{' && c != b'[' {
        p.skip_scalar(c, 0, &mut ())?;
        return Ok(());
    }
    p.skip_here(MAX_DEPTH.saturating_sub(depth))?;
    Ok(())
}

/// Parses the value and runs the ordinary checks on it (whole-value keywords).
fn whole(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    let doc = p.parse_here(MAX_DEPTH.saturating_sub(depth))?;
    if check::node_is_valid(s, node, &&doc, depth) {
        return Ok(());
    }
    // The root on the whole record: what the parsed path checks, on the same tree.
    let record = depth == 0 && std::ptr::eq(node, &s.root);
    Err(if record {
        Stop::InvalidRecord
    } else {
        Stop::Invalid
    })
}

/// Like [`whole`], for the node's own keywords; its logic is checked by
/// [`value`] (checking it twice is correct, only slower).
fn whole_plain(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    whole(s, node, p, depth)
}

fn object(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    object_keeping(s, node, p, depth, &mut KeepNone)
}

/// Entries of an object that its walk keeps besides checking them (see [`Keep`]).
trait Keeps<'a> {
    /// Whether any entry is kept (the walk that keeps none is compiled without).
    const ANY: bool;
    fn wants(&self, key: &str) -> bool;
    /// Keeps the entry, its value `bytes` long in the text.
    fn keep(&mut self, key: Cow<'a, str>, value: Json<'a>, bytes: usize) -> Verdict;
}

struct KeepNone;

impl<'a> Keeps<'a> for KeepNone {
    const ANY: bool = false;

    fn wants(&self, _: &str) -> bool {
        false
    }

    fn keep(&mut self, _: Cow<'a, str>, _: Json<'a>, _: usize) -> Verdict {
        Ok(())
    }
}

/// The entries named in `names`, parsed: the object cut down to them (see [`on_names`]).
struct Keep<'n, 'a> {
    names: &'n [Box<str>],
    entries: Vec<(Cow<'a, str>, Json<'a>)>,
    /// The length of their values in the text.
    bytes: usize,
}

impl<'a> Keep<'_, 'a> {
    /// The object cut down to the entries kept (their keys checked for repeats).
    fn into_object(self) -> Json<'a> {
        Json::Object(self.entries, KeysOnce::default())
    }
}

impl<'a> Keeps<'a> for Keep<'_, 'a> {
    const ANY: bool = true;

    fn wants(&self, key: &str) -> bool {
        self.names.iter().any(|name| **name == *key)
    }

    /// [`Stop::Unsure`] when a name repeats (JSON text may repeat a key: the parsed path
    /// decides which entry counts).
    fn keep(&mut self, key: Cow<'a, str>, value: Json<'a>, bytes: usize) -> Verdict {
        decidable(self.entries.iter().all(|(k, _)| *k != key))?;
        self.entries.push((key, value));
        self.bytes += bytes;
        Ok(())
    }
}

/// [`object`], the entries `keep` wants parsed and kept as they are checked.
fn object_keeping<'a, K: Keeps<'a>>(
    s: &Schema,
    node: &Node,
    p: &mut Parser<'a>,
    depth: usize,
    keep: &mut K,
) -> Verdict {
    ensure(node.types == 0 || node.types & types::OBJECT != 0)?;
    let Some(checks) = &node.object else {
        return skip(p, depth);
    };
    let ObjectChecks {
        // Read by `entry`: each entry costs one lookup, whatever their number.
        properties: _,
        // Another way to find a property: `entry` uses `ObjectChecks::find`.
        names: _,
        // `required` is read from each property, and counted (by `walk_entries`).
        n_required: _,
        required_indices: _,
        // Read by `entry`, with `patterns` and `property_names`.
        additional: _,
        // Read by `walk_entries`.
        min_properties: _,
        // Only for messages.
        min_properties_text: _,
        max_properties: _,
        patterns: _,
        property_names: _,
        dependent_required,
        dependent_masks,
        dependent_schemas,
        // The Python host's cache.
        host_keys: _,
    } = checks;
    if !dependent_required.is_empty() || !dependent_schemas.is_empty() {
        // Dependencies on properties are checked on those the walk finds, in a walk of its
        // own: the others pay nothing for them (noting every property held, in one walk
        // for all, cost them up to 2% of their instructions). Any other dependencies: the
        // whole object is looked at, for the names they depend on (a walk that keeps
        // entries is not given such a node: see `keeps_in_its_walk`).
        decidable(!K::ANY)?;
        if dependent_masks.is_some() && dependent_schemas.is_empty() {
            return walk_entries_with_dependencies(s, checks, p, depth);
        }
        return whole_plain(s, node, p, depth);
    }
    if counts_keys(checks) {
        return walk_entries_counting_keys(s, checks, p, depth, keep);
    }
    walk_entries::<K, false, _>(s, checks, p, depth, keep, &mut NoKeys)
}

/// Whether the walk of an object of `checks` must count its keys, each once: for a
/// `minProperties` of 2 or more (JSON text may repeat a key, and `{"a": 1, "a": 2}` has
/// one property).
#[inline(always)]
fn counts_keys(checks: &ObjectChecks) -> bool {
    checks.min_properties.is_some_and(|m| m >= 2)
}

/// [`walk_entries`] of an object with `dependentRequired` on its properties (out of line:
/// see [`object_keeping`]).
#[inline(never)]
fn walk_entries_with_dependencies(
    s: &Schema,
    checks: &ObjectChecks,
    p: &mut Parser<'_>,
    depth: usize,
) -> Verdict {
    if counts_keys(checks) {
        let mut keys = KeysSeen::default();
        return walk_entries::<KeepNone, true, _>(s, checks, p, depth, &mut KeepNone, &mut keys);
    }
    walk_entries::<KeepNone, true, _>(s, checks, p, depth, &mut KeepNone, &mut NoKeys)
}

/// [`walk_entries`] of an object whose keys it counts ([`counts_keys`]; out of line: noting
/// every key, in the walk of every object, cost 8% of the instructions of the walk of the
/// Twitter statuses).
#[inline(never)]
fn walk_entries_counting_keys<'a, K: Keeps<'a>>(
    s: &Schema,
    checks: &ObjectChecks,
    p: &mut Parser<'a>,
    depth: usize,
    keep: &mut K,
) -> Verdict {
    walk_entries::<K, false, _>(s, checks, p, depth, keep, &mut KeysSeen::default())
}

/// The keys of an object noted by its walk: [`KeysSeen`] where they are counted
/// ([`counts_keys`]), else nothing at all.
trait NotedKeys<'a> {
    /// `Err(Stop::Unsure)` when the object already has `key`. (The key's `Cow`, not a
    /// `&str`: a key borrowed from the text is noted without a copy.)
    #[allow(clippy::ptr_arg)]
    fn note(&mut self, key: &Cow<'a, str>) -> Verdict;
}

struct NoKeys;

impl<'a> NotedKeys<'a> for NoKeys {
    #[inline(always)]
    fn note(&mut self, _: &Cow<'a, str>) -> Verdict {
        Ok(())
    }
}

impl<'a> NotedKeys<'a> for KeysSeen<'a> {
    fn note(&mut self, key: &Cow<'a, str>) -> Verdict {
        decidable(self.insert(key.clone()))
    }
}

/// The walk of [`object_keeping`]; `DEPS`: the object has `dependentRequired` on its
/// properties (see [`ObjectChecks::dependent_masks`]); `keys`: where they are counted, an
/// object that repeats a key is left to the parsed path ([`counts_keys`]).
#[inline(always)]
fn walk_entries<'a, K: Keeps<'a>, const DEPS: bool, N: NotedKeys<'a>>(
    s: &Schema,
    checks: &ObjectChecks,
    p: &mut Parser<'a>,
    depth: usize,
    keep: &mut K,
    keys: &mut N,
) -> Verdict {
    let ObjectChecks {
        required_indices,
        min_properties,
        max_properties,
        dependent_masks,
        ..
    } = checks;
    if depth + 1 > MAX_DEPTH {
        return Err(Stop::Unsure);
    }
    let mut seen = Seen::default();
    // With `DEPS`, the first 64 properties the object holds, required or not, by bit.
    let mut present = 0u64;
    let mut count = 0usize;
    // Records usually list keys in schema order: try the next property first.
    let mut hint = 0usize;
    p.pos += 1; // `{`
    if p.peek()? == b'}' {
        p.pos += 1;
    } else {
        loop {
            let c = p.peek()?;
            let key = p.key(c)?;
            count += 1;
            keys.note(&key)?;
            let at = p.pos;
            let seen_here = (&mut seen, &mut present, &mut hint);
            entry::<DEPS>(s, checks, &key, seen_here, p, depth)?;
            if K::ANY && keep.wants(&key) {
                let end = p.pos;
                p.pos = at;
                let value = p.parse_here(MAX_DEPTH.saturating_sub(depth + 1))?;
                p.pos = end;
                keep.keep(key, value, end - at)?;
            }
            match p.peek()? {
                b',' => p.pos += 1,
                b'}' => {
                    p.pos += 1;
                    break;
                }
                _ => return Err(Stop::Unsure),
            }
        }
    }
    ensure(seen.required == required_indices.len())?;
    if let (true, Some(masks)) = (DEPS, dependent_masks) {
        let held = present;
        ensure(
            masks
                .iter()
                .all(|&(name, needs)| held & name == 0 || held & needs == needs),
        )?;
    }
    ensure(min_properties.is_none_or(|m| count >= m))?;
    ensure(max_properties.is_none_or(|m| count <= m))
}

/// The required properties an object holds, each counted once (JSON text may
/// repeat a key).
#[derive(Default)]
struct Seen {
    /// Those among the first 64 properties, by bit.
    low: u64,
    /// Those beyond: a few, or the object is left to the parsed path.
    high: [usize; 8],
    n_high: usize,
    required: usize,
}

impl Seen {
    /// Inlined for the first 64 properties (a branch-free count, measured as a
    /// visible share of a record when it was an out-of-line call).
    #[inline(always)]
    fn note(&mut self, i: usize) -> Verdict {
        if i < 64 {
            let bit = 1u64 << i;
            self.required += usize::from(self.low & bit == 0);
            self.low |= bit;
            return Ok(());
        }
        self.note_high(i)
    }

    #[cold]
    #[inline(never)]
    fn note_high(&mut self, i: usize) -> Verdict {
        if !self.high[..self.n_high].contains(&i) {
            *self.high.get_mut(self.n_high).ok_or(Stop::Unsure)? = i;
            self.n_high += 1;
            self.required += 1;
        }
        Ok(())
    }
}

/// The entry `key` of an object: noted in `(seen, present, hint)` (the required properties,
/// with `DEPS` every one of the first 64, and the property to try first for the next key)
/// and its value checked.
#[inline(always)]
fn entry<const DEPS: bool>(
    s: &Schema,
    checks: &ObjectChecks,
    key: &str,
    (seen, present, hint): (&mut Seen, &mut u64, &mut usize),
    p: &mut Parser<'_>,
    depth: usize,
) -> Verdict {
    let found = find_property(checks, *hint, key);
    let mut declared = None;
    if let Some(i) = found {
        if checks.properties[i].required {
            seen.note(i)?;
        }
        if DEPS && checks.properties[i].dependency {
            *present |= 1 << i; // among the first 64 (see `dependent_masks`)
        }
        *hint = i + 1;
        // A name only in `required` is present, and still an additional property.
        if checks.properties[i].declared {
            declared = Some(&checks.properties[i].node);
        }
    }
    if checks.property_names.is_none() && checks.patterns.is_empty() {
        return declared_or_additional(s, checks, declared, p, depth);
    }
    entry_with_names(s, checks, key, declared, p, depth)
}

/// The index of the property named `key`, property `hint` tried first:
/// [`ObjectChecks::find_from`], inlined into the walk (the hint compared without
/// a call to `memcmp`: short keys are the rule).
#[inline(always)]
fn find_property(checks: &ObjectChecks, hint: usize, key: &str) -> Option<usize> {
    if let Some(property) = checks.properties.get(hint) {
        if same_text(&property.name, key) {
            return Some(hint);
        }
    }
    checks.find(key)
}

/// The schema of a property that no pattern matches: its own, or `additionalProperties`.
#[inline(always)]
fn declared_or_additional(
    s: &Schema,
    checks: &ObjectChecks,
    declared: Option<&Option<Node>>,
    p: &mut Parser<'_>,
    depth: usize,
) -> Verdict {
    match declared {
        Some(Some(sub)) => value(s, sub, p, depth + 1),
        Some(None) => skip(p, depth + 1),
        None => match &checks.additional {
            Additional::Allow => skip(p, depth + 1),
            Additional::Forbid => Err(Stop::Invalid),
            Additional::Schema(sub) => value(s, sub, p, depth + 1),
        },
    }
}

/// [`entry`] with `propertyNames` or `patternProperties`.
#[inline(never)]
fn entry_with_names(
    s: &Schema,
    checks: &ObjectChecks,
    key: &str,
    declared: Option<&Option<Node>>,
    p: &mut Parser<'_>,
    depth: usize,
) -> Verdict {
    if let Some(names) = &checks.property_names {
        let name = Json::String(key.into());
        ensure(check::node_is_valid(s, names, &&name, depth + 1))?;
    }
    if checks.patterns.is_empty() {
        return declared_or_additional(s, checks, declared, p, depth);
    }
    // Every schema that applies reads the value from the same position.
    let start = p.pos;
    let mut applied = false;
    let mut run = |p: &mut Parser<'_>, sub: &Node| -> Verdict {
        p.pos = start;
        applied = true;
        value(s, sub, p, depth + 1)
    };
    if let Some(Some(sub)) = declared {
        run(p, sub)?;
    }
    let mut matched = false;
    for (pattern, sub) in &checks.patterns {
        // A match over the work bound is decided (and explained) by the checks.
        if pattern.find(key).map_err(|_| Stop::Unsure)? {
            matched = true;
            if let Some(sub) = sub {
                run(p, sub)?;
            }
        }
    }
    if declared.is_none() && !matched {
        match &checks.additional {
            Additional::Allow => {}
            Additional::Forbid => return Err(Stop::Invalid),
            Additional::Schema(sub) => run(p, sub)?,
        }
    }
    if !applied {
        skip(p, depth + 1)?;
    }
    Ok(())
}

fn array(s: &Schema, node: &Node, p: &mut Parser<'_>, depth: usize) -> Verdict {
    ensure(node.types == 0 || node.types & types::ARRAY != 0)?;
    let Some(checks) = &node.array else {
        return skip(p, depth);
    };
    let ArrayChecks {
        prefix_items,
        items,
        // Only for messages.
        items_keyword: _,
        min_items,
        // Only for messages.
        min_items_text: _,
        max_items,
        unique_items,
        contains,
        // Only with `contains`.
        min_contains: _,
        // Only for messages.
        min_contains_text: _,
        max_contains: _,
    } = checks;
    if contains.is_some() || *unique_items {
        // Counts the items valid against a schema, or compares the items with
        // each other: on the parsed value.
        return whole_plain(s, node, p, depth);
    }
    if depth + 1 > MAX_DEPTH {
        return Err(Stop::Unsure);
    }
    p.pos += 1; // `[`
    let mut count = 0usize;
    if p.peek()? == b']' {
        p.pos += 1;
    } else {
        loop {
            item(s, prefix_items, items.as_deref(), count, p, depth)?;
            count += 1;
            match p.peek()? {
                b',' => p.pos += 1,
                b']' => {
                    p.pos += 1;
                    break;
                }
                _ => return Err(Stop::Unsure),
            }
        }
    }
    ensure(min_items.is_none_or(|m| count >= m))?;
    ensure(max_items.is_none_or(|m| count <= m))
}

fn item(
    s: &Schema,
    prefix_items: &[Node],
    items: Option<&Node>,
    i: usize,
    p: &mut Parser<'_>,
    depth: usize,
) -> Verdict {
    match prefix_items.get(i).or(items) {
        Some(sub) => value(s, sub, p, depth + 1),
        None => skip(p, depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;

    /// The fused verdict never says valid where the ordinary path says invalid,
    /// and agrees on the records it decides.
    fn agree(schema: &str, records: &[&str]) {
        check_records(schema, records, true);
    }

    fn check_records(schema: &str, records: &[&str], decides: bool) {
        let schema = Schema::from_json_text(schema).unwrap();
        for r in records {
            let fused = is_valid(&schema, r.as_bytes());
            let ordinary = parse_value(r.as_bytes(), MAX_DEPTH)
                .map(|d| check::is_valid(&schema, &&d))
                .unwrap_or(false);
            assert!(
                !fused || ordinary,
                "fused says valid, ordinary says invalid: {r}"
            );
            if let Some(decided) = verdict(&schema, r.as_bytes()) {
                assert_eq!(decided, ordinary, "the fused verdict differs: {r}");
                let json = match parse_value(r.as_bytes(), MAX_DEPTH) {
                    Ok(_) => true,
                    Err(e) => e.kind == JsonErrorKind::TooDeep,
                };
                assert!(json, "a verdict on text that is not JSON: {r}");
            }
            if decides {
                assert_eq!(fused, ordinary, "{r}");
            }
        }
    }

    /// A failure the fused walk finds decides the record only when the parsed
    /// path would find it too: not in a record whose objects repeat a key (the
    /// parsed path reads the last), not in a branch of `anyOf` beside one it
    /// cannot decide, not in text that is not JSON further on.
    #[test]
    fn failures_decide_only_what_the_parsed_path_would() {
        let decided = |schema: &str, record: &str| {
            let schema = Schema::from_json_text(schema).unwrap();
            verdict(&schema, record.as_bytes())
        };
        let int_a = r##"{"properties": {"a": {"type": "integer"}, "b": {"$ref": "#"}}}"##;
        for (record, expected) in [
            (r#"{"a": 1}"#, Some(true)),
            (r#"{"a": "x"}"#, Some(false)),
            // A repeated key (the last `a` is the one checked: valid, then invalid).
            (r#"{"a": "x", "a": 1}"#, None),
            (r#"{"a": 1, "a": "x"}"#, None),
            (r#"{"a": "x", "c": {"d": 1, "d": 2}}"#, None),
            (
                r#"{"a": "x", "c": [{"d": 1}, {"d": 2}], "d": 3}"#,
                Some(false),
            ),
            (r#"{"a": "x", "c": 2, "a": 1}"#, None),
            (r#"{"b": {"a": "x"}, "b": {"a": 1}}"#, None),
            (r#"{"b": {"a": "x", "a": 1}}"#, None),
            (r#"{"b": {"a": 1}, "b": {"a": "x"}}"#, None),
            (r#"{"b": {"a": "x"}, "c": {"a": 1}}"#, Some(false)),
            // Not JSON after the failure: the parsed path says how.
            (r#"{"a": "x", "c": }"#, None),
            (r#"{"a": "x"} x"#, None),
            (r#"{"a": "x", "c": [1, 2}"#, None),
            (r#"{"a": "x", "c": "\u00"}"#, None),
        ] {
            assert_eq!(decided(int_a, record), expected, "{record}");
        }
        // Nested too deep after the failure: a failing record either way.
        let deep = format!(
            r#"{{"a": "x", "c": {}1{}}}"#,
            "[".repeat(300),
            "]".repeat(300)
        );
        assert_eq!(decided(int_a, &deep), Some(false));
        // Keys compared as the parsed path reads them (escapes decoded), and
        // linearly past the first few of an object.
        assert_eq!(decided(int_a, r#"{"a": "x", "c": 1, "\u0063": 2}"#), None);
        let keys: Vec<String> = (0..5000).map(|i| format!(r#""k{i}": {i}"#)).collect();
        let wide = format!(r#"{{"a": "x", {}}}"#, keys.join(", "));
        assert_eq!(decided(int_a, &wide), Some(false));
        let again = format!(r#"{{"a": "x", {}, "k4999": 0}}"#, keys.join(", "));
        assert_eq!(decided(int_a, &again), None);
        // A key repeated in the list or past it, escaped on either side or both.
        let twenty: Vec<String> = (0..20).map(|i| format!(r#""k{i}": {i}"#)).collect();
        let twenty = twenty.join(", ");
        for (extra, expected) in [
            (r#""k3": 0"#, None),
            (r#""k19": 0"#, None),
            (r#""\u006b3": 0"#, None),
            (r#""\u006b19": 0"#, None),
            (r#""k20": 0"#, Some(false)),
            (r#""\u006b20": 0"#, Some(false)),
        ] {
            let record = format!(r#"{{"a": "x", {twenty}, {extra}}}"#);
            assert_eq!(decided(int_a, &record), expected, "{record}");
        }
        for (record, expected) in [
            (r#"{"\u0063": 1, "a": "x", "c": 2}"#, None),
            (r#"{"\u0063": 1, "a": "x", "\u0063": 2}"#, None),
            (r#"{"\u0063": 1, "a": "x", "\u0064": 2, "d": 3}"#, None),
            (
                r#"{"\u0063": 1, "a": "x", "\u0064": 2, "e": 3}"#,
                Some(false),
            ),
            (
                r#"{ "a" : "x" , "c" : [ 1 , true , null , "y" , { } , [ ] ] }"#,
                Some(false),
            ),
            (r#"{"a": "x", "c": [1, tru]}"#, None),
            (r#"{"a": "x", "c": {"d": 1,}}"#, None),
        ] {
            assert_eq!(decided(int_a, record), expected, "{record}");
        }
        let any = r#"{"anyOf": [{"type": "array"}, {"properties": {"a": {"type": "integer"}}}]}"#;
        assert_eq!(decided(any, r#"{"a": "x"}"#), Some(false));
        assert_eq!(decided(any, r#"{"a": "x", "a": 1}"#), None);
        assert_eq!(decided(any, r#"[]"#), Some(true));
        let small = r#"{"type": "number", "maximum": 5}"#;
        assert_eq!(decided(small, "6"), Some(false));
        agree(small, &["1e400", "-1e400", "4", "6"]);
        let repeated = [
            r#"{"a": "x", "a": 1}"#,
            r#"{"a": 1, "a": "x"}"#,
            r#"{"b": {"a": "x", "a": 1}}"#,
        ];
        check_records(int_a, &repeated, false);
    }

    /// A root read more than twice is parsed whole and checked as the parsed path
    /// checks it: its failure decides the record whatever keys repeat, unless
    /// text follows it; a failure of a subschema parsed whole (the branch an `if`
    /// chose from the first of a repeated key) does not.
    #[test]
    fn a_root_parsed_whole_decides_its_failures() {
        let decided = |schema: &str, record: &str| {
            let schema = Schema::from_json_text(schema).unwrap();
            verdict(&schema, record.as_bytes())
        };
        let read_thrice = r##"{
            "$defs": {"a": {"required": ["a"]}, "b": {"properties": {"b": {"type": "integer"}}}},
            "allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}],
            "properties": {"a": {"type": "string"}}
        }"##;
        let records = [
            r#"{"a": "x", "b": 1}"#,
            r#"{"a": 1, "b": 1}"#,
            r#"{"a": 1, "a": "x", "b": 1}"#,
            r#"{"a": "x", "a": 1, "b": 1}"#,
            r#"{"a": "x", "b": "y", "b": 1}"#,
            r#"{"a": "x", "b": 1, "b": "y"}"#,
            r#"{"b": 1}"#,
            r#"{"a": 1, "b": 1} x"#,
            r#"{"a": 1, "b": 1}  "#,
            r#"{"a": 1, "b": }"#,
        ];
        check_records(read_thrice, &records, false);
        for (record, expected) in [
            (r#"{"a": "x", "b": 1}"#, Some(true)),
            (r#"{"a": 1, "b": 1}"#, Some(false)),
            (r#"{"a": "x", "a": 1, "b": 1}"#, Some(false)),
            (r#"{"a": "x", "b": 1, "b": "y"}"#, Some(false)),
            (r#"{"b": 1}"#, Some(false)),
            (r#"{"a": 1, "b": 1}  "#, Some(false)),
            (r#"{"a": 1, "b": 1} x"#, None),
            (r#"{"a": 1, "b": }"#, None),
        ] {
            assert_eq!(decided(read_thrice, record), expected, "{record}");
        }
        let probed = r#"{
            "if": {"properties": {"kind": {"const": "x"}}, "required": ["kind"]},
            "then": {"minProperties": 3, "allOf": [{"required": ["n"]}, {"required": ["m"]}]}
        }"#;
        let records = [
            r#"{"kind": "x", "n": 1, "m": 2}"#,
            r#"{"kind": "x", "n": 1}"#,
            r#"{"kind": "x", "kind": "y"}"#,
            r#"{"kind": "y", "kind": "x"}"#,
            r#"{"kind": "x", "n": 1, "kind": "y"}"#,
            r#"{"kind": "y", "n": 1, "kind": "x"}"#,
        ];
        check_records(probed, &records, false);
        for record in [
            r#"{"kind": "x", "kind": "y"}"#,
            r#"{"kind": "y", "kind": "x"}"#,
        ] {
            assert_eq!(decided(probed, record), None, "{record}");
        }
        // Below the root, the failure of a value parsed whole leaves the record to
        // the keys (an enclosing key may repeat).
        let below = r##"{
            "$defs": {
                "a": {"required": ["a"]},
                "b": {"properties": {"b": {"type": "integer"}}},
                "t": {
                    "allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}],
                    "properties": {"a": {"type": "string"}}
                }
            },
            "properties": {"c": {"$ref": "#/$defs/t"}},
            "items": {"$ref": "#/$defs/t"},
            "if": {"properties": {"kind": {"const": "x"}}, "required": ["kind"]},
            "then": {"$ref": "#/$defs/t"}
        }"##;
        let records = [
            r#"{"c": {"a": 1}, "c": {"a": "x"}}"#,
            r#"{"c": {"a": "x"}, "c": {"a": 1}}"#,
            r#"[{"a": 1, "a": "x"}]"#,
            r#"{"kind": "x", "a": 1, "kind": "y"}"#,
            r#"{"kind": "y", "a": 1, "kind": "x"}"#,
        ];
        check_records(below, &records, false);
        for record in [records[0], records[1]] {
            assert_eq!(decided(below, record), None, "{record}");
        }
    }

    /// The branches of a union tagged by `type` (string tags, a number tag, a tag not
    /// required, a branch of another kind), for `TAGGED_RECORDS`.
    const TAGGED_BRANCHES: &str = r#"
        {"type": "object", "properties": {"type": {"const": "a"}, "n": {"type": "integer"}},
         "required": ["type"], "additionalProperties": false},
        {"type": "object", "properties": {"type": {"const": "b"}, "s": {"type": "string"}},
         "required": ["type", "s"]},
        {"type": "object", "properties": {"type": {"const": "c"}}, "required": ["type"]},
        {"type": "object", "properties": {"type": {"const": "c"}, "x": {"type": "null"}}},
        {"type": "object", "properties": {"type": {"const": 7}}, "required": ["type"]},
        {"type": "array"}"#;

    /// Records for `TAGGED_BRANCHES`: tags first and last, escaped, absent, of another type,
    /// repeated with another value; non-objects.
    const TAGGED_RECORDS: [&str; 19] = [
        r#"{"type": "a", "n": 1}"#,
        r#"{"n": 1, "type": "a"}"#,
        r#"{"type": "a", "n": "x"}"#,
        r#"{"type": "a", "n": 1, "extra": 0}"#,
        r#"{"type": "b", "s": "x"}"#,
        r#"{"type": "b"}"#,
        r#"{"type": "z"}"#,
        r#"{"type": 7}"#,
        r#"{"type": 7.0}"#,
        r#"{"type": null}"#,
        r#"{}"#,
        r#"{"x": null}"#,
        r#"{"type": "c"}"#,
        r#"{"type": "c", "x": 1}"#,
        r#"{"type": "a", "type": "b", "s": "x"}"#,
        r#"{"type": "b", "s": "x", "type": "a"}"#,
        r#"{"type": "\u0061", "n": 2}"#,
        r#"[1]"#,
        r#""a""#,
    ];

    /// Verdicts of the fused walk on `TAGGED_BRANCHES`, as `oneOf` or `anyOf`.
    const TAGGED_VERDICTS: [(&str, Option<bool>); 6] = [
        (r#"{"type": "a", "n": 1}"#, Some(true)),
        (r#"{"n": 1, "type": "a"}"#, Some(true)),
        (r#"{"type": "\u0061", "n": 2}"#, Some(true)),
        (r#"{"type": "a", "n": "x"}"#, Some(false)),
        (r#"{"type": "z"}"#, Some(false)),
        (r#"{"type": "b"}"#, Some(false)),
    ];

    /// A `oneOf` tagged by a property is decided by the one branch the tag leaves.
    #[test]
    fn tagged_unions_decide_by_the_branch_their_tag_leaves() {
        let union = format!(r#"{{"oneOf": [{TAGGED_BRANCHES}]}}"#);
        let (union, records) = (union.as_str(), TAGGED_RECORDS);
        check_records(union, &records, false);
        let schema = Schema::from_json_text(union).unwrap();
        for (record, expected) in TAGGED_VERDICTS
            .into_iter()
            .chain([(r#"{"type": 7}"#, Some(true))])
        {
            assert_eq!(verdict(&schema, record.as_bytes()), expected, "{record}");
        }
        // The candidates, read up to the tag while every branch left is tagged; with an
        // untagged branch left, the object is read for a repeated tag, and one leaves the
        // union undecided.
        let loose = format!(r#"{{"oneOf": [{TAGGED_BRANCHES}, {{"required": ["loose"]}}]}}"#);
        let loose = Schema::from_json_text(&loose).unwrap();
        for (schema, record, expected) in [
            (&schema, r#"{"type": "a", "type": "c"}"#, Some(0b1)),
            (&schema, r#"{"type": "c", "type": "a"}"#, Some(0b1100)),
            (&loose, r#"{"type": "a", "loose": 1}"#, Some(0b1000001)),
            (&loose, r#"{"type": "a", "loose": 1, "type": "c"}"#, None),
            (&loose, r#"{"loose": 1}"#, Some(0b1001000)),
        ] {
            let logic = schema.root.logic.as_deref().unwrap();
            let tags = logic
                .one_of_tags
                .get_or_init(|| Tags::of(schema, &logic.one_of));
            let mut p = Parser::new(record.as_bytes());
            let picked = tag_candidates(tags, logic.one_of.len(), &mut p, 0, true).unwrap();
            assert_eq!((picked, p.pos), (expected, 0), "{record}");
        }
    }

    /// A tagged `anyOf` walks only the branches its tag leaves (read from the text): the
    /// verdicts of the parsed path, the candidates those a walk over every branch would
    /// not find failing for certain, and a repeated tag left to the parsed path.
    #[test]
    fn tagged_any_of_walks_only_the_branches_its_tag_leaves() {
        // `TAGGED_BRANCHES` and a branch tagged through a `$ref` to an `allOf`.
        let union = format!(
            r##"{{"anyOf": [{TAGGED_BRANCHES}, {{"$ref": "#/$defs/d"}}],
                "$defs": {{"d": {{"allOf": [{{"required": ["type"]}},
                    {{"properties": {{"type": {{"const": "d"}}, "k": {{"$ref": "#/$defs/k"}}}}}}]}},
                  "k": {{"$ref": "#/$defs/k2"}}, "k2": {{"type": "integer", "minimum": 3}}}}}}"##
        );
        let union = union.as_str();
        let mut records = TAGGED_RECORDS.to_vec();
        records.extend([
            r#"{"x": 1}"#,
            r#"{"type": "d", "k": 3}"#,
            r#"{"k": 4, "type": "d"}"#,
            r#"{"type": "d", "k": 2}"#,
            r#"{"type": "d", "k": 3, "k": 2}"#,
            r#"{"type": {"a": 1}, "n": 2}"#,
            r#"{"type": "a", "n": 1"#,
        ]);
        check_records(union, &records, false);
        let schema = Schema::from_json_text(union).unwrap();
        for (record, expected) in TAGGED_VERDICTS.into_iter().chain([
            (r#"{"type": 7.0}"#, Some(true)),
            (r#"{"x": null}"#, Some(true)),
            (r#"{"x": 1}"#, Some(false)),
            (r#"{"type": "d", "k": 3}"#, Some(true)),
            (r#"{"type": "d", "k": 2}"#, Some(false)),
            (r#"{"type": "a", "type": "b", "s": "x"}"#, None),
        ]) {
            assert_eq!(verdict(&schema, record.as_bytes()), expected, "{record}");
        }
        // The candidates: the branch of the tag, those tagged by no string, and those
        // that do not require the tag; none of another kind.
        let logic = schema.root.logic.as_deref().unwrap();
        let tags = logic
            .any_of_tags
            .get_or_init(|| Tags::of(&schema, &logic.any_of));
        let picked = |record: &str| {
            let mut p = Parser::new(record.as_bytes());
            tag_candidates(tags, logic.any_of.len(), &mut p, 0, false).unwrap()
        };
        assert_eq!(picked(r#"{"n": 1, "type": "a"}"#), Some(0b0000001));
        assert_eq!(picked(r#"{"type": "c"}"#), Some(0b0001100));
        assert_eq!(picked(r#"{"type": "d"}"#), Some(0b1000000));
        assert_eq!(picked(r#"{"type": 7}"#), Some(0b0010000));
        assert_eq!(picked(r#"{"type": "z"}"#), Some(0));
        assert_eq!(picked(r#"{"x": null}"#), Some(0b0001000));
        assert_eq!(picked(r#"{}"#), Some(0b0001000));
    }

    /// The names `not`/`if` of the root read, `None` when they read more.
    fn names_of(schema: &str) -> Option<Vec<String>> {
        let schema = Schema::from_json_text(schema).unwrap();
        let logic = schema.root.logic.as_deref().unwrap();
        on_names(&schema, logic).map(|on| on.names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn not_and_if_on_named_entries() {
        let names = |s: &str| names_of(s).map(|n| n.join(","));
        assert_eq!(
            names(r#"{"not": {"required": ["a", "b"]}}"#).as_deref(),
            Some("a,b")
        );
        assert_eq!(
            names(
                r##"{"$defs": {"k": {"properties": {"k": {"const": 1}}}},
                      "if": {"$ref": "#/$defs/k"}, "then": {"minProperties": 9},
                      "not": {"anyOf": [{"required": ["a"]}, {"not": {"required": ["k"]}}]}}"##
            )
            .as_deref(),
            Some("a,k")
        );
        // What reads every entry, or compares the object whole.
        for reads_more in [
            r#"{"not": {"minProperties": 2}}"#,
            r#"{"not": {"properties": {"a": {}}, "additionalProperties": false}}"#,
            r#"{"not": {"patternProperties": {"^a": {"type": "string"}}}}"#,
            r#"{"not": {"propertyNames": {"maxLength": 1}}}"#,
            r#"{"not": {"dependentRequired": {"a": ["b"]}}}"#,
            r#"{"not": {"const": {"a": 1}}}"#,
            r#"{"if": {"enum": [{}]}, "then": {"required": ["x"]}}"#,
            r#"{"not": {"unevaluatedProperties": false}}"#,
            r#"{"if": {"required": ["a"]}, "then": {}, "unevaluatedProperties": false}"#,
            r#"{"if": {"allOf": [{"required": ["a"]}, {"maxProperties": 1}]}, "else": {}}"#,
        ] {
            assert_eq!(names(reads_more), None, "{reads_more}");
        }
        // Past the budget of nodes (a static cycle does not compile).
        let branches = (0..40).map(|i| format!(r#"{{"required": ["n{i}"]}}"#));
        let wide = format!(
            r#"{{"not": {{"anyOf": [{}]}}}}"#,
            branches.collect::<Vec<_>>().join(",")
        );
        assert_eq!(names(&wide), None);
        agree(
            r#"{"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": false,
                "not": {"required": ["a", "b"], "properties": {"a": {"const": 1}}}}"#,
            &[
                r#"{"a": 1}"#,
                r#"{"a": 1, "b": 2}"#,
                r#"{"a": 2, "b": 2}"#,
                r#"{"b": [{"a": 1, "b": 1}]}"#,
            ],
        );
        // Named entries that are most of a long object: the next records are parsed whole
        // (a hint kept in the schema), then one is kept again; the verdicts do not change.
        let long = format!(r#"{{"a": [{}], "b": 1}}"#, vec!["1"; 400].join(","));
        let short = r#"{"a": 1, "b": 2}"#;
        let mut records = vec![long.as_str(); 3];
        records.extend([short; 40]);
        records.extend([r#"{"a": [1], "b": 1, "c": 2}"#, r#"{"b": 2}"#]);
        agree(
            r#"{"properties": {"b": {"type": "integer"}}, "not": {"required": ["a", "c"]}}"#,
            &records,
        );
        // A repeated key is left to the parsed path.
        check_records(
            r#"{"not": {"required": ["a", "b"]}}"#,
            &[r#"{"a": 1, "a": 2}"#],
            false,
        );
    }

    #[test]
    fn keys_compare_as_bytes() {
        // Every length around the word sizes, a difference at every position.
        for n in 0..40 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let text = |t: &[u8]| std::str::from_utf8(t).unwrap().to_owned();
            assert!(same_text(&text(&a), &text(&a)), "{n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_text(&text(&a), &text(&b)), "{n} at {at}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!same_text(&text(&a), &text(&longer)));
        }
        let schema = Schema::from_json_text(
            r#"{"properties":{"a":{"type":"integer"},"abcd":{"type":"integer"},"abcdefgh":{"type":"integer"},"abcdefghijklmnopq":{"type":"integer"},"\u00e9t\u00e9":{"type":"integer"}}}"#,
        )
        .unwrap();
        let checks = schema.root.object.as_ref().unwrap();
        for key in [
            "a",
            "abcd",
            "abcdefgh",
            "abcdefghijklmnopq",
            "\u{e9}t\u{e9}",
            "abce",
            "",
            "b",
        ] {
            for hint in 0..7 {
                assert_eq!(
                    find_property(checks, hint, key),
                    checks.find_from(hint, key),
                    "{key} {hint}"
                );
            }
        }
        assert_eq!(find_property(checks, 9, "abcdefgh"), Some(2));
        assert_eq!(find_property(checks, 0, "abcdefghijklmnopr"), None);
    }

    /// A `oneOf` whose branches take different kinds of value is decided here, by the one
    /// branch the value's kind allows; one whose branches overlap is left to the parsed
    /// value, and so is a value no branch can take.
    /// A `oneOf` of objects that keys tell apart (closed, requiring names) is the branch
    /// its keys leave, walked in place; objects with `dependencies` on their properties
    /// are walked in place too. Every verdict is the parsed path's, and decided here.
    #[test]
    fn one_of_objects_told_apart_by_their_keys() {
        let schema = r##"{"$defs": {
            "normal": {"type": "object", "required": ["runs-on"], "additionalProperties": false,
                       "properties": {"name": {"type": "string"}, "runs-on": {"type": "string"},
                                      "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}}}},
            "call": {"type": "object", "required": ["uses"], "additionalProperties": false,
                     "properties": {"name": {"type": "string"}, "uses": {"type": "string"}}},
            "step": {"type": "object", "additionalProperties": false,
                     "properties": {"run": {"type": "string"}, "uses": {"type": "string"}, "shell": {}},
                     "dependencies": {"shell": ["run"]}}},
            "type": "object",
            "properties": {"jobs": {"type": "object",
                "additionalProperties": {"oneOf": [{"$ref": "#/$defs/normal"}, {"$ref": "#/$defs/call"}]}}}}"##;
        let records = [
            r#"{"jobs": {"a": {"runs-on": "x", "steps": [{"run": "y", "shell": "bash"}]}}}"#,
            r#"{"jobs": {"a": {"name": "n", "uses": "u"}, "b": {"name": "m", "runs-on": "x"}}}"#,
            // Neither branch's required name; both, each ruling the other branch out.
            r#"{"jobs": {"a": {"name": "n"}}}"#,
            r#"{"jobs": {"a": {"runs-on": "x", "uses": "u"}}}"#,
            r#"{"jobs": {"a": {"name": "n", "uses": "u", "runs-on": "x"}}}"#,
            // One branch left, failing inside; a name no branch allows; no keys.
            r#"{"jobs": {"a": {"runs-on": 1}}}"#,
            r#"{"jobs": {"a": {"uses": "u", "steps": []}}}"#,
            r#"{"jobs": {"a": {"other": 1}}}"#,
            r#"{"jobs": {"a": {}}}"#,
            // A dependency unmet, met; a repeated key; an escaped one; not an object.
            r#"{"jobs": {"a": {"runs-on": "x", "steps": [{"shell": "bash"}]}}}"#,
            r#"{"jobs": {"a": {"runs-on": "x", "steps": [{"shell": 1, "run": "r"}, {"uses": "u"}]}}}"#,
            r#"{"jobs": {"a": {"uses": "u", "uses": "v"}}}"#,
            r#"{"jobs": {"a": {"runs\u002don": "x"}}}"#,
            r#"{"jobs": {"a": "x"}}"#,
        ];
        agree(schema, &records);
        let compiled = Schema::from_json_text(schema).unwrap();
        for r in records {
            assert!(
                verdict(&compiled, r.as_bytes()).is_some(),
                "not decided: {r}"
            );
        }
        // The branches the keys leave (bits), the walk of the keys stopping once one is.
        let union = Schema::from_json_text(&schema.replace(
            r#""type": "object",
            "properties": {"jobs""#,
            r##""oneOf": [{"$ref": "#/$defs/normal"}, {"$ref": "#/$defs/call"}, {"type": "string"}],
            "properties": {"unused""##,
        ))
        .unwrap();
        let logic = union.root.logic.as_deref().unwrap();
        let shapes = KeyShapes::of(&union, &logic.one_of).unwrap();
        let left = |text: &str| {
            let mut p = Parser::new(text.as_bytes());
            let bits = shape_candidates(&shapes, &mut p, 0).unwrap();
            assert_eq!(p.pos, 0, "{text}");
            bits
        };
        assert_eq!(left(r#"{"runs-on": "x", "steps": [1, {"a": 2}]}"#), 0b001);
        assert_eq!(left(r#"{"runs-on": "x", "not JSON"#), 0b001);
        assert_eq!(left(r#"{"name": "n", "uses": 1}"#), 0b010);
        assert_eq!(left(r#"{"name": "n"}"#), 0);
        // Stopped at `runs-on`: the branch left fails at `uses` in its own walk.
        assert_eq!(left(r#"{"name": "n", "runs-on": 1, "uses": 1}"#), 0b001);
        assert_eq!(left(r#"{"x": 1}"#), 0);
        assert_eq!(left("{}"), 0);
        // Text that is not JSON after the keys have decided: no verdict on it.
        check_records(
            schema,
            &[
                r#"{"jobs": {"a": {"runs-on": "x", "uses": "u", "z": [1,}}}"#,
                r#"{"jobs": {"a": {"other": 1,}}}"#,
            ],
            false,
        );
        // Not told apart by keys: an open branch (read whole, keys would say something
        // only at its end), a branch that is itself a union (walked, it is parsed), two
        // closed branches that allow the same names.
        let not_by_keys = [
            r#"{"oneOf": [{"required": ["a"], "properties": {"a": {"type": "integer"}}}, {"required": ["b"]}]}"#,
            r#"{"oneOf": [{"additionalProperties": false, "properties": {"t": {"const": 1}, "a": {}}},
                          {"additionalProperties": false, "properties": {"t": {"const": 2}, "a": {}}}]}"#,
            r#"{"oneOf": [{"required": ["a"], "additionalProperties": false, "properties": {"a": {}}},
                          {"oneOf": [{"required": ["b"]}, {"required": ["c"]}], "additionalProperties": false}]}"#,
        ];
        for text in not_by_keys {
            let schema = Schema::from_json_text(text).unwrap();
            let logic = schema.root.logic.as_deref().unwrap();
            assert!(KeyShapes::of(&schema, &logic.one_of).is_none(), "{text}");
        }
        // Their verdicts; dependencies on names that are no properties: parsed.
        let open = not_by_keys[0];
        agree(
            open,
            &[
                r#"{"a": 1}"#,
                r#"{"a": "x"}"#,
                r#"{"b": 1}"#,
                r#"{"a": 1, "b": 2}"#,
                r#"{"a": "x", "b": 2}"#,
                "{}",
            ],
        );
        let elsewhere = r#"{"properties": {"a": {}}, "dependencies": {"a": ["b"]}}"#;
        agree(
            elsewhere,
            &[r#"{"a": 1}"#, r#"{"a": 1, "b": 2}"#, r#"{"b": 2}"#],
        );
    }

    #[test]
    fn one_of_branches_of_different_kinds() {
        let schema = r##"{"$defs": {"obj": {"type": "object", "required": ["a"]}},
            "oneOf": [{"type": "string", "maxLength": 2}, {"type": "array", "items": {"type": "integer"}},
                      {"$ref": "#/$defs/obj"}, {"type": ["null", "boolean"]}]}"##;
        agree(
            schema,
            &[
                r#""ab""#,
                r#""abc""#,
                "[1, 2]",
                "[1, \"x\"]",
                "[]",
                r#"{"a": 1}"#,
                "{}",
                "null",
                "true",
                "false",
                " [1] ",
                "[1,]",
                r#""ab"x"#,
            ],
        );
        // No branch takes a number: left to the parsed value (which says invalid).
        check_records(schema, &["1", "2.5"], false);
        // Overlapping branches (two take numbers): decided on the parsed value.
        let overlap = r#"{"oneOf": [{"type": "integer"}, {"type": "number", "maximum": 1}]}"#;
        check_records(overlap, &["1", "2", "0.5", "1.5", "\"x\""], false);
        agree(overlap, &["2", "0.5", "1"]);
    }

    #[test]
    fn objects() {
        let schema = r#"{"type":"object","properties":{"a":{"type":"integer","minimum":0},"b":{"type":"string","maxLength":3},"c":{}},"required":["a"],"additionalProperties":false,"maxProperties":3}"#;
        agree(
            schema,
            &[
                r#"{"a": 1}"#,
                r#"{"a": -1}"#,
                r#"{"b": "x"}"#,
                r#"{"a": 1, "b": "abcd"}"#,
                r#"{"a": 1, "d": 1}"#,
                r#"{"a": 1, "c": [1, {"x": [2]}]}"#,
                r#"{"a": 1, "c": [1, {"x": [2}]}"#,
                r#"{"a": 1,}"#,
                r#"{"a" 1}"#,
                r#"{"a": 1} x"#,
                r#"  {"a": 1}  "#,
                r#"[]"#,
                r#"{"a": 1.0}"#,
                r#"{"a": 1.5}"#,
                r#"{"a": 1, "b": "\u00e9\u00e9\u00e9"}"#,
                r#"{"a": 1, "b": "\u00e9\u00e9\u00e9\u00e9"}"#,
                "{\"a\": 1, \"b\": \"\\ud800\"}",
            ],
        );
        // `minProperties` counts keys once: two entries of one key are one property.
        let at_least_two = r#"{"minProperties": 2, "additionalProperties": {"type": "integer"}}"#;
        for (record, valid) in [
            (r#"{"a": 1, "a": 2}"#, false),
            (r#"{"a": 1, "\u0061": 2}"#, false),
            (r#"{"a": 1, "b": 2}"#, true),
            (r#"{"a": 1, "b": 2, "a": 3}"#, true),
            (r#"{"a": 1, "b": {"c": 1, "c": 2}}"#, false), // b is no integer
        ] {
            check_records(at_least_two, &[record], false);
            let schema = Schema::from_json_text(at_least_two).unwrap();
            assert!(!is_valid(&schema, record.as_bytes()) || valid, "{record}");
            let parsed = parse_value(record.as_bytes(), MAX_DEPTH).unwrap();
            assert_eq!(check::is_valid(&schema, &&parsed), valid, "{record}");
        }
        // Four entries, three properties (the last `a` counts): `maxProperties` fails
        // the walk, and the parsed path decides (valid).
        check_records(schema, &[r#"{"a":1,"b":"x","c":null,"a":2}"#], false);
        let decided = verdict(
            &Schema::from_json_text(schema).unwrap(),
            br#"{"a":1,"b":"x","c":null,"a":2}"#,
        );
        assert_eq!(decided, None);
    }

    #[test]
    fn objects_with_many_properties_are_decided_by_their_keys() {
        let properties: Vec<String> = (0..200)
            .map(|i| format!(r#""p{i}":{{"type":"integer"}}"#))
            .collect();
        let schema = format!(
            r#"{{"type":"object","properties":{{{}}},"required":["p3","p150","p199"]}}"#,
            properties.join(",")
        );
        agree(
            &schema,
            &[
                r#"{"p3":1,"p150":2,"p199":3}"#,
                r#"{"p199":3,"p150":2,"p3":1,"p70":0}"#,
                // A required key beyond the 64th counted once, however often it comes.
                r#"{"p3":1,"p150":2,"p150":2,"p150":2}"#,
                r#"{"p3":1,"p150":2,"p199":"x"}"#,
                r#"{"p3":1,"p150":2}"#,
                r#"{"p150":2,"p199":3}"#,
                r#"{}"#,
            ],
        );
        // More required keys beyond the 64th than the path counts: left to the
        // ordinary checks, never called valid wrongly.
        let names: Vec<String> = (100..120).map(|i| format!(r#""p{i}""#)).collect();
        let many = format!(
            r#"{{"type":"object","properties":{{{}}},"required":[{}]}}"#,
            properties.join(","),
            names.join(",")
        );
        let all: Vec<String> = (100..120).map(|i| format!(r#""p{i}":1"#)).collect();
        let all = format!("{{{}}}", all.join(","));
        check_records(&many, &[&all, r#"{"p100":1}"#], false);
        assert!(!is_valid(
            &Schema::from_json_text(&many).unwrap(),
            all.as_bytes()
        ));
    }

    #[test]
    fn required_names_outside_properties_are_additional() {
        agree(
            r#"{"properties":{"a":{}},"required":["a","zz"],"additionalProperties":false}"#,
            &[r#"{"a":1,"zz":1}"#, r#"{"zz":1}"#],
        );
        agree(
            r#"{"required":["zz"],"additionalProperties":{"type":"integer"}}"#,
            &[r#"{"zz":"x"}"#, r#"{"zz":1}"#, r#"{}"#],
        );
    }

    #[test]
    fn arrays_and_scalars() {
        let schema = r#"{"type":"array","prefixItems":[{"type":"string"}],"items":{"type":"number","multipleOf":0.5},"minItems":1,"maxItems":3}"#;
        agree(
            schema,
            &[
                r#"["a"]"#,
                r#"[]"#,
                r#"["a", 1.5, 2]"#,
                r#"["a", 1.25]"#,
                r#"[1]"#,
                r#"["a",1,2,3]"#,
                r#"["a",]"#,
                r#"["a" 1]"#,
            ],
        );
        agree(
            r#"{"enum":[[1,2],{"a":1}]}"#,
            &[
                r#"[1,2]"#,
                r#"[1,2.0]"#,
                r#"{"a":1.0}"#,
                r#"{"a":2}"#,
                r#"3"#,
            ],
        );
        // `uniqueItems` is decided on the parsed array, nested or not.
        agree(
            r#"{"type":"array","uniqueItems":true}"#,
            &[
                r#"[1,2]"#,
                r#"[1,1.0]"#,
                r#"[{"a":[1]},{"a":[1.0]}]"#,
                "[]",
                "[1,",
            ],
        );
        let nested = r#"{"type":"object","properties":{"tags":{"type":"array","uniqueItems":true,"items":{"type":"string","maxLength":3}},"n":{"type":"integer"}},"required":["n"]}"#;
        agree(
            nested,
            &[
                r#"{"n":1,"tags":["a","b"]}"#,
                r#"{"n":1,"tags":["a","a"]}"#,
                r#"{"n":1,"tags":["a","long"]}"#,
                r#"{"tags":["a"]}"#,
                r#"{"n":1,"tags":["a",]}"#,
            ],
        );
        let schema = Schema::from_json_text(nested).unwrap();
        assert!(is_valid(&schema, br#"{"tags":["\u0061","b"],"n":2}"#));
        assert!(!is_valid(&schema, br#"{"tags":["\u0061","a"],"n":2}"#));
        agree(
            r#"{"type":["string","null"],"format":"email"}"#,
            &[r#""a@b.co""#, r#""nope""#, "null", "1"],
        );
        agree("false", &["1", "{}"]);
        agree("true", &["1", "{\"a\": [1, 2]}", "{\"a\": [1, 2}"]);
    }

    #[test]
    fn references_combinators_and_patterns_are_decided() {
        let recursive = r##"{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"$ref":"#/$defs/node"}},"required":["v"]}},"$ref":"#/$defs/node"}"##;
        agree(
            recursive,
            &[
                r#"{"v":1}"#,
                r#"{"v":1,"next":{"v":2,"next":{"v":3}}}"#,
                r#"{"v":1,"next":{"v":"x"}}"#,
                r#"{"v":1,"next":{}}"#,
            ],
        );
        agree(
            r#"{"anyOf":[{"type":"integer"},{"type":"string","maxLength":2}],"allOf":[{"not":{"const":7}}]}"#,
            &["1", r#""ab""#, r#""abc""#, "7", "null"],
        );
        agree(
            r#"{"type":"object","properties":{"id":{"type":"integer"}},"patternProperties":{"^x-":{"type":"string"},"^x-n":{"maxLength":2}},"additionalProperties":false,"propertyNames":{"maxLength":6}}"#,
            &[
                r#"{"id":1,"x-a":"s"}"#,
                r#"{"id":1,"x-no":"ab"}"#,
                r#"{"id":1,"x-no":"abc"}"#,
                r#"{"id":1,"x-a":2}"#,
                r#"{"id":1,"y":2}"#,
                r#"{"id":1,"x-long-name":"s"}"#,
            ],
        );
        // Decided on the parsed value, never proven valid wrongly.
        check_records(
            r#"{"oneOf":[{"type":"integer"},{"minimum":2}],"unevaluatedProperties":false}"#,
            &["1", "3", "1.5"],
            true,
        );
    }

    #[test]
    fn a_value_read_by_a_subschema_is_not_read_again_unless_the_node_has_keywords() {
        let defs = r##""$defs":{"pt":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}"##;
        // `$ref` alone, `$ref` with keywords of its own, `anyOf` with and without.
        for (field, own) in [
            (r##"{"$ref":"#/$defs/pt"}"##, false),
            (r##"{"$ref":"#/$defs/pt","maxProperties":1}"##, true),
            (
                r##"{"anyOf":[{"$ref":"#/$defs/pt"},{"type":"array"}]}"##,
                false,
            ),
            (
                r##"{"anyOf":[{"$ref":"#/$defs/pt"},{"type":"array"}],"minItems":2}"##,
                true,
            ),
            (
                r##"{"allOf":[{"$ref":"#/$defs/pt"}],"type":"object","required":["y"]}"##,
                true,
            ),
        ] {
            let schema = format!(
                r#"{{{defs},"type":"object","properties":{{"p":{field},"q":{{"type":"integer"}}}}}}"#
            );
            agree(
                &schema,
                &[
                    r#"{"p":{"x":1},"q":2}"#,
                    r#"{"p":{"x":1,"y":2},"q":2}"#,
                    r#"{"p":{"x":"s"},"q":2}"#,
                    r#"{"p":{"y":1},"q":2}"#,
                    r#"{"p":[1],"q":2}"#,
                    r#"{"p":[1,2],"q":2}"#,
                    r#"{"p":{"x":1},"q":"s"}"#,
                    r#"{"p":{"x":1} "q":2}"#,
                    r#"{"p":{"x":1,},"q":2}"#,
                    r#"{"p":{"x":1},"q":2"#,
                    r#"{"p":{"x":1}}}"#,
                ],
            );
            let compiled = Schema::from_json_text(&schema).unwrap();
            let node = &compiled.root.object.as_ref().unwrap().properties[0];
            assert_eq!(
                !has_no_own_keywords(node.node.as_ref().unwrap()),
                own,
                "{field}"
            );
        }
    }

    #[test]
    fn strings_whose_text_no_keyword_reads_are_still_checked_as_json() {
        let schema = r#"{"type":"object","properties":{"s":{"type":"string"},"t":{"type":["string","null"]},"u":{"type":"string","maxLength":2}}}"#;
        agree(
            schema,
            &[
                r#"{"s":"a\nb\"c\u00e9\ud83d\ude00"}"#,
                r#"{"s":"a\qb"}"#,
                r#"{"s":"\ud800"}"#,
                r#"{"s":"\udc00x"}"#,
                r#"{"s":"\u12"}"#,
                r#"{"s":"caf\u00e9 \u{e9}t\u{e9}"}"#,
                r#"{"s":1}"#,
                r#"{"t":"\n","u":"\u00e9\u00e9"}"#,
                r#"{"t":"\n","u":"\u00e9\u00e9\u00e9"}"#,
                r#"{"t":"\x"}"#,
                r#"{"s":"abc"#,
            ],
        );
        let compiled = Schema::from_json_text(schema).unwrap();
        assert!(is_valid(
            &compiled,
            "{\"s\":\"\u{e9}\\n\u{1F600}\"}".as_bytes()
        ));
        assert!(!is_valid(&compiled, b"{\"s\":\"\xc3\xa9\\n\xff\"}"));
        assert!(!is_valid(&compiled, b"{\"s\":\"a\x01b\"}"));
    }

    /// A tagged union written as an `allOf` of `if`/`then` (one per tag), directly and
    /// through references: parsed once, decided as the ordinary checks decide.
    #[test]
    fn tags_by_if_then_agree() {
        let schema = r##"{
            "$defs": {"pipe": {"if": {"properties": {"type": {"const": "pipe"}}},
                               "then": {"required": ["cmd"]}}},
            "type": "object",
            "properties": {"type": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["type"],
            "allOf": [
                {"if": {"properties": {"type": {"const": "a"}}},
                 "then": {"required": ["n"], "properties": {"n": {"minimum": 1}}}},
                {"if": {"properties": {"type": {"const": "b"}}},
                 "then": {"additionalProperties": false,
                          "properties": {"type": {}, "s": {"type": "string"}}},
                 "else": {"not": {"required": ["s"]}}},
                {"$ref": "#/$defs/pipe"}
            ]
        }"##;
        agree(
            schema,
            &[
                r#"{"type": "a", "n": 2}"#,
                r#"{"type": "a", "n": 0}"#,
                r#"{"type": "a"}"#,
                r#"{"type": "b", "s": "x"}"#,
                r#"{"type": "b", "s": "x", "n": 1}"#,
                r#"{"type": "c", "s": "x"}"#,
                r#"{"type": "c"}"#,
                r#"{"type": "pipe"}"#,
                r#"{"type": "pipe", "cmd": 1}"#,
                r#"{"type": 1}"#,
                r#"{"n": 1}"#,
                r#"{"type": "a", "n": 2"#,
                r#"[]"#,
            ],
        );
    }

    /// A `oneOf` of branches that only require names (exactly one of them) is decided by
    /// the keys the object holds, as the ordinary checks decide it.
    #[test]
    fn one_of_required_names_agrees() {
        let schema = r#"{
            "type": "object",
            "properties": {"files": {"type": "array"}, "folder": {"type": "string"},
                           "name": {"type": "string"}},
            "required": ["name"],
            "oneOf": [{"required": ["files"]}, {"required": ["folder", "name"]},
                      {"required": ["a\"b"]}]
        }"#;
        agree(
            schema,
            &[
                r#"{"name": "x", "files": []}"#,
                r#"{"name": "x", "folder": "f"}"#,
                r#"{"name": "x", "files": [], "folder": "f"}"#,
                r#"{"name": "x"}"#,
                r#"{"folder": "f"}"#,
                r#"{"name": "x", "a"b": 1}"#,
                r#"{"name": "x", "a"b": {"deep": [1, {"files": 2}]}}"#,
                r#"{"name": "x", "files": [], "files": []}"#,
                r#"{"name": "x", "files": "no"}"#,
                r#"{"name": "x", "files": [], "extra": {"folder": 1}}"#,
                r#"{"name": "x", "files": [}"#,
                r#"{}"#,
                r#"[]"#,
                r#""files""#,
            ],
        );
        // In an array of items, and behind a reference.
        let nested = r##"{"$defs": {"one": {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}},
                          "type": "array", "items": {"$ref": "#/$defs/one"}}"##;
        agree(
            nested,
            &[
                r#"[{"a": 1}, {"b": 2}]"#,
                r#"[{"a": 1, "b": 2}]"#,
                r#"[{}]"#,
                r#"[1, "x"]"#,
            ],
        );
    }

    #[test]
    fn valid_records_are_proven_here() {
        let schema = Schema::from_json_text(
            r##"{"$defs":{"n":{"anyOf":[{"type":"integer"},{"type":"null"}]}},"type":"object","properties":{"a":{"$ref":"#/$defs/n"}},"patternProperties":{"^b":{"$ref":"#/$defs/n"}}}"##,
        )
        .unwrap();
        assert!(is_valid(&schema, br#"{"a":1,"b1":null,"c":"x"}"#));
        assert!(!is_valid(&schema, br#"{"a":"x"}"#));
    }
}

//! Which definitions a record's walk may reach twice at one value (see
//! `check::revisit`, which remembers their verdicts; counting the visits of a definition
//! costs a few instructions per reference followed, so only those are counted).
//!
//! Two paths of a walk that reach one definition at one value leave some node by two
//! different subschemas that can apply to one value: two in-place subschemas (`allOf`
//! branches, a `$ref` beside `anyOf`...), an in-place subschema and anything (it may
//! descend later), or two descents that can take the same child (`properties/x` and a
//! pattern matching `x`, two patterns, `contains` and `items`, `unevaluated*` and any).
//! Two named properties, two `prefixItems`, `properties` and `additionalProperties`
//! never take the same child. So a definition is marked when some node has two such
//! subschemas from both of which it can be reached (by any path: what follows the
//! divergence is not compared, which over-approximates).

use crate::check::logic::Logic;
use crate::check::object::Additional;
use crate::schema::{Node, NodeId, Ref};

/// Schemas with more definitions than this are not analysed: every definition that two
/// references name is marked (the sets below take definitions^2 / 8 bytes).
const MAX_ANALYSED: usize = 4096;

/// A set of definitions, one bit each.
#[derive(Clone)]
struct Set(Vec<u64>);

impl Set {
    fn empty(n: usize) -> Set {
        Set(vec![0; n.div_ceil(64)])
    }

    fn insert(&mut self, id: NodeId) {
        self.0[id / 64] |= 1 << (id % 64);
    }

    fn union(&mut self, other: &Set) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// Adds to `self` what `a` and `b` share.
    fn union_of_common(&mut self, a: &Set, b: &Set) {
        for ((m, x), y) in self.0.iter_mut().zip(&a.0).zip(&b.0) {
            *m |= x & y;
        }
    }

    fn contains(&self, id: NodeId) -> bool {
        self.0[id / 64] & (1 << (id % 64)) != 0
    }
}

/// How a subschema applies, for which pairs can take one value.
#[derive(Clone, Copy, PartialEq)]
enum Applies<'a> {
    /// To the value itself.
    InPlace,
    /// To the property of this name.
    Key(&'a str),
    /// To the properties a pattern matches (the index into the node's patterns).
    Pattern(usize),
    /// To the properties no name nor pattern takes.
    Additional,
    /// To item `i`.
    Index(usize),
    /// To the items after `prefixItems`.
    Items,
    /// To any property, or any item (`unevaluated*`, `contains`).
    AnyKey,
    AnyItem,
    /// To property names: strings of their own, remembered apart.
    Names,
}

/// Whether two different subschemas of one node can apply to one value.
fn can_meet(a: Applies<'_>, b: Applies<'_>, node: &Node) -> bool {
    use Applies::*;
    match (a, b) {
        (Names, _) | (_, Names) => false,
        (InPlace, _) | (_, InPlace) => true,
        (Key(_) | Pattern(_) | Additional | AnyKey, Index(_) | Items | AnyItem)
        | (Index(_) | Items | AnyItem, Key(_) | Pattern(_) | Additional | AnyKey) => false,
        (AnyKey, _) | (_, AnyKey) | (AnyItem, _) | (_, AnyItem) => true,
        (Key(k), Pattern(p)) | (Pattern(p), Key(k)) => node
            .object
            .as_ref()
            .is_some_and(|o| o.patterns[p].0.is_match(k)),
        (Pattern(_), Pattern(_)) => true,
        (Key(_), Key(_)) | (Index(_), Index(_)) => false,
        (Additional, _) | (_, Additional) | (Items, _) | (_, Items) => false,
    }
}

/// The subschemas of `node` with how each applies: inline ones, and references.
fn subschemas<'a>(node: &'a Node, mut f: impl FnMut(Applies<'a>, Sub<'a>)) {
    if let Some(logic) = node.logic.as_deref() {
        let Logic {
            refs,
            all_of,
            any_of,
            one_of,
            not,
            cond,
            unevaluated_properties,
            unevaluated_items,
            ..
        } = logic;
        for (r, _) in refs {
            let (Ref::Static(id) | Ref::Dynamic { target: id, .. }) = r;
            f(Applies::InPlace, Sub::Target(*id));
        }
        for n in all_of
            .iter()
            .chain(any_of)
            .chain(one_of)
            .chain(not.as_deref())
        {
            f(Applies::InPlace, Sub::Inline(n));
        }
        if let Some(cond) = cond.as_deref() {
            let (c, t, e) = cond;
            for n in std::iter::once(c).chain(t).chain(e) {
                f(Applies::InPlace, Sub::Inline(n));
            }
        }
        if let Some(n) = unevaluated_properties {
            f(Applies::AnyKey, Sub::Inline(n));
        }
        if let Some(n) = unevaluated_items {
            f(Applies::AnyItem, Sub::Inline(n));
        }
    }
    if let Some(o) = &node.object {
        for p in &o.properties {
            if let Some(n) = &p.node {
                f(Applies::Key(&p.name), Sub::Inline(n));
            }
        }
        for (i, (_, n)) in o.patterns.iter().enumerate() {
            if let Some(n) = n {
                f(Applies::Pattern(i), Sub::Inline(n));
            }
        }
        if let Additional::Schema(n) = &o.additional {
            f(Applies::Additional, Sub::Inline(n));
        }
        if let Some(n) = &o.property_names {
            f(Applies::Names, Sub::Inline(n));
        }
        for (_, n) in &o.dependent_schemas {
            f(Applies::InPlace, Sub::Inline(n));
        }
    }
    if let Some(a) = &node.array {
        for (i, n) in a.prefix_items.iter().enumerate() {
            f(Applies::Index(i), Sub::Inline(n));
        }
        if let Some(n) = &a.items {
            f(Applies::Items, Sub::Inline(n));
        }
        if let Some(n) = &a.contains {
            f(Applies::AnyItem, Sub::Inline(n));
        }
    }
}

/// The inline subschemas of `node` (not its references), each with whether it applies
/// to the value itself.
pub(crate) fn inline_subschemas<'a>(node: &'a Node, mut f: impl FnMut(&'a Node, bool)) {
    subschemas(node, |applies, sub| {
        if let Sub::Inline(n) = sub {
            f(n, applies == Applies::InPlace)
        }
    });
}

#[derive(Clone, Copy)]
enum Sub<'a> {
    Inline(&'a Node),
    Target(NodeId),
}

/// The definitions that a walk may reach twice at one value, by the analysis above;
/// `None` when the schema has too many definitions to analyse.
pub(crate) fn met_twice(root: &Node, nodes: &[Node]) -> Option<Vec<bool>> {
    let n = nodes.len();
    if n > MAX_ANALYSED {
        return None;
    }
    let reach = reachable(nodes);
    let mut marked = Set::empty(n);
    let mut meets = |node: &Node| visit(node, &reach, n, &mut marked);
    meets(root);
    for node in nodes {
        meets(node);
    }
    Some((0..n).map(|id| marked.contains(id)).collect())
}

/// For each definition, the definitions reachable from it (itself when in a cycle).
fn reachable(nodes: &[Node]) -> Vec<Set> {
    let n = nodes.len();
    // Definitions named anywhere in each one's inline subschemas.
    let direct: Vec<Vec<NodeId>> = nodes
        .iter()
        .map(|node| {
            let mut out = Vec::new();
            named(node, &mut out);
            out
        })
        .collect();
    // Strongly connected components (Tarjan's, without recursion: a chain of definitions
    // may be as long as the schema), each finished after those it reaches.
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut reach: Vec<Set> = vec![Set::empty(0); n];
    let mut next = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut frames: Vec<(NodeId, usize)> = vec![(start, 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut edge)) = frames.last_mut() {
            if let Some(&w) = direct[v].get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] != index[v] {
                continue;
            }
            // `v` roots a component: its members are on the stack above it.
            let mut members = Vec::new();
            loop {
                let w = stack.pop().expect("the component's root is on the stack");
                on_stack[w] = false;
                members.push(w);
                if w == v {
                    break;
                }
            }
            let mut set = Set::empty(n);
            for &m in &members {
                for &w in &direct[m] {
                    set.insert(w);
                    if !members.contains(&w) {
                        set.union(&reach[w]);
                    }
                }
            }
            for &m in &members {
                reach[m] = set.clone();
            }
        }
    }
    reach
}

/// The definitions named in `node`'s inline subschemas.
fn named(node: &Node, out: &mut Vec<NodeId>) {
    subschemas(node, |_, sub| match sub {
        Sub::Target(id) => out.push(id),
        Sub::Inline(n) => named(n, out),
    });
}

/// Marks what two subschemas of `node` that can meet both reach, for `node` and its
/// inline subschemas; returns what `node` reaches.
fn visit(node: &Node, reach: &[Set], n: usize, marked: &mut Set) -> Set {
    let mut subs: Vec<(Applies<'_>, Set)> = Vec::new();
    subschemas(node, |applies, sub| {
        let set = match sub {
            Sub::Target(id) => {
                let mut set = reach[id].clone();
                set.insert(id);
                set
            }
            Sub::Inline(inner) => visit(inner, reach, n, marked),
        };
        subs.push((applies, set));
    });
    mark_meetings(&subs, node, n, marked);
    let mut all = Set::empty(n);
    for (_, x) in &subs {
        all.union(x);
    }
    all
}

/// How `a` applies, whatever name, pattern or index it holds: whether two subschemas
/// can meet depends on this alone, but for a name and a pattern.
fn kind(a: Applies<'_>) -> Applies<'static> {
    use Applies::*;
    match a {
        Key(_) => Key(""),
        Pattern(_) => Pattern(0),
        Index(_) => Index(0),
        InPlace => InPlace,
        Additional => Additional,
        Items => Items,
        AnyKey => AnyKey,
        AnyItem => AnyItem,
        Names => Names,
    }
}

/// Marks what two of `node`'s subschemas `subs` that can meet both reach. Each is
/// compared with the union of those before it of each kind it meets (what it shares
/// with several is what it shares with their union), not with each: an object of
/// 160,000 properties naming one definition made 13 billion pairs (44 s to compile).
/// A name and a pattern meet where the pattern matches the name: compared pair by pair.
fn mark_meetings(subs: &[(Applies<'_>, Set)], node: &Node, n: usize, marked: &mut Set) {
    let name_and_pattern = |a: Applies<'_>, b: Applies<'_>| {
        matches!(
            (a, b),
            (Applies::Key(_), Applies::Pattern(_)) | (Applies::Pattern(_), Applies::Key(_))
        )
    };
    let mut unions: Vec<(Applies<'static>, Set)> = Vec::new();
    let mut keys: Vec<(Applies<'_>, &Set)> = Vec::new();
    let mut patterns: Vec<(Applies<'_>, &Set)> = Vec::new();
    for (a, x) in subs {
        let kind = kind(*a);
        for (other, union) in &unions {
            if !name_and_pattern(kind, *other) && can_meet(kind, *other, node) {
                marked.union_of_common(x, union);
            }
        }
        let others = match a {
            Applies::Key(_) => &patterns,
            Applies::Pattern(_) => &keys,
            _ => &Vec::new(),
        };
        for (b, y) in others {
            if can_meet(*a, *b, node) {
                marked.union_of_common(x, y);
            }
        }
        match a {
            Applies::Key(_) => keys.push((*a, x)),
            Applies::Pattern(_) => patterns.push((*a, x)),
            _ => {}
        }
        match unions.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, union)) => union.union(x),
            None => {
                let mut union = Set::empty(n);
                union.union(x);
                unions.push((kind, union));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;

    /// Where the definitions a walk may reach twice at one value were first reached.
    fn met(defs: &str, rest: &str) -> Vec<String> {
        let text = format!(r#"{{"$defs": {{{defs}}}, {rest}}}"#);
        let schema = Schema::from_json_text(&text).unwrap();
        let met = super::met_twice(&schema.root, &schema.nodes).unwrap();
        let mut at: Vec<String> = schema
            .nodes
            .iter()
            .zip(met)
            .filter(|(_, m)| *m)
            .map(|(n, _)| n.location.to_string())
            .collect();
        at.sort();
        at
    }

    const LEAF: &str = r#""A": {"type": "integer"}"#;

    #[test]
    fn subschemas_that_can_take_one_value_meet() {
        let a = r##"{"$ref": "#/$defs/A"}"##;
        for rest in [
            format!(r#""allOf": [{a}, {a}]"#),
            format!(r#""anyOf": [{a}, {{"not": {a}}}]"#),
            format!(r##""$ref": "#/$defs/A", "if": {{"type": "object"}}, "then": {a}"##),
            format!(r#""properties": {{"x": {a}}}, "allOf": [{{"properties": {{"x": {a}}}}}]"#),
            format!(r#""properties": {{"x": {a}}}, "patternProperties": {{"^x": {a}}}"#),
            format!(r#""patternProperties": {{"^x": {a}, "y$": {a}}}"#),
            format!(r#""items": {a}, "contains": {a}"#),
            format!(r#""properties": {{"x": {a}}}, "unevaluatedProperties": {a}"#),
        ] {
            assert_eq!(met(LEAF, &rest).len(), 1, "{rest}");
        }
    }

    #[test]
    fn subschemas_that_take_different_values_do_not_meet() {
        let a = r##"{"$ref": "#/$defs/A"}"##;
        for rest in [
            format!(r#""properties": {{"x": {a}, "y": {a}}}"#),
            format!(r#""properties": {{"x": {a}}}, "patternProperties": {{"^y": {a}}}"#),
            format!(r#""properties": {{"x": {a}}}, "additionalProperties": {a}"#),
            format!(r#""prefixItems": [{a}, {a}], "items": {a}"#),
            format!(r#""properties": {{"x": {a}}}, "items": {a}"#),
            format!(r#""propertyNames": {a}, "additionalProperties": {a}"#),
        ] {
            assert!(met(LEAF, &rest).is_empty(), "{rest}");
        }
    }

    #[test]
    fn many_subschemas_of_each_kind_meet_as_pairs_do() {
        // 1,000 properties naming one definition (`A`) do not meet, nor two prefix items
        // (`D`); a name and the pattern matching it (`B`), two patterns (`C`), `items` and
        // `contains` (`E`), an in-place subschema and any other (`F`) do.
        let r = |d: &str| format!(r##"{{"$ref": "#/$defs/{d}"}}"##);
        let defs = ["A", "B", "C", "D", "E", "F"]
            .map(|d| format!(r#""{d}": {{"type": "integer"}}"#))
            .join(", ");
        let mut properties: Vec<String> = (0..1000)
            .map(|i| format!(r#""a{i}": {}"#, r("A")))
            .collect();
        properties.push(format!(r#""x": {}"#, r("B")));
        let rest = format!(
            r#""properties": {{{}}}, "patternProperties": {{"^x$": {}, "^q": {}, "^r": {}}},
                "prefixItems": [{}, {}], "items": {}, "contains": {},
                "additionalProperties": {}, "allOf": [{}]"#,
            properties.join(", "),
            r("B"),
            r("C"),
            r("C"),
            r("D"),
            r("D"),
            r("E"),
            r("E"),
            r("F"),
            r("F"),
        );
        assert_eq!(
            met(&defs, &rest),
            [
                "/allOf/0/$ref",
                "/items/$ref",
                "/patternProperties/^q/$ref",
                "/properties/x/$ref"
            ]
        );
    }

    #[test]
    fn what_follows_a_meeting_is_followed_through_references_and_cycles() {
        // A tree whose nodes hold the same definition twice, through a reference each.
        let defs = r##""T": {"properties": {"kids": {"items": {"$ref": "#/$defs/T"}},
                                       "v": {"$ref": "#/$defs/V"}}},
                      "V": {"allOf": [{"$ref": "#/$defs/W"}, {"$ref": "#/$defs/W"}]},
                      "W": {"type": "string"}"##;
        let w = "/$ref/properties/v/$ref/allOf/0/$ref";
        assert_eq!(met(defs, r##""$ref": "#/$defs/T""##), [w]);
        let twice = r##""anyOf": [{"$ref": "#/$defs/T"}, {"$ref": "#/$defs/T"}]"##;
        let t = "/anyOf/0/$ref";
        let v = "/anyOf/0/$ref/properties/v/$ref";
        let w = "/anyOf/0/$ref/properties/v/$ref/allOf/0/$ref";
        assert_eq!(met(defs, twice), [t, v, w]);
        // A chain of 1,000 definitions (the most compiling enters, each inside the last),
        // each under a property of the one before: nothing meets, and nothing recurses
        // 1,000 deep.
        let chain: Vec<String> = (0..999)
            .map(|i| {
                format!(
                    r##""D{i}": {{"properties": {{"x": {{"$ref": "#/$defs/D{}"}}}}}}"##,
                    i + 1
                )
            })
            .collect();
        let defs = format!(r#"{}, "D999": {{"type": "integer"}}"#, chain.join(", "));
        assert!(met(&defs, r##""$ref": "#/$defs/D0""##).is_empty());
    }
}

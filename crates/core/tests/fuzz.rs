//! Property tests with a time budget: the JSON reader (array splitting, NDJSON
//! lines, the DOM parser, the fused path) and the schema compiler, fed random
//! and mutated inputs from a seeded PRNG.
//!
//! `SATYA_FUZZ_SECONDS` sets the budget of each test (default 2 s, so `cargo
//! test` stays quick; run `SATYA_FUZZ_SECONDS=600 cargo test --release --test
//! fuzz` for a real campaign); `SATYA_FUZZ_SEED` picks the seed (default: a
//! fixed one, so a plain run is reproducible). A failure names the seed and
//! the case number and writes the input to `target/fuzz-failure-*`.
//!
//! Properties:
//! - nothing panics, and no single input runs for a minute (inputs are at most
//!   tens of kilobytes, so even a quadratic reader would finish in seconds);
//! - `parse_value` accepts exactly the texts `serde_json` accepts (nesting
//!   limits aside: both stop at 128 levels, counted differently) and reads
//!   the same value;
//! - `ArrayElements` splits a valid array into its elements, and for invalid
//!   text either fails or yields an element that does not parse;
//! - `NdjsonLines` finds the non-blank lines a plain split finds;
//! - a schema (any keyword of the five drafts: references, `$defs`, the
//!   combinators, conditionals, `patternProperties`, `unevaluated*`, dependencies,
//!   `contains`, anchors, `$id`, `$schema`) compiles or returns `SchemaError`; for a compiled schema,
//!   `is_valid` agrees with `collect` (no errors iff valid), and the fused
//!   verdict never says valid where the DOM path says invalid.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use satya_adapt_core::{
    collect, is_valid, is_valid_bytes, parse_value, ArrayElements, Json, JsonError, JsonErrorKind,
    NdjsonLines, Number, Schema, MAX_DEPTH,
};
use serde_json::Value;

/// Inputs that were valid JSON, schemas that compiled (for the summary line).
static VALID_JSON: AtomicU64 = AtomicU64::new(0);
static COMPILED: AtomicU64 = AtomicU64::new(0);

/// A single input slower than this is a hang.
const HANG: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn budget() -> Duration {
    let secs = std::env::var("SATYA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("SATYA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5A7A_ADA9)
}

/// Runs `case(rng, n)` for case numbers 0, 1, ... until the budget is spent,
/// on a thread watched for hangs; returns how many cases ran.
fn campaign(name: &str, case: impl Fn(&mut Rng, u64) -> Vec<u8> + Send + 'static) -> u64 {
    let budget = budget();
    let seed = seed();
    let done = Arc::new(AtomicBool::new(false));
    let current = Arc::new(AtomicU64::new(0));
    let (done2, current2) = (Arc::clone(&done), Arc::clone(&current));
    let name2 = name.to_owned();
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < budget {
                current2.store(n, Ordering::Relaxed);
                let mut rng = Rng(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                let outcome = catch_unwind(AssertUnwindSafe(|| case(&mut rng, n)));
                if let Err(panic) = outcome {
                    // Replay the case's input generation to save it.
                    let mut rng = Rng(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                    let input = catch_unwind(AssertUnwindSafe(|| generate_only(&name2, &mut rng)))
                        .unwrap_or_default();
                    let file = format!(
                        "{}/../../target/fuzz-failure-{name2}-{seed}-{n}",
                        env!("CARGO_MANIFEST_DIR")
                    );
                    let _ = std::fs::write(&file, &input);
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    panic!("{name2}: seed {seed}, case {n} failed (input in {file}): {what}");
                }
                n += 1;
            }
            done2.store(true, Ordering::Relaxed);
            n
        })
        .expect("spawn the fuzz worker");
    let mut last = (u64::MAX, Instant::now());
    while !done.load(Ordering::Relaxed) && !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let now = current.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > HANG {
            panic!("{name}: seed {seed}, case {now} ran for over {HANG:?}");
        }
    }
    let n = worker
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    eprintln!(
        "{name}: {n} cases in {budget:?} (seed {seed}); so far {} valid JSON inputs, {} schemas compiled",
        VALID_JSON.load(Ordering::Relaxed),
        COMPILED.load(Ordering::Relaxed)
    );
    n
}

/// The input of case `rng` for a campaign, without running the checks.
fn generate_only(name: &str, rng: &mut Rng) -> Vec<u8> {
    match name {
        "schemas" => schema_text(rng).into_bytes(),
        _ => json_input(rng),
    }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const KEYS: [&str; 6] = ["a", "b", "c", "", "a/b", "é"];

fn number_text(rng: &mut Rng, out: &mut String) {
    match rng.below(8) {
        0 => out.push_str(rng.pick(&["0", "-0", "1", "-1", "0.0", "1e400", "-1e-400", "1.5"])),
        1 => {
            // Huge integers, exact beyond 64 bits.
            if rng.chance(2) {
                out.push('-');
            }
            out.push('1');
            for _ in 0..rng.below(400) {
                out.push(char::from(b'0' + rng.below(10) as u8));
            }
        }
        2 => out.push_str(rng.pick(&[
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "1E+2",
            "1e-0",
            "0.1e1",
            "123456789012345678901234567890e-30",
            "1e99999999999999999999",
            "4.9e-324",
            "1.7976931348623157e308",
        ])),
        _ => {
            if rng.chance(3) {
                out.push('-');
            }
            out.push_str(&(rng.below(100_000)).to_string());
            if rng.chance(2) {
                out.push('.');
                out.push_str(&rng.below(1000).to_string());
            }
            if rng.chance(3) {
                out.push(rng.pick(&['e', 'E']));
                out.push_str(rng.pick(&["", "+", "-"]));
                out.push_str(&rng.below(400).to_string());
            }
        }
    }
}

fn string_text(rng: &mut Rng, out: &mut String) {
    out.push('"');
    for _ in 0..rng.below(12) {
        match rng.below(12) {
            0 => out.push_str(rng.pick(&[
                r#"\""#,
                r"\\",
                r"\/",
                r"\b",
                r"\f",
                r"\n",
                r"\r",
                r"\t",
                r"\u00e9",
                r"\u0000",
                r"\ud83d\ude00",
                r"\uFEFF",
                r"\u2028",
            ])),
            1 => out.push(rng.pick(&['é', '😀', '\u{2028}', '\u{85}', '\u{FEFF}', ' '])),
            2 => out.push_str(rng.pick(&KEYS)),
            _ => out.push(char::from(b'a' + rng.below(26) as u8)),
        }
    }
    out.push('"');
}

fn ws(rng: &mut Rng, out: &mut String) {
    if rng.chance(4) {
        out.push_str(rng.pick(&[" ", "\n", "\t", "\r\n", "  "]));
    }
}

/// A valid JSON text.
fn value_text(rng: &mut Rng, depth: usize, out: &mut String) {
    ws(rng, out);
    let container = depth < 6 && rng.chance(2);
    match (container, rng.below(2)) {
        (true, 0) => {
            out.push('[');
            let n = rng.below(5);
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                value_text(rng, depth + 1, out);
            }
            ws(rng, out);
            out.push(']');
        }
        (true, _) => {
            out.push('{');
            let n = rng.below(5);
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                if rng.chance(4) {
                    string_text(rng, out);
                } else {
                    out.push('"');
                    out.push_str(rng.pick(&KEYS));
                    out.push('"');
                }
                ws(rng, out);
                out.push(':');
                value_text(rng, depth + 1, out);
            }
            ws(rng, out);
            out.push('}');
        }
        _ => match rng.below(6) {
            0 => out.push_str(rng.pick(&["null", "true", "false"])),
            1 | 2 => number_text(rng, out),
            _ => string_text(rng, out),
        },
    }
    ws(rng, out);
}

/// Bytes that matter to a JSON reader.
const INTERESTING: &[u8] =
    b"[]{}\",:\\ \t\r\n0123456789-+.eEtrufalsn/u\x00\x1f\x7f\x80\xbf\xc0\xc3\xed\xf0\xf4\xf5\xff";

/// A JSON input: valid, mutated, deeply nested or spliced.
fn json_input(rng: &mut Rng) -> Vec<u8> {
    let mut text = String::new();
    match rng.below(10) {
        0 => {
            // Deep nesting, around the depth limit or far beyond it.
            let n = if rng.chance(4) {
                rng.below(20_000)
            } else {
                MAX_DEPTH - 3 + rng.below(6)
            };
            let (open, close) = if rng.chance(2) {
                ("[", "]")
            } else {
                (r#"{"a":"#, "}")
            };
            text.push('[');
            for _ in 0..n {
                text.push_str(open);
            }
            text.push('1');
            for _ in 0..n {
                text.push_str(close);
            }
            text.push(']');
        }
        1 => {
            // An array of records, the shape the splitter is tuned for.
            text.push('[');
            for i in 0..rng.below(20) {
                if i > 0 {
                    text.push(',');
                }
                value_text(rng, 0, &mut text);
            }
            text.push(']');
        }
        _ => value_text(rng, 0, &mut text),
    }
    let mut bytes = text.into_bytes();
    let mutations = if rng.chance(3) { 0 } else { 1 + rng.below(4) };
    for _ in 0..mutations {
        mutate(rng, &mut bytes);
    }
    bytes
}

fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    let len = b.len();
    let at = rng.below(len + 1);
    match rng.below(8) {
        0 if len > 0 => b[at.min(len - 1)] ^= 1 << rng.below(8),
        1 => b.insert(at, rng.pick(INTERESTING)),
        2 if at < len => {
            b.remove(at);
        }
        3 => b.truncate(at),
        4 => {
            // Splice: a piece of a fresh valid text.
            let mut other = String::new();
            value_text(rng, 0, &mut other);
            let o = other.into_bytes();
            let from = rng.below(o.len());
            let to = from + rng.below(o.len() - from + 1);
            b.splice(at..at, o[from..to].iter().copied());
        }
        5 => {
            // Invalid or unusual UTF-8.
            let seq: &[u8] = rng.pick::<&[u8]>(&[
                &b"\xc0\x80"[..],
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xe2\x82",
                b"\xf0\x9f\x98",
                b"\xef\xbb\xbf",
                b"\xc3\xa9",
            ]);
            b.splice(at..at, seq.iter().copied());
        }
        6 if len > 0 => {
            // Duplicate a region.
            let from = rng.below(len);
            let to = from + rng.below((len - from).min(64) + 1);
            let piece: Vec<u8> = b[from..to].to_vec();
            b.splice(at..at, piece);
        }
        _ => b.insert(at, rng.below(256) as u8),
    }
}

/// A schema document from a small grammar, keyword values sometimes of the wrong type.
fn schema_text(rng: &mut Rng) -> String {
    fn node(rng: &mut Rng, depth: usize) -> Value {
        if rng.chance(8) {
            return Value::Bool(rng.chance(3));
        }
        let mut map = serde_json::Map::new();
        for _ in 0..rng.below(5) {
            let (key, value) = keyword(rng, depth);
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    }
    fn small(rng: &mut Rng) -> Value {
        let mut t = String::new();
        value_text(rng, 4, &mut t);
        serde_json::from_str(&t).unwrap_or(Value::Null)
    }
    fn count(rng: &mut Rng) -> Value {
        match rng.below(10) {
            0 => small(rng),
            1 => serde_json::json!(-1),
            2 => serde_json::json!(1.5),
            3 => serde_json::from_str("18446744073709551616").unwrap_or(Value::Null),
            _ => serde_json::json!(rng.below(5)),
        }
    }
    fn number(rng: &mut Rng) -> Value {
        let mut t = String::new();
        number_text(rng, &mut t);
        if rng.chance(10) {
            return small(rng);
        }
        serde_json::from_str(&t).unwrap_or(Value::Null)
    }
    fn pattern(rng: &mut Rng) -> Value {
        const PIECES: &[&str] = &[
            "a",
            "é",
            ".",
            "^",
            "$",
            "\\d",
            "\\w",
            "\\s",
            "\\b",
            "\\B",
            "\\D",
            "\\W",
            "\\S",
            "[",
            "]",
            "[^",
            "(",
            ")",
            "(?:",
            "|",
            "*",
            "+",
            "?",
            "{",
            "}",
            "{2}",
            "{1,3}",
            "{2,}",
            "\\",
            "\\u00e9",
            "\\uD83D\\uDE00",
            "\\uD83D",
            "\\x41",
            "\\cA",
            "\\0",
            "\\1",
            "\\k<a>",
            "\\p{L}",
            "\\P{Lu}",
            "\\p{",
            "-",
            "--",
            "&&",
            "~~",
            "\\/",
            "\\-",
            "\\a",
            "(?<a>",
            "(?=",
            "(?i)",
            "\\c",
            "\\u{1F600}",
            "\\x",
            "[\\b]",
            "{,5}",
            "\\w{1,1000}",
        ];
        if rng.chance(20) {
            return Value::from(rng.below(10));
        }
        let mut p = String::new();
        for _ in 0..rng.below(8) {
            p.push_str(rng.pick(PIECES));
        }
        Value::String(p)
    }
    fn keyword(rng: &mut Rng, depth: usize) -> (&'static str, Value) {
        let deeper = depth < 3;
        match rng.below(if deeper { 44 } else { 18 }) {
            0 => (
                "type",
                match rng.below(4) {
                    0 => Value::from(rng.pick(&[
                        "null", "boolean", "integer", "number", "string", "array", "object",
                        "strin",
                    ])),
                    1 => serde_json::json!(["string", "null"]),
                    2 => serde_json::json!([]),
                    _ => small(rng),
                },
            ),
            1 => ("minLength", count(rng)),
            2 => ("maxLength", count(rng)),
            3 | 4 => ("pattern", pattern(rng)),
            5 => (
                "format",
                Value::from(rng.pick(&[
                    "email",
                    "uri",
                    "uuid",
                    "date",
                    "date-time",
                    "ipv4",
                    "hostname",
                ])),
            ),
            6 => ("minimum", number(rng)),
            7 => ("maximum", number(rng)),
            8 => ("exclusiveMinimum", number(rng)),
            9 => ("exclusiveMaximum", number(rng)),
            10 => ("multipleOf", number(rng)),
            11 => (
                "enum",
                if rng.chance(5) {
                    small(rng)
                } else {
                    Value::Array((0..rng.below(4)).map(|_| small(rng)).collect())
                },
            ),
            12 => ("const", small(rng)),
            13 => ("minItems", count(rng)),
            14 => ("maxItems", count(rng)),
            15 => (
                "uniqueItems",
                if rng.chance(5) {
                    small(rng)
                } else {
                    Value::Bool(rng.chance(2))
                },
            ),
            16 => ("minProperties", count(rng)),
            17 => (
                rng.pick(&["maxProperties", "title", "$ref", "required"]),
                if rng.chance(2) {
                    serde_json::json!(["a", "b"])
                } else {
                    count(rng)
                },
            ),
            18 | 19 => (
                "properties",
                if rng.chance(10) {
                    small(rng)
                } else {
                    let mut m = serde_json::Map::new();
                    for _ in 0..rng.below(4) {
                        m.insert((rng.pick(&KEYS)).to_owned(), node(rng, depth + 1));
                    }
                    Value::Object(m)
                },
            ),
            20 => ("items", node(rng, depth + 1)),
            21 => (
                "prefixItems",
                Value::Array((0..rng.below(3)).map(|_| node(rng, depth + 1)).collect()),
            ),
            22 => ("additionalProperties", node(rng, depth + 1)),
            23 => (
                "required",
                Value::Array(
                    (0..rng.below(3))
                        .map(|_| Value::from(rng.pick(&KEYS)))
                        .collect(),
                ),
            ),
            24 | 25 => ("$ref", reference(rng)),
            26 => (
                rng.pick(&["$defs", "definitions"]),
                schema_map(rng, depth, &["a", "b", "c"]),
            ),
            27 | 28 => (
                rng.pick(&["allOf", "anyOf", "oneOf"]),
                if rng.chance(12) {
                    small(rng)
                } else {
                    Value::Array((0..rng.below(4)).map(|_| node(rng, depth + 1)).collect())
                },
            ),
            29 => (
                rng.pick(&["not", "if", "then", "else", "propertyNames", "contains"]),
                node(rng, depth + 1),
            ),
            30 => (
                rng.pick(&[
                    "unevaluatedProperties",
                    "unevaluatedItems",
                    "additionalItems",
                ]),
                node(rng, depth + 1),
            ),
            31 => ("patternProperties", {
                let mut m = serde_json::Map::new();
                for _ in 0..rng.below(3) {
                    let key = match pattern(rng) {
                        Value::String(p) => p,
                        other => other.to_string(),
                    };
                    m.insert(key, node(rng, depth + 1));
                }
                Value::Object(m)
            }),
            32 => ("dependentSchemas", schema_map(rng, depth, &KEYS)),
            33 => (
                rng.pick(&["dependentRequired", "dependencies"]),
                if rng.chance(10) {
                    small(rng)
                } else {
                    let mut m = serde_json::Map::new();
                    for _ in 0..rng.below(3) {
                        let value = if rng.chance(3) {
                            node(rng, depth + 1)
                        } else {
                            serde_json::json!([rng.pick(&KEYS)])
                        };
                        m.insert(rng.pick(&KEYS).to_owned(), value);
                    }
                    Value::Object(m)
                },
            ),
            34 => (rng.pick(&["minContains", "maxContains"]), count(rng)),
            35 => (
                rng.pick(&["$anchor", "$dynamicAnchor", "$recursiveAnchor"]),
                match rng.below(4) {
                    0 => Value::Bool(true),
                    1 => small(rng),
                    _ => Value::from(rng.pick(&["a", "node", "b", "1x"])),
                },
            ),
            36 => (
                rng.pick(&["$dynamicRef", "$recursiveRef"]),
                Value::from(rng.pick(&["#", "#a", "#node", "#/$defs/a", "x.json#a"])),
            ),
            37 => (
                "$id",
                Value::from(rng.pick(&[
                    "http://example.com/root.json",
                    "sub.json",
                    "#frag",
                    "urn:x:y",
                    "http://example.com/a/",
                    "",
                ])),
            ),
            38 => (
                "$schema",
                Value::from(rng.pick(&[
                    "http://json-schema.org/draft-04/schema#",
                    "http://json-schema.org/draft-06/schema#",
                    "http://json-schema.org/draft-07/schema#",
                    "https://json-schema.org/draft/2019-09/schema",
                    "https://json-schema.org/draft/2020-12/schema",
                    "http://example.com/unknown",
                ])),
            ),
            39 => (
                "items",
                Value::Array((0..rng.below(3)).map(|_| node(rng, depth + 1)).collect()),
            ),
            _ => (
                rng.pick(&["if", "then", "else", "not"]),
                node(rng, depth + 1),
            ),
        }
    }
    /// A reference: to the root, a definition, a property, an anchor, a
    /// missing document, or an escaped or broken pointer.
    fn reference(rng: &mut Rng) -> Value {
        if rng.chance(15) {
            return Value::from(rng.below(3));
        }
        Value::from(rng.pick(&[
            "#",
            "#/$defs/a",
            "#/$defs/b",
            "#/definitions/a",
            "#/definitions/c",
            "#/properties/a",
            "#/items",
            "#/allOf/0",
            "#a",
            "#node",
            "#/$defs/a~1b",
            "#/$defs/%61",
            "#/nope/0",
            "missing.json",
            "sub.json#/$defs/a",
            "http://example.com/root.json#",
            "https://json-schema.org/draft/2020-12/schema",
            "#/$defs/a/properties/a",
        ]))
    }
    /// Names to schemas (`$defs`, `dependentSchemas`), sometimes not an object.
    fn schema_map(rng: &mut Rng, depth: usize, names: &[&str]) -> Value {
        if rng.chance(12) {
            return small(rng);
        }
        let mut m = serde_json::Map::new();
        for _ in 0..rng.below(4) {
            m.insert(rng.pick(names).to_owned(), node(rng, depth + 1));
        }
        Value::Object(m)
    }
    node(rng, 0).to_string()
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// Whether our value equals serde_json's (objects compared last-key-wins, as
/// serde_json keeps one entry per key).
fn same(ours: &Json<'_>, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Json::Null, Value::Null) => true,
        (Json::Bool(a), Value::Bool(b)) => a == b,
        (Json::Number(a), Value::Number(b)) => match Number::parse(&b.to_string()) {
            Some(b) => {
                a.compare(&b) == Some(std::cmp::Ordering::Equal)
                    || same_float(a, &b)
                    || same_out_of_range(a, &b)
            }
            None => false,
        },
        (Json::String(a), Value::String(b)) => a == b,
        (Json::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Object(a, _), Value::Object(b)) => {
            let mut keys: Vec<&str> = a.iter().map(|(k, _)| k.as_ref()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len() == b.len()
                && b.iter().all(|(k, v)| {
                    a.iter()
                        .rev()
                        .find(|(key, _)| key == k)
                        .is_some_and(|(_, x)| same(x, v))
                })
        }
        _ => false,
    }
}

fn same_float(a: &Number, b: &Number) -> bool {
    matches!((a, b), (Number::Float(x), Number::Float(y)) if x.is_nan() && y.is_nan())
}

/// Whether two numbers out of range (which compare with nothing) are one value in two
/// spellings (serde_json writes `1e9999999999999999999999999` as `1e+9999...`).
fn same_out_of_range(a: &Number, b: &Number) -> bool {
    /// `(negative, digits, exponent)`, the digits without leading or trailing zeros.
    fn value(text: &str) -> Option<(bool, String, num_bigint::BigInt)> {
        let (neg, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exp) = rest.split_once(['e', 'E'])?;
        let exp: num_bigint::BigInt = exp.trim_start_matches('+').parse().ok()?;
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{int}{frac}");
        let significant = digits.trim_start_matches('0');
        let kept = significant.trim_end_matches('0');
        let zeros = significant.len() - kept.len();
        Some((neg, kept.to_owned(), exp - frac.len() + zeros))
    }
    match (a, b) {
        (Number::OutOfRange(x), Number::OutOfRange(y)) => {
            value(x).is_some_and(|x| value(y) == Some(x))
        }
        _ => false,
    }
}

/// Whether serde_json stopped on its nesting limit, or our reader on ours.
fn depth_limited(
    ours: &Result<Json<'_>, JsonError>,
    theirs: &Result<Value, serde_json::Error>,
) -> bool {
    matches!(ours, Err(e) if e.kind == JsonErrorKind::TooDeep)
        || matches!(theirs, Err(e) if e.to_string().contains("recursion limit"))
}

/// Whether a string or key of `v` is not valid Unicode: an escape of a lone
/// surrogate, which JSON allows (and `json.loads` reads) but serde_json refuses.
fn holds_lone_surrogate(v: &Json<'_>) -> bool {
    match v {
        Json::InvalidString | Json::InvalidStringKey => true,
        Json::Array(items) => items.iter().any(holds_lone_surrogate),
        Json::Object(entries, _) => entries.iter().any(|(_, v)| holds_lone_surrogate(v)),
        _ => false,
    }
}

/// The reader's properties on one input; `schemas` are checked on it too.
fn check_json(input: &[u8], schemas: &[Schema]) {
    let ours = parse_value(input, MAX_DEPTH);
    let theirs: Result<Value, _> = serde_json::from_slice(input);
    let lone = theirs.is_err() && ours.as_ref().is_ok_and(holds_lone_surrogate);
    let limited = depth_limited(&ours, &theirs) || lone;
    if ours.is_ok() {
        VALID_JSON.fetch_add(1, Ordering::Relaxed);
    }
    if !limited {
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert!(same(a, b), "parse_value read {a:?}, serde_json {b}"),
            (Ok(a), Err(e)) => panic!("parse_value accepted what serde_json refuses ({e}): {a:?}"),
            (Err(e), Ok(_)) => panic!("parse_value refused what serde_json accepts: {e:?}"),
            (Err(_), Err(_)) => {}
        }
    }

    // The splitter.
    let mut ranges = Vec::new();
    let mut split_error = None;
    for item in ArrayElements::new(input) {
        match item {
            Ok(r) => {
                assert!(
                    r.start <= r.end && r.end <= input.len(),
                    "range {r:?} out of bounds"
                );
                ranges.push(r);
            }
            Err(e) => {
                assert!(
                    e.offset <= input.len(),
                    "error offset {} beyond the input",
                    e.offset
                );
                split_error = Some(e);
            }
        }
    }
    let elements: Vec<_> = ranges
        .iter()
        .map(|r| parse_value(&input[r.clone()], MAX_DEPTH))
        .collect();
    match (&theirs, limited) {
        (Ok(Value::Array(items)), false) => {
            assert!(
                split_error.is_none(),
                "the splitter refused a valid array: {split_error:?}"
            );
            assert_eq!(
                elements.len(),
                items.len(),
                "the splitter found the wrong number of elements"
            );
            for (e, item) in elements.iter().zip(items) {
                match e {
                    Ok(v) => assert!(same(v, item), "element read as {v:?}, serde_json {item}"),
                    Err(err) => panic!("an element of a valid array does not parse: {err:?}"),
                }
            }
        }
        (Ok(_), false) => assert!(split_error.is_some(), "the splitter accepted a non-array"),
        (Err(_), false) => {
            let any_bad = elements
                .iter()
                .any(|e| matches!(e, Err(err) if err.kind != JsonErrorKind::TooDeep));
            let deep = elements
                .iter()
                .any(|e| matches!(e, Err(err) if err.kind == JsonErrorKind::TooDeep));
            assert!(
                split_error.is_some() || any_bad || deep,
                "invalid JSON split into valid elements"
            );
        }
        _ => {}
    }

    // NDJSON lines, against a plain split.
    let lines: Vec<_> = NdjsonLines::new(input).collect();
    let mut expected = Vec::new();
    let mut start = 0;
    for (n, piece) in input.split(|&c| c == b'\n').enumerate() {
        let mut end = start + piece.len();
        if end > start && input[end - 1] == b'\r' {
            end -= 1;
        }
        if !input[start..end]
            .iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            expected.push((n, start..end));
        }
        start += piece.len() + 1;
    }
    assert_eq!(lines, expected, "NDJSON lines");

    // Validation: the two ways to check agree, and the fused verdict is one-sided.
    for schema in schemas {
        check_record(schema, input, ours.as_ref().ok());
    }
}

fn check_record(schema: &Schema, input: &[u8], doc: Option<&Json<'_>>) {
    let fused = is_valid_bytes(schema, input);
    let Some(doc) = doc else {
        assert!(!fused, "the fused path accepted text the parser refuses");
        return;
    };
    let valid = is_valid(schema, &doc);
    let mut errors = Vec::new();
    collect(schema, &doc, 7, &mut errors);
    assert_eq!(
        valid,
        errors.is_empty(),
        "is_valid says {valid}, collect found {errors:?}"
    );
    assert!(errors.iter().all(|e| e.index == 7));
    assert!(
        !fused || valid,
        "the fused path accepted an invalid record: {errors:?}"
    );
}

/// Compiles the schema, which must either work or say why not.
fn compile(text: &str) -> Option<Schema> {
    let doc: Value = serde_json::from_str(text).ok()?;
    match Schema::compile(&doc) {
        Ok(s) => {
            COMPILED.fetch_add(1, Ordering::Relaxed);
            Some(s)
        }
        Err(e) => {
            assert!(
                !e.0.is_empty() && e.0.len() < 2000,
                "schema error message: {:?}",
                e.0
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------

#[test]
fn fuzz_json_reader() {
    let n = campaign("json", |rng, _| {
        let input = json_input(rng);
        check_json(&input, &[]);
        input
    });
    assert!(n > 0);
}

#[test]
fn fuzz_schemas_and_records() {
    let n = campaign("schemas", |rng, _| {
        let text = schema_text(rng);
        if let Some(schema) = compile(&text) {
            for _ in 0..8 {
                let input = json_input(rng);
                let doc = parse_value(&input, MAX_DEPTH);
                check_record(&schema, &input, doc.as_ref().ok());
            }
        }
        text.into_bytes()
    });
    assert!(n > 0);
}

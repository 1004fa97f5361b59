//! JSON reading: a borrowing parser, array element splitting, NDJSON lines.
//!
//! * [`parse_value`] builds a [`Json`] DOM from one complete JSON text. It is
//!   iterative (an explicit frame stack, never recursion), so nesting is
//!   bounded by `max_depth` and never by the thread's stack. Strings without
//!   escapes borrow from the input; every container is allocated once, at its
//!   exact final size (its elements collect on per-thread scratch stacks).
//! * [`ArrayElements`] finds the byte ranges of the elements of a top-level
//!   array without building values, so that a batch of elements can be parsed
//!   (on several threads) and validated while memory stays bounded. Container
//!   elements (the common case: records) are skipped 64 bytes at a time with
//!   bit masks of quotes, backslashes and brackets.
//! * [`NdjsonLines`] finds the non-blank lines of an NDJSON buffer.
//! * [`locate`] finds the value a JSON Pointer leads to (the records a document
//!   wraps), without building anything.
//!
//! Unsafe code is limited to `from_utf8_unchecked` on string bytes the scanner
//! saw to be ASCII or that lie in an input checked to be UTF-8 as a whole (once,
//! at its first non-ASCII string), and SSE2 loads on x86-64 (part of its
//! baseline); the portable SWAR versions used elsewhere are tested against the
//! SSE2 ones.
//!
//! One job a module: `scan` (byte scanners), `parse` (the parser), `elements`
//! (array elements), `lines` (NDJSON lines), `pointer` (JSON Pointers); the errors all of them report
//! live here.

use std::fmt;

use crate::value::MAX_DEPTH;

mod elements;
mod lines;
mod parse;
mod pointer;
mod scan;
#[cfg(test)]
pub(crate) mod testing;

pub use elements::ArrayElements;
pub(crate) use lines::is_blank;
pub(crate) use lines::without_cr;
pub use lines::NdjsonLines;
pub use parse::parse_value;
pub(crate) use parse::visit_value;
pub(crate) use parse::Parser;
pub(crate) use parse::SkipVisitor;
pub(crate) use pointer::array_index;
pub use pointer::{locate, PointerError};

/// Why a JSON text was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the slice that was given to the parser or splitter.
    pub offset: usize,
    pub kind: JsonErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value; `offset` is the input's length.
    UnexpectedEnd,
    /// A byte that the grammar does not allow here (also a raw control
    /// character inside a string).
    UnexpectedByte(u8),
    /// Bytes that are not UTF-8; `offset` is the first bad byte.
    InvalidUtf8,
    /// A bad `\` escape; `offset` is the backslash.
    InvalidEscape,
    /// An escape of a lone surrogate (`\ud800` with no low surrogate after it):
    /// JSON, but not Unicode text, so not a Rust string; `offset` is the
    /// backslash. Only where a caller needs the string's text (the parser gives
    /// such a string as a value that is not valid Unicode).
    LoneSurrogate,
    /// A number that breaks the JSON grammar (leading zero, missing digits);
    /// `offset` is where the grammar broke.
    InvalidNumber,
    /// Arrays/objects nested deeper than allowed; `offset` is the bracket.
    TooDeep,
    /// Something other than whitespace after the value.
    TrailingCharacters,
    /// The splitter's input does not start with `[`.
    ExpectedArray,
}

impl JsonError {
    #[inline]
    fn new(kind: JsonErrorKind, offset: usize) -> JsonError {
        JsonError { offset, kind }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match self.kind {
            JsonErrorKind::UnexpectedEnd => write!(f, "unexpected end of input at byte {at}"),
            JsonErrorKind::UnexpectedByte(b) if b.is_ascii_graphic() => {
                write!(f, "unexpected character '{}' at byte {at}", b as char)
            }
            JsonErrorKind::UnexpectedByte(b) => write!(f, "unexpected byte 0x{b:02x} at byte {at}"),
            JsonErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8 at byte {at}"),
            JsonErrorKind::InvalidEscape => write!(f, "invalid escape sequence at byte {at}"),
            JsonErrorKind::LoneSurrogate => {
                write!(f, "lone surrogate escape (not valid Unicode) at byte {at}")
            }
            JsonErrorKind::InvalidNumber => write!(f, "invalid number at byte {at}"),
            // The kind carries no depth; callers use `MAX_DEPTH`.
            JsonErrorKind::TooDeep => {
                write!(f, "nesting deeper than {MAX_DEPTH} levels at byte {at}")
            }
            JsonErrorKind::TrailingCharacters => write!(f, "trailing characters at byte {at}"),
            JsonErrorKind::ExpectedArray => write!(f, "expected a JSON array at byte {at}"),
        }
    }
}

impl std::error::Error for JsonError {}

/// The error for an unexpected byte at `at` (which must be in bounds): bytes
/// that do not start a UTF-8 character are reported as invalid UTF-8.
#[cold]
#[inline(never)]
fn unexpected(b: &[u8], at: usize) -> JsonError {
    let c = b[at];
    if c >= 0x80 {
        let window = &b[at..b.len().min(at + 4)];
        if let Err(e) = std::str::from_utf8(window) {
            if e.valid_up_to() == 0 {
                return JsonError::new(JsonErrorKind::InvalidUtf8, at);
            }
        }
    }
    JsonError::new(JsonErrorKind::UnexpectedByte(c), at)
}

/// The error of `kind` at `at`, out of the hot loops.
#[cold]
#[inline(never)]
fn err(kind: JsonErrorKind, at: usize) -> JsonError {
    JsonError::new(kind, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::testing::*;
    use crate::value::Json;
    use serde_json::Value;
    use JsonErrorKind::*;

    #[test]
    fn display_messages() {
        let msg = |kind, offset| JsonError { offset, kind }.to_string();
        assert_eq!(msg(UnexpectedEnd, 17), "unexpected end of input at byte 17");
        assert_eq!(
            msg(UnexpectedByte(b'x'), 2),
            "unexpected character 'x' at byte 2"
        );
        assert_eq!(
            msg(UnexpectedByte(b'\n'), 2),
            "unexpected byte 0x0a at byte 2"
        );
        assert_eq!(msg(InvalidUtf8, 3), "invalid UTF-8 at byte 3");
        assert_eq!(msg(InvalidEscape, 4), "invalid escape sequence at byte 4");
        assert_eq!(
            msg(LoneSurrogate, 4),
            "lone surrogate escape (not valid Unicode) at byte 4"
        );
        assert_eq!(msg(InvalidNumber, 5), "invalid number at byte 5");
        assert_eq!(
            msg(TooDeep, 900),
            "nesting deeper than 128 levels at byte 900"
        );
        assert_eq!(msg(TrailingCharacters, 5), "trailing characters at byte 5");
        assert_eq!(msg(ExpectedArray, 0), "expected a JSON array at byte 0");
    }

    #[test]
    fn random_bytes_never_panic() {
        const BYTES: &[u8] = b"{}[]\",:\\ \n0123456789eE.+-tfnrlsu\xff\xc3";
        let mut rng = Rng(99);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let doc: Vec<u8> = (0..len).map(|_| BYTES[rng.below(BYTES.len())]).collect();
            let ours = parse_value(&doc, 16);
            if ours.is_ok() {
                assert!(
                    serde_json::from_slice::<Value>(&doc).is_ok(),
                    "{:?}",
                    String::from_utf8_lossy(&doc)
                );
            }
            let n = ArrayElements::new(&doc).count();
            assert!(n <= doc.len() + 1);
            let _ = NdjsonLines::new(&doc).count();
        }
    }

    // -- benchmark ---------------------------------------------------------

    fn typical_records(n: usize) -> String {
        let mut rng = Rng(1234);
        let mut out = String::new();
        let first = [
            "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi",
        ];
        let last = ["Smith", "Jones", "Brown", "Müller", "García", "Nakamura"];
        let cities = ["Berlin", "New York", "São Paulo", "Tokyo", "Lagos", "Paris"];
        for i in 0..n {
            let f = first[rng.below(first.len())];
            let l = last[rng.below(last.len())];
            out.push_str(&format!(
                concat!(
                    "{{\"id\": {}, \"name\": \"{} {}\", \"email\": \"{}.{}{}@example.com\", \"age\": {}, ",
                    "\"score\": {}.{}, \"active\": {}, \"tags\": [\"t{}\", \"t{}\", \"group-{}\"], ",
                    "\"address\": {{\"street\": \"{} Main Street\", \"city\": \"{}\", \"zip\": \"{:05}\"}}, ",
                    "\"created_at\": \"2024-0{}-1{}T12:34:56Z\", \"balance\": {}, \"note\": {}}}\n"
                ),
                i,
                f,
                l,
                f.to_lowercase(),
                l.to_lowercase(),
                rng.below(100),
                18 + rng.below(70),
                rng.below(100),
                rng.below(100),
                rng.chance(70),
                rng.below(10),
                rng.below(10),
                rng.below(5),
                1 + rng.below(999),
                cities[rng.below(cities.len())],
                rng.below(100_000),
                1 + rng.below(9),
                rng.below(10),
                (rng.next() % 10_000_000) as f64 / 100.0,
                if rng.chance(20) {
                    "\"line one\\nline two \\\"quoted\\\"\""
                } else {
                    "null"
                },
            ));
        }
        out
    }

    #[test]
    #[ignore]
    fn bench_parse() {
        use std::time::Instant;
        let ndjson = typical_records(20_000);
        let bytes = ndjson.as_bytes();
        let lines: Vec<_> = NdjsonLines::new(bytes).map(|(_, r)| r).collect();
        let mb = bytes.len() as f64 / 1e6;
        println!(
            "{} records, {:.2} MB, {:.0} bytes/record",
            lines.len(),
            mb,
            bytes.len() as f64 / lines.len() as f64
        );
        let best = |f: &mut dyn FnMut() -> usize| {
            let mut best = f64::MAX;
            let mut check = 0;
            for _ in 0..15 {
                let t = Instant::now();
                check += f();
                best = best.min(t.elapsed().as_secs_f64());
            }
            assert!(check > 0);
            best
        };
        let t = best(&mut || {
            lines
                .iter()
                .map(|r| object_len_hint(&parse_value(&bytes[r.clone()], MAX_DEPTH).unwrap()))
                .sum()
        });
        println!("parse_value per line:        {:7.0} MB/s", mb / t);
        let t = best(&mut || {
            lines
                .iter()
                .map(|r| {
                    serde_json::from_slice::<Value>(&bytes[r.clone()])
                        .unwrap()
                        .as_object()
                        .unwrap()
                        .len()
                })
                .sum()
        });
        println!(
            "serde_json::Value per line:  {:7.0} MB/s (reference)",
            mb / t
        );
        let t = best(&mut || NdjsonLines::new(bytes).count());
        println!("NdjsonLines:                 {:7.0} MB/s", mb / t);
        let array = format!("[{}]", ndjson.trim_end().replace('\n', ",\n"));
        let ab = array.as_bytes();
        let t = best(&mut || ArrayElements::new(ab).map(|r| r.unwrap().len()).sum());
        println!(
            "ArrayElements:               {:7.0} MB/s",
            array.len() as f64 / 1e6 / t
        );
        let t = best(&mut || {
            ArrayElements::new(ab)
                .map(|r| object_len_hint(&parse_value(&ab[r.unwrap()], MAX_DEPTH).unwrap()))
                .sum()
        });
        println!(
            "ArrayElements + parse_value: {:7.0} MB/s",
            array.len() as f64 / 1e6 / t
        );
    }

    fn object_len_hint(value: &Json<'_>) -> usize {
        match value {
            Json::Object(entries, _) => entries.len(),
            _ => 0,
        }
    }
}

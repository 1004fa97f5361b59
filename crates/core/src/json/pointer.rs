//! Where a JSON Pointer (RFC 6901) leads in JSON text, found without building
//! anything: the records of a document that wraps them (`/statuses` of a search
//! response) are then validated as a JSON array in place.
//!
//! One pass over the whole text: every value is skipped once, the values on the
//! pointer's path are walked into instead of skipped. The rest of the document
//! is read too, so that text that is not JSON anywhere in it is refused, as it
//! is when the document itself is the array (however deep it nests: depth is a
//! record's limit, not JSON's). Where an object repeats a key, its
//! last value counts (as everywhere in this crate).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::{JsonError, Parser};
use crate::value::MAX_DEPTH;

/// Why a pointer leads nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointerError {
    /// Not a JSON Pointer: what is wrong with it.
    Syntax(String),
    /// The text is not one JSON value.
    Json(JsonError),
    /// No value there: the longest prefix of the pointer that leads to a value,
    /// and what that value is (an object without the next key, an array too
    /// short, ...).
    Missing {
        pointer: String,
        found: String,
        what: String,
    },
}

impl fmt::Display for PointerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointerError::Syntax(why) => write!(f, "not a JSON Pointer: {why}"),
            PointerError::Json(e) => write!(f, "not JSON: {e}"),
            PointerError::Missing {
                pointer,
                found,
                what,
            } => {
                let at = if found.is_empty() {
                    "the document".to_string()
                } else {
                    shown(found)
                };
                write!(f, "nothing at `{}`: {at} is {what}", shown(pointer))
            }
        }
    }
}

impl std::error::Error for PointerError {}

impl From<JsonError> for PointerError {
    fn from(e: JsonError) -> Self {
        PointerError::Json(e)
    }
}

/// The reference tokens of `pointer` (`""`: none, the whole document), `~1` and
/// `~0` decoded.
fn tokens(pointer: &str) -> Result<Vec<Cow<'_, str>>, PointerError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        let hint = if pointer.starts_with("#/") {
            " (a URI fragment: leave out the `#`)"
        } else {
            ""
        };
        return Err(PointerError::Syntax(format!(
            "`{}` does not start with `/`{hint}",
            shown(pointer)
        )));
    };
    rest.split('/')
        .map(|token| {
            if !token.contains('~') {
                return Ok(Cow::Borrowed(token));
            }
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                match (c, c == '~') {
                    (_, false) => out.push(c),
                    (_, true) => match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(PointerError::Syntax(format!(
                                "`{}` has a `~` not followed by `0` or `1`",
                                shown(pointer)
                            )))
                        }
                    },
                }
            }
            Ok(Cow::Owned(out))
        })
        .collect()
}

/// The byte range of the value `pointer` leads to in `input`, which must hold
/// exactly one JSON value (whitespace around it allowed, and one leading byte
/// order mark, skipped as every reader skips it). Ranges and error offsets are
/// the input's, byte order mark included.
pub fn locate(input: &[u8], pointer: &str) -> Result<Range<usize>, PointerError> {
    let bom = input.len() - crate::stream::skip_bom(input).len();
    match locate_in(&input[bom..], pointer) {
        Ok(range) => Ok(range.start + bom..range.end + bom),
        Err(PointerError::Json(mut e)) => {
            e.offset += bom;
            Err(PointerError::Json(e))
        }
        Err(e) => Err(e),
    }
}

fn locate_in(input: &[u8], pointer: &str) -> Result<Range<usize>, PointerError> {
    let tokens = tokens(pointer)?;
    let mut p = Parser::new(input);
    let found = resolve(&mut p, &tokens, 0)?;
    // Only whitespace may follow the document.
    match p.peek() {
        Err(e) if e.offset == input.len() => {}
        _ => {
            return Err(PointerError::Json(JsonError::new(
                super::JsonErrorKind::TrailingCharacters,
                p.pos,
            )))
        }
    }
    match found {
        Lookup::Found(range) => Ok(range),
        Lookup::Missing { level, what } => Err(PointerError::Missing {
            pointer: pointer.to_string(),
            found: prefix(&tokens[..level]),
            what,
        }),
    }
}

/// What one value holds of the rest of a pointer.
enum Lookup {
    Found(Range<usize>),
    /// The pointer's first `level` tokens led to a value that lacks the next one.
    Missing {
        level: usize,
        what: String,
    },
}

impl Lookup {
    /// The better of two answers for one key (the later value of a repeated key
    /// wins; of two misses, the deeper says more).
    fn or_later(self, later: Lookup) -> Lookup {
        match (&self, &later) {
            (_, Lookup::Found(_)) => later,
            (Lookup::Found(_), _) => self,
            (Lookup::Missing { level: a, .. }, Lookup::Missing { level: b, .. }) if b > a => later,
            _ => self,
        }
    }
}

/// Reads the value at the cursor (`level` tokens of the pointer already followed,
/// `tokens` the rest) and leaves the cursor after it.
fn resolve(
    p: &mut Parser<'_>,
    tokens: &[Cow<'_, str>],
    level: usize,
) -> Result<Lookup, PointerError> {
    let depth_left = MAX_DEPTH.saturating_sub(level);
    let c = p.peek()?;
    let start = p.pos;
    let Some((token, rest)) = tokens.split_first() else {
        skip_value(p, c, depth_left)?;
        return Ok(Lookup::Found(start..p.pos));
    };
    let missing = |what: String| Lookup::Missing { level, what };
    match c {
        b'{' if depth_left > 0 => {
            p.pos += 1;
            let mut found = missing(format!("an object without the key `{}`", shown(token)));
            if empty(p, b'}')? {
                return Ok(found);
            }
            loop {
                let k = p.peek()?;
                // (A key that is not valid Unicode names no token.)
                let key = p.key_or_lone(k)?;
                if key.is_some_and(|key| key == *token) {
                    let here = resolve(p, rest, level + 1)?;
                    found = found.or_later(here);
                } else {
                    let v = p.peek()?;
                    skip_value(p, v, depth_left - 1)?;
                }
                if ended(p, b'}')? {
                    return Ok(found);
                }
            }
        }
        b'[' if depth_left > 0 => {
            p.pos += 1;
            let index = array_index(token);
            let mut found = missing(match index {
                Some(_) => format!("an array without an element {token}"),
                None => format!("an array, and `{}` is not an index", shown(token)),
            });
            if empty(p, b']')? {
                return Ok(found);
            }
            let mut i = 0usize;
            loop {
                if Some(i) == index {
                    found = resolve(p, rest, level + 1)?;
                } else {
                    let v = p.peek()?;
                    skip_value(p, v, depth_left - 1)?;
                }
                i += 1;
                if ended(p, b']')? {
                    return Ok(found);
                }
            }
        }
        b'{' | b'[' => {
            // No depth left: a pointer deeper than a record may nest.
            Err(PointerError::Json(JsonError::new(
                super::JsonErrorKind::TooDeep,
                p.pos,
            )))
        }
        _ => {
            skip_value(p, c, depth_left)?;
            let what = match c {
                b'"' => "a string",
                b't' | b'f' => "a boolean",
                b'n' => "null",
                _ => "a number",
            };
            Ok(missing(what.to_string()))
        }
    }
}

/// Just inside a container closed by `close`: whether it is empty (then the
/// cursor is past its end).
fn empty(p: &mut Parser<'_>, close: u8) -> Result<bool, JsonError> {
    let end = p.peek()? == close;
    if end {
        p.pos += 1;
    }
    Ok(end)
}

/// After a value in a container closed by `close`: `true` past the container's
/// end, `false` past the comma before its next value.
fn ended(p: &mut Parser<'_>, close: u8) -> Result<bool, JsonError> {
    match p.peek()? {
        b',' => {
            p.pos += 1;
            Ok(false)
        }
        b if b == close => {
            p.pos += 1;
            Ok(true)
        }
        _ => Err(super::unexpected(p.b, p.pos)),
    }
}

/// Skips the value whose first byte `c` the cursor is at (a scalar without the
/// container machinery), however deep it nests: a value off the pointer's path is
/// no record, and a record under it too deep to check is that record's `depth`
/// error, as in a document that is the array itself (a value 129 levels deep anywhere
/// in the document refused the whole call).
fn skip_value(p: &mut Parser<'_>, c: u8, depth_left: usize) -> Result<(), JsonError> {
    if c != b'{' && c != b'[' {
        return p.skip_scalar(c, 0, &mut ());
    }
    let start = p.pos;
    match p.skip_here(depth_left) {
        Err(e) if e.kind == super::JsonErrorKind::TooDeep => {
            p.pos = start; // (read again by the skip without a depth limit, rarely)
            p.skip_deep()
        }
        done => done,
    }
}

/// The index a reference token names in an array: `0` or digits without a
/// leading zero (`-`, the element after the last, never exists here).
pub(crate) fn array_index(token: &str) -> Option<usize> {
    let b = token.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    token.parse().ok()
}

/// `text` as a message shows it: a long one cut after [`SHOWN_CHARS`] characters
/// (a pointer or a key may be as long as the caller likes).
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} characters)", &text[..cut], text.chars().count()),
    }
}

const SHOWN_CHARS: usize = 100;

/// The pointer made of `tokens` (escaped again).
fn prefix(tokens: &[Cow<'_, str>]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(doc: &'a str, pointer: &str) -> Result<&'a str, PointerError> {
        locate(doc.as_bytes(), pointer).map(|r| &doc[r])
    }

    #[test]
    fn finds_values_by_key_and_index() {
        let doc = r#" {"a": {"b": [10, {"c": [1, 2]}, "x"]}, "d": true} "#;
        assert_eq!(at(doc, "").unwrap(), doc.trim());
        assert_eq!(at(doc, "/a/b").unwrap(), r#"[10, {"c": [1, 2]}, "x"]"#);
        assert_eq!(at(doc, "/a/b/1/c").unwrap(), "[1, 2]");
        assert_eq!(at(doc, "/a/b/2").unwrap(), r#""x""#);
        assert_eq!(at(doc, "/d").unwrap(), "true");
        assert_eq!(at("[[], [[7]]]", "/1/0/0").unwrap(), "7");
    }

    #[test]
    fn decodes_escaped_tokens() {
        let doc = r#"{"a/b": 1, "m~n": 2, "": 3, " ": 4, "é": 5, "k\"l": 6}"#;
        assert_eq!(at(doc, "/a~1b").unwrap(), "1");
        assert_eq!(at(doc, "/m~0n").unwrap(), "2");
        assert_eq!(at(doc, "/").unwrap(), "3");
        assert_eq!(at(doc, "/ ").unwrap(), "4");
        assert_eq!(at(doc, "/é").unwrap(), "5");
        assert_eq!(at(doc, "/k\"l").unwrap(), "6");
        // An escaped key in the text matches its decoded token.
        assert_eq!(at(r#"{"\u0061": [1]}"#, "/a").unwrap(), "[1]");
    }

    #[test]
    fn the_last_of_a_repeated_key_counts() {
        let doc = r#"{"r": [1], "r": {"x": [2]}, "s": 0}"#;
        assert_eq!(at(doc, "/r").unwrap(), r#"{"x": [2]}"#);
        assert_eq!(at(doc, "/r/x").unwrap(), "[2]");
        // A later value found wins over an earlier one found; a later miss does not.
        assert_eq!(
            at(r#"{"r": {"x": 1}, "r": {"y": 2}}"#, "/r/x").unwrap(),
            "1"
        );
    }

    #[test]
    fn says_where_a_pointer_leads_nowhere() {
        let doc = r#"{"a": {"b": [1, 2]}, "s": "t"}"#;
        let missing = |p: &str| at(doc, p).unwrap_err().to_string();
        assert_eq!(
            missing("/x"),
            "nothing at `/x`: the document is an object without the key `x`"
        );
        assert_eq!(
            missing("/a/b/2"),
            "nothing at `/a/b/2`: /a/b is an array without an element 2"
        );
        assert_eq!(
            missing("/a/b/01"),
            "nothing at `/a/b/01`: /a/b is an array, and `01` is not an index"
        );
        assert_eq!(
            missing("/a/b/-"),
            "nothing at `/a/b/-`: /a/b is an array, and `-` is not an index"
        );
        assert_eq!(missing("/s/0"), "nothing at `/s/0`: /s is a string");
        assert_eq!(
            at("[]", "/0").unwrap_err().to_string(),
            "nothing at `/0`: the document is an array without an element 0"
        );
        assert_eq!(
            at(r#"{"a~b": {}}"#, "/a~0b/c").unwrap_err().to_string(),
            "nothing at `/a~0b/c`: /a~0b is an object without the key `c`"
        );
    }

    #[test]
    fn a_long_pointer_is_cut_in_messages() {
        let long = format!("/{}", "é".repeat(1000));
        let message = at("{}", &long).unwrap_err().to_string();
        assert!(message.len() < 600, "{message}");
        assert!(message.contains("... (1001 characters)"), "{message}");
        let message = tokens(&long[1..]).unwrap_err().to_string();
        assert!(message.contains("... (1000 characters)"), "{message}");
    }

    #[test]
    fn refuses_what_is_not_a_pointer() {
        assert!(matches!(tokens("a"), Err(PointerError::Syntax(_))));
        assert!(tokens("#/a")
            .unwrap_err()
            .to_string()
            .contains("leave out the `#`"));
        assert!(matches!(tokens("/a~2"), Err(PointerError::Syntax(_))));
        assert!(matches!(tokens("/a~"), Err(PointerError::Syntax(_))));
        assert_eq!(tokens("/a/~01").unwrap(), vec!["a", "~1"]);
    }

    #[test]
    fn reads_the_whole_document() {
        // Broken after the target, or before it, or with text after it: not JSON.
        for doc in [
            r#"{"r": [1], "s": [}"#,
            r#"{"s": tru, "r": [1]}"#,
            r#"{"r": [1]} x"#,
            r#"{"r": [1]"#,
            r#"{"r": [1],}"#,
            r#"{"r" [1]}"#,
        ] {
            assert!(
                matches!(locate(doc.as_bytes(), "/r"), Err(PointerError::Json(_))),
                "{doc}"
            );
        }
        // Nested deeper than a record may be, off the path or in a record: JSON still
        // (a record that deep is its own `depth` error, as in an array on its own).
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let deep = format!(r#"{{"r": [1], "s": {}}}"#, nest(100_000));
        assert_eq!(at(&deep, "/r").unwrap(), "[1]");
        let deep = format!(r#"{{"r": [1, {}]}}"#, nest(MAX_DEPTH + 1));
        assert_eq!(
            at(&deep, "/r").unwrap(),
            format!("[1, {}]", nest(MAX_DEPTH + 1))
        );
        // Not JSON past a deep part is still refused.
        let broken = format!(r#"{{"r": [1], "s": {}x}}"#, nest(MAX_DEPTH + 1));
        assert!(matches!(
            locate(broken.as_bytes(), "/r"),
            Err(PointerError::Json(_))
        ));
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_and_counted() {
        let doc = "\u{feff}{\"r\": [1, 2]}";
        assert_eq!(at(doc, "/r").unwrap(), "[1, 2]");
        assert_eq!(at(doc, "").unwrap(), &doc[3..]);
        // An error's offset is the input's, byte order mark included.
        let broken = "\u{feff}{\"r\": [1,, 2]}";
        match locate(broken.as_bytes(), "/r") {
            Err(PointerError::Json(e)) => assert_eq!(&broken[e.offset..e.offset + 1], ","),
            other => panic!("{other:?}"),
        }
        // Only one, and only first.
        assert!(locate("\u{feff}\u{feff}[]".as_bytes(), "").is_err());
        assert!(locate(" \u{feff}[]".as_bytes(), "").is_err());
    }

    #[test]
    fn a_pointer_as_deep_as_the_document() {
        let depth = 120;
        let doc = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let pointer = "/a".repeat(depth);
        assert_eq!(at(&doc, &pointer).unwrap(), "1");
        let too_long = "/a".repeat(depth + 1);
        assert!(matches!(
            at(&doc, &too_long),
            Err(PointerError::Missing { .. })
        ));
    }
}

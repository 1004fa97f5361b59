//! Array elements: the byte ranges of the elements of a top-level JSON
//! array, found without building values.

use std::ops::Range;

use super::scan::{
    block_masks, find_quote_or_backslash, find_structural, is_ws, prefix_xor, skip_ws,
};
use super::{unexpected, JsonError, JsonErrorKind};

/// Splits a top-level JSON array into the byte ranges of its elements without
/// building values: a structural scan that skips strings (honouring escapes)
/// and counts brackets. Ranges are trimmed of whitespace and come lazily, in
/// order. A structural problem yields one `Err`, after which the iterator
/// ends. Element contents are not validated (parse each range with
/// [`parse_value`]); the scan never recurses and never panics.
pub struct ArrayElements<'a> {
    input: &'a [u8],
    pos: usize,
    state: SplitState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SplitState {
    Start,
    /// After `[` or a comma: an element must follow.
    Element,
    /// After the closing `]`: only whitespace may follow.
    Closed,
    Done,
}

impl<'a> ArrayElements<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        ArrayElements {
            input,
            pos: 0,
            state: SplitState::Start,
        }
    }

    /// The byte offset reached so far.
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[cold]
    fn fail(&mut self, kind: JsonErrorKind, at: usize) -> Option<Result<Range<usize>, JsonError>> {
        self.state = SplitState::Done;
        Some(Err(JsonError::new(kind, at)))
    }

    #[cold]
    fn fail_unexpected(&mut self, at: usize) -> Option<Result<Range<usize>, JsonError>> {
        self.state = SplitState::Done;
        self.pos = at;
        Some(Err(unexpected(self.input, at)))
    }

    /// Index after the closing quote of the string whose content starts at `i`.
    #[inline(always)]
    fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
        loop {
            i = find_quote_or_backslash(b, i);
            match b.get(i) {
                None => return None,
                Some(b'"') => return Some(i + 1),
                Some(_) => i += 2,
            }
        }
    }

    fn element(&mut self) -> Option<Result<Range<usize>, JsonError>> {
        let b = self.input;
        let len = b.len();
        let start = skip_ws(b, self.pos);
        self.pos = start;
        match b.get(start) {
            None => return self.fail(JsonErrorKind::UnexpectedEnd, len),
            Some(b',' | b']' | b'}' | b':') => return self.fail_unexpected(start),
            Some(b'{' | b'[') => {
                // The common case (an array of records): find the matching
                // bracket with the block scanner, then expect `,` or `]`.
                let Some(end) = skip_container(b, start) else {
                    self.pos = len;
                    return self.fail(JsonErrorKind::UnexpectedEnd, len);
                };
                let next = skip_ws(b, end);
                return match b.get(next) {
                    Some(b',') => {
                        self.pos = next + 1;
                        Some(Ok(start..end))
                    }
                    Some(b']') => {
                        self.pos = next + 1;
                        self.state = SplitState::Closed;
                        Some(Ok(start..end))
                    }
                    Some(_) => self.fail_unexpected(next),
                    None => {
                        self.pos = len;
                        self.fail(JsonErrorKind::UnexpectedEnd, len)
                    }
                };
            }
            Some(_) => {}
        }
        // A scalar or a string: a byte loop (scalars are short), which also
        // copes with brackets that a broken input may hold.
        let mut i = start;
        let mut depth: usize = 0;
        // End of the element's content so far (exclusive).
        let mut end = start;
        // Whether the top-level value of the element is complete.
        let mut complete = false;
        loop {
            if depth > 0 {
                i = find_structural(b, i);
            }
            let Some(&c) = b.get(i) else {
                self.pos = len;
                return self.fail(JsonErrorKind::UnexpectedEnd, len);
            };
            match c {
                b'"' => {
                    if depth == 0 && complete {
                        return self.fail_unexpected(i);
                    }
                    match Self::skip_string(b, i + 1) {
                        Some(next) => i = next,
                        None => {
                            self.pos = len;
                            return self.fail(JsonErrorKind::UnexpectedEnd, len);
                        }
                    }
                    if depth == 0 {
                        complete = true;
                        end = i;
                    }
                }
                b'[' | b'{' => {
                    if depth == 0 && complete {
                        return self.fail_unexpected(i);
                    }
                    depth += 1;
                    i += 1;
                }
                b']' | b'}' => {
                    if depth == 0 {
                        if c == b'}' {
                            return self.fail_unexpected(i);
                        }
                        self.pos = i + 1;
                        self.state = SplitState::Closed;
                        return Some(Ok(start..end));
                    }
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        complete = true;
                        end = i;
                    }
                }
                b',' => {
                    // Only reached at depth 0: commas are skipped inside containers.
                    self.pos = i + 1;
                    self.state = SplitState::Element;
                    return Some(Ok(start..end));
                }
                _ if is_ws(c) => {
                    complete = true;
                    i += 1;
                }
                _ => {
                    // Part of a number or literal (validated later).
                    if complete {
                        return self.fail_unexpected(i);
                    }
                    i += 1;
                    end = i;
                }
            }
        }
    }
}

impl<'a> Iterator for ArrayElements<'a> {
    type Item = Result<Range<usize>, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.input;
        match self.state {
            SplitState::Done => None,
            SplitState::Element => self.element(),
            SplitState::Start => {
                let i = skip_ws(b, 0);
                self.pos = i;
                if b.get(i) != Some(&b'[') {
                    return self.fail(JsonErrorKind::ExpectedArray, i);
                }
                let i = skip_ws(b, i + 1);
                self.pos = i;
                if b.get(i) == Some(&b']') {
                    self.pos = i + 1;
                    self.state = SplitState::Closed;
                    return self.next();
                }
                self.state = SplitState::Element;
                self.element()
            }
            SplitState::Closed => {
                let i = skip_ws(b, self.pos);
                self.pos = i;
                if i < b.len() {
                    return self.fail(JsonErrorKind::TrailingCharacters, i);
                }
                self.state = SplitState::Done;
                None
            }
        }
    }
}

/// The index after the bracket that closes the one at `start`, skipping
/// strings (with their escapes); `None` when the input ends first. Works on
/// 64-byte blocks with bit masks (no per-byte branches); brackets are told
/// apart only by nesting, not by kind (`parse_value` checks the contents).
fn skip_container(b: &[u8], start: usize) -> Option<usize> {
    let mut depth: u64 = 0;
    // All ones when the next block starts inside a string.
    let mut in_string: u64 = 0;
    // Bit 0 set when the next block's first byte is escaped.
    let mut escape_carry: u64 = 0;
    let mut i = start;
    let mut padded = [b' '; 64];
    loop {
        let block: &[u8] = match b.get(i..i + 64) {
            Some(block) => block,
            None => {
                let rest = b.get(i..).filter(|rest| !rest.is_empty())?;
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let m = block_masks(block);

        // Escaped bytes: each backslash that is not itself escaped escapes
        // the next byte. Backslashes are rare, so walk them one by one.
        let mut escaped = escape_carry;
        escape_carry = 0;
        let mut backslashes = m.backslash & !escaped;
        while backslashes != 0 {
            let bit = backslashes & backslashes.wrapping_neg();
            if bit == 1 << 63 {
                escape_carry = 1;
            }
            escaped |= bit << 1;
            backslashes &= !(bit | bit << 1);
        }

        // Inside strings: from an opening quote up to (not including) the closing one.
        let strings = prefix_xor(m.quote & !escaped) ^ in_string;
        in_string = ((strings as i64) >> 63) as u64;
        let open = m.open & !strings;
        let close = m.close & !strings;

        let closes = close.count_ones() as u64;
        if depth > closes {
            // The container cannot end in this block.
            depth = depth + open.count_ones() as u64 - closes;
        } else {
            let mut brackets = open | close;
            while brackets != 0 {
                let bit = brackets & brackets.wrapping_neg();
                if open & bit != 0 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == 0 {
                        let end = i + bit.trailing_zeros() as usize + 1;
                        // Padding holds no brackets, so `end` is in the input.
                        return Some(end);
                    }
                }
                brackets &= brackets - 1;
            }
        }
        i += 64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;
    use crate::json::testing::*;
    use crate::json::JsonErrorKind::*;
    use crate::value::MAX_DEPTH;
    use serde_json::Value;

    // -- array splitting ---------------------------------------------------

    fn split(input: &str) -> Vec<Result<&str, (JsonErrorKind, usize)>> {
        ArrayElements::new(input.as_bytes())
            .map(|r| r.map(|range| &input[range]).map_err(|e| (e.kind, e.offset)))
            .collect()
    }

    #[test]
    fn split_simple() {
        assert_eq!(split("[]"), vec![]);
        assert_eq!(split(" [ ] \n"), vec![]);
        assert_eq!(split("[1]"), vec![Ok("1")]);
        assert_eq!(split("[1,2,3]"), vec![Ok("1"), Ok("2"), Ok("3")]);
        assert_eq!(
            split(" [ 1 , -2.5e3 ,\n\t true,null , \"s\" , [ 1, [2] ] , { \"a\" : [ ] } ] "),
            vec![
                Ok("1"),
                Ok("-2.5e3"),
                Ok("true"),
                Ok("null"),
                Ok("\"s\""),
                Ok("[ 1, [2] ]"),
                Ok("{ \"a\" : [ ] }")
            ]
        );
    }

    #[test]
    fn split_tricky_strings() {
        let doc = r#"["a,b", "]", "[", "{", "}", "\"", "\\", "\\\"", "x\\", "\"],[", {"k,]": "v\"}"}, ["\\]"], "é,ü"]"#;
        let got = split(doc);
        let want: Vec<Value> = serde_json::from_str::<Vec<Value>>(doc).unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            let g = g.as_ref().unwrap();
            assert!(same(&parse(g).unwrap(), w), "{g}");
        }
        assert_eq!(got[1], Ok(r#""]""#));
        assert_eq!(got[9], Ok(r#""\"],[""#));
        assert_eq!(got[10], Ok(r#"{"k,]": "v\"}"}"#));
    }

    #[test]
    fn split_errors() {
        assert_eq!(split(""), vec![Err((ExpectedArray, 0))]);
        assert_eq!(split("  "), vec![Err((ExpectedArray, 2))]);
        assert_eq!(split(" {\"a\": 1}"), vec![Err((ExpectedArray, 1))]);
        assert_eq!(split("1"), vec![Err((ExpectedArray, 0))]);
        assert_eq!(split("["), vec![Err((UnexpectedEnd, 1))]);
        assert_eq!(split("[1"), vec![Err((UnexpectedEnd, 2))]);
        assert_eq!(split("[1,"), vec![Ok("1"), Err((UnexpectedEnd, 3))]);
        assert_eq!(split("[1, \"ab"), vec![Ok("1"), Err((UnexpectedEnd, 7))]);
        assert_eq!(split("[\"a\\"), vec![Err((UnexpectedEnd, 4))]);
        assert_eq!(split("[\"a\\\""), vec![Err((UnexpectedEnd, 5))]);
        assert_eq!(split("[[1, 2]"), vec![Err((UnexpectedEnd, 7))]);
        assert_eq!(
            split("[1,,2]"),
            vec![Ok("1"), Err((UnexpectedByte(b','), 3))]
        );
        assert_eq!(split("[,1]"), vec![Err((UnexpectedByte(b','), 1))]);
        assert_eq!(split("[1,]"), vec![Ok("1"), Err((UnexpectedByte(b']'), 3))]);
        assert_eq!(split("[1 2]"), vec![Err((UnexpectedByte(b'2'), 3))]);
        assert_eq!(split("[\"a\" \"b\"]"), vec![Err((UnexpectedByte(b'"'), 5))]);
        assert_eq!(split("[\"a\"\"b\"]"), vec![Err((UnexpectedByte(b'"'), 4))]);
        assert_eq!(split("[{}{}]"), vec![Err((UnexpectedByte(b'{'), 3))]);
        assert_eq!(split("[[] 1]"), vec![Err((UnexpectedByte(b'1'), 4))]);
        assert_eq!(split("[1}"), vec![Err((UnexpectedByte(b'}'), 2))]);
        assert_eq!(split("[{}}]"), vec![Err((UnexpectedByte(b'}'), 3))]);
        assert_eq!(split("[1]]"), vec![Ok("1"), Err((TrailingCharacters, 3))]);
        assert_eq!(split("[1] x"), vec![Ok("1"), Err((TrailingCharacters, 4))]);
        assert_eq!(split("[] []"), vec![Err((TrailingCharacters, 3))]);
        assert_eq!(split("[\n1\n]\n\n"), vec![Ok("1")]);
    }

    #[test]
    fn split_is_lazy_and_reports_offsets() {
        let doc = b"[10, 20, 30] ";
        let mut it = ArrayElements::new(doc);
        assert_eq!(it.offset(), 0);
        assert_eq!(it.next(), Some(Ok(1..3)));
        assert_eq!(it.offset(), 4);
        assert_eq!(it.next(), Some(Ok(5..7)));
        assert_eq!(it.next(), Some(Ok(9..11)));
        assert_eq!(it.offset(), 12);
        assert_eq!(it.next(), None);
        assert_eq!(it.offset(), 13);
        assert_eq!(it.next(), None);
        // After an error the iterator stays ended.
        let mut it = ArrayElements::new(b"[1,,2]");
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn split_deep_nesting_uses_a_counter() {
        let n = 1_000_000;
        let doc = "[".to_string() + &"[".repeat(n) + &"]".repeat(n) + ",1]";
        let got: Vec<_> = ArrayElements::new(doc.as_bytes()).collect();
        assert_eq!(got, vec![Ok(1..1 + 2 * n), Ok(2 + 2 * n..3 + 2 * n)]);
    }

    #[test]
    fn split_containers_across_block_boundaries() {
        // String contents with escapes and brackets, shifted across the
        // 64-byte block boundaries, inside nested containers.
        let tricky = [
            r#"\\"#,
            r#"\""#,
            r#"\\\""#,
            r#"]}"#,
            r#"\\\\"#,
            r#"[{\\"#,
            r#"\u005d"#,
            r#"\"]"#,
            r#"\\]"#,
        ];
        for pad in 0..140 {
            let filler = "x".repeat(pad);
            for t in tricky {
                let element = format!(
                    r#"{{"k": "{filler}{t}", "n": [1, {{"s": "{t}{filler}]"}}], "m": "{t}"}}"#
                );
                let doc = format!(r#"[{element}, ["{filler}\\", {element}] ,{element}]"#);
                let want: Vec<Value> =
                    serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
                let got: Vec<_> = ArrayElements::new(doc.as_bytes())
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(got.len(), 3, "{doc}");
                for (range, w) in got.into_iter().zip(&want) {
                    assert!(
                        same(&parse_value(&doc.as_bytes()[range], MAX_DEPTH).unwrap(), w),
                        "{doc}"
                    );
                }
                // Truncations are errors, never panics.
                for cut in [
                    doc.len() - 1,
                    doc.len() - 2,
                    doc.len() / 2,
                    63,
                    64,
                    65,
                    127,
                    128,
                    129,
                ] {
                    let cut = cut.min(doc.len() - 1);
                    let last = ArrayElements::new(&doc.as_bytes()[..cut]).last();
                    assert!(matches!(last, Some(Err(_))), "{cut} {doc}");
                }
            }
        }
    }

    #[test]
    fn split_long_strings_and_deep_containers() {
        let long = r#"a]}\\\"[{"#.repeat(40);
        let element =
            format!(r#"{{"s": "{long}", "t": [[[["{long}"]]]], "u": {{"v": "{long}"}}}}"#);
        let doc = format!("[{element},{element}]");
        assert!(serde_json::from_str::<Value>(&doc).is_ok());
        let got: Vec<_> = ArrayElements::new(doc.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            got.iter().map(|r| &doc[r.clone()]).collect::<Vec<_>>(),
            [element.as_str(), element.as_str()]
        );
        // A string that never ends, a container that never closes.
        let doc = format!(r#"[{{"a": "{long}"#);
        assert_eq!(split(&doc), vec![Err((UnexpectedEnd, doc.len()))]);
        let doc = "[".repeat(1000);
        assert_eq!(split(&doc), vec![Err((UnexpectedEnd, 1000))]);
        // Missing comma or junk after a container element.
        assert_eq!(
            split(r#"[{"a": 1} {}]"#),
            vec![Err((UnexpectedByte(b'{'), 10))]
        );
        assert_eq!(split("[[1] 2]"), vec![Err((UnexpectedByte(b'2'), 5))]);
        assert_eq!(split("[[1]}"), vec![Err((UnexpectedByte(b'}'), 4))]);
        assert_eq!(split("[[1] "), vec![Err((UnexpectedEnd, 5))]);
        assert_eq!(
            split("[[1]]x"),
            vec![Ok("[1]"), Err((TrailingCharacters, 5))]
        );
        assert_eq!(
            split("[[1],]"),
            vec![Ok("[1]"), Err((UnexpectedByte(b']'), 5))]
        );
    }

    #[test]
    fn differential_arrays_through_the_splitter() {
        let mut rng = Rng(42);
        for _ in 0..500 {
            let v = Value::Array((0..rng.below(20)).map(|_| gen_value(&mut rng, 1)).collect());
            let doc = match rng.below(3) {
                0 => serde_json::to_string(&v).unwrap(),
                1 => serde_json::to_string_pretty(&v).unwrap(),
                _ => {
                    let mut out = String::new();
                    write_escaped(&mut rng, &v, &mut out);
                    out
                }
            };
            let Value::Array(want) = &v else {
                unreachable!()
            };
            let got: Vec<_> = ArrayElements::new(doc.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(got.len(), want.len(), "{doc}");
            for (range, w) in got.into_iter().zip(want) {
                assert!(
                    same(&parse_value(&doc.as_bytes()[range], MAX_DEPTH).unwrap(), w),
                    "{doc}"
                );
            }
        }
    }
}

//! NDJSON lines: the non-blank lines of an NDJSON buffer.

use std::ops::Range;

use memchr::memchr;

use super::scan::is_ws;

/// The line at `range` of `b` without the `\r` of a CRLF line ending.
#[inline(always)]
pub(crate) fn without_cr(b: &[u8], mut range: Range<usize>) -> Range<usize> {
    if range.end > range.start && b[range.end - 1] == b'\r' {
        range.end -= 1;
    }
    range
}

/// Whether an NDJSON line holds only JSON whitespace (space, tab, CR, LF): a
/// blank line, skipped by every NDJSON reader alike (a form feed is not blank).
#[inline]
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&c| is_ws(c))
}

/// Splits an NDJSON buffer into lines (on `\n`, dropping a trailing `\r`),
/// skipping blank lines. Yields `(line_number, range)` with zero-based line
/// numbers that count every line, blank ones included.
pub struct NdjsonLines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> NdjsonLines<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        NdjsonLines {
            input,
            pos: 0,
            line: 0,
        }
    }
}

impl<'a> Iterator for NdjsonLines<'a> {
    type Item = (usize, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.input;
        while self.pos < b.len() {
            let start = self.pos;
            let (end, next) = match memchr(b'\n', &b[start..]) {
                Some(k) => (start + k, start + k + 1),
                None => (b.len(), b.len()),
            };
            self.pos = next;
            let line = self.line;
            self.line += 1;
            let end = without_cr(b, start..end).end;
            if is_blank(&b[start..end]) {
                continue;
            }
            return Some((line, start..end));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;
    use crate::value::MAX_DEPTH;

    #[test]
    fn ndjson_lines() {
        let buf = b"{\"a\":1}\r\n\n  \r\n[2]\n\t\n3\r\n\"last\"";
        let got: Vec<_> = NdjsonLines::new(buf).map(|(n, r)| (n, &buf[r])).collect();
        assert_eq!(
            got,
            vec![
                (0, &b"{\"a\":1}"[..]),
                (3, &b"[2]"[..]),
                (5, &b"3"[..]),
                (6, &b"\"last\""[..])
            ]
        );
        assert_eq!(NdjsonLines::new(b"").count(), 0);
        assert_eq!(NdjsonLines::new(b"\n\n\r\n").count(), 0);
        let got: Vec<_> = NdjsonLines::new(b"1\n2\n").collect();
        assert_eq!(got, vec![(0, 0..1), (1, 2..3)]);
        let got: Vec<_> = NdjsonLines::new(b"\r").collect();
        assert_eq!(got, vec![]);
        // Lines keep their inner whitespace; parse_value allows it.
        let buf = b"  {\"a\": 1}  \r\n";
        let (n, r) = NdjsonLines::new(buf).next().unwrap();
        assert_eq!((n, r.clone()), (0, 0..12));
        assert!(parse_value(&buf[r], MAX_DEPTH).is_ok());
    }

    #[test]
    fn without_cr_drops_one_carriage_return() {
        let b = b"a\r\r\n\r";
        assert_eq!(without_cr(b, 0..3), 0..2);
        assert_eq!(without_cr(b, 0..1), 0..1);
        assert_eq!(without_cr(b, 4..5), 4..4);
        assert_eq!(without_cr(b, 5..5), 5..5);
    }
}

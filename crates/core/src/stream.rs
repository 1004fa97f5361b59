//! Cutting byte inputs into chunks of at most `batch_size` record spans:
//! a JSON array or NDJSON in memory (zero copy), or NDJSON from any reader
//! with a buffer that holds one chunk of lines plus one read block.
//!
//! An NDJSON record (one line) longer than `max_record_bytes` stops the call:
//! a stream without newlines (`/dev/zero`) ends after reading at most the
//! limit plus one read block, never holding more.
//!
//! Every input may open with one UTF-8 byte order mark (some editors write
//! it); it is skipped, and byte offsets in messages still count it.

use std::fmt;
use std::io;
use std::ops::Range;

use memchr::memchr;

use crate::engine::Span;
use crate::json::{is_blank, without_cr, ArrayElements, JsonError, NdjsonLines};

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `input` without the byte order mark it may start with.
pub fn skip_bom(input: &[u8]) -> &[u8] {
    input.strip_prefix(BOM).unwrap_or(input)
}

/// The span of NDJSON line `line` at `range` of `input`, without the byte
/// order mark that may open the first line; `None` when only blanks are left.
fn line_without_bom(input: &[u8], line: usize, mut range: Range<usize>) -> Option<Range<usize>> {
    if line == 0 && input[range.clone()].starts_with(BOM) {
        range.start += BOM.len();
        if is_blank(&input[range.clone()]) {
            return None;
        }
    }
    Some(range)
}

/// The elements of a JSON array in memory, `batch_size` at a time.
pub struct ArrayChunker<'a> {
    elements: ArrayElements<'a>,
    /// Bytes of the byte order mark skipped before the array.
    skipped: usize,
}

impl<'a> ArrayChunker<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        let body = skip_bom(input);
        ArrayChunker {
            elements: ArrayElements::new(body),
            skipped: input.len() - body.len(),
        }
    }

    /// The next spans (offsets in the whole input); empty at the end of the array.
    pub fn next_chunk(&mut self, batch_size: usize) -> Result<Vec<Span>, JsonError> {
        let mut spans = Vec::with_capacity(batch_size.min(1 << 16));
        while spans.len() < batch_size {
            match self.elements.next() {
                Some(Ok(range)) => spans.push(Span {
                    range: range.start + self.skipped..range.end + self.skipped,
                    line: 0,
                }),
                Some(Err(mut e)) => {
                    e.offset += self.skipped;
                    return Err(e);
                }
                None => break,
            }
        }
        Ok(spans)
    }
}

/// The default of `max_record_bytes`: the longest NDJSON line accepted.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// An NDJSON line longer than `max_record_bytes`; `line` counts from zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordTooLong {
    pub line: usize,
    pub limit: usize,
}

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NDJSON line {} is longer than `max_record_bytes` ({} bytes)",
            self.line + 1,
            self.limit
        )
    }
}

impl std::error::Error for RecordTooLong {}

/// The records of NDJSON in memory, `batch_size` at a time.
pub struct NdjsonChunker<'a> {
    lines: NdjsonLines<'a>,
    max_record_bytes: usize,
    input: &'a [u8],
}

impl<'a> NdjsonChunker<'a> {
    pub fn new(input: &'a [u8], max_record_bytes: usize) -> Self {
        NdjsonChunker {
            lines: NdjsonLines::new(input),
            max_record_bytes,
            input,
        }
    }

    pub fn next_chunk(&mut self, batch_size: usize) -> Result<Vec<Span>, RecordTooLong> {
        let input = self.input;
        let mut spans = Vec::with_capacity(batch_size.min(1 << 16));
        while spans.len() < batch_size {
            let Some((line, range)) = self.lines.next() else {
                break;
            };
            let Some(range) = line_without_bom(input, line, range) else {
                continue;
            };
            if range.len() > self.max_record_bytes {
                return Err(RecordTooLong {
                    line,
                    limit: self.max_record_bytes,
                });
            }
            spans.push(Span { range, line });
        }
        Ok(spans)
    }
}

/// Size of one read from a stream.
pub const READ_BLOCK: usize = 256 * 1024;

/// NDJSON from a reader. Holds the lines of one chunk plus at most one read
/// block, whatever the size of the stream; a line longer than
/// `max_record_bytes` is an error as soon as that many bytes of it are read,
/// unless they are all whitespace: a blank line is skipped, however long, as in
/// memory (see [`NdjsonReader::drop_blank`]).
/// Each byte is searched for a newline once, however many reads a line spans.
pub struct NdjsonReader {
    buf: Vec<u8>,
    /// Bytes of `buf` that belong to the previous chunk, dropped on the next call.
    consumed: usize,
    /// `buf[..scanned]` holds no newline after the start of the current line.
    scanned: usize,
    /// Lines seen so far (blank ones included), for messages.
    line: usize,
    /// Whitespace the current line starts with, dropped from `buf`.
    blank_dropped: usize,
    eof: bool,
    max_record_bytes: usize,
    /// Bytes searched for newlines so far (each byte once), for tests.
    searched: usize,
}

impl NdjsonReader {
    /// `prefix`: bytes already read from the stream (for profile detection).
    pub fn new(prefix: Vec<u8>, max_record_bytes: usize) -> Self {
        NdjsonReader {
            buf: prefix,
            consumed: 0,
            scanned: 0,
            line: 0,
            blank_dropped: 0,
            eof: false,
            max_record_bytes,
            searched: 0,
        }
    }

    /// The buffer the spans of the last chunk point into.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Bytes the reader holds (its buffer's capacity).
    pub fn held_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Reads until `batch_size` records or the end; the spans index [`Self::buffer`].
    /// A line longer than `max_record_bytes` is an [`io::ErrorKind::InvalidData`]
    /// error that holds a [`RecordTooLong`].
    pub fn next_chunk(
        &mut self,
        batch_size: usize,
        read: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<Vec<Span>> {
        self.buf.drain(..self.consumed);
        self.scanned = self.scanned.saturating_sub(self.consumed);
        self.consumed = 0;
        let mut spans = Vec::with_capacity(batch_size.min(1 << 16));
        let mut pos = 0;
        while spans.len() < batch_size {
            let from = pos.max(self.scanned);
            let found = memchr(b'\n', &self.buf[from..]);
            self.searched += found.map_or(self.buf.len() - from, |k| k + 1);
            if let Some(k) = found {
                self.check_length(pos..from + k)?;
                self.push_line(pos..from + k, &mut spans);
                pos = from + k + 1;
                self.scanned = pos;
                continue;
            }
            self.scanned = self.buf.len();
            // The line so far: a `\r` it ends with may yet be a CRLF ending.
            self.check_length(pos..self.buf.len())?;
            self.drop_blank(pos);
            if self.eof {
                if pos < self.buf.len() {
                    self.push_line(pos..self.buf.len(), &mut spans);
                    pos = self.buf.len();
                }
                break;
            }
            let old = self.buf.len();
            self.buf.resize(old + READ_BLOCK, 0);
            let n = loop {
                match read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + n.min(READ_BLOCK));
            if n == 0 {
                self.eof = true;
            }
        }
        self.consumed = pos;
        Ok(spans)
    }

    /// Checks the line at `range` of the buffer against `max_record_bytes`,
    /// counted as [`NdjsonChunker`] counts it: without a `\r` before the
    /// newline or a byte order mark, so bytes in memory and streams agree.
    fn check_length(&self, range: Range<usize>) -> io::Result<()> {
        let mut range = without_cr(&self.buf, range);
        let mut len = range.len() + self.blank_dropped;
        if self.line == 0 && self.blank_dropped == 0 && self.buf[range.clone()].starts_with(BOM) {
            len -= BOM.len();
            range.start += BOM.len();
        }
        if len > self.max_record_bytes && !is_blank(&self.buf[range]) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                RecordTooLong {
                    line: self.line,
                    limit: self.max_record_bytes,
                },
            ));
        }
        Ok(())
    }

    /// Drops the line that starts at `start` from the buffer while it is whitespace
    /// alone and longer than `max_record_bytes`: a blank line of any length then
    /// holds at most the limit and a block (its length is counted on in
    /// `blank_dropped`), and each of its bytes is looked at a few times, not once per
    /// read. A line dropped from is over the limit, so a record never starts past
    /// what was dropped: it is refused, as in memory.
    fn drop_blank(&mut self, start: usize) {
        let held = self.buf.len() - start;
        // The stream's byte order mark goes too, uncounted as ever.
        let bom = if self.line == 0 && self.blank_dropped == 0 && self.buf[start..].starts_with(BOM)
        {
            BOM.len()
        } else {
            0
        };
        if held - bom + self.blank_dropped <= self.max_record_bytes
            || !is_blank(&self.buf[start + bom..])
        {
            return;
        }
        self.buf.truncate(start);
        self.scanned = start;
        self.blank_dropped += held - bom;
    }

    fn push_line(&mut self, range: Range<usize>, spans: &mut Vec<Span>) {
        let dropped = std::mem::take(&mut self.blank_dropped);
        let mut range = without_cr(&self.buf, range);
        if self.line == 0 && dropped == 0 && self.buf[range.clone()].starts_with(BOM) {
            range.start += BOM.len();
        }
        if !is_blank(&self.buf[range.clone()]) {
            spans.push(Span {
                range,
                line: self.line,
            });
        }
        self.line += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader_over(data: &[u8], block: usize) -> impl FnMut(&mut [u8]) -> io::Result<usize> + '_ {
        let mut pos = 0;
        move |out: &mut [u8]| {
            let n = block.min(out.len()).min(data.len() - pos);
            out[..n].copy_from_slice(&data[pos..pos + n]);
            pos += n;
            Ok(n)
        }
    }

    #[test]
    fn reader_chunks_match_memory_chunks() {
        let data = b"{\"a\":1}\r\n\n  \n{\"a\":2}\n{\"a\":3}\n{\"a\":4}";
        for block in [1, 3, 7, 1000] {
            for b in [1, 2, 3, 10] {
                let mut read = reader_over(data, block);
                let mut reader = NdjsonReader::new(Vec::new(), DEFAULT_MAX_RECORD_BYTES);
                let mut from_reader = Vec::new();
                loop {
                    let spans = reader.next_chunk(b, &mut read).unwrap();
                    if spans.is_empty() {
                        break;
                    }
                    assert!(spans.len() <= b);
                    for s in spans {
                        from_reader.push((s.line, reader.buffer()[s.range].to_vec()));
                    }
                }
                let mut memory = NdjsonChunker::new(data, DEFAULT_MAX_RECORD_BYTES);
                let mut from_memory = Vec::new();
                loop {
                    let spans = memory.next_chunk(b).unwrap();
                    if spans.is_empty() {
                        break;
                    }
                    for s in spans {
                        from_memory.push((s.line, data[s.range].to_vec()));
                    }
                }
                assert_eq!(from_reader, from_memory, "block {block}, batch {b}");
                assert_eq!(from_reader.len(), 4);
            }
        }
    }

    #[test]
    fn reader_memory_is_bounded() {
        let line = b"{\"a\": \"0123456789012345678901234567890123456789\"}\n";
        let data: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 100_000)
            .collect();
        let mut read = reader_over(&data, READ_BLOCK);
        let mut reader = NdjsonReader::new(Vec::new(), DEFAULT_MAX_RECORD_BYTES);
        let mut total = 0;
        let mut peak = 0;
        loop {
            let spans = reader.next_chunk(100, &mut read).unwrap();
            if spans.is_empty() {
                break;
            }
            total += spans.len();
            peak = peak.max(reader.held_bytes());
        }
        assert_eq!(total, 100_000);
        assert!(peak <= 3 * READ_BLOCK, "peak {peak}");
    }

    #[test]
    fn a_long_line_is_searched_once() {
        // 8 MiB in one line, read 4 KiB at a time: each byte is searched once
        // (the old reader searched the whole line again after every read).
        let mut data = vec![b' '; 8 << 20];
        data[0] = b'1';
        data.extend_from_slice(b"\n2\n");
        let mut read = reader_over(&data, 4096);
        let mut reader = NdjsonReader::new(Vec::new(), DEFAULT_MAX_RECORD_BYTES);
        let mut lines = Vec::new();
        loop {
            let spans = reader.next_chunk(1, &mut read).unwrap();
            if spans.is_empty() {
                break;
            }
            lines.extend(spans.iter().map(|s| (s.line, s.range.len())));
        }
        assert_eq!(lines, vec![(0, 8 << 20), (1, 1)]);
        assert_eq!(reader.searched, data.len());
    }

    /// Records by line number, or the message that stopped the reading.
    type Records = Result<Vec<(usize, Vec<u8>)>, String>;

    /// The records of `data` read from a stream in blocks of `block` bytes, and the
    /// reader's peak memory.
    fn read_all(data: &[u8], block: usize, limit: usize) -> (Records, usize) {
        let mut read = reader_over(data, block);
        let mut reader = NdjsonReader::new(Vec::new(), limit);
        let mut out = Vec::new();
        let mut peak = 0;
        loop {
            let spans = match reader.next_chunk(2, &mut read) {
                Ok(spans) => spans,
                Err(e) => return (Err(e.to_string()), peak),
            };
            peak = peak.max(reader.held_bytes());
            if spans.is_empty() {
                return (Ok(out), peak);
            }
            out.extend(
                spans
                    .iter()
                    .map(|s| (s.line, reader.buffer()[s.range.clone()].to_vec())),
            );
        }
    }

    /// [`read_all`] from memory.
    fn chunk_all(data: &[u8], limit: usize) -> Records {
        let mut memory = NdjsonChunker::new(data, limit);
        let mut out = Vec::new();
        loop {
            let spans = memory.next_chunk(2).map_err(|e| e.to_string())?;
            if spans.is_empty() {
                return Ok(out);
            }
            out.extend(
                spans
                    .iter()
                    .map(|s| (s.line, data[s.range.clone()].to_vec())),
            );
        }
    }

    #[test]
    fn a_blank_line_over_the_limit_is_skipped_as_in_memory() {
        // A stream refused a whitespace-only line longer than the limit, which bytes
        // in memory skip; it now skips it too, holding at most twice the limit and a
        // block (the buffer grows by doubling), however long the line.
        let limit = 1 << 16;
        let long = 2 * (limit + READ_BLOCK) + 5;
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for ws in [&b" \t"[..], b" \r"] {
            let blank: Vec<u8> = ws.iter().copied().cycle().take(long).collect();
            cases.push([&b"1\n"[..], &blank, b"\n2\n"].concat());
            cases.push([&b"1\n"[..], &blank].concat()); // at the end, no newline
            cases.push([&blank[..], b"\r\n2"].concat());
            cases.push([BOM, &blank, b"\n2"].concat());
            // Whitespace, then a record: over the limit, refused.
            cases.push([&b"1\n"[..], &blank, b"3\n"].concat());
            cases.push([BOM, &blank, b"3"].concat());
        }
        for data in &cases {
            let memory = chunk_all(data, limit);
            for block in [4096, READ_BLOCK] {
                let (stream, peak) = read_all(data, block, limit);
                assert_eq!(stream, memory, "block {block}, {} bytes", data.len());
                assert!(peak <= 2 * (limit + READ_BLOCK), "peak {peak}");
            }
        }
        // Whitespace then a record, within the limit: the same record from both.
        let mut data = vec![b' '; 60_000];
        data.extend_from_slice(b"[1]\n");
        assert_eq!(read_all(&data, 4096, limit).0, chunk_all(&data, limit));
        assert_eq!(chunk_all(&data, limit).unwrap().len(), 1);
    }

    #[test]
    fn a_line_over_the_limit_stops_the_reader() {
        // A stream that never ends and holds no newline: the reader stops once
        // it holds more than the limit (its buffer grows by doubling, so it
        // holds at most twice the limit and a block).
        let mut zeros = |out: &mut [u8]| {
            out.fill(0);
            Ok(out.len())
        };
        let mut reader = NdjsonReader::new(b"{}\n".to_vec(), 1 << 20);
        let e = reader.next_chunk(10, &mut zeros).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            e.to_string(),
            "NDJSON line 2 is longer than `max_record_bytes` (1048576 bytes)"
        );
        assert!(reader.held_bytes() <= 2 * ((1 << 20) + READ_BLOCK));
        // A complete line one byte over the limit, and one exactly at it.
        let data = b"12345\n1234\n";
        let mut read = reader_over(data, 3);
        let mut reader = NdjsonReader::new(Vec::new(), 4);
        let e = reader.next_chunk(10, &mut read).unwrap_err();
        assert_eq!(
            e.to_string(),
            "NDJSON line 1 is longer than `max_record_bytes` (4 bytes)"
        );
        let mut read = reader_over(b"1234\n1234", 3);
        let mut reader = NdjsonReader::new(Vec::new(), 4);
        assert_eq!(reader.next_chunk(10, &mut read).unwrap().len(), 2);
        let mut memory = NdjsonChunker::new(b"1234\n12345", 4);
        assert_eq!(
            memory.next_chunk(10),
            Err(RecordTooLong { line: 1, limit: 4 })
        );
        assert_eq!(
            NdjsonChunker::new(b"1234\n1234", 4)
                .next_chunk(10)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        let data = b"\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF2\n";
        let mut read = reader_over(data, 2);
        let mut reader = NdjsonReader::new(Vec::new(), DEFAULT_MAX_RECORD_BYTES);
        let spans = reader.next_chunk(10, &mut read).unwrap();
        let got: Vec<&[u8]> = spans
            .iter()
            .map(|s| &reader.buffer()[s.range.clone()])
            .collect();
        // Only the stream's first bytes are a byte order mark; later ones are data.
        assert_eq!(got, [&b"{\"a\":1}"[..], &b"\xEF\xBB\xBF2"[..]]);
        let spans = NdjsonChunker::new(data, DEFAULT_MAX_RECORD_BYTES)
            .next_chunk(10)
            .unwrap();
        let got: Vec<&[u8]> = spans.iter().map(|s| &data[s.range.clone()]).collect();
        assert_eq!(got, [&b"{\"a\":1}"[..], &b"\xEF\xBB\xBF2"[..]]);
        // A first line holding nothing but the mark is blank.
        let data = b"\xEF\xBB\xBF \n1\n";
        let spans = NdjsonChunker::new(data, DEFAULT_MAX_RECORD_BYTES)
            .next_chunk(10)
            .unwrap();
        assert_eq!(spans.iter().map(|s| s.line).collect::<Vec<_>>(), [1]);
        let mut read = reader_over(data, 1);
        let mut reader = NdjsonReader::new(Vec::new(), DEFAULT_MAX_RECORD_BYTES);
        let spans = reader.next_chunk(10, &mut read).unwrap();
        assert_eq!(spans.iter().map(|s| s.line).collect::<Vec<_>>(), [1]);

        let data = b"\xEF\xBB\xBF[1, [2]]";
        let spans = ArrayChunker::new(data).next_chunk(10).unwrap();
        let got: Vec<&[u8]> = spans.iter().map(|s| &data[s.range.clone()]).collect();
        assert_eq!(got, [&b"1"[..], &b"[2]"[..]]);
        // Offsets in errors count the mark.
        let e = ArrayChunker::new(b"\xEF\xBB\xBF[1,,2]")
            .next_chunk(10)
            .unwrap_err();
        assert_eq!(
            e.offset,
            ArrayChunker::new(b"   [1,,2]")
                .next_chunk(10)
                .unwrap_err()
                .offset
        );
        assert!(ArrayChunker::new(b"\xEF\xBB\xBF\xEF\xBB\xBF[1]")
            .next_chunk(10)
            .is_err());
    }

    #[test]
    fn the_limit_counts_neither_the_line_ending_nor_the_mark() {
        // Memory and streams (read any number of bytes at a time) agree at
        // the limit: a `\r\n` ending and a byte order mark are not counted.
        for data in [
            &b"1234\r\n1234\r\n"[..],
            b"1234\n1234",
            b"1234\r\n1234\r",
            b"\xEF\xBB\xBF1234\r\n1234",
            b"12345\r\n",
            b"1234\r\n123\r\r\n",
            b"\xEF\xBB\xBF12345",
        ] {
            let memory = NdjsonChunker::new(data, 4).next_chunk(10).map(|s| s.len());
            for block in [1, 2, 5, 1000] {
                let mut read = reader_over(data, block);
                let mut reader = NdjsonReader::new(Vec::new(), 4);
                let streamed = reader
                    .next_chunk(10, &mut read)
                    .map(|s| s.len())
                    .map_err(|e| e.to_string());
                assert_eq!(
                    streamed,
                    memory.clone().map_err(|e| e.to_string()),
                    "{data:?}, block {block}"
                );
            }
        }
    }

    #[test]
    fn array_chunks() {
        let mut c = ArrayChunker::new(b"[1, 2, 3]");
        assert_eq!(c.next_chunk(2).unwrap().len(), 2);
        assert_eq!(c.next_chunk(2).unwrap().len(), 1);
        assert!(c.next_chunk(2).unwrap().is_empty());
    }
}

//! Detecting the profile of a call's input: a small sample of its records,
//! and its number of records `n`, exact when the sample read them all and
//! otherwise estimated from its size in bytes.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

use crate::check::char_count_pub;
use crate::json::{visit_value, ArrayElements, NdjsonLines, SkipVisitor};
use crate::profile::{SampleStats, SAMPLE_SPANS, WALK_BUDGET, WALK_DEPTH};
use crate::schema::Schema;
use crate::stream::skip_bom;
use crate::value::{Record, MAX_DEPTH};

/// Bytes of a stream read ahead: a file's head read here to detect its profile,
/// and (through the binding, as `_validator.READ_AHEAD_BYTES`) the prefix the
/// Python layer reads from a stream to detect its profile and to tell a JSON
/// array from NDJSON. Defined here only.
pub const READ_AHEAD_BYTES: usize = 64 * 1024;

/// The profile of one call: the schema's features and those of its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub field_count: usize,
    pub avg_string_length: f64,
    pub constraint_complexity: f64,
    /// Mean size of a record in bytes (serialised, or estimated for objects).
    pub object_size: f64,
    /// `"dicts"`, `"json"` or `"ndjson"`.
    pub kind: &'static str,
    /// Records in the call, exact or estimated; `None` when unknown.
    pub n: Option<usize>,
    /// Whether `n` is estimated from the input's size in bytes (unbiased: as
    /// likely short as long); the selector adds its own margin where it clamps.
    pub n_estimated: bool,
}

fn profile(
    schema: &Schema,
    stats: &SampleStats,
    object_size: f64,
    kind: &'static str,
    n: Option<usize>,
) -> Profile {
    Profile {
        field_count: schema.field_count,
        avg_string_length: stats.avg_string_length(),
        constraint_complexity: schema.constraint_complexity,
        object_size,
        kind,
        n,
        n_estimated: false,
    }
}

/// Profile of records given as values (a sample the caller picked, see
/// [`crate::sample_indexes`]); `n` is the caller's count, if it knows one.
pub fn profile_records<R: Record>(
    schema: &Schema,
    sample: impl IntoIterator<Item = R>,
    n: Option<usize>,
) -> Profile {
    let mut stats = SampleStats::default();
    for record in sample {
        stats.add(&record);
    }
    profile(schema, &stats, stats.avg_object_size(), "dicts", n)
}

/// Profile of a JSON array held in memory.
pub fn profile_json(schema: &Schema, data: &[u8]) -> Profile {
    let input = skip_bom(data);
    let spans = ArrayElements::new(input).map_while(Result::ok);
    profile_spans(schema, input, spans, Some(input.len()), "json", true)
}

/// Profile of NDJSON held in memory.
pub fn profile_ndjson(schema: &Schema, data: &[u8]) -> Profile {
    let input = skip_bom(data);
    let spans = NdjsonLines::new(input).map(|(_, r)| r);
    profile_spans(schema, input, spans, Some(input.len()), "ndjson", true)
}

/// Profile of an NDJSON file, from its first [`READ_AHEAD_BYTES`] bytes and its size.
pub fn profile_ndjson_file(schema: &Schema, path: &Path) -> io::Result<Profile> {
    let (head, size) = read_head(path)?;
    let complete = size == head.len() as u64;
    let head = skip_bom(&head);
    let spans = complete_lines(head, complete);
    Ok(profile_spans(
        schema,
        head,
        spans.into_iter(),
        Some(usize::try_from(size).unwrap_or(usize::MAX)),
        "ndjson",
        complete,
    ))
}

/// Profile of an NDJSON stream from its read-ahead: its length is not known (`n` is `None`).
pub fn profile_ndjson_prefix(schema: &Schema, prefix: &[u8]) -> Profile {
    let prefix = skip_bom(prefix);
    let spans = complete_lines(prefix, false);
    let mut p = profile_spans(schema, prefix, spans.into_iter(), None, "ndjson", false);
    p.n = None;
    p.n_estimated = false;
    p
}

/// The first [`READ_AHEAD_BYTES`] bytes of a file and its size.
fn read_head(path: &Path) -> io::Result<(Vec<u8>, u64)> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::with_capacity(READ_AHEAD_BYTES);
    file.take(READ_AHEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok((head, size))
}

/// Profile of byte records given as spans: exact sizes, strings from parsing the sample.
fn profile_spans(
    schema: &Schema,
    input: &[u8],
    spans: impl Iterator<Item = Range<usize>>,
    total_bytes: Option<usize>,
    kind: &'static str,
    exhausted_means_exact: bool,
) -> Profile {
    let mut stats = SampleStats::default();
    let mut span_bytes = 0usize;
    let mut count = 0usize;
    let mut exhausted = true;
    for (i, range) in spans.enumerate() {
        if i == SAMPLE_SPANS {
            exhausted = false;
            break;
        }
        span_bytes += range.len();
        count += 1;
        // The strings of a record that is JSON, as `SampleStats::add` of its parsed
        // tree counts them, read from its text without building the tree.
        let mut strings = StringCount {
            budget: WALK_BUDGET,
            strings: 0,
            chars: 0,
        };
        if visit_value(&input[range], MAX_DEPTH, &mut strings) {
            stats.records += 1;
            stats.strings += strings.strings;
            stats.string_chars += strings.chars;
        }
    }
    let object_size = if count == 0 {
        0.0
    } else {
        span_bytes as f64 / count as f64
    };
    let (n, n_estimated) = if exhausted && exhausted_means_exact {
        (Some(count), false)
    } else if count == 0 {
        // No whole record in the sample (a first line longer than the read-ahead): nothing
        // to estimate from. `n` of 0 clamped the call to batches of one record (30x slower
        // on a million short lines after one of 70 KB).
        (None, false)
    } else {
        (
            total_bytes.map(|t| estimate_n(t, object_size)),
            total_bytes.is_some(),
        )
    };
    let mut p = profile(schema, &stats, object_size, kind, n);
    p.n_estimated = n_estimated;
    p
}

/// Counts string values (not keys) and their characters within the budget
/// and depth of [`SampleStats::add`].
struct StringCount {
    budget: usize,
    strings: usize,
    chars: usize,
}

impl SkipVisitor for StringCount {
    #[inline]
    fn value(&mut self, depth: usize, string: Option<&str>) {
        if self.budget == 0 || depth > WALK_DEPTH {
            return;
        }
        self.budget -= 1;
        if let Some(s) = string {
            self.strings += 1;
            self.chars += char_count_pub(s);
        }
    }
}

/// Records in `total_bytes` of records of `object_size` bytes and a separator
/// each, rounded to the nearest: an unbiased estimate. The selector, which
/// clamps `batch_size` to `n`, adds a margin to an estimated `n` so that an
/// estimate a little short does not split a call into a full chunk and a tiny one.
fn estimate_n(total_bytes: usize, object_size: f64) -> usize {
    if object_size > 0.0 {
        (total_bytes as f64 / (object_size + 1.0)).round() as usize
    } else {
        0
    }
}

/// Line spans of a head of NDJSON, without a last line that may be cut off.
fn complete_lines(head: &[u8], complete: bool) -> Vec<Range<usize>> {
    let end = if complete {
        head.len()
    } else {
        head.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
    };
    NdjsonLines::new(&head[..end])
        .map(|(_, r)| r)
        .take(SAMPLE_SPANS + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;
    use crate::value::Json;

    fn schema() -> Schema {
        Schema::from_json_text(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#).unwrap()
    }

    /// The string statistics read from a record's text are those of its parsed
    /// tree: random documents, escapes and surrogate pairs, containers deeper
    /// than the walk reads, more values than its budget, and broken text (not
    /// counted at all).
    #[test]
    fn string_count_agrees_with_the_parsed_walk() {
        use crate::json::testing::{gen_document, Rng};

        // Whether a key of `v` is not valid Unicode: the tree keeps no value under it
        // (as a dict's conversion keeps none), where the text's walk counts it.
        fn lone_key(v: &Json<'_>) -> bool {
            match v {
                Json::Array(items) => items.iter().any(lone_key),
                Json::Object(entries, _) => entries
                    .iter()
                    .any(|(_, v)| matches!(v, Json::InvalidStringKey) || lone_key(v)),
                _ => false,
            }
        }
        let check = |doc: &[u8]| {
            let mut walked = SampleStats::default();
            let mut counted = true;
            if let Ok(v) = parse_value(doc, MAX_DEPTH) {
                walked.add(&&v);
                counted = !lone_key(&v);
            }
            let mut read = StringCount {
                budget: WALK_BUDGET,
                strings: 0,
                chars: 0,
            };
            let ok = visit_value(doc, MAX_DEPTH, &mut read);
            assert_eq!(
                ok,
                walked.records == 1,
                "{:?}",
                String::from_utf8_lossy(doc)
            );
            if ok && counted {
                assert_eq!(
                    (read.strings, read.chars),
                    (walked.strings, walked.string_chars),
                    "{:?}",
                    String::from_utf8_lossy(doc)
                );
            }
        };
        let mut rng = Rng(5);
        for _ in 0..5_000 {
            let mut doc = gen_document(&mut rng).into_bytes();
            check(&doc);
            if !doc.is_empty() {
                let at = rng.below(doc.len());
                let pool = b"\\\"{}[],:x";
                doc[at] = pool[rng.below(pool.len())];
                check(&doc);
            }
        }
        let deep = |n: usize| format!("{}\"s\"{}", "[".repeat(n), "]".repeat(n));
        for n in [30, 31, 32, 33, 40, 120] {
            check(deep(n).as_bytes());
        }
        let many = format!("[{}]", vec!["\"ab\\u00e9\\ud83d\\ude00\""; 5000].join(","));
        check(many.as_bytes());
        check(br#"{"a":"\u00e9x","b":["\ud83d\ude00",{"c":"\n"}],"d":1} "#);
        check(br#"{"a":"x"} x"#);
    }

    /// A file in the temporary folder, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, data: &[u8]) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("satya-adapt-detect-{}-{name}", std::process::id()));
            std::fs::write(&path, data).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// `{"a":"xy"}` (10 bytes) on each of `lines` lines.
    fn lines(lines: usize) -> Vec<u8> {
        b"{\"a\":\"xy\"}\n".repeat(lines)
    }

    #[test]
    fn estimate_n_is_unbiased() {
        // 100 bytes of 9-byte records and a separator: 10 records.
        assert_eq!(estimate_n(100, 9.0), 10);
        assert_eq!(estimate_n(220, 10.0), 20);
        assert_eq!(estimate_n(226, 10.0), 21);
        assert_eq!(estimate_n(1000, 0.0), 0);
    }

    #[test]
    fn complete_lines_drop_a_cut_off_last_line() {
        let head = b"{\"a\":1}\n{\"a\":2}\n{\"a\"";
        assert_eq!(complete_lines(head, false), [0..7, 8..15]);
        assert_eq!(complete_lines(head, true), [0..7, 8..15, 16..20]);
        assert!(complete_lines(b"{\"a\"", false).is_empty());
        // Never more than one line past the sample.
        assert_eq!(complete_lines(&lines(100), true).len(), SAMPLE_SPANS + 1);
    }

    #[test]
    fn json_array_read_whole_counts_n_exactly() {
        let p = profile_json(&schema(), b"\xEF\xBB\xBF[{\"a\":\"xy\"},{\"a\":\"wxyz\"}]");
        assert_eq!(
            p,
            Profile {
                field_count: 1,
                avg_string_length: 3.0,
                constraint_complexity: schema().constraint_complexity,
                object_size: 11.0,
                kind: "json",
                n: Some(2),
                n_estimated: false,
            }
        );
    }

    #[test]
    fn ndjson_beyond_the_sample_estimates_n_from_bytes() {
        let p = profile_ndjson(&schema(), &lines(20));
        assert_eq!(
            (p.kind, p.object_size, p.n, p.n_estimated),
            ("ndjson", 10.0, Some(20), true)
        );
        assert_eq!(p.avg_string_length, 2.0);
        let p = profile_ndjson(&schema(), &lines(3));
        assert_eq!((p.n, p.n_estimated), (Some(3), false));
    }

    #[test]
    fn ndjson_prefix_has_no_n() {
        let mut prefix = b"\xEF\xBB\xBF".to_vec();
        prefix.extend_from_slice(&lines(2));
        prefix.extend_from_slice(b"{\"a\":\"a very long cut-off");
        let p = profile_ndjson_prefix(&schema(), &prefix);
        assert_eq!((p.kind, p.object_size, p.n), ("ndjson", 10.0, None));
    }

    #[test]
    fn ndjson_file_small_is_read_whole() {
        let mut data = b"\xEF\xBB\xBF".to_vec();
        data.extend_from_slice(&lines(3));
        let file = TempFile::new("small.ndjson", &data);
        let p = profile_ndjson_file(&schema(), &file.0).unwrap();
        assert_eq!((p.kind, p.object_size, p.n), ("ndjson", 10.0, Some(3)));
    }

    #[test]
    fn ndjson_file_large_is_profiled_from_its_head() {
        // 132,000 bytes: twice the head, so `n` is estimated from the file's size.
        let data = lines(12_000);
        assert!(data.len() > 2 * READ_AHEAD_BYTES);
        let file = TempFile::new("large.ndjson", &data);
        let p = profile_ndjson_file(&schema(), &file.0).unwrap();
        assert_eq!(
            (p.object_size, p.n, p.n_estimated),
            (10.0, Some(12_000), true)
        );
        assert_eq!(read_head(&file.0).unwrap().0.len(), READ_AHEAD_BYTES);
    }

    #[test]
    fn ndjson_file_whose_first_line_is_longer_than_the_head_has_no_n() {
        // No whole record to estimate from: `n` is unknown, not 0 (which clamped every
        // batch to one record).
        let mut data = format!("{{\"a\":\"{}\"}}\n", "x".repeat(READ_AHEAD_BYTES)).into_bytes();
        data.extend_from_slice(&lines(1000));
        let file = TempFile::new("long-first.ndjson", &data);
        let p = profile_ndjson_file(&schema(), &file.0).unwrap();
        assert_eq!((p.n, p.n_estimated), (None, false));
    }

    #[test]
    fn ndjson_file_missing_is_an_error() {
        let path = std::env::temp_dir().join("satya-adapt-detect-no-such-file.ndjson");
        let err = profile_ndjson_file(&schema(), &path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn records_sample_keeps_the_callers_n() {
        let docs: Vec<_> = [&b"{\"a\":\"xy\"}"[..], b"{\"a\":\"wxyz\"}"]
            .iter()
            .map(|t| parse_value(t, MAX_DEPTH).unwrap())
            .collect();
        let p = profile_records(&schema(), docs.iter(), Some(7));
        assert_eq!((p.kind, p.avg_string_length, p.n), ("dicts", 3.0, Some(7)));
        // Estimated sizes: 11 bytes for `{"a":"xy"}` (a key counts a separator), 13 for the other.
        assert_eq!(p.object_size, 12.0);
        let p = profile_records(&schema(), docs.iter(), None);
        assert_eq!(p.n, None);
    }
}

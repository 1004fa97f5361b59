//! Record errors and the paths that locate them, built only on failure.

use crate::schema::escape_pointer;

/// One failure of one record: where (`index`, JSON-pointer `path`), which keyword, why.
///
/// The path, the message and the schema path are held in one string (one
/// allocation per error instead of three: allocating measured as a third of a
/// failing record's cost); read them with [`RecordError::path`],
/// [`RecordError::message`] and [`RecordError::schema_path`].
#[derive(Clone, PartialEq, Eq)]
pub struct RecordError {
    pub index: usize,
    pub keyword: &'static str,
    /// `path`, then `message`, then `schema_path`.
    text: String,
    path_end: usize,
    message_end: usize,
}

/// Path, message and schema path in one string, with the ends of the first two
/// (how [`RecordError`] keeps them).
pub fn one_string(path: &str, message: &str, schema_path: &str) -> (String, usize, usize) {
    let mut text = String::with_capacity(path.len() + message.len() + schema_path.len());
    text.push_str(path);
    let path_end = text.len();
    text.push_str(message);
    let message_end = text.len();
    text.push_str(schema_path);
    (text, path_end, message_end)
}

impl RecordError {
    /// An error from its parts. `schema_path` is where the failing keyword is in
    /// the schema, as a JSON pointer (`""` for failures that no keyword reports,
    /// such as text that is not JSON).
    pub fn new(
        index: usize,
        path: &str,
        keyword: &'static str,
        message: &str,
        schema_path: &str,
    ) -> Self {
        let (text, path_end, message_end) = one_string(path, message, schema_path);
        Self::from_parts(index, keyword, text, path_end, message_end)
    }

    /// An error whose parts are already written, in order, into `text`.
    pub(crate) fn from_parts(
        index: usize,
        keyword: &'static str,
        text: String,
        path_end: usize,
        message_end: usize,
    ) -> Self {
        debug_assert!(path_end <= message_end && message_end <= text.len());
        debug_assert!(text.is_char_boundary(path_end) && text.is_char_boundary(message_end));
        RecordError {
            index,
            keyword,
            text,
            path_end,
            message_end,
        }
    }

    /// Whether this error is the one that `keyword` and `text` (cut at `path_end` and
    /// `message_end`, as [`RecordError::from_parts`] takes them) would make, index aside.
    pub(crate) fn is(
        &self,
        keyword: &str,
        text: &str,
        path_end: usize,
        message_end: usize,
    ) -> bool {
        self.path_end == path_end
            && self.message_end == message_end
            && self.keyword == keyword
            && self.text == text
    }

    /// `(index, keyword, text, path_end, message_end)`, borrowed.
    pub(crate) fn parts(&self) -> (usize, &'static str, &str, usize, usize) {
        (
            self.index,
            self.keyword,
            &self.text,
            self.path_end,
            self.message_end,
        )
    }

    /// The JSON pointer to the failing value in its record.
    pub fn path(&self) -> &str {
        self.text.get(..self.path_end).unwrap_or("")
    }

    /// Why it failed.
    pub fn message(&self) -> &str {
        self.text.get(self.path_end..self.message_end).unwrap_or("")
    }

    /// Where the failing keyword is in the schema, as a JSON pointer.
    pub fn schema_path(&self) -> &str {
        self.text.get(self.message_end..).unwrap_or("")
    }

    /// The error taken apart for a binding that keeps the one string:
    /// `(index, keyword, text, path_end, message_end)`, where `text[..path_end]`
    /// is the path, `text[path_end..message_end]` the message and the rest the
    /// schema path.
    pub fn into_parts(self) -> (usize, &'static str, String, usize, usize) {
        (
            self.index,
            self.keyword,
            self.text,
            self.path_end,
            self.message_end,
        )
    }

    /// Heap bytes the error holds.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
    }
}

impl std::fmt::Debug for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordError")
            .field("index", &self.index)
            .field("path", &self.path())
            .field("keyword", &self.keyword)
            .field("message", &self.message())
            .field("schema_path", &self.schema_path())
            .finish()
    }
}

/// The location of a value inside its record, as a linked list on the stack:
/// descending costs nothing, a string is built only for an error.
#[derive(Clone, Copy)]
pub enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// How many segments the path has (0 for the record itself).
    pub fn segments(&self) -> usize {
        let mut n = 0;
        let mut at = self;
        while let Path::Key(parent, _) | Path::Index(parent, _) = at {
            n += 1;
            at = parent;
        }
        n
    }

    /// The RFC 6901 JSON pointer (`""` for the record itself), written in one
    /// string without a string per segment.
    pub fn to_pointer(&self) -> String {
        let mut out = String::with_capacity(32);
        self.write_pointer(&mut out);
        out
    }

    /// Appends the pointer to `out`, outermost segment first (the recursion is
    /// as deep as the path: at most the record's depth).
    pub(crate) fn write_pointer(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.write_pointer(out);
                out.push('/');
                out.push_str(&escape_pointer(key));
            }
            Path::Index(parent, i) => {
                parent.write_pointer(out);
                out.push('/');
                push_index(out, *i);
            }
        }
    }
}

/// Appends the decimal digits of `i` (`write!` costs a formatter per call).
pub(crate) fn push_index(out: &mut String, mut i: usize) {
    if i < 10 {
        // One digit (most branch numbers and counts in messages).
        #[allow(clippy::cast_possible_truncation)]
        return out.push(char::from(b'0' + i as u8));
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `i % 10` is below 10: the cast keeps it.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (i % 10) as u8;
        digits[at] = b'0' + digit;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    // ASCII digits: always UTF-8; pushed as one slice, not a char at a time.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or("?"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers() {
        let root = Path::Root;
        assert_eq!(root.to_pointer(), "");
        assert_eq!(root.segments(), 0);
        let a = Path::Key(&root, "a/b");
        let i = Path::Index(&a, 3);
        let t = Path::Key(&i, "~x");
        assert_eq!(t.to_pointer(), "/a~1b/3/~0x");
        assert_eq!((a.segments(), i.segments(), t.segments()), (1, 2, 3));
        let big = Path::Index(&root, usize::MAX);
        let zero = Path::Index(&big, 0);
        let ten = Path::Index(&zero, 10);
        assert_eq!(ten.to_pointer(), format!("/{}/0/10", usize::MAX));
    }

    /// Path, message and schema path share one string: each reads back exactly,
    /// empty parts included, and errors compare by all of them.
    #[test]
    fn errors_keep_their_parts_in_one_string() {
        let e = RecordError::new(
            3,
            "/a~1b/0",
            "type",
            "Expected `string`, got `null`",
            "/properties/a~1b/items/type",
        );
        assert_eq!(
            (e.index, e.path(), e.keyword, e.message(), e.schema_path()),
            (
                3,
                "/a~1b/0",
                "type",
                "Expected `string`, got `null`",
                "/properties/a~1b/items/type"
            )
        );
        assert_eq!(e.heap_bytes(), 7 + 29 + 27);
        let empty = RecordError::new(0, "", "json", "Invalid JSON on line 1: é", "");
        assert_eq!(
            (empty.path(), empty.message(), empty.schema_path()),
            ("", "Invalid JSON on line 1: é", "")
        );
        let built = RecordError::from_parts(3, "type", "/xmy".to_string(), 2, 3);
        assert_eq!(
            (built.path(), built.message(), built.schema_path()),
            ("/x", "m", "y")
        );
        assert_ne!(
            built,
            RecordError::from_parts(3, "type", "/xmy".to_string(), 2, 2)
        );
        let (index, keyword, text, path_end, message_end) = built.into_parts();
        assert_eq!(
            (index, keyword, text.as_str(), path_end, message_end),
            (3, "type", "/xmy", 2, 3)
        );
        assert_eq!(
            format!("{e:?}"),
            "RecordError { index: 3, path: \"/a~1b/0\", keyword: \"type\", message: \"Expected `string`, got `null`\", schema_path: \"/properties/a~1b/items/type\" }"
        );
    }
}

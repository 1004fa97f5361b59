//! Record errors and the paths that locate them, built only on failure.

use std::fmt::Write;

use crate::schema::escape_pointer;

/// One failure of one record: where (`index`, JSON-pointer `path`), which keyword, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    pub index: usize,
    pub path: String,
    pub keyword: &'static str,
    pub message: String,
    /// Where the failing keyword is in the schema, as a JSON pointer (`""` for
    /// failures that no keyword reports, such as text that is not JSON).
    pub schema_path: String,
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
    /// The RFC 6901 JSON pointer (`""` for the record itself).
    pub fn to_pointer(&self) -> String {
        let mut tokens: Vec<String> = Vec::new();
        let mut at = self;
        loop {
            match at {
                Path::Root => break,
                Path::Key(parent, key) => {
                    tokens.push(escape_pointer(key).into_owned());
                    at = parent;
                }
                Path::Index(parent, i) => {
                    tokens.push(i.to_string());
                    at = parent;
                }
            }
        }
        let mut out = String::new();
        for token in tokens.iter().rev() {
            let _ = write!(out, "/{token}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers() {
        let root = Path::Root;
        assert_eq!(root.to_pointer(), "");
        let a = Path::Key(&root, "a/b");
        let i = Path::Index(&a, 3);
        let t = Path::Key(&i, "~x");
        assert_eq!(t.to_pointer(), "/a~1b/3/~0x");
    }
}

//! Record errors and the paths that locate them, built only on failure.

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
    fn write_pointer(&self, out: &mut String) {
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
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
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
}

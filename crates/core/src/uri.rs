//! URI references as JSON Schema uses them (`$id`, `$ref`): resolution of a
//! reference against a base URI (RFC 3986 section 5.2), fragments split off,
//! JSON-pointer fragments percent-decoded. No network, no normalisation beyond
//! what RFC 3986 asks (dot segments removed, scheme and host lower-cased).

/// The base URI of a document that declares none.
pub const DEFAULT_BASE: &str = "json-schema:///";

struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// RFC 3986 appendix B: `^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?`.
fn parse(s: &str) -> Parts<'_> {
    let (rest, fragment) = match s.find('#') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (rest, query) = match rest.find('?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find([':', '/']) {
        Some(i)
            if rest.as_bytes()[i] == b':' && i > 0 && rest.as_bytes()[0].is_ascii_alphabetic() =>
        {
            (Some(&rest[..i]), &rest[i + 1..])
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(i) => (Some(&after[..i]), &after[i..]),
            None => (Some(after), ""),
        },
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// RFC 3986 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let n = segments.len();
    for (i, seg) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue;
        }
        match *seg {
            "." => {
                if i == n - 1 {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == n - 1 {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn compose(p: &Parts<'_>, path: &str) -> String {
    let mut out = String::new();
    if let Some(s) = p.scheme {
        out.push_str(&s.to_ascii_lowercase());
        out.push(':');
    }
    if let Some(a) = p.authority {
        out.push_str("//");
        out.push_str(&a.to_ascii_lowercase());
    }
    out.push_str(path);
    if let Some(q) = p.query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = p.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Resolves `reference` against the absolute URI `base` (RFC 3986 5.2.2).
pub fn resolve(base: &str, reference: &str) -> String {
    let r = parse(reference);
    if r.scheme.is_some() {
        let path = remove_dot_segments(r.path);
        return compose(&r, &path);
    }
    let b = parse(base);
    let mut t = Parts {
        scheme: b.scheme,
        authority: b.authority,
        path: "",
        query: r.query,
        fragment: r.fragment,
    };
    let path;
    if r.authority.is_some() {
        t.authority = r.authority;
        path = remove_dot_segments(r.path);
    } else if r.path.is_empty() {
        path = b.path.to_string();
        if r.query.is_none() {
            t.query = b.query;
        }
    } else if r.path.starts_with('/') {
        path = remove_dot_segments(r.path);
    } else {
        let merged = if b.authority.is_some() && b.path.is_empty() {
            format!("/{}", r.path)
        } else {
            match b.path.rfind('/') {
                Some(i) => format!("{}{}", &b.path[..=i], r.path),
                None => r.path.to_string(),
            }
        };
        path = remove_dot_segments(&merged);
    }
    compose(&t, &path)
}

/// Splits `uri` into the part before `#` and the fragment (empty when there is none).
pub fn split_fragment(uri: &str) -> (&str, &str) {
    match uri.find('#') {
        Some(i) => (&uri[..i], &uri[i + 1..]),
        None => (uri, ""),
    }
}

/// Percent-decodes a fragment; `None` when the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            match u8::from_str_radix(hex, 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The tokens of an RFC 6901 JSON pointer (`""` has none); `None` when malformed.
pub fn pointer_tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_examples() {
        let base = "http://a/b/c/d;p?q";
        for (r, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../../g", "http://a/g"),
            ("", "http://a/b/c/d;p?q"),
            ("urn:x:y", "urn:x:y"),
        ] {
            assert_eq!(resolve(base, r), want, "{r}");
        }
        assert_eq!(
            resolve(DEFAULT_BASE, "a.json#/x"),
            "json-schema:///a.json#/x"
        );
        assert_eq!(resolve("urn:uuid:1234", "#foo"), "urn:uuid:1234#foo");
    }

    #[test]
    fn fragments() {
        assert_eq!(split_fragment("a#/b"), ("a", "/b"));
        assert_eq!(percent_decode("/a%25b%22").unwrap(), "/a%b\"");
        assert_eq!(
            pointer_tokens("/a~1b/~0c").unwrap(),
            vec!["a/b".to_string(), "~c".to_string()]
        );
        assert_eq!(pointer_tokens("x"), None);
    }
}

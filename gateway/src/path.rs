//! The request path as the gateway routes it.
//!
//! A proxy that routes on one reading of a path and forwards another is walked past:
//! `/v1/products/%2e%2e/%2e%2e/metrics` routes as a catalog path, and an HTTP client
//! that decodes `%2e` before sending turns it into `/metrics`. So the gateway accepts
//! only paths with exactly one reading: no dot segments (plain or encoded), no
//! encoded `/`, `\` or `%` (double encoding), no `;` parameters, no empty segments, no
//! control characters, and percent-encoded bytes only where they form valid UTF-8.
//! What passes is routed on its decoded form and forwarded byte for byte as it came.

use std::fmt;

/// Longest path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 2048;

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too long.
    TooLong,
    /// Does not start with `/`.
    NotAbsolute,
    /// A byte that has no place in a path (a literal `\`, `;`, a control character,
    /// raw non-ASCII, …).
    Character,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// An escape of a character that must not be escaped: `/`, `\`, `.`, `%`, `;`,
    /// a control character, or a character that needs no escaping.
    Escaped,
    /// Escaped bytes that are not valid UTF-8 (overlong forms included).
    Utf8,
    /// A `.` or `..` segment, or an empty one (`//`).
    Segment,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLong => "the path is too long",
            Self::NotAbsolute => "the path must start with /",
            Self::Character => {
                "the path holds a character that must be percent-encoded or is not allowed"
            }
            Self::BadEscape => "the path holds a malformed percent escape",
            Self::Escaped => {
                "the path escapes a character that must appear as itself or not at all"
            }
            Self::Utf8 => "the path's escapes are not valid UTF-8",
            Self::Segment => "the path holds an empty, `.` or `..` segment",
        })
    }
}

impl Refusal {
    /// Whether the path is malformed (400) rather than merely unroutable (404).
    pub fn is_malformed(self) -> bool {
        matches!(self, Self::BadEscape | Self::Utf8 | Self::Character)
    }
}

/// A path with one reading: `raw` as received, `decoded` as routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    raw: String,
    decoded: String,
}

impl CanonicalPath {
    /// Checks a raw (still percent-encoded) request path.
    pub fn parse(raw: &str) -> Result<Self, Refusal> {
        if raw.len() > MAX_PATH_LEN {
            return Err(Refusal::TooLong);
        }
        if !raw.starts_with('/') {
            return Err(Refusal::NotAbsolute);
        }
        let bytes = raw.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if byte == b'%' {
                let escaped = bytes
                    .get(index + 1..index + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .ok_or(Refusal::BadEscape)?;
                if !may_be_escaped(escaped) {
                    return Err(Refusal::Escaped);
                }
                decoded.push(escaped);
                index += 3;
            } else if may_appear(byte) {
                decoded.push(byte);
                index += 1;
            } else {
                return Err(Refusal::Character);
            }
        }
        let decoded = String::from_utf8(decoded).map_err(|_| Refusal::Utf8)?;
        let mut segments = decoded[1..].split('/').peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            // A trailing slash leaves one empty last segment; that is the only empty
            // one allowed (and `/` itself).
            if matches!(segment, "." | "..") || (segment.is_empty() && !last) {
                return Err(Refusal::Segment);
            }
        }
        Ok(Self {
            raw: raw.to_owned(),
            decoded,
        })
    }

    /// The path as received, to forward.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The decoded path, to route on.
    pub fn decoded(&self) -> &str {
        &self.decoded
    }
}

/// Characters that may appear as themselves: RFC 3986 `pchar` and `/`, without `;`
/// (path parameters, which some servers strip before routing).
fn may_appear(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// Bytes that may arrive percent-encoded: non-ASCII (UTF-8 text) and printable ASCII
/// other than the characters that change a path's shape (`/`, `\\`, `.`, `%`, `;`).
/// Escaping an unreserved character (`%41` for `A`) has no honest use either.
fn may_be_escaped(byte: u8) -> bool {
    match byte {
        0x80..=0xff => true,
        0x00..=0x1f | 0x7f => false,
        b'/' | b'\\' | b'.' | b'%' | b';' => false,
        byte if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::{CanonicalPath, Refusal};

    /// Spellings of a walk out of a public prefix (or a smuggled separator) that
    /// proxies and servers have been caught reading two ways; one per line. The
    /// gateway's end-to-end test and the security suite send the same corpus.
    const TRAVERSALS: &str = include_str!("../tests/traversals.txt");

    #[test]
    fn every_traversal_spelling_is_refused() {
        let paths: Vec<&str> = TRAVERSALS.lines().filter(|line| !line.is_empty()).collect();
        assert!(paths.len() > 30);
        for path in paths {
            let parsed = CanonicalPath::parse(path);
            assert!(parsed.is_err(), "{path} was accepted as {parsed:?}");
        }
    }

    #[test]
    fn ordinary_paths_have_one_reading() {
        for (raw, decoded) in [
            ("/v1/plans", "/v1/plans"),
            (
                "/v1/shops/zhongning-goji/products/goji-500g",
                "/v1/shops/zhongning-goji/products/goji-500g",
            ),
            (
                "/v1/shops/goji/products/%E6%9E%B8%E6%9D%9E",
                "/v1/shops/goji/products/枸杞",
            ),
            (
                "/v1/products/0193a1b2-c3d4/variants/x",
                "/v1/products/0193a1b2-c3d4/variants/x",
            ),
            (
                "/v1/operations/order/parked-events/catalog/7/retry",
                "/v1/operations/order/parked-events/catalog/7/retry",
            ),
            ("/v1/shops/a%20b", "/v1/shops/a b"),
            ("/v1/plans/", "/v1/plans/"),
            ("/", "/"),
        ] {
            let path = CanonicalPath::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(path.decoded(), decoded);
            assert_eq!(path.raw(), raw);
        }
    }

    #[test]
    fn malformed_and_unroutable_are_told_apart() {
        assert_eq!(CanonicalPath::parse("/a/%zz"), Err(Refusal::BadEscape));
        assert_eq!(CanonicalPath::parse("/a/%c0%ae"), Err(Refusal::Utf8));
        assert_eq!(CanonicalPath::parse("/a/%2e"), Err(Refusal::Escaped));
        assert_eq!(CanonicalPath::parse("/a/%252e"), Err(Refusal::Escaped));
        assert_eq!(CanonicalPath::parse("/a/../b"), Err(Refusal::Segment));
        assert_eq!(CanonicalPath::parse("/a;b"), Err(Refusal::Character));
        assert_eq!(CanonicalPath::parse("/a\\b"), Err(Refusal::Character));
        assert_eq!(
            CanonicalPath::parse(&format!("/{}", "a".repeat(3000))),
            Err(Refusal::TooLong)
        );
    }
}

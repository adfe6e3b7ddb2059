//! Compression of what the web tier sends: gzip, done in place. A page of a few
//! kilobytes compresses in tens of microseconds; handing it to a blocking thread
//! (as a generic compression middleware does for bodies over a kilobyte) costs more
//! than the work, and a page then costs several times its API call.

use actix_web::HttpRequest;
use actix_web::http::header;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

/// Bodies smaller than this go as they are: compressing them saves nothing.
const WORTH_IT: usize = 512;

/// Whether the request accepts gzip (`Accept-Encoding`, without `q=0`).
pub fn accepts_gzip(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.trim().split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// `body` gzip-compressed, when it is worth it.
pub fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    if body.len() < WORTH_IT {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 3), Compression::new(6));
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use std::io::Read;

    #[test]
    fn gzip_when_asked_and_worth_it() {
        let asks = |value: &str| {
            accepts_gzip(
                &TestRequest::default()
                    .insert_header(("accept-encoding", value))
                    .to_http_request(),
            )
        };
        assert!(asks("gzip, deflate, br"));
        assert!(asks("br;q=1.0, gzip;q=0.8"));
        assert!(!asks("gzip;q=0, br"));
        assert!(!asks("identity"));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
        let page = "<p>宁夏中宁枸杞</p>".repeat(200);
        let packed = gzip(page.as_bytes()).unwrap();
        assert!(packed.len() < page.len() / 5);
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_string(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, page);
        assert!(gzip(b"short").is_none());
    }
}

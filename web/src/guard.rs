//! What every answer of the web faces carries, and what every unsafe request must
//! show: the security headers of WEB.md, and that a POST comes from a page of this
//! origin (`Sec-Fetch-Site`, else `Origin`) — anything else is refused with 403
//! before a handler runs. Each form also carries the session's CSRF secret, checked
//! by the handler that reads the form ([`crate::page::Visit::check_csrf`]).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};

/// The pages' Content-Security-Policy: scripts, styles and fonts from this origin
/// only, no inline script or handler, images also from shops' own HTTPS hosts,
/// forms only to this origin, and no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' https: data:; font-src 'self'; connect-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The origin the browser used (`http://localhost:8080`), as the gateway reports
/// it (`X-Forwarded-Proto`, `X-Forwarded-Host`) or the request shows it.
pub fn own_origin(request: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let host = header("x-forwarded-host").or_else(|| header("host"))?;
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// Whether an unsafe request comes from a page of this origin: `Sec-Fetch-Site:
/// same-origin` when the browser sends it, else an `Origin` equal to this one.
pub fn same_origin(request: &HttpRequest) -> bool {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    match header("sec-fetch-site") {
        Some(site) => site == "same-origin",
        None => match (header("origin"), own_origin(request)) {
            (Some(origin), Some(own)) => origin.eq_ignore_ascii_case(&own),
            _ => false,
        },
    }
}

/// Middleware: refuses a cross-origin unsafe request with 403, and sets the
/// security headers on every answer.
pub async fn protect(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !same_origin(request.request()) {
        let response = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("403 Forbidden: this form was not sent from this site.");
        let mut response = request.into_response(response).map_into_right_body();
        set_headers(response.headers_mut());
        return Ok(response);
    }
    let mut response = next.call(request).await?.map_into_left_body();
    set_headers(response.headers_mut());
    Ok(response)
}

fn set_headers(headers: &mut header::HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "geolocation=(), microphone=(), payment=()",
        ),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn fetch_metadata_decides_when_present() {
        let request = TestRequest::post()
            .insert_header(("sec-fetch-site", "cross-site"))
            .insert_header(("origin", "http://localhost:8080"))
            .insert_header(("host", "localhost:8080"))
            .to_http_request();
        assert!(!same_origin(&request));
        let request = TestRequest::post()
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert!(same_origin(&request));
    }

    #[test]
    fn otherwise_the_origin_must_be_ours() {
        let ours = TestRequest::post()
            .insert_header(("origin", "http://localhost:8080"))
            .insert_header(("x-forwarded-host", "localhost:8080"))
            .insert_header(("host", "127.0.0.1:8085"))
            .to_http_request();
        assert!(same_origin(&ours));
        let theirs = TestRequest::post()
            .insert_header(("origin", "https://evil.example"))
            .insert_header(("host", "localhost:8080"))
            .to_http_request();
        assert!(!same_origin(&theirs));
        let silent = TestRequest::post()
            .insert_header(("host", "localhost:8080"))
            .to_http_request();
        assert!(!same_origin(&silent));
    }
}

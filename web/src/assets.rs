//! Static assets, compiled into the binary and served under a name that carries a
//! digest of their content (`app.3f9c1a2b.css`), so they can be cached for a year
//! and a new build is fetched at once.

use crate::page::ASSETS;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const SOURCES: [Asset; 4] = [
    Asset {
        stem: "app",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        // The admin's own sheet: buyers' pages do not carry it.
        stem: "admin",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/admin.css"),
    },
    Asset {
        // htmx 2.0.11 from npm (htmx.org), vendored: pages load nothing from elsewhere.
        stem: "htmx",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/htmx-2.0.11.min.js"),
    },
    Asset {
        stem: "icon",
        extension: "svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/icon.svg"),
    },
];

/// The fingerprinted assets, each also gzip-compressed once, at start.
pub struct Assets {
    served: Vec<(String, &'static Asset, Option<Vec<u8>>)>,
}

impl Assets {
    /// Names every asset by its digest.
    pub fn new() -> Self {
        let served = SOURCES
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.body);
                let short: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
                (
                    format!("{}.{short}.{}", asset.stem, asset.extension),
                    asset,
                    crate::compress::gzip(asset.body),
                )
            })
            .collect();
        Self { served }
    }

    /// The URL of the asset `stem` (`app`, `htmx`, `icon`).
    pub fn url(&self, stem: &str) -> String {
        self.served
            .iter()
            .find(|(_, asset, _)| asset.stem == stem)
            .map_or_else(String::new, |(name, _, _)| format!("/assets/{name}"))
    }

    fn find(&self, name: &str) -> Option<(&'static Asset, Option<&[u8]>)> {
        self.served
            .iter()
            .find(|(served, _, _)| served == name)
            .map(|(_, asset, packed)| (*asset, packed.as_deref()))
    }
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

/// `GET /assets/{name}`: an asset by its fingerprinted name, cached for a year,
/// compressed when the browser takes gzip.
pub async fn serve(request: HttpRequest, name: web::Path<String>) -> HttpResponse {
    match ASSETS.find(&name) {
        Some((asset, packed)) => {
            let mut response = HttpResponse::Ok();
            response
                .content_type(asset.content_type)
                .insert_header((header::VARY, "Accept-Encoding"))
                .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"));
            match packed.filter(|_| crate::compress::accepts_gzip(&request)) {
                Some(packed) => response
                    .insert_header((header::CONTENT_ENCODING, "gzip"))
                    .body(packed.to_vec()),
                None => response.body(asset.body),
            }
        }
        None => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_digest() {
        let assets = Assets::new();
        let css = assets.url("app");
        assert!(
            css.starts_with("/assets/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/assets/app.".len() + 10 + ".css".len());
        assert!(assets.find(css.trim_start_matches("/assets/")).is_some());
        assert!(assets.find("app.css").is_none());
    }

    #[test]
    fn the_stylesheet_uses_logical_directions_only() {
        let css = std::str::from_utf8(SOURCES[0].body).unwrap();
        for (number, line) in css.lines().enumerate() {
            let line = line.split("/*").next().unwrap_or_default();
            for word in ["left", "right"] {
                assert!(
                    !line.contains(word),
                    "app.css line {}: `{word}` (use inline-start/inline-end): {line}",
                    number + 1
                );
            }
        }
    }
}

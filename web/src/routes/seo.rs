//! For search engines: `robots.txt` for the platform and each shop, and each shop's
//! `sitemap.xml` with every product in every language (with `hreflang` links).

use crate::i18n::Lang;
use crate::page::{PageError, Visit};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use caravan_client::ProductQuery;
use std::fmt::Write;

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

const PRIVATE: &str = "Disallow: /s/*/cart\nDisallow: /s/*/checkout\nDisallow: /s/*/orders/\nDisallow: /s/*/account\nDisallow: /v1/\n";

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// `GET /robots.txt`: every shop's sitemap; carts, checkouts, orders and accounts
/// are not for indexing.
pub async fn platform_robots(visit: Visit) -> Result<HttpResponse, PageError> {
    let shops = visit
        .api()
        .shops(visit.caller())
        .await
        .map_err(|f| PageError::from_failure(Lang::En, &f))?;
    let mut body = format!("User-agent: *\n{PRIVATE}\n");
    for shop in shops {
        let _ = writeln!(
            body,
            "Sitemap: {}",
            visit.absolute(&format!("/s/{}/sitemap.xml", shop.slug))
        );
    }
    Ok(text(body))
}

/// `GET /s/{shop}/robots.txt`: the shop's own, for a shop served on its own domain.
pub async fn shop_robots(visit: Visit, slug: web::Path<String>) -> Result<HttpResponse, PageError> {
    let shop = visit.api().shop(visit.caller(), &slug).await.map_err(|f| {
        if f.is_not_found() {
            PageError::shop_closed(Lang::En)
        } else {
            PageError::from_failure(Lang::En, &f)
        }
    })?;
    Ok(text(format!(
        "User-agent: *\n{PRIVATE}\nSitemap: {}\n",
        visit.absolute(&format!("/s/{}/sitemap.xml", shop.slug))
    )))
}

/// `GET /s/{shop}/sitemap.xml`.
pub async fn sitemap(visit: Visit, slug: web::Path<String>) -> Result<HttpResponse, PageError> {
    let shop = visit.api().shop(visit.caller(), &slug).await.map_err(|f| {
        if f.is_not_found() {
            PageError::shop_closed(Lang::En)
        } else {
            PageError::from_failure(Lang::En, &f)
        }
    })?;
    let mut paths = vec!["/".to_owned(), "/products".to_owned()];
    let mut cursor = None;
    // Up to 50 pages of 100: a sitemap holds at most 50,000 URLs.
    for _ in 0..50 {
        let page = visit
            .api()
            .products(
                visit.caller(),
                &shop.slug,
                &ProductQuery {
                    limit: Some(100),
                    cursor: cursor.clone(),
                    ..ProductQuery::default()
                },
            )
            .await
            .map_err(|f| PageError::from_failure(Lang::En, &f))?;
        paths.extend(page.items.iter().map(|p| format!("/p/{}", p.handle)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for path in &paths {
        for lang in Lang::ALL {
            let url = |l: Lang| {
                xml_escape(&visit.absolute(&format!("/s/{}/{}{path}", shop.slug, l.tag())))
            };
            let _ = writeln!(body, "  <url><loc>{}</loc>", url(lang));
            for alternate in Lang::ALL {
                let _ = writeln!(
                    body,
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    alternate.tag(),
                    url(alternate)
                );
            }
            body.push_str("  </url>\n");
        }
    }
    body.push_str("</urlset>\n");
    let mut response = HttpResponse::Ok();
    response
        .content_type("application/xml; charset=utf-8")
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    Ok(visit.body(response, body.into_bytes()))
}

//! The platform's own front page: what Caravan is, the shops open on it, and how a
//! cooperative opens its own.

use crate::i18n::Lang;
use crate::page::{Frame, PageError, Visit, render};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub struct ShopCard {
    pub href: String,
    pub name: String,
    pub description: String,
    pub region: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Frame,
    shops: Vec<ShopCard>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /`.
pub async fn home(visit: Visit, query: web::Query<HomeQuery>) -> Result<HttpResponse, PageError> {
    let lang = query
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| visit.language_or(Lang::ZhCn));
    let shops = visit
        .api()
        .shops(visit.caller())
        .await
        .map_err(|f| PageError::from_failure(lang, &f))?;
    let mut page = Frame::new(lang, lang.t("home-title"))
        .with_languages(&visit.web.public_url, |l| format!("/?lang={}", l.tag()));
    page.description = lang.t("home-lead");
    page.signed_in = visit.signed_in();
    let cards = shops
        .into_iter()
        .map(|shop| {
            let shop_lang = if shop.locales.iter().any(|l| l == lang.tag()) {
                lang
            } else {
                Lang::closest(&shop.default_locale).unwrap_or(lang)
            };
            ShopCard {
                href: format!("/s/{}/{}/", shop.slug, lang.tag()),
                description: shop
                    .description
                    .get(lang.tag())
                    .or_else(|| shop.description.get(shop_lang.tag()))
                    .or_else(|| shop.description.values().next())
                    .cloned()
                    .unwrap_or_default(),
                name: shop.names.get(lang.tag()).cloned().unwrap_or(shop.name),
                region: shop.region.unwrap_or_default(),
            }
        })
        .collect();
    let body = render(lang, &HomePage { page, shops: cards })?;
    Ok(visit.html(StatusCode::OK, body, true))
}

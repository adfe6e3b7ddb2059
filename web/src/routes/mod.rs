//! The pages. Storefront URLs carry the shop and the language:
//! `/s/{shop}/{lang}/…`. The email links of the auth service (`/verify-email`,
//! `/reset-password`, `/invitations/accept`) land at the top level, as do the
//! application for a shop (`/apply`) and the operator console (`/ops`).

pub mod account;
pub mod apply;
pub mod cart;
pub mod checkout;
pub mod groups;
pub mod links;
pub mod orders;
pub mod platform;
pub mod preorders;
pub mod seo;
pub mod shop;

use crate::i18n::Lang;
use crate::page::{Frame, PageError, ShopBar, Visit};
use actix_web::{HttpRequest, web};
use caravan_client::ShopProfile;

/// Registers every page.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(platform::home))
        .route("/robots.txt", web::get().to(seo::platform_robots))
        .route("/apply", web::get().to(apply::form))
        .route("/apply", web::post().to(apply::submit))
        .route("/apply/slug", web::get().to(apply::check_slug))
        .route("/apply/received", web::get().to(apply::received))
        .route("/verify-email", web::get().to(links::verify_form))
        .route("/verify-email", web::post().to(links::verify))
        .route("/reset-password", web::get().to(links::reset_form))
        .route("/reset-password", web::post().to(links::reset))
        .route("/invitations/accept", web::get().to(links::invitation_form))
        .route(
            "/invitations/accept",
            web::post().to(links::accept_invitation),
        )
        .route("/s/{shop}", web::get().to(shop::enter))
        .route("/s/{shop}/", web::get().to(shop::enter))
        .route("/s/{shop}/sitemap.xml", web::get().to(seo::sitemap))
        .route("/s/{shop}/robots.txt", web::get().to(seo::shop_robots))
        .route("/s/{shop}/theme.css", web::get().to(shop::theme))
        .route("/s/{shop}/{lang}", web::get().to(shop::home_without_slash))
        .route("/s/{shop}/{lang}/", web::get().to(shop::home))
        .route("/s/{shop}/{lang}/products", web::get().to(shop::products))
        .route("/s/{shop}/{lang}/p/{handle}", web::get().to(shop::product))
        .route("/s/{shop}/{lang}/cart", web::get().to(cart::show))
        .route("/s/{shop}/{lang}/cart/add", web::post().to(cart::add))
        .route(
            "/s/{shop}/{lang}/cart/lines/{variant}",
            web::post().to(cart::update),
        )
        .route("/s/{shop}/{lang}/checkout", web::get().to(checkout::form))
        .route("/s/{shop}/{lang}/checkout", web::post().to(checkout::place))
        .route(
            "/s/{shop}/{lang}/group-checkout",
            web::get().to(checkout::group_form),
        )
        .route(
            "/s/{shop}/{lang}/group-checkout",
            web::post().to(checkout::group_place),
        )
        .route(
            "/s/{shop}/{lang}/preorder-checkout",
            web::get().to(checkout::preorder_form),
        )
        .route(
            "/s/{shop}/{lang}/preorder-checkout",
            web::post().to(checkout::preorder_place),
        )
        .route(
            "/s/{shop}/{lang}/preorder",
            web::post().to(preorders::start),
        )
        .route("/s/{shop}/{lang}/g/open", web::post().to(groups::open))
        .route("/s/{shop}/{lang}/g/{group}", web::get().to(groups::share))
        .route(
            "/s/{shop}/{lang}/g/{group}/join",
            web::post().to(groups::join),
        )
        .route(
            "/s/{shop}/{lang}/orders/{id}",
            web::get().to(orders::status),
        )
        .route(
            "/s/{shop}/{lang}/orders/{id}/pay",
            web::post().to(orders::pay),
        )
        .route("/s/{shop}/{lang}/account", web::get().to(account::orders))
        .route(
            "/s/{shop}/{lang}/account/sign-in",
            web::get().to(account::sign_in_form),
        )
        .route(
            "/s/{shop}/{lang}/account/sign-in",
            web::post().to(account::sign_in),
        )
        .route(
            "/s/{shop}/{lang}/account/register",
            web::get().to(account::register_form),
        )
        .route(
            "/s/{shop}/{lang}/account/register",
            web::post().to(account::register),
        )
        .route(
            "/s/{shop}/{lang}/account/forgot",
            web::get().to(account::forgot_form),
        )
        .route(
            "/s/{shop}/{lang}/account/forgot",
            web::post().to(account::forgot),
        )
        .route(
            "/s/{shop}/{lang}/account/sign-out",
            web::post().to(account::sign_out),
        );
}

/// Any other path: a 404 page in the visitor's language.
pub async fn not_found(request: HttpRequest) -> actix_web::HttpResponse {
    let lang = request
        .headers()
        .get("accept-language")
        .and_then(|value| value.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::ZhCn);
    actix_web::ResponseError::error_response(&PageError::not_found(lang))
}

/// A shop as its pages see it: the profile, the page's language and its URL root.
pub struct Shop {
    pub profile: ShopProfile,
    pub lang: Lang,
}

impl Shop {
    /// Opens the shop `slug` in the language `lang` of the URL: an unknown
    /// language is a 404 page, a shop that is unknown, suspended or closed the
    /// "this shop is not open" page.
    pub async fn open(visit: &Visit, slug: &str, lang: &str) -> Result<Self, PageError> {
        let lang = Lang::from_tag(lang)
            .ok_or_else(|| PageError::not_found(visit.language_or(Lang::ZhCn)))?;
        let mut profile = visit.shop_profile(slug).await.map_err(|failure| {
            if failure.is_not_found() {
                PageError::shop_closed(lang)
            } else {
                PageError::from_failure(lang, &failure)
            }
        })?;
        // The shop's name in the page's language, when it gave one.
        if let Some(name) = profile.names.get(lang.tag()) {
            profile.name = name.clone();
        }
        Ok(Self { profile, lang })
    }

    pub fn slug(&self) -> &str {
        &self.profile.slug
    }

    /// `/s/{shop}/{lang}` in this page's language.
    pub fn root(&self) -> String {
        self.root_in(self.lang)
    }

    /// `/s/{shop}/{lang}` in `lang`.
    pub fn root_in(&self, lang: Lang) -> String {
        format!("/s/{}/{}", self.profile.slug, lang.tag())
    }

    /// The content language asked of the API: the page's when the shop offers it,
    /// else the shop's default (the text then carries its own `lang`).
    pub fn content_locale(&self) -> String {
        if self.profile.locales.iter().any(|l| l == self.lang.tag()) {
            self.lang.tag().to_owned()
        } else {
            self.profile.default_locale.clone()
        }
    }

    /// The shop's description in the page's language, else its default's.
    pub fn description(&self) -> String {
        self.profile
            .description
            .get(self.lang.tag())
            .or_else(|| self.profile.description.get(&self.profile.default_locale))
            .or_else(|| self.profile.description.values().next())
            .cloned()
            .unwrap_or_default()
    }

    /// The currency prices are shown in: `wanted` when the shop sells in it, else
    /// the visitor's cart's, else the shop's base currency.
    pub fn currency(&self, visit: &Visit, wanted: Option<&str>) -> String {
        let offered = |code: &str| self.profile.currencies.iter().any(|c| c.as_str() == code);
        if let Some(code) = wanted.filter(|code| offered(code)) {
            return code.to_owned();
        }
        visit
            .held_cart(self.slug())
            .map(|cart| cart.currency)
            .filter(|code| offered(code))
            .unwrap_or_else(|| self.profile.base_currency.as_str().to_owned())
    }

    /// A frame for one of the shop's pages: `path` is the page's path under the
    /// shop's root (`/products`), the same in every language.
    pub fn frame(&self, visit: &Visit, title: impl Into<String>, path: &str) -> Frame {
        let slug = self.profile.slug.clone();
        let mut frame = Frame::new(self.lang, title)
            .with_languages(&visit.web.public_url, |lang| {
                format!("/s/{slug}/{}{path}", lang.tag())
            });
        let root = self.root();
        frame.description = self.description();
        frame.theme_css = Some(theme_url(&self.profile));
        frame.signed_in = visit.signed_in();
        frame.shop = Some(ShopBar {
            name: self.profile.name.clone(),
            home: format!("{root}/"),
            products: format!("{root}/products"),
            cart: format!("{root}/cart"),
            account: format!("{root}/account"),
            cart_count: visit.held_cart(self.slug()).map_or(0, |cart| cart.count),
        });
        frame
    }
}

/// A colour as the theme stores it (`#0F6E56`), else `None`.
pub fn colour(value: Option<&str>) -> Option<&str> {
    value.filter(|c| {
        c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The address of the shop's stylesheet, named by its colours so that a change is
/// fetched at once while an unchanged one stays cached.
fn theme_url(profile: &ShopProfile) -> String {
    let brand = colour(profile.theme.brand_color.as_deref()).unwrap_or("#9A3412");
    let accent = colour(profile.theme.accent_color.as_deref()).unwrap_or(brand);
    format!(
        "/s/{}/theme.css?v={}{}",
        profile.slug,
        &brand[1..],
        &accent[1..]
    )
}

/// The form field every form of a session carries.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

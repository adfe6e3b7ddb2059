//! What every page shares: the visit (who asks, their session, the API on their
//! behalf), the frame a page is drawn in (language, direction, SEO head, the shop's
//! bar) and the error pages, each in the visitor's language.

use crate::assets::Assets;
use crate::i18n::Lang;
use crate::recent::Recent;
use crate::session::{Seat, Session, Sessions};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use caravan_client::{Api, Caller, Category, Failure, PAGE_GRANT_HEADER, ShopProfile};
use caravan_shared::http::TrustedProxies;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::LazyLock;

/// The fingerprinted assets, named once per process.
pub static ASSETS: LazyLock<Assets> = LazyLock::new(Assets::new);

/// What the web faces run on.
pub struct Web {
    pub api: Api,
    pub sessions: Sessions,
    /// `PUBLIC_URL`: the origin buyers use, for canonical and shared links.
    pub public_url: String,
    /// `TRUSTED_PROXIES`: the gateway, whose `X-Forwarded-For` names the visitor.
    pub trusted_proxies: TrustedProxies,
    /// Shops' profiles by slug, as the API answered a moment ago.
    pub profiles: Recent<ShopProfile>,
    /// Shops' categories by slug and language, likewise.
    pub categories: Recent<Vec<Category>>,
}

/// One request of one visitor.
pub struct Visit {
    pub web: web::Data<Web>,
    address: Option<IpAddr>,
    grant: Option<String>,
    /// The visitor's session, when they have one.
    pub session: Option<Session>,
    changed: bool,
    accept: Option<Lang>,
    gzip: bool,
}

impl FromRequest for Visit {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let accept = request
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Lang::from_accept_language);
            let web = request
                .app_data::<web::Data<Web>>()
                .cloned()
                .ok_or_else(|| PageError::unavailable(accept.unwrap_or(Lang::ZhCn)))?;
            let session = web.sessions.load(&request).await.map_err(|error| {
                tracing::warn!(%error, "sessions cannot be read");
                PageError::unavailable(accept.unwrap_or(Lang::ZhCn))
            })?;
            let grant = request
                .headers()
                .get(PAGE_GRANT_HEADER)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            Ok(Self {
                gzip: crate::compress::accepts_gzip(&request),
                address: web.trusted_proxies.client_of(&request),
                web,
                grant,
                session,
                changed: false,
                accept,
            })
        })
    }
}

impl Visit {
    /// The open shop `slug`'s profile (reused for a second).
    pub async fn shop_profile(&self, slug: &str) -> Result<ShopProfile, Failure> {
        if let Some(profile) = self.web.profiles.get(slug) {
            return Ok(profile);
        }
        let profile = self.api().shop(self.caller(), slug).await?;
        self.web.profiles.put(slug.to_owned(), profile.clone());
        Ok(profile)
    }

    /// The shop `slug`'s categories in `locale` (reused for a second).
    pub async fn shop_categories(
        &self,
        slug: &str,
        locale: &str,
    ) -> Result<Vec<Category>, Failure> {
        let key = format!("{slug}\u{0}{locale}");
        if let Some(categories) = self.web.categories.get(&key) {
            return Ok(categories);
        }
        let categories = self.api().categories(self.caller(), slug, locale).await?;
        self.web.categories.put(key, categories.clone());
        Ok(categories)
    }

    /// The API, called for this visitor (anonymously).
    pub fn api(&self) -> &Api {
        &self.web.api
    }

    /// Who the API's calls are made for.
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            address: self.address,
            grant: self.grant.as_deref(),
            bearer: None,
        }
    }

    /// The visitor's language when the URL does not say: the browser's, else `fallback`.
    pub fn language_or(&self, fallback: Lang) -> Lang {
        self.accept.unwrap_or(fallback)
    }

    /// The signed-in buyer's access token (refreshed when due, single-flight).
    pub async fn bearer(&mut self) -> Option<String> {
        self.bearer_of(Seat::Buyer).await
    }

    /// The access token of the account in `seat` (refreshed when due,
    /// single-flight); `None` when nobody is signed in there or the session ended.
    pub async fn bearer_of(&mut self, seat: Seat) -> Option<String> {
        let web = self.web.clone();
        let caller = Caller {
            address: self.address,
            grant: self.grant.as_deref(),
            bearer: None,
        };
        let session = self.session.as_mut()?;
        let signed_in =
            |data: &crate::session::SessionData| (data.account.is_some(), data.staff.is_some());
        let before = signed_in(&session.data);
        let token = web
            .sessions
            .access_token(session, seat, &web.api, caller)
            .await;
        if before != signed_in(&session.data) {
            self.changed = true;
        }
        token
    }

    /// The session, started now when the visitor has none; it will be saved and
    /// its cookie set by [`Visit::reply`].
    pub fn session_mut(&mut self) -> &mut Session {
        self.changed = true;
        self.session.get_or_insert_with(Sessions::start)
    }

    /// The cart the session holds in the shop `slug`.
    pub fn held_cart(&self, slug: &str) -> Option<crate::session::CartRef> {
        self.session
            .as_ref()
            .and_then(|session| session.data.carts.get(slug))
            .cloned()
    }

    /// The session's CSRF secret, for the forms of a page.
    pub fn csrf(&self) -> String {
        self.session
            .as_ref()
            .map(|session| session.data.csrf.clone())
            .unwrap_or_default()
    }

    /// Checks a form's CSRF secret: a visitor with a session must present it.
    /// (A visitor without one has nothing to forge: the same-origin check alone
    /// guards the add-to-cart that starts a session.)
    pub fn check_csrf(&self, lang: Lang, presented: &str) -> Result<(), PageError> {
        match &self.session {
            Some(session) if !session.csrf_matches(presented) => Err(PageError {
                lang,
                kind: Failed::Forbidden,
            }),
            _ => Ok(()),
        }
    }

    /// Whether a person is signed in.
    pub fn signed_in(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|session| session.data.account.is_some())
    }

    /// Saves the session when it changed (setting its cookie) and sends `response`.
    /// A visitor without a session gets no cookie.
    pub async fn reply(&mut self, mut response: HttpResponse) -> HttpResponse {
        if self.changed
            && let Some(session) = &self.session
        {
            match self.web.sessions.save(session).await {
                Ok(()) => {
                    let _ = response.add_cookie(&self.web.sessions.cookie(session));
                }
                Err(error) => {
                    tracing::error!(%error, "session not saved");
                    return PageError::unavailable(Lang::ZhCn).error_response();
                }
            }
        }
        response
    }

    /// Renders `template` in `lang` and sends it as a private page (never cached),
    /// saving the session first: the admin's and the console's pages.
    pub async fn send_private(
        &mut self,
        lang: Lang,
        status: StatusCode,
        template: &impl Template,
    ) -> HttpResponse {
        match render(lang, template) {
            Ok(body) => {
                let response = self.html(status, body, false);
                self.reply(response).await
            }
            Err(error) => error.error_response(),
        }
    }

    /// A `303` to `location`, saving the session first.
    pub async fn redirect(&mut self, location: &str) -> HttpResponse {
        let response = see_other(location);
        self.reply(response).await
    }

    /// Ends the session and removes its cookie.
    pub async fn end(&mut self, mut response: HttpResponse) -> HttpResponse {
        if let Some(session) = self.session.take()
            && let Err(error) = self.web.sessions.end(&session).await
        {
            tracing::warn!(%error, "session not removed from Redis");
        }
        let _ = response.add_cookie(&self.web.sessions.removal());
        response
    }

    /// A page to send: HTML, cacheable by anyone when the visitor has no session
    /// (then it holds nothing personal), else private.
    pub fn html(&self, status: StatusCode, body: String, public: bool) -> HttpResponse {
        let cache = if public && self.session.is_none() {
            "public, max-age=60"
        } else {
            "private, no-store"
        };
        let mut response = HttpResponse::build(status);
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::VARY, "Cookie, Accept-Language, Accept-Encoding"));
        self.body(response, body.into_bytes())
    }

    /// Finishes `response` with `body`, gzip-compressed when the browser takes it.
    pub fn body(
        &self,
        mut response: actix_web::HttpResponseBuilder,
        body: Vec<u8>,
    ) -> HttpResponse {
        match self.gzip.then(|| crate::compress::gzip(&body)).flatten() {
            Some(packed) => response
                .insert_header((header::CONTENT_ENCODING, "gzip"))
                .body(packed),
            None => response.body(body),
        }
    }

    /// The absolute URL of `path` on the public origin.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.web.public_url)
    }
}

/// A `303 See Other` to `location` (after a form, so a reload does not repeat it).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A link of the language menu.
pub struct LangLink {
    pub lang: Lang,
    pub href: String,
    pub current: bool,
}

/// The shop's bar above its pages.
pub struct ShopBar {
    pub name: String,
    pub home: String,
    pub products: String,
    pub cart: String,
    pub account: String,
    pub cart_count: i64,
}

/// The frame of a page: its head (title, description, canonical, alternates, Open
/// Graph, JSON-LD) and the bar above it.
pub struct Frame {
    pub lang: Lang,
    pub title: String,
    pub description: String,
    pub canonical: Option<String>,
    /// `(hreflang, absolute URL)`.
    pub alternates: Vec<(String, String)>,
    pub og_type: &'static str,
    pub og_image: Option<String>,
    /// JSON-LD, already made safe to sit inside `<script>`.
    pub json_ld: Option<String>,
    pub noindex: bool,
    pub htmx: bool,
    pub languages: Vec<LangLink>,
    pub shop: Option<ShopBar>,
    pub signed_in: bool,
    /// The admin's bars, on the admin's pages.
    pub admin: Option<crate::admin::AdminBar>,
    /// The console's bar, on the operators' pages.
    pub ops: Option<crate::ops::OpsBar>,
    /// The shop's own stylesheet (its colours), on its pages.
    pub theme_css: Option<String>,
}

impl Frame {
    /// A frame in `lang` titled `title`.
    pub fn new(lang: Lang, title: impl Into<String>) -> Self {
        Self {
            lang,
            title: title.into(),
            description: String::new(),
            canonical: None,
            alternates: Vec::new(),
            og_type: "website",
            og_image: None,
            json_ld: None,
            noindex: false,
            htmx: false,
            languages: Vec::new(),
            shop: None,
            signed_in: false,
            admin: None,
            ops: None,
            theme_css: None,
        }
    }

    /// The UI string `key`.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The UI string `key` with one argument.
    pub fn t1(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        self.lang.t_with(key, &[(name, value.to_string())])
    }

    /// The UI string named `prefix` followed by `name` (a status, a plan, a step).
    pub fn tk(&self, prefix: &str, name: impl std::fmt::Display) -> String {
        self.lang.t(&format!("{prefix}{name}"))
    }

    /// The UI string named `prefix`, `name` and `suffix` in a row.
    pub fn tk_suffix(&self, prefix: &str, name: impl std::fmt::Display, suffix: &str) -> String {
        self.lang.t(&format!("{prefix}{name}{suffix}"))
    }

    /// `money` in this page's language.
    pub fn money(&self, money: &caravan_client::Money) -> String {
        crate::money::format(*money, self.lang)
    }

    pub fn css(&self) -> String {
        ASSETS.url("app")
    }

    pub fn admin_css(&self) -> String {
        ASSETS.url("admin")
    }

    pub fn icon(&self) -> String {
        ASSETS.url("icon")
    }

    pub fn htmx_url(&self) -> String {
        ASSETS.url("htmx")
    }

    /// Sets the language menu and `hreflang` alternates from a page's URL in each
    /// language.
    pub fn with_languages(mut self, origin: &str, url_in: impl Fn(Lang) -> String) -> Self {
        self.languages = Lang::ALL
            .into_iter()
            .map(|lang| LangLink {
                lang,
                href: url_in(lang),
                current: lang == self.lang,
            })
            .collect();
        self.alternates = Lang::ALL
            .into_iter()
            .map(|lang| (lang.tag().to_owned(), format!("{origin}{}", url_in(lang))))
            .collect();
        self.canonical = Some(format!("{origin}{}", url_in(self.lang)));
        self
    }
}

/// JSON made safe to sit inside a `<script type="application/ld+json">`.
pub fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// What went wrong, as a page can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// No such page or product (404).
    NotFound,
    /// The shop is unknown, suspended or closed (404; which one is not disclosed).
    ShopClosed,
    /// A part of Caravan cannot answer now (503).
    Unavailable,
    /// A form not sent from this site, or with a stale secret (403).
    Forbidden,
    /// A form or address that cannot be read (400).
    BadRequest,
    /// A page only the shop's owner may open (403).
    NotAllowed,
    /// The admin of a shop the platform suspended or closed (403).
    ShopSuspended,
    /// A console page, for platform operators only (403).
    OperatorsOnly,
}

/// The id in a page's address; a malformed one is the 404 page an unknown one gets.
pub fn id_in(lang: Lang, text: &str) -> Result<uuid::Uuid, PageError> {
    uuid::Uuid::parse_str(text).map_err(|_| PageError::not_found(lang))
}

/// A page that could not be shown, in the visitor's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub kind: Failed,
}

impl PageError {
    pub fn not_found(lang: Lang) -> Self {
        Self {
            lang,
            kind: Failed::NotFound,
        }
    }

    pub fn shop_closed(lang: Lang) -> Self {
        Self {
            lang,
            kind: Failed::ShopClosed,
        }
    }

    pub fn unavailable(lang: Lang) -> Self {
        Self {
            lang,
            kind: Failed::Unavailable,
        }
    }

    /// An API failure: its 404 is this page's, anything else is an outage (a page
    /// never shows a refusal it did not expect as a crash).
    pub fn from_failure(lang: Lang, failure: &Failure) -> Self {
        if failure.is_not_found() {
            Self::not_found(lang)
        } else {
            tracing::warn!(%failure, "the API failed a page");
            Self::unavailable(lang)
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Frame,
    heading: String,
    message: String,
    retry: bool,
    /// Offers the console's sign-in (a 403 of `/ops`).
    operator_sign_in: bool,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            Failed::NotFound | Failed::ShopClosed => StatusCode::NOT_FOUND,
            Failed::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failed::Forbidden
            | Failed::NotAllowed
            | Failed::ShopSuspended
            | Failed::OperatorsOnly => StatusCode::FORBIDDEN,
            Failed::BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self.kind {
            Failed::NotFound => ("error-not-found-title", "error-not-found-body"),
            Failed::ShopClosed => ("error-shop-closed-title", "error-shop-closed-body"),
            Failed::Unavailable => ("error-unavailable-title", "error-unavailable-body"),
            Failed::Forbidden => ("error-forbidden-title", "error-forbidden-body"),
            Failed::BadRequest => ("error-bad-request-title", "error-bad-request-body"),
            Failed::NotAllowed => ("error-not-allowed-title", "error-not-allowed-body"),
            Failed::ShopSuspended => ("error-shop-suspended-title", "error-shop-suspended-body"),
            Failed::OperatorsOnly => ("error-operators-only-title", "error-operators-only-body"),
        };
        let mut page = Frame::new(self.lang, self.lang.t(heading));
        page.noindex = true;
        let body = ErrorPage {
            heading: self.lang.t(heading),
            message: self.lang.t(message),
            retry: self.kind == Failed::Unavailable,
            operator_sign_in: self.kind == Failed::OperatorsOnly,
            page,
        }
        .render()
        .unwrap_or_else(|_| self.lang.t(heading));
        let mut response = HttpResponse::build(self.status_code());
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if self.kind == Failed::Unavailable {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        response.body(body)
    }
}

/// A form or query string that cannot be read answers a 400 page in the
/// visitor's language, not the framework's plain text.
pub fn unreadable(error: impl std::fmt::Display, request: &HttpRequest) -> actix_web::Error {
    tracing::info!(%error, "unreadable form or query");
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Lang::from_accept_language)
        .or_else(|| request.path().split('/').nth(3).and_then(Lang::from_tag))
        .unwrap_or(Lang::ZhCn);
    PageError {
        lang,
        kind: Failed::BadRequest,
    }
    .into()
}

/// Renders a template, or answers the outage page when it cannot (it cannot fail
/// for data a page was built from; askama checks templates when compiling).
pub fn render(lang: Lang, template: &impl Template) -> Result<String, PageError> {
    template.render().map_err(|error| {
        tracing::error!(%error, "template failed");
        PageError::unavailable(lang)
    })
}

//! The shop admin (`/admin`): a cooperative's owner and staff run their shop from
//! a phone. Pages are drawn for a narrow screen first (a bottom bar: orders,
//! products, stock, more) and widen into tables on a desk. Every page acts with the
//! signed-in staff member's own token, through the public API, so the admin can do
//! exactly what that person may do, in that shop, and nothing else.

pub mod account;
pub mod apps;
pub mod deals;
pub mod orders;
pub mod preorders;
pub mod products;
pub mod setup;
pub mod shop;
pub mod sign_in;
pub mod stock;
pub mod team;
pub mod today;
pub mod welcome;

use crate::i18n::Lang;
use crate::page::{Failed, Frame, PageError, Visit, see_other};
use crate::session::{Seat, Staff};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use caravan_client::{Caller, Failure};
use std::future::Future;
use std::pin::Pin;

/// Registers the admin's pages.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/admin", web::get().to(today::show))
        .route("/admin/", web::get().to(today::show))
        .route("/admin/sign-in", web::get().to(sign_in::form))
        .route("/admin/sign-in", web::post().to(sign_in::sign_in))
        .route("/admin/sign-out", web::post().to(sign_in::sign_out))
        .route("/admin/shops", web::get().to(sign_in::shops))
        .route("/admin/shops", web::post().to(sign_in::switch))
        .route("/admin/more", web::get().to(today::more))
        .route("/admin/welcome", web::get().to(welcome::show))
        .route("/admin/orders", web::get().to(orders::list))
        .route("/admin/orders/export.csv", web::get().to(orders::export))
        .route("/admin/orders/{id}", web::get().to(orders::detail))
        .route("/admin/orders/{id}/slip", web::get().to(orders::slip))
        .route("/admin/orders/{id}/{action}", web::post().to(orders::act))
        .route("/admin/group-deals", web::get().to(deals::list))
        .route("/admin/group-deals", web::post().to(deals::create))
        .route("/admin/group-deals/new", web::get().to(deals::new))
        .route("/admin/group-deals/{id}", web::get().to(deals::detail))
        .route("/admin/group-deals/{id}", web::post().to(deals::save))
        .route("/admin/group-deals/{id}/end", web::post().to(deals::end))
        .route("/admin/preorders", web::get().to(preorders::list))
        .route("/admin/preorders", web::post().to(preorders::create))
        .route("/admin/preorders/new", web::get().to(preorders::new))
        .route("/admin/preorders/{id}", web::get().to(preorders::detail))
        .route(
            "/admin/preorders/{id}/{step}",
            web::get().to(preorders::confirm),
        )
        .route(
            "/admin/preorders/{id}/{step}",
            web::post().to(preorders::act),
        )
        .route("/admin/products", web::get().to(products::list))
        .route("/admin/products", web::post().to(products::create))
        .route("/admin/products/new", web::get().to(products::new))
        .route(
            "/admin/products/import",
            web::get().to(products::import_form),
        )
        .route("/admin/products/import", web::post().to(products::import))
        .route(
            "/admin/products/export.csv",
            web::get().to(products::export),
        )
        .route("/admin/products/{id}", web::get().to(products::edit))
        .route("/admin/products/{id}", web::post().to(products::save))
        .route(
            "/admin/products/{id}/photos",
            web::post().to(products::add_photo),
        )
        .route(
            "/admin/products/{id}/{action}",
            web::post().to(products::act),
        )
        .route("/admin/stock", web::get().to(stock::list))
        .route("/admin/stock/{variant}", web::get().to(stock::ledger))
        .route("/admin/stock/{variant}", web::post().to(stock::adjust))
        .route("/admin/categories", web::get().to(setup::categories))
        .route("/admin/categories", web::post().to(setup::create_category))
        .route("/admin/categories/{id}", web::get().to(setup::category))
        .route(
            "/admin/categories/{id}",
            web::post().to(setup::update_category),
        )
        .route(
            "/admin/categories/{id}/delete",
            web::post().to(setup::delete_category),
        )
        .route("/admin/shipping", web::get().to(setup::shipping))
        .route("/admin/shipping", web::post().to(setup::create_zone))
        .route("/admin/shipping/{id}", web::get().to(setup::zone))
        .route("/admin/shipping/{id}", web::post().to(setup::update_zone))
        .route(
            "/admin/shipping/{id}/delete",
            web::post().to(setup::delete_zone),
        )
        .route("/admin/settings", web::get().to(shop::show))
        .route("/admin/settings/image/{which}", web::post().to(shop::image))
        .route("/admin/settings/{part}", web::post().to(shop::save))
        .route("/admin/staff", web::get().to(team::show))
        .route("/admin/staff/invite", web::post().to(team::invite))
        .route(
            "/admin/staff/{id}/remove",
            web::post().to(team::remove_member),
        )
        .route(
            "/admin/invitations/{id}/remove",
            web::post().to(team::withdraw),
        )
        .route("/admin/apps", web::get().to(apps::show))
        .route("/admin/apps", web::post().to(apps::create_client))
        .route(
            "/admin/apps/{id}/revoke",
            web::post().to(apps::revoke_client),
        )
        .route("/admin/webhooks", web::post().to(apps::create_webhook))
        .route("/admin/webhooks/{id}", web::get().to(apps::webhook))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/retry",
            web::post().to(apps::retry),
        )
        .route(
            "/admin/webhooks/{id}/{action}",
            web::post().to(apps::webhook_action),
        )
        .route("/admin/account", web::get().to(account::show))
        .route("/admin/account/language", web::post().to(account::language))
        .route("/admin/account/password", web::post().to(account::password));
}

/// A section of the admin, for its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Today,
    Orders,
    Products,
    Stock,
    More,
}

/// The admin's bars: the shop on top, the sections at the bottom.
pub struct AdminBar {
    pub shop_name: String,
    pub storefront: String,
    pub section: Section,
    /// Whether the signed-in person may open the owner's pages.
    pub owner: bool,
    pub csrf: String,
}

impl AdminBar {
    /// `aria-current` for the bar's link to `section` (templates compare names).
    pub fn current(&self, section: &str) -> bool {
        let name = match self.section {
            Section::Today => "today",
            Section::Orders => "orders",
            Section::Products => "products",
            Section::Stock => "stock",
            Section::More => "more",
        };
        name == section
    }
}

/// A request of a signed-in staff member: their visit, who they are, in which
/// shop, and a fresh access token. A request without one is sent to sign in.
pub struct Desk {
    pub visit: Visit,
    pub staff: Staff,
    pub lang: Lang,
    bearer: String,
}

/// Why a request cannot be served at the desk (or the operators' console).
#[derive(Debug)]
pub enum DeskError {
    /// Nobody is signed in (or the session ended): to the sign-in page `at`, then
    /// back to `back`.
    SignIn {
        at: &'static str,
        back: String,
    },
    Page(PageError),
}

impl std::fmt::Display for DeskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn { .. } => f.write_str("not signed in"),
            Self::Page(error) => error.fmt(f),
        }
    }
}

impl ResponseError for DeskError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Page(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn { at, back } => {
                let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
                see_other(&format!("{at}?{query}"))
            }
            Self::Page(error) => error.error_response(),
        }
    }
}

/// Where to come back to after signing in: the page asked for, never a form's
/// target (`home` instead).
pub fn return_to(request: &HttpRequest, home: &str) -> String {
    if request.method() == actix_web::http::Method::GET {
        request.uri().to_string()
    } else {
        home.to_owned()
    }
}

impl FromRequest for Desk {
    type Error = DeskError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let visit = Visit::from_request(&request, payload);
        Box::pin(async move {
            let mut visit = visit.await.map_err(DeskError::Page)?;
            let sign_in = || DeskError::SignIn {
                at: "/admin/sign-in",
                back: return_to(&request, "/admin"),
            };
            let Some(bearer) = visit.bearer_of(Seat::Staff).await else {
                return Err(sign_in());
            };
            let Some(staff) = visit.session.as_ref().and_then(|s| s.data.staff.clone()) else {
                return Err(sign_in());
            };
            let lang = Lang::from_tag(&staff.lang).unwrap_or(Lang::ZhCn);
            Ok(Self {
                visit,
                staff,
                lang,
                bearer,
            })
        })
    }
}

impl Desk {
    /// Calls made as this staff member.
    pub fn caller(&self) -> Caller<'_> {
        self.visit.caller().with_bearer(Some(&self.bearer))
    }

    /// The API.
    pub fn api(&self) -> &caravan_client::Api {
        self.visit.api()
    }

    /// Whether the signed-in person owns the shop.
    pub fn owner(&self) -> bool {
        self.staff.role == "owner"
    }

    /// The UI string `key` in the admin's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The frame of an admin page titled `title` in `section`.
    pub fn frame(&self, title: impl Into<String>, section: Section) -> Frame {
        let mut frame = Frame::new(self.lang, title);
        frame.noindex = true;
        frame.admin = Some(AdminBar {
            shop_name: self.staff.shop_name.clone(),
            storefront: format!("/s/{}/{}/", self.staff.shop, self.lang.tag()),
            section,
            owner: self.owner(),
            csrf: self.visit.csrf(),
        });
        frame
    }

    /// Checks a form's CSRF secret.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        self.visit.check_csrf(self.lang, presented)
    }

    /// A page for a failure of the API: its 404 is a 404 page, a suspended shop's
    /// 403 the "shop suspended" page, any other 403 the "not yours to open" page.
    pub fn failed(&self, failure: &Failure) -> PageError {
        match failure.status() {
            Some(403) if failure.code() == Some("tenant_suspended") => PageError {
                lang: self.lang,
                kind: Failed::ShopSuspended,
            },
            Some(403) => PageError {
                lang: self.lang,
                kind: Failed::NotAllowed,
            },
            _ => PageError::from_failure(self.lang, failure),
        }
    }

    /// Sends a rendered page (never cached: it holds the shop's business).
    pub async fn send(&mut self, status: StatusCode, template: &impl Template) -> HttpResponse {
        self.visit.send_private(self.lang, status, template).await
    }

    /// A `303` to `location`, saving the session first.
    pub async fn redirect(&mut self, location: &str) -> HttpResponse {
        self.visit.redirect(location).await
    }

    /// The owner's pages refuse everyone else with the 403 page.
    pub fn require_owner(&self) -> Result<(), PageError> {
        if self.owner() {
            Ok(())
        } else {
            Err(PageError {
                lang: self.lang,
                kind: Failed::NotAllowed,
            })
        }
    }

    /// A form's action the API did not do: the sentences to show on the form again.
    /// A 404 (the thing is gone, or is another shop's), a suspended shop or an
    /// outage is an error page instead.
    pub fn refused(&self, failure: &Failure) -> Result<Vec<String>, PageError> {
        match failure {
            Failure::Refused { status, problem }
                if *status != 404 && problem.code != "tenant_suspended" =>
            {
                Ok(self.refusal(failure))
            }
            _ => Err(self.failed(failure)),
        }
    }

    /// The status a form shown again after `failure` answers with: the API's own.
    pub fn status_of(failure: &Failure) -> StatusCode {
        failure
            .status()
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    }

    /// The id in a page's address; a malformed one is the 404 page an unknown one gets.
    pub fn id(&self, text: &str) -> Result<uuid::Uuid, PageError> {
        crate::page::id_in(self.lang, text)
    }

    /// What the API's refusal means, as sentences in the admin's language: a
    /// known refusal by its code, a field by its name, never the code itself.
    pub fn refusal(&self, failure: &Failure) -> Vec<String> {
        refusal(self.lang, failure)
    }
}

/// A posted form: its fields by name, in order (months repeat).
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    }

    /// A field as sent, untrimmed (a password).
    pub fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .collect()
    }
}

/// What a form just did, named in the address it sent the browser to
/// (`?done=saved`), so that reloading the page shows it without doing it again.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

impl Done {
    /// The sentence for what was done: `known` pairs each `done` value with its
    /// string's key.
    pub fn notice(&self, lang: Lang, known: &[(&str, &str)]) -> Option<String> {
        let done = self.done.as_deref()?;
        known
            .iter()
            .find(|(name, _)| *name == done)
            .map(|(_, key)| lang.t(key))
    }
}

/// What the API's refusal means, in `lang`.
pub fn refusal(lang: Lang, failure: &Failure) -> Vec<String> {
    let Failure::Refused { status, problem } = failure else {
        return vec![lang.t("error-unavailable-body")];
    };
    let status_label = |field: &str| {
        problem
            .errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| lang.t(&format!("status-{}", error.message)))
    };
    match (*status, problem.code.as_str()) {
        (409, "invalid_status_change") => {
            let now = status_label("status").unwrap_or_default();
            vec![lang.t_with("refusal-status", &[("status", now)])]
        }
        (409, "handle_taken") => vec![lang.t("refusal-handle-taken")],
        (409, "sku_taken") => vec![lang.t("refusal-sku-taken")],
        (409, "deal_locked") => vec![lang.t("refusal-deal-locked")],
        (403, _) => vec![lang.t("refusal-forbidden")],
        (404, _) => vec![lang.t("refusal-gone")],
        (413, _) => vec![lang.t("refusal-too-large")],
        (415, _) => vec![lang.t("refusal-not-image")],
        (429, _) => vec![lang.t("account-throttled")],
        _ if !problem.errors.is_empty() => problem
            .errors
            .iter()
            .map(|error| field_sentence(lang, &error.field, &error.message))
            .collect(),
        _ => vec![lang.t("refusal-other")],
    }
}

/// A sentence for one field the API refused: what is wrong with it, in `lang`.
/// The field is named by the last part of its path that the admin has a name for
/// (`title.zh-CN` is the title, `variants[0].prices[1].amount` the amount), else
/// by that last part as it is.
fn field_sentence(lang: Lang, field: &str, message: &str) -> String {
    let parts: Vec<String> = field
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part).to_owned())
        .filter(|part| !part.is_empty())
        .collect();
    let label = parts
        .iter()
        .rev()
        .find_map(|part| lang.t_known(&format!("field-name-{}", part.replace('_', "-"))))
        .or_else(|| parts.last().cloned())
        .unwrap_or_else(|| field.to_owned());
    let reason = if message.contains("at most") && message.contains("refunded") {
        "refusal-refund-too-much"
    } else if message.contains("no such upload") {
        "refusal-no-upload"
    } else if message.contains("megapixel") || message.contains("px") {
        "refusal-image-too-big"
    } else if message.contains("image") {
        "refusal-not-image"
    } else if message.contains("contrast") {
        "refusal-contrast"
    } else if message.contains("below") {
        "refusal-below-regular"
    } else if message.contains("taken") || message.contains("already") {
        "refusal-field-taken"
    } else if message.contains("required") || message.contains("at least") {
        "refusal-field-missing"
    } else {
        "refusal-field"
    };
    lang.t_with(reason, &[("field", label)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use caravan_client::{FieldError, Problem};

    fn refused(status: u16, code: &str, errors: &[(&str, &str)]) -> Failure {
        Failure::Refused {
            status,
            problem: Problem {
                code: code.to_owned(),
                errors: errors
                    .iter()
                    .map(|(field, message)| FieldError {
                        field: (*field).to_owned(),
                        message: (*message).to_owned(),
                    })
                    .collect(),
                ..Problem::default()
            },
        }
    }

    #[test]
    fn refusals_are_sentences_naming_the_field_not_codes() {
        let missing = refused(422, "validation_failed", &[("title.zh-CN", "is required")]);
        assert_eq!(refusal(Lang::En, &missing), ["Title: needed."]);
        let amount = refused(
            422,
            "validation_failed",
            &[("variants[0].prices[1].amount", "must be more than 0")],
        );
        assert_eq!(refusal(Lang::En, &amount), ["Amount: check this value."]);
        let shipped = refused(409, "invalid_status_change", &[("status", "fulfilled")]);
        let sentence = refusal(Lang::ZhCn, &shipped).join("");
        assert!(
            sentence.contains(&Lang::ZhCn.t("status-fulfilled")),
            "{sentence}"
        );
        assert!(!sentence.contains("invalid_status_change"));
        let unknown = refused(422, "validation_failed", &[("colour_mode", "nope")]);
        assert_eq!(
            refusal(Lang::En, &unknown),
            ["colour_mode: check this value."]
        );
    }

    #[test]
    fn only_admin_pages_are_returned_to_after_signing_in() {
        use super::sign_in::safe_next;
        assert_eq!(
            safe_next(Some("/admin/orders?status=paid")),
            "/admin/orders?status=paid"
        );
        for hostile in [
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin//evil.example",
            "/admin\\\\evil",
            "/administrator",
            "/s/shop/zh-CN/",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/admin", "{hostile}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}

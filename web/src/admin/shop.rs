//! The owner's settings: the shop's profile (name, description, contact), what it
//! sells in and to (currencies, languages, countries), how it takes orders
//! (payment window, bank details, the email told of new orders), and its theme
//! (brand colours, logo and banner from the upload API, the home page's sections).

use super::products::PHOTO_LIMIT;
use super::{Desk, Done, Posted, Section};
use crate::i18n::Lang;
use crate::page::{Frame, PageError};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, OrderSettings, ShopSettings};
use serde_json::{Value, json};

/// The currencies a shop may sell in.
const CURRENCIES: [&str; 5] = ["CNY", "KZT", "USD", "RUB", "KGS"];
/// The home page's sections.
const SECTIONS: [&str; 4] = ["banner", "categories", "new", "story"];

struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    page: Frame,
    csrf: String,
    shop: ShopSettings,
    descriptions: Vec<(&'static str, &'static str, &'static str, String)>,
    currencies: Vec<Choice>,
    locales: Vec<Choice>,
    ship_to: String,
    orders: OrderSettings,
    brand: String,
    accent: String,
    sections: Vec<(usize, String, String)>,
    problems: Vec<String>,
    notice: Option<String>,
}

async fn settings_page(
    desk: &mut Desk,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let caller = desk.caller();
    let (shop, orders) = futures_util::join!(
        desk.api().shop_settings(caller, desk.staff.shop_id),
        desk.api().order_settings(caller),
    );
    let shop = shop.map_err(|failure| desk.failed(&failure))?;
    let orders = orders.map_err(|failure| desk.failed(&failure))?;
    let theme = shop.theme.clone().unwrap_or_default();
    let order: Vec<String> = if theme.sections.is_empty() {
        SECTIONS.iter().map(|s| (*s).to_owned()).collect()
    } else {
        theme.sections.clone()
    };
    let lang = desk.lang;
    let page = SettingsPage {
        page: desk.frame(desk.t("admin-settings-title"), Section::More),
        csrf: desk.visit.csrf(),
        descriptions: Lang::ALL
            .iter()
            .map(|l| {
                (
                    l.tag(),
                    l.native_name(),
                    l.dir(),
                    shop.description.get(l.tag()).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        currencies: CURRENCIES
            .iter()
            .map(|code| Choice {
                value: (*code).to_owned(),
                label: (*code).to_owned(),
                chosen: shop.currencies.iter().any(|c| c == code),
            })
            .collect(),
        locales: Lang::ALL
            .iter()
            .map(|l| Choice {
                value: l.tag().to_owned(),
                label: l.native_name().to_owned(),
                chosen: shop.locales.iter().any(|c| c == l.tag()),
            })
            .collect(),
        ship_to: shop.ship_to.join(", "),
        brand: theme.brand_color.clone().unwrap_or_default(),
        accent: theme.accent_color.clone().unwrap_or_default(),
        sections: SECTIONS
            .iter()
            .map(|section| {
                let position = order.iter().position(|s| s == section).map_or(0, |p| p + 1);
                (
                    position,
                    (*section).to_owned(),
                    lang.t(&format!("admin-section-{section}")),
                )
            })
            .collect(),
        shop,
        orders,
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/settings` (owner).
pub async fn show(mut desk: Desk, query: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("saved", "admin-product-saved"),
            ("image", "admin-photo-added"),
        ],
    );
    settings_page(&mut desk, Vec::new(), notice, StatusCode::OK).await
}

/// `POST /admin/settings/{part}`: `profile`, `selling`, `orders` or `theme`.
pub async fn save(
    mut desk: Desk,
    part: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let text = |name: &str| {
        let value = form.get(name);
        if value.is_empty() {
            Value::Null
        } else {
            json!(value)
        }
    };
    let caller = desk.caller();
    let shop = desk.staff.shop_id;
    let outcome = match part.as_str() {
        "profile" => {
            let mut description = serde_json::Map::new();
            for l in Lang::ALL {
                let value = form.get(&format!("description-{}", l.tag()));
                if !value.is_empty() {
                    description.insert(l.tag().to_owned(), json!(value));
                }
            }
            let body = json!({
                "name": form.get("name"),
                "description": description,
                "contact_email": text("contact_email"),
                "contact_phone": text("contact_phone"),
            });
            desk.api().update_shop(caller, shop, &body).await.map(drop)
        }
        "selling" => {
            let ship_to: Vec<String> = form
                .get("ship_to")
                .split([',', '，', '،', ' '])
                .map(|c| c.trim().to_uppercase())
                .filter(|c| !c.is_empty())
                .collect();
            let body = json!({
                "currencies": form.all("currency"),
                "locales": form.all("locale"),
                "ship_to": ship_to,
            });
            desk.api().update_shop(caller, shop, &body).await.map(drop)
        }
        "orders" => {
            let Ok(minutes) = form.get("payment_window").parse::<i32>() else {
                let problem = lang.t("admin-window-unreadable");
                return settings_page(
                    &mut desk,
                    vec![problem],
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            };
            let body = json!({
                "payment_window_minutes": minutes,
                "bank_transfer_details": text("bank_details"),
                "notify_email": text("notify_email"),
            });
            desk.api()
                .update_order_settings(caller, &body)
                .await
                .map(drop)
        }
        "theme" => {
            let mut sections: Vec<(i64, &str)> = SECTIONS
                .iter()
                .filter_map(|section| {
                    let position = form
                        .get(&format!("section-{section}"))
                        .parse::<i64>()
                        .ok()?;
                    (position > 0).then_some((position, *section))
                })
                .collect();
            sections.sort();
            let body = json!({"theme": {
                "brand_color": text("brand_color"),
                "accent_color": text("accent_color"),
                "sections": sections.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
            }});
            desk.api().update_shop(caller, shop, &body).await.map(drop)
        }
        _ => return Err(PageError::not_found(lang)),
    };
    match outcome {
        Ok(()) => {
            desk.visit.web.profiles.forget(&desk.staff.shop);
            Ok(desk.redirect("/admin/settings?done=saved").await)
        }
        Err(failure) => {
            // A 404 or an outage is a page of its own; a refusal is explained here.
            desk.refused(&failure)?;
            let problems = theme_refusal(&desk, &failure);
            settings_page(&mut desk, problems, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// A colour refused for its contrast is explained with the API's own figures
/// (`white text on #F5C242 has contrast 1.7:1`), which are numbers, not words.
fn theme_refusal(desk: &Desk, failure: &Failure) -> Vec<String> {
    let Failure::Refused { problem, .. } = failure else {
        return desk.refusal(failure);
    };
    let contrast: Vec<String> = problem
        .errors
        .iter()
        .filter(|error| error.message.contains("contrast"))
        .filter_map(|error| {
            let ratio = error
                .message
                .split_whitespace()
                .find(|word| word.ends_with(":1") || word.ends_with(":1;"))?
                .trim_end_matches(';')
                .to_owned();
            let colour = error
                .message
                .split_whitespace()
                .find(|word| word.starts_with('#'))?
                .to_owned();
            Some(desk.lang.t_with(
                "admin-contrast-refused",
                &[("name", colour), ("total", ratio)],
            ))
        })
        .collect();
    if contrast.is_empty() {
        desk.refusal(failure)
    } else {
        contrast
    }
}

/// `POST /admin/settings/image/{which}`: the logo or the banner, uploaded like a
/// product photo and then named in the shop's settings.
pub async fn image(
    mut desk: Desk,
    which: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let mut upload = super::products::read_upload(multipart, "image", PHOTO_LIMIT).await;
    let form = Posted(std::mem::take(&mut upload.fields));
    desk.check_csrf(&form.get("csrf"))?;
    let body_for = |url: String| match which.as_str() {
        "logo" => Some(json!({"logo_url": url})),
        "banner" => Some(json!({"theme": {"banner_url": url}})),
        _ => None,
    };
    if body_for(String::new()).is_none() {
        return Err(PageError::not_found(desk.lang));
    }
    let (problems, status) = match super::products::store_photo(&desk, upload).await? {
        Ok(media) => {
            let body = body_for(media.url).unwrap_or_default();
            match desk
                .api()
                .update_shop(desk.caller(), desk.staff.shop_id, &body)
                .await
            {
                Ok(_) => {
                    desk.visit.web.profiles.forget(&desk.staff.shop);
                    return Ok(desk.redirect("/admin/settings?done=image").await);
                }
                Err(failure) => (desk.refused(&failure)?, Desk::status_of(&failure)),
            }
        }
        Err(refusal) => refusal,
    };
    settings_page(&mut desk, problems, None, status).await
}

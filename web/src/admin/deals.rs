//! Group deals (拼团): the shop's deals with how they are going, a new deal (a
//! variant, its group price per currency, the group's size and hours, how many units
//! in all, when), a deal with its terms (changed only until its first group opens),
//! ending it early, and its groups by status with their orders.

use super::products::localized;
use super::{Desk, Done, Posted, Section};
use crate::clock::CHINA;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{
    Failure, Group, GroupDeal, GroupDealChanges, Money, NewGroupDeal, ProductFilter,
};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// The form's field for a moment, China time (`2026-12-05T18:00`).
const MOMENT: &str = "%Y-%m-%dT%H:%M";
/// The statuses a deal's groups are listed by.
const GROUP_STATUSES: [&str; 3] = ["forming", "formed", "failed"];

fn moment_field(at: DateTime<Utc>) -> String {
    crate::clock::in_china(at).format(MOMENT).to_string()
}

fn moment_of(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), MOMENT).ok()?;
    CHINA
        .from_local_datetime(&naive)
        .single()
        .map(|at| at.with_timezone(&Utc))
}

/// "Hotan jujubes · 1 kg box", in the admin's language.
fn deal_name(lang: Lang, deal: &GroupDeal) -> String {
    let product = localized(&deal.product_title, lang);
    let product = if product.is_empty() {
        deal.handle.clone()
    } else {
        product
    };
    match deal
        .variant_title
        .as_ref()
        .map(|title| localized(title, lang))
    {
        Some(variant) if !variant.is_empty() => format!("{product} · {variant}"),
        _ => product,
    }
}

pub(super) fn prices_text(lang: Lang, prices: &[Money]) -> String {
    prices
        .iter()
        .map(|price| money::format(*price, lang))
        .collect::<Vec<_>>()
        .join(" / ")
}

// --- the list ------------------------------------------------------------------

struct DealRow {
    id: String,
    name: String,
    sku: String,
    status: String,
    status_label: String,
    price: String,
    regular: String,
    size: i32,
    units: String,
    groups: String,
}

impl DealRow {
    fn new(lang: Lang, deal: &GroupDeal) -> Self {
        Self {
            id: deal.id.to_string(),
            name: deal_name(lang, deal),
            sku: deal.sku.clone(),
            status: deal.status.clone(),
            status_label: lang.t(&format!("admin-deal-status-{}", deal.status)),
            price: prices_text(lang, &deal.prices),
            regular: prices_text(lang, &deal.regular_prices),
            size: deal.group_size,
            units: format!("{}/{}", deal.units_taken, deal.max_units),
            groups: lang.t_with(
                "admin-deal-groups",
                &[
                    ("forming", deal.groups.forming.to_string()),
                    ("formed", deal.groups.formed.to_string()),
                    ("failed", deal.groups.failed.to_string()),
                ],
            ),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/deals.html")]
struct ListPage {
    page: Frame,
    deals: Vec<DealRow>,
    next: Option<String>,
}

/// `GET /admin/group-deals`.
pub async fn list(mut desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let answer = match desk.api().group_deals(desk.caller(), cursor).await {
        Ok(answer) => answer,
        // A made-up cursor: the first page.
        Err(Failure::Refused { status: 422, .. }) => desk
            .api()
            .group_deals(desk.caller(), None)
            .await
            .map_err(|failure| desk.failed(&failure))?,
        Err(failure) => return Err(desk.failed(&failure)),
    };
    let lang = desk.lang;
    let page = ListPage {
        page: desk.frame(desk.t("admin-deals-title"), Section::More),
        deals: answer
            .items
            .iter()
            .map(|deal| DealRow::new(lang, deal))
            .collect(),
        next: answer.next_cursor.map(|cursor| {
            let query = serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default();
            format!("/admin/group-deals?{query}")
        }),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

// --- the form --------------------------------------------------------------------

/// A variant to choose from.
pub(super) struct VariantChoice {
    pub(super) id: String,
    pub(super) label: String,
    pub(super) chosen: bool,
}

/// A product's variants, grouped in the menu under its title.
pub(super) struct ProductChoice {
    pub(super) title: String,
    pub(super) variants: Vec<VariantChoice>,
}

/// A group price field.
struct PriceField {
    currency: String,
    value: String,
}

/// The deal's terms as the form holds them (what was typed, or the deal's).
struct Terms {
    variant: String,
    prices: Vec<PriceField>,
    group_size: String,
    open_hours: String,
    max_units: String,
    starts_at: String,
    ends_at: String,
}

impl Terms {
    fn blank(currencies: &[String]) -> Self {
        let now = Utc::now();
        Self {
            variant: String::new(),
            prices: currencies
                .iter()
                .map(|currency| PriceField {
                    currency: currency.clone(),
                    value: String::new(),
                })
                .collect(),
            group_size: "3".into(),
            open_hours: "24".into(),
            max_units: "100".into(),
            starts_at: String::new(),
            ends_at: moment_field(now + Duration::days(7)),
        }
    }

    fn of(deal: &GroupDeal, currencies: &[String]) -> Self {
        Self {
            variant: deal.variant_id.to_string(),
            prices: currencies
                .iter()
                .map(|currency| PriceField {
                    currency: currency.clone(),
                    value: deal
                        .prices
                        .iter()
                        .find(|p| p.currency.as_str() == currency)
                        .map(|p| money::decimal(*p))
                        .unwrap_or_default(),
                })
                .collect(),
            group_size: deal.group_size.to_string(),
            open_hours: deal.open_hours.to_string(),
            max_units: deal.max_units.to_string(),
            starts_at: moment_field(deal.starts_at),
            ends_at: moment_field(deal.ends_at),
        }
    }

    fn posted(form: &Posted, currencies: &[String]) -> Self {
        Self {
            variant: form.get("variant_id"),
            prices: currencies
                .iter()
                .map(|currency| PriceField {
                    currency: currency.clone(),
                    value: form.get(&format!("price-{currency}")),
                })
                .collect(),
            group_size: form.get("group_size"),
            open_hours: form.get("open_hours"),
            max_units: form.get("max_units"),
            starts_at: form.get("starts_at"),
            ends_at: form.get("ends_at"),
        }
    }
}

/// The terms read from the form: each value in its range, or the sentences saying
/// what is wrong. (The order service checks them again, and the prices against the
/// variant's.)
struct Checked {
    prices: Vec<Money>,
    group_size: i32,
    open_hours: i32,
    max_units: i32,
    starts_at: Option<DateTime<Utc>>,
    ends_at: DateTime<Utc>,
}

impl Terms {
    fn check(&self, lang: Lang) -> Result<Checked, Vec<String>> {
        let mut problems = Vec::new();
        let mut prices = Vec::new();
        for price in self.prices.iter().filter(|p| !p.value.is_empty()) {
            let amount = money::parse_decimal(&price.value, &price.currency);
            match (amount, price.currency.parse()) {
                (Some(amount), Ok(currency)) if amount > 0 => {
                    prices.push(Money { amount, currency })
                }
                _ => problems.push(lang.t_with(
                    "admin-price-unreadable",
                    &[("currency", price.currency.clone())],
                )),
            }
        }
        if prices.is_empty() && problems.is_empty() {
            problems.push(lang.t("admin-deal-price-needed"));
        }
        let mut whole = |text: &str, low: i32, high: i32, key: &str| match text.parse::<i32>() {
            Ok(n) if (low..=high).contains(&n) => n,
            _ => {
                problems.push(lang.t(key));
                0
            }
        };
        let group_size = whole(&self.group_size, 2, 50, "admin-deal-size-range");
        let open_hours = whole(&self.open_hours, 1, 72, "admin-deal-hours-range");
        let max_units = whole(&self.max_units, 1, 1_000_000, "admin-deal-units-range");
        let starts_at = if self.starts_at.is_empty() {
            None
        } else {
            let at = moment_of(&self.starts_at);
            if at.is_none() {
                problems.push(lang.t("admin-deal-moment-unreadable"));
            }
            at
        };
        let ends_at = moment_of(&self.ends_at);
        match (ends_at, starts_at) {
            (None, _) => problems.push(lang.t("admin-deal-moment-unreadable")),
            (Some(end), Some(start)) if end <= start => {
                problems.push(lang.t("admin-deal-ends-before-start"))
            }
            _ => {}
        }
        match ends_at {
            Some(ends_at) if problems.is_empty() => Ok(Checked {
                prices,
                group_size,
                open_hours,
                max_units,
                starts_at,
                ends_at,
            }),
            _ => Err(problems),
        }
    }
}

/// The shop's currencies, base first.
pub(super) async fn currencies(desk: &Desk) -> Result<Vec<String>, PageError> {
    let profile = desk
        .visit
        .shop_profile(&desk.staff.shop)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let base = profile.base_currency.as_str().to_owned();
    let mut currencies = vec![base.clone()];
    currencies.extend(
        profile
            .currencies
            .iter()
            .map(|c| c.as_str().to_owned())
            .filter(|c| *c != base),
    );
    Ok(currencies)
}

/// The shop's active products' variants, for the menu (`chosen` preselected).
pub(super) async fn variant_choices(
    desk: &Desk,
    chosen: &str,
) -> Result<Vec<ProductChoice>, PageError> {
    let filter = ProductFilter {
        status: Some("active".into()),
        limit: Some(100),
        ..ProductFilter::default()
    };
    let products = desk
        .api()
        .shop_products(desk.caller(), &filter)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let lang = desk.lang;
    Ok(products
        .items
        .iter()
        .map(|product| ProductChoice {
            title: Some(localized(&product.title, lang))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| product.handle.clone()),
            variants: product
                .variants
                .iter()
                .map(|variant| {
                    let title = variant
                        .title
                        .as_ref()
                        .map(|t| localized(t, lang))
                        .unwrap_or_default();
                    let price = prices_text(lang, &variant.prices);
                    let id = variant.id.to_string();
                    VariantChoice {
                        label: if title.is_empty() {
                            format!("{} · {price}", variant.sku)
                        } else {
                            format!("{title} ({}) · {price}", variant.sku)
                        },
                        chosen: id == chosen,
                        id,
                    }
                })
                .collect(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/deal_new.html")]
struct NewPage {
    page: Frame,
    csrf: String,
    products: Vec<ProductChoice>,
    terms: Terms,
    problems: Vec<String>,
}

async fn new_page(
    desk: &mut Desk,
    terms: Terms,
    problems: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let page = NewPage {
        page: desk.frame(desk.t("admin-deal-new"), Section::More),
        csrf: desk.visit.csrf(),
        products: variant_choices(desk, &terms.variant).await?,
        terms,
        problems,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/group-deals/new`.
pub async fn new(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let terms = Terms::blank(&currencies(&desk).await?);
    new_page(&mut desk, terms, Vec::new(), StatusCode::OK).await
}

/// `POST /admin/group-deals`: creates the deal.
pub async fn create(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let terms = Terms::posted(&form, &currencies(&desk).await?);
    let variant = Uuid::parse_str(&terms.variant).ok();
    let checked = terms.check(lang);
    let (Some(variant_id), Ok(checked)) = (variant, &checked) else {
        let mut problems = checked.err().unwrap_or_default();
        if variant.is_none() {
            problems.insert(0, lang.t("admin-deal-choose-variant"));
        }
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return new_page(&mut desk, terms, problems, status).await;
    };
    let deal = NewGroupDeal {
        variant_id,
        prices: checked.prices.clone(),
        group_size: checked.group_size,
        open_hours: checked.open_hours,
        max_units: checked.max_units,
        starts_at: checked.starts_at,
        ends_at: checked.ends_at,
    };
    match desk.api().create_group_deal(desk.caller(), &deal).await {
        Ok(deal) => Ok(desk
            .redirect(&format!("/admin/group-deals/{}?done=created", deal.id))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            let status = Desk::status_of(&failure);
            new_page(&mut desk, terms, problems, status).await
        }
    }
}

// --- a deal ------------------------------------------------------------------

/// A group on its deal's page, with its orders.
struct GroupRow {
    id: String,
    status: String,
    status_label: String,
    joined: String,
    opened: String,
    closes: String,
    orders: Vec<GroupOrderRow>,
}

struct GroupOrderRow {
    id: String,
    name: String,
    status: String,
    status_label: String,
    email: String,
    total: String,
}

impl GroupRow {
    fn new(lang: Lang, group: &Group) -> Self {
        let china = super::orders::china_time;
        Self {
            id: group.id.to_string(),
            status: group.status.clone(),
            status_label: lang.t(&format!("admin-group-status-{}", group.status)),
            joined: lang.t_with(
                "admin-group-joined",
                &[
                    ("joined", group.joined.to_string()),
                    ("size", group.group_size.to_string()),
                    ("held", group.held.to_string()),
                ],
            ),
            opened: china(group.created_at),
            closes: china(
                group
                    .formed_at
                    .or(group.failed_at)
                    .unwrap_or(group.expires_at),
            ),
            orders: group
                .orders
                .iter()
                .map(|order| GroupOrderRow {
                    id: order.id.to_string(),
                    name: format!("#{}", order.number),
                    status_label: lang.t(&format!("status-{}", order.status)),
                    status: order.status.clone(),
                    email: order.email.clone(),
                    total: money::format(order.total, lang),
                })
                .collect(),
        }
    }
}

/// A status tab of the deal's groups.
struct GroupTab {
    status: &'static str,
    label: String,
    count: i64,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/deal.html")]
struct DealPage {
    page: Frame,
    csrf: String,
    deal: GroupDeal,
    row: DealRow,
    starts: String,
    ends: String,
    ended: Option<String>,
    hours: String,
    terms: Terms,
    tabs: Vec<GroupTab>,
    groups: Vec<GroupRow>,
    more_groups: Option<String>,
    problems: Vec<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DealQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

const DONE: [(&str, &str); 3] = [
    ("created", "admin-deal-created"),
    ("saved", "admin-deal-saved"),
    ("ended", "admin-deal-ended"),
];

#[allow(clippy::too_many_arguments)]
async fn deal_page(
    desk: &mut Desk,
    id: Uuid,
    shown: Option<&str>,
    cursor: Option<&str>,
    terms: Option<Terms>,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let deal = desk
        .api()
        .group_deal(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let lang = desk.lang;
    let shown = shown
        .and_then(|s| GROUP_STATUSES.iter().find(|known| **known == s))
        .copied()
        .unwrap_or("forming");
    let groups = desk
        .api()
        .deal_groups(desk.caller(), id, Some(shown), cursor)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    // Each group's orders: the group's own answer carries them.
    let caller = desk.caller();
    let api = desk.api();
    let detailed = futures_util::future::join_all(groups.items.iter().map(|group| async move {
        api.group(caller, group.id)
            .await
            .unwrap_or_else(|_| group.clone())
    }))
    .await;
    let count = |status: &str| match status {
        "forming" => deal.groups.forming,
        "formed" => deal.groups.formed,
        _ => deal.groups.failed,
    };
    let terms = match terms {
        Some(terms) => terms,
        None => Terms::of(&deal, &currencies(desk).await?),
    };
    let page = DealPage {
        page: desk.frame(deal_name(lang, &deal), Section::More),
        csrf: desk.visit.csrf(),
        row: DealRow::new(lang, &deal),
        starts: super::orders::china_time(deal.starts_at),
        ends: super::orders::china_time(deal.ends_at),
        ended: deal.ended_at.map(super::orders::china_time),
        hours: lang.t_with(
            "admin-deal-hours",
            &[("hours", deal.open_hours.to_string())],
        ),
        terms,
        tabs: GROUP_STATUSES
            .iter()
            .map(|status| GroupTab {
                status,
                label: lang.t(&format!("admin-group-status-{status}")),
                count: count(status),
                current: *status == shown,
            })
            .collect(),
        groups: detailed
            .iter()
            .map(|group| GroupRow::new(lang, group))
            .collect(),
        more_groups: groups.next_cursor.map(|cursor| {
            let query = serde_urlencoded::to_string([("status", shown), ("cursor", &cursor)])
                .unwrap_or_default();
            format!("/admin/group-deals/{id}?{query}#groups")
        }),
        problems,
        notice,
        deal,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/group-deals/{id}`: another shop's deal is a 404 page.
pub async fn detail(
    mut desk: Desk,
    id: web::Path<String>,
    query: web::Query<DealQuery>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let done = Done {
        done: query.done.clone(),
    };
    let notice = done.notice(desk.lang, &DONE);
    deal_page(
        &mut desk,
        id,
        query.status.as_deref(),
        query.cursor.as_deref().filter(|c| !c.is_empty()),
        None,
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/group-deals/{id}`: changes the deal's terms (while no group opened).
pub async fn save(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let terms = Terms::posted(&form, &currencies(&desk).await?);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let checked = match terms.check(lang) {
        Ok(checked) => checked,
        Err(problems) => {
            return deal_page(
                &mut desk,
                id,
                None,
                None,
                Some(terms),
                problems,
                None,
                unprocessable,
            )
            .await;
        }
    };
    let changes = GroupDealChanges {
        prices: Some(checked.prices),
        group_size: Some(checked.group_size),
        open_hours: Some(checked.open_hours),
        max_units: Some(checked.max_units),
        starts_at: checked.starts_at,
        ends_at: Some(checked.ends_at),
    };
    match desk
        .api()
        .update_group_deal(desk.caller(), id, &changes)
        .await
    {
        Ok(_) => Ok(desk
            .redirect(&format!("/admin/group-deals/{id}?done=saved"))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            let status = Desk::status_of(&failure);
            deal_page(
                &mut desk,
                id,
                None,
                None,
                Some(terms),
                problems,
                None,
                status,
            )
            .await
        }
    }
}

/// `POST /admin/group-deals/{id}/end`: no new groups; forming ones run their time.
pub async fn end(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    match desk.api().end_group_deal(desk.caller(), id).await {
        Ok(_) => Ok(desk
            .redirect(&format!("/admin/group-deals/{id}?done=ended"))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            let status = Desk::status_of(&failure);
            deal_page(&mut desk, id, None, None, None, problems, None, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(size: &str, hours: &str, start: &str, end: &str) -> Terms {
        Terms {
            variant: String::new(),
            prices: vec![PriceField {
                currency: "CNY".into(),
                value: "59.5".into(),
            }],
            group_size: size.into(),
            open_hours: hours.into(),
            max_units: "10".into(),
            starts_at: start.into(),
            ends_at: end.into(),
        }
    }

    #[test]
    fn terms_are_read_in_china_time_and_within_their_ranges() {
        let checked = terms("3", "24", "", "2026-12-10T20:00")
            .check(Lang::En)
            .expect("valid terms");
        assert_eq!(checked.prices[0].amount, 5950);
        assert_eq!(checked.ends_at.to_rfc3339(), "2026-12-10T12:00:00+00:00");
        assert!(checked.starts_at.is_none());
        for (size, hours) in [
            ("1", "24"),
            ("51", "24"),
            ("3", "0"),
            ("3", "73"),
            ("x", "5"),
        ] {
            assert!(
                terms(size, hours, "", "2026-12-10T20:00")
                    .check(Lang::En)
                    .is_err(),
                "{size} {hours}"
            );
        }
        let backwards = terms("3", "24", "2026-12-11T08:00", "2026-12-10T20:00").check(Lang::En);
        assert_eq!(
            backwards.err(),
            Some(vec![Lang::En.t("admin-deal-ends-before-start")])
        );
    }
}

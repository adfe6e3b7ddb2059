//! Harvest pre-orders (预售): the shop's campaigns with how they are going, a new
//! campaign (a variant, the units promised, the day the harvest ships from, a
//! deposit per currency or payment in full, the days to pay the balance, what an
//! unpaid balance costs, an optional close), a campaign with its pre-orders in
//! order of purchase, and announcing the harvest or calling it off, each after a
//! page that says what it will do.

use super::deals::{ProductChoice, currencies, prices_text, variant_choices};
use super::products::localized;
use super::{Desk, Done, Posted, Section};
use crate::clock::CHINA;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError};
use crate::routes::preorders::day;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Campaign, Failure, Money, NewCampaign};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// The form's field for a moment, China time (`2026-12-05T18:00`).
const MOMENT: &str = "%Y-%m-%dT%H:%M";

fn moment_of(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), MOMENT).ok()?;
    CHINA
        .from_local_datetime(&naive)
        .single()
        .map(|at| at.with_timezone(&Utc))
}

/// Today in China.
fn today() -> NaiveDate {
    crate::clock::in_china(Utc::now()).date_naive()
}

/// "Hami melon · two-pack", in the admin's language.
fn campaign_name(lang: Lang, campaign: &Campaign) -> String {
    let product = localized(&campaign.product_title, lang);
    let product = if product.is_empty() {
        campaign.handle.clone()
    } else {
        product
    };
    match campaign
        .variant_title
        .as_ref()
        .map(|title| localized(title, lang))
    {
        Some(variant) if !variant.is_empty() => format!("{product} · {variant}"),
        _ => product,
    }
}

/// The campaign's refusals in words: a closed harvest, and the fields of its terms.
fn refusal(lang: Lang, failure: &Failure) -> Vec<String> {
    let Failure::Refused { status, problem } = failure else {
        return super::refusal(lang, failure);
    };
    if *status == 409 && problem.code == "campaign_closed" {
        return vec![lang.t("admin-preorder-closed")];
    }
    if problem.errors.is_empty() {
        return super::refusal(lang, failure);
    }
    problem
        .errors
        .iter()
        .map(|error| {
            let field = error.field.as_str();
            if field.starts_with("deposits") {
                lang.t("admin-preorder-deposit-below")
            } else if field == "ships_from" {
                lang.t("admin-preorder-ships-from-past")
            } else if field == "ends_at" {
                lang.t("admin-preorder-ends-past")
            } else if field == "allocation" {
                lang.t("admin-preorder-allocation-range")
            } else if field == "balance_days" {
                lang.t("admin-preorder-balance-days-range")
            } else if field == "variant_id" {
                lang.t("admin-preorder-choose-variant")
            } else if field == "reason" {
                lang.t("admin-preorder-reason-needed")
            } else {
                lang.t_with("refusal-field", &[("field", field.to_owned())])
            }
        })
        .collect()
}

// --- the list ------------------------------------------------------------------

struct CampaignRow {
    id: String,
    name: String,
    sku: String,
    status: String,
    status_label: String,
    allocation: i32,
    sold: i64,
    paid: i64,
    shipped: i64,
    ships_from: String,
    deposit: String,
}

impl CampaignRow {
    fn new(lang: Lang, campaign: &Campaign) -> Self {
        Self {
            id: campaign.id.to_string(),
            name: campaign_name(lang, campaign),
            sku: campaign.sku.clone(),
            status: campaign.status.clone(),
            status_label: lang.t(&format!("admin-preorder-status-{}", campaign.status)),
            allocation: campaign.allocation,
            sold: campaign.sold,
            paid: campaign.paid,
            shipped: campaign.shipped,
            ships_from: day(lang, campaign.ships_from),
            deposit: match &campaign.deposits {
                Some(deposits) => prices_text(lang, deposits),
                None => lang.t("admin-preorder-in-full-short"),
            },
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/preorders.html")]
struct ListPage {
    page: Frame,
    campaigns: Vec<CampaignRow>,
    next: Option<String>,
}

/// `GET /admin/preorders`.
pub async fn list(mut desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let answer = match desk.api().campaigns(desk.caller(), cursor).await {
        Ok(answer) => answer,
        // A made-up cursor: the first page.
        Err(Failure::Refused { status: 422, .. }) => desk
            .api()
            .campaigns(desk.caller(), None)
            .await
            .map_err(|failure| desk.failed(&failure))?,
        Err(failure) => return Err(desk.failed(&failure)),
    };
    let lang = desk.lang;
    let page = ListPage {
        page: desk.frame(desk.t("admin-preorders-title"), Section::More),
        campaigns: answer
            .items
            .iter()
            .map(|campaign| CampaignRow::new(lang, campaign))
            .collect(),
        next: answer.next_cursor.map(|cursor| {
            let query = serde_urlencoded::to_string([("cursor", cursor)]).unwrap_or_default();
            format!("/admin/preorders?{query}")
        }),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

// --- the form --------------------------------------------------------------------

/// A deposit field.
struct DepositField {
    currency: String,
    value: String,
}

/// The campaign's terms as the form holds them.
struct Terms {
    variant: String,
    allocation: String,
    ships_from: String,
    /// `deposit` or `full`.
    payment: String,
    deposits: Vec<DepositField>,
    balance_days: String,
    /// `forfeit` or `refund`.
    policy: String,
    ends_at: String,
}

impl Terms {
    fn blank(currencies: &[String]) -> Self {
        Self {
            variant: String::new(),
            allocation: "100".into(),
            ships_from: String::new(),
            payment: "deposit".into(),
            deposits: currencies
                .iter()
                .map(|currency| DepositField {
                    currency: currency.clone(),
                    value: String::new(),
                })
                .collect(),
            balance_days: "7".into(),
            policy: "forfeit".into(),
            ends_at: String::new(),
        }
    }

    fn posted(form: &Posted, currencies: &[String]) -> Self {
        let choice = |name: &str, known: [&str; 2]| {
            let value = form.get(name);
            if known.contains(&value.as_str()) {
                value
            } else {
                known[0].to_owned()
            }
        };
        Self {
            variant: form.get("variant_id"),
            allocation: form.get("allocation"),
            ships_from: form.get("ships_from"),
            payment: choice("payment", ["deposit", "full"]),
            deposits: currencies
                .iter()
                .map(|currency| DepositField {
                    currency: currency.clone(),
                    value: form.get(&format!("deposit-{currency}")),
                })
                .collect(),
            balance_days: form.get("balance_days"),
            policy: choice("deposit_policy", ["forfeit", "refund"]),
            ends_at: form.get("ends_at"),
        }
    }

    /// The campaign the form asks for, or the sentences saying what is wrong. (The
    /// order service checks again, and the deposits against the variant's prices.)
    fn check(&self, lang: Lang, today: NaiveDate) -> Result<NewCampaign, Vec<String>> {
        let mut problems = Vec::new();
        let variant_id = Uuid::parse_str(&self.variant).ok();
        if variant_id.is_none() {
            problems.push(lang.t("admin-preorder-choose-variant"));
        }
        let allocation = match self.allocation.parse::<i32>() {
            Ok(n) if (1..=1_000_000).contains(&n) => n,
            _ => {
                problems.push(lang.t("admin-preorder-allocation-range"));
                0
            }
        };
        let ships_from = match NaiveDate::parse_from_str(&self.ships_from, "%Y-%m-%d") {
            Ok(date) if date >= today => Some(date),
            Ok(_) => {
                problems.push(lang.t("admin-preorder-ships-from-past"));
                None
            }
            Err(_) => {
                problems.push(lang.t("admin-preorder-ships-from-unreadable"));
                None
            }
        };
        let deposits = if self.payment == "full" {
            None
        } else {
            let mut deposits = Vec::new();
            for deposit in self.deposits.iter().filter(|d| !d.value.is_empty()) {
                match (
                    money::parse_decimal(&deposit.value, &deposit.currency),
                    deposit.currency.parse(),
                ) {
                    (Some(amount), Ok(currency)) if amount > 0 => {
                        deposits.push(Money { amount, currency })
                    }
                    _ => problems.push(lang.t_with(
                        "admin-price-unreadable",
                        &[("currency", deposit.currency.clone())],
                    )),
                }
            }
            if deposits.is_empty() && problems.is_empty() {
                problems.push(lang.t("admin-preorder-deposit-needed"));
            }
            Some(deposits)
        };
        let balance_days = match self.balance_days.parse::<i32>() {
            Ok(n) if (1..=60).contains(&n) => n,
            _ => {
                problems.push(lang.t("admin-preorder-balance-days-range"));
                0
            }
        };
        let ends_at = if self.ends_at.is_empty() {
            None
        } else {
            let at = moment_of(&self.ends_at);
            if at.is_none() {
                problems.push(lang.t("admin-preorder-ends-unreadable"));
            }
            at
        };
        match (variant_id, ships_from) {
            (Some(variant_id), Some(ships_from)) if problems.is_empty() => Ok(NewCampaign {
                variant_id,
                allocation,
                ships_from,
                deposits,
                balance_days,
                deposit_policy: self.policy.clone(),
                ends_at,
            }),
            _ => Err(problems),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/preorder_new.html")]
struct NewPage {
    page: Frame,
    csrf: String,
    products: Vec<ProductChoice>,
    terms: Terms,
    today: String,
    problems: Vec<String>,
}

async fn new_page(
    desk: &mut Desk,
    terms: Terms,
    problems: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let page = NewPage {
        page: desk.frame(desk.t("admin-preorder-new"), Section::More),
        csrf: desk.visit.csrf(),
        products: variant_choices(desk, &terms.variant).await?,
        terms,
        today: today().format("%Y-%m-%d").to_string(),
        problems,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/preorders/new`.
pub async fn new(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let terms = Terms::blank(&currencies(&desk).await?);
    new_page(&mut desk, terms, Vec::new(), StatusCode::OK).await
}

/// `POST /admin/preorders`: opens the campaign.
pub async fn create(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let terms = Terms::posted(&form, &currencies(&desk).await?);
    let campaign = match terms.check(lang, today()) {
        Ok(campaign) => campaign,
        Err(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return new_page(&mut desk, terms, problems, status).await;
        }
    };
    match desk.api().create_campaign(desk.caller(), &campaign).await {
        Ok(made) => Ok(desk
            .redirect(&format!("/admin/preorders/{}?done=created", made.id))
            .await),
        Err(failure) => {
            desk.refused(&failure)?;
            let problems = refusal(lang, &failure);
            let status = Desk::status_of(&failure);
            new_page(&mut desk, terms, problems, status).await
        }
    }
}

// --- a campaign ------------------------------------------------------------------

/// A pre-order on its campaign's page.
struct OrderRow {
    id: String,
    name: String,
    status: String,
    status_label: String,
    email: String,
    total: String,
    placed: String,
}

/// A campaign's facts, as its page and its confirmation pages show them.
struct Facts {
    row: CampaignRow,
    prices: String,
    policy: String,
    balance_days: String,
    ends: Option<String>,
    harvested: Option<String>,
    balance_due: Option<String>,
    called_off: Option<String>,
}

impl Facts {
    fn of(lang: Lang, campaign: &Campaign) -> Self {
        let china = super::orders::china_time;
        Self {
            row: CampaignRow::new(lang, campaign),
            prices: prices_text(lang, &campaign.prices),
            policy: lang.t(&format!(
                "admin-preorder-policy-{}",
                campaign.deposit_policy
            )),
            balance_days: lang.t_with(
                "admin-preorder-days",
                &[("days", campaign.balance_days.to_string())],
            ),
            ends: campaign.ends_at.map(china),
            harvested: campaign.harvested_at.map(china),
            balance_due: campaign.balance_due_at.map(china),
            called_off: campaign.called_off_at.map(china),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/preorder.html")]
struct CampaignPage {
    page: Frame,
    campaign: Campaign,
    facts: Facts,
    orders: Vec<OrderRow>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CampaignQuery {
    #[serde(default)]
    done: Option<String>,
}

const DONE: [(&str, &str); 3] = [
    ("created", "admin-preorder-created"),
    ("harvested", "admin-preorder-harvested-done"),
    ("called-off", "admin-preorder-called-off-done"),
];

/// `GET /admin/preorders/{id}`: another shop's campaign is a 404 page.
pub async fn detail(
    mut desk: Desk,
    id: web::Path<String>,
    query: web::Query<CampaignQuery>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let caller = desk.caller();
    let (campaign, orders) = futures_util::join!(
        desk.api().campaign(caller, id),
        desk.api().campaign_orders(caller, id),
    );
    let campaign = campaign.map_err(|failure| desk.failed(&failure))?;
    let orders = orders.map_err(|failure| desk.failed(&failure))?;
    let lang = desk.lang;
    let notice = Done {
        done: query.done.clone(),
    }
    .notice(lang, &DONE);
    let page = CampaignPage {
        page: desk.frame(campaign_name(lang, &campaign), Section::More),
        facts: Facts::of(lang, &campaign),
        orders: orders
            .iter()
            .map(|order| OrderRow {
                id: order.id.to_string(),
                name: format!("#{}", order.number),
                status_label: lang.t(&format!("status-{}", order.status)),
                status: order.status.clone(),
                email: order.email.clone(),
                total: money::format(order.total, lang),
                placed: super::orders::china_time(order.created_at),
            })
            .collect(),
        notice,
        campaign,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

// --- announcing the harvest, calling it off --------------------------------------

/// What the confirmation page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Harvest,
    CallOff,
}

impl Step {
    fn of(text: &str) -> Option<Self> {
        match text {
            "harvest" => Some(Self::Harvest),
            "call-off" => Some(Self::CallOff),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Harvest => "harvest",
            Self::CallOff => "call-off",
        }
    }
}

#[derive(Template)]
#[template(path = "admin/preorder_confirm.html")]
struct ConfirmPage {
    page: Frame,
    csrf: String,
    campaign: Campaign,
    facts: Facts,
    /// `harvest` or `call-off`.
    step: &'static str,
    explained: String,
    reason: String,
    problems: Vec<String>,
}

async fn confirm_page(
    desk: &mut Desk,
    id: Uuid,
    step: Step,
    reason: String,
    problems: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let campaign = desk
        .api()
        .campaign(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let lang = desk.lang;
    let (title, explained) = match step {
        Step::Harvest => (
            "admin-preorder-announce",
            if campaign.deposits.is_some() {
                lang.t_with(
                    "admin-preorder-announce-explained",
                    &[("days", campaign.balance_days.to_string())],
                )
            } else {
                lang.t("admin-preorder-announce-explained-full")
            },
        ),
        Step::CallOff => (
            "admin-preorder-call-off",
            lang.t_with(
                "admin-preorder-call-off-explained",
                &[("count", campaign.sold.to_string())],
            ),
        ),
    };
    let page = ConfirmPage {
        page: desk.frame(
            format!("{} · {}", lang.t(title), campaign_name(lang, &campaign)),
            Section::More,
        ),
        csrf: desk.visit.csrf(),
        facts: Facts::of(lang, &campaign),
        campaign,
        step: step.name(),
        explained,
        reason,
        problems,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/preorders/{id}/{step}`: what announcing the harvest (`harvest`) or
/// calling it off (`call-off`) will do, with the button that does it.
pub async fn confirm(
    mut desk: Desk,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, step) = path.into_inner();
    let id = desk.id(&id)?;
    let step = Step::of(&step).ok_or_else(|| PageError::not_found(desk.lang))?;
    confirm_page(
        &mut desk,
        id,
        step,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/preorders/{id}/{step}`: announces the harvest or calls it off.
pub async fn act(
    mut desk: Desk,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (id, step) = path.into_inner();
    let id = desk.id(&id)?;
    let step = Step::of(&step).ok_or_else(|| PageError::not_found(desk.lang))?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let reason = form.get("reason");
    let done = match step {
        Step::Harvest => desk
            .api()
            .announce_harvest(desk.caller(), id)
            .await
            .map(|_| "harvested"),
        Step::CallOff if reason.is_empty() || reason.chars().count() > 300 => {
            let problems = vec![lang.t("admin-preorder-reason-needed")];
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return confirm_page(&mut desk, id, step, reason, problems, status).await;
        }
        Step::CallOff => desk
            .api()
            .call_off_harvest(desk.caller(), id, &reason)
            .await
            .map(|_| "called-off"),
    };
    match done {
        Ok(done) => Ok(desk
            .redirect(&format!("/admin/preorders/{id}?done={done}"))
            .await),
        Err(failure) => {
            desk.refused(&failure)?;
            let problems = refusal(lang, &failure);
            let status = Desk::status_of(&failure);
            confirm_page(&mut desk, id, step, reason, problems, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(payment: &str, deposit: &str, ships_from: &str) -> Terms {
        Terms {
            variant: Uuid::nil().to_string(),
            allocation: "500".into(),
            ships_from: ships_from.into(),
            payment: payment.into(),
            deposits: vec![DepositField {
                currency: "CNY".into(),
                value: deposit.into(),
            }],
            balance_days: "7".into(),
            policy: "refund".into(),
            ends_at: String::new(),
        }
    }

    #[test]
    fn a_campaign_takes_a_deposit_or_is_paid_in_full() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        let deposit = terms("deposit", "30", "2027-07-20")
            .check(Lang::En, today)
            .expect("valid terms");
        assert_eq!(deposit.deposits.map(|d| d[0].amount), Some(3000));
        assert_eq!(deposit.deposit_policy, "refund");
        let full = terms("full", "30", "2027-07-20")
            .check(Lang::En, today)
            .expect("valid terms");
        assert!(full.deposits.is_none());
        assert_eq!(
            terms("deposit", "", "2027-07-20")
                .check(Lang::En, today)
                .err(),
            Some(vec![Lang::En.t("admin-preorder-deposit-needed")])
        );
        assert_eq!(
            terms("full", "", "2026-12-04").check(Lang::En, today).err(),
            Some(vec![Lang::En.t("admin-preorder-ships-from-past")])
        );
    }
}

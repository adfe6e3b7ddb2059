//! Shops: the list (search, status, plan), opening one directly, and a shop's page
//! — its use of the plan's quotas (staff, products, orders this month), its audit
//! trail (who, when, why), the plan, and suspending, reinstating or closing it
//! with a required reason and a confirmation step.

use super::Console;
use crate::admin::{Done, Posted};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Money, Plan, ShopAction, Tenant, TenantQuery, Usage};
use serde::Deserialize;
use uuid::Uuid;

const STATUSES: [&str; 3] = ["active", "suspended", "closed"];
const PLANS: [&str; 3] = ["free", "standard", "pro"];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

struct Row {
    id: String,
    name: String,
    slug: String,
    status: String,
    plan: String,
    region: String,
    since: String,
}

#[derive(Template)]
#[template(path = "ops/shops.html")]
struct ListPage {
    page: Frame,
    q: String,
    statuses: Vec<super::Choice>,
    plans: Vec<super::Choice>,
    rows: Vec<Row>,
    next: Option<String>,
}

/// One of the filters, when it is one the list knows.
fn known(value: Option<&str>, known: &[&str]) -> Option<String> {
    value
        .filter(|value| known.contains(value))
        .map(str::to_owned)
}

/// `GET /ops/shops?q=&status=&plan=`.
pub async fn list(
    mut console: Console,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let filter = TenantQuery {
        status: known(query.status.as_deref(), &STATUSES),
        plan: known(query.plan.as_deref(), &PLANS),
        q: query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        cursor: query.cursor.clone(),
        limit: 50,
    };
    let found = console
        .api()
        .tenants(console.caller(), &filter)
        .await
        .map_err(|failure| console.failed(&failure))?;
    let q = filter.q.clone().unwrap_or_default();
    let status = filter.status.clone().unwrap_or_default();
    let plan = filter.plan.clone().unwrap_or_default();
    let next = found.next_cursor.as_ref().map(|cursor| {
        serde_urlencoded::to_string([
            ("q", q.as_str()),
            ("status", status.as_str()),
            ("plan", plan.as_str()),
            ("cursor", cursor),
        ])
        .unwrap_or_default()
    });
    let page = ListPage {
        page: console.frame(console.t("ops-shops"), "shops"),
        rows: found
            .items
            .iter()
            .map(|shop| Row {
                id: shop.id.to_string(),
                name: shop.name.clone(),
                slug: shop.slug.clone(),
                status: shop.status.clone(),
                plan: shop.plan.clone(),
                region: shop.region.clone(),
                since: console.time(shop.created_at),
            })
            .collect(),
        statuses: super::choices(&STATUSES, &status),
        plans: super::choices(&PLANS, &plan),
        q,
        next,
    };
    Ok(console.send(StatusCode::OK, &page).await)
}

#[derive(Template)]
#[template(path = "ops/shop_new.html")]
struct NewPage {
    page: Frame,
    csrf: String,
    plans: Vec<super::Choice>,
    form: NewShop,
    problems: Vec<String>,
}

/// What the new-shop form was sent with.
#[derive(Default)]
struct NewShop {
    name: String,
    slug: String,
    region: String,
    owner_email: String,
    plan: String,
}

async fn new_page(
    console: &mut Console,
    form: NewShop,
    problems: Vec<String>,
    status: StatusCode,
) -> HttpResponse {
    let page = NewPage {
        page: console.frame(console.t("ops-new-shop"), "shops"),
        csrf: console.visit.csrf(),
        plans: super::choices(&PLANS, &form.plan),
        form,
        problems,
    };
    console.send(status, &page).await
}

/// `GET /ops/shops/new`.
pub async fn new(mut console: Console) -> HttpResponse {
    let form = NewShop {
        plan: "free".to_owned(),
        ..NewShop::default()
    };
    new_page(&mut console, form, Vec::new(), StatusCode::OK).await
}

/// `POST /ops/shops`: opens a shop directly; its owner is invited by email.
pub async fn create(
    mut console: Console,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let posted = Posted(form.into_inner());
    console.check_csrf(&posted.get("csrf"))?;
    let form = NewShop {
        name: posted.get("name"),
        slug: posted.get("slug").to_lowercase(),
        region: posted.get("region"),
        owner_email: posted.get("owner_email"),
        plan: posted.get("plan"),
    };
    let made = console
        .api()
        .create_tenant(
            console.caller(),
            &form.name,
            &form.slug,
            &form.region,
            &form.owner_email,
            &form.plan,
        )
        .await;
    match made {
        Ok(shop) => {
            let location = format!("/ops/shops/{}?done=created", shop.id);
            Ok(console.redirect(&location).await)
        }
        Err(failure) => {
            let problems = match &failure {
                caravan_client::Failure::Refused {
                    status: 409,
                    problem,
                } => {
                    let mut problems = vec![console.t("apply-slug-taken")];
                    if !problem.choices.is_empty() {
                        problems.push(format!(
                            "{} {}",
                            console.t("apply-slug-choices"),
                            problem.choices.join(console.lang.list_separator())
                        ));
                    }
                    problems
                }
                _ => console.refused(&failure)?,
            };
            let status = crate::admin::Desk::status_of(&failure);
            Ok(new_page(&mut console, form, problems, status).await)
        }
    }
}

/// A quota and how much of it the shop uses.
struct QuotaRow {
    key: &'static str,
    used: i64,
    /// `None`: the plan does not limit it.
    limit: Option<i32>,
}

impl QuotaRow {
    fn over(&self) -> bool {
        self.limit
            .is_some_and(|limit| self.used >= i64::from(limit))
    }
}

struct AuditRow {
    when: String,
    actor: String,
    action: String,
    reason: String,
    details: String,
}

#[derive(Template)]
#[template(path = "ops/shop.html")]
struct DetailPage {
    page: Frame,
    csrf: String,
    shop: Tenant,
    since: String,
    storefront: String,
    quotas: Vec<QuotaRow>,
    sales: Vec<Money>,
    audit: Vec<AuditRow>,
    plans: Vec<Plan>,
    actions: Vec<&'static str>,
    reason: String,
    problems: Vec<String>,
    notice: Option<String>,
}

/// What an operator may do to a shop in `status`.
fn actions_for(status: &str) -> Vec<&'static str> {
    match status {
        "active" => vec!["suspend", "close"],
        "suspended" => vec!["reinstate", "close"],
        _ => Vec::new(),
    }
}

/// A service's usage, or none when it cannot answer (the page still shows).
fn usage_count(usage: &Option<Usage>, name: &str) -> i64 {
    usage
        .as_ref()
        .and_then(|usage| usage.counts.get(name).copied())
        .unwrap_or(0)
}

async fn detail_page(
    console: &mut Console,
    id: Uuid,
    reason: String,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = console.caller();
    let api = console.api();
    let (shop, plans, audit, staff, products, orders) = futures_util::join!(
        api.tenant(caller, id),
        api.plans(caller),
        api.audit(caller, id, None),
        api.usage(caller, "auth", Some(id)),
        api.usage(caller, "catalog", Some(id)),
        api.usage(caller, "order", Some(id)),
    );
    let shop = shop.map_err(|failure| console.failed(&failure))?;
    let plans = plans.map_err(|failure| console.failed(&failure))?;
    let audit = audit.map_err(|failure| console.failed(&failure))?;
    let (staff, products, orders) = (staff.ok(), products.ok(), orders.ok());
    let plan = plans.iter().find(|plan| plan.code == shop.plan);
    let quotas = vec![
        QuotaRow {
            key: "staff",
            used: usage_count(&staff, "staff"),
            limit: plan.and_then(|plan| plan.max_staff),
        },
        QuotaRow {
            key: "products",
            used: usage_count(&products, "products"),
            limit: plan.and_then(|plan| plan.max_products),
        },
        QuotaRow {
            key: "orders",
            used: usage_count(&orders, "orders_this_month"),
            limit: plan.and_then(|plan| plan.max_orders_per_month),
        },
    ];
    let page = DetailPage {
        page: console.frame(shop.name.clone(), "shops"),
        csrf: console.visit.csrf(),
        since: console.time(shop.created_at),
        storefront: format!("/s/{}/", shop.slug),
        sales: orders.map(|usage| usage.sales).unwrap_or_default(),
        audit: audit
            .items
            .iter()
            .rev()
            .map(|entry| AuditRow {
                when: console.time(entry.created_at),
                actor: entry.actor.clone(),
                action: console
                    .lang
                    .t_known(&format!("ops-audit-{}", entry.action.replace('.', "-")))
                    .unwrap_or_else(|| entry.action.clone()),
                reason: entry.reason.clone().unwrap_or_default(),
                details: if entry.details.as_object().is_some_and(|d| !d.is_empty()) {
                    entry.details.to_string()
                } else {
                    String::new()
                },
            })
            .collect(),
        actions: actions_for(&shop.status),
        shop,
        quotas,
        plans,
        reason,
        problems,
        notice,
    };
    Ok(console.send(status, &page).await)
}

/// `GET /ops/shops/{id}`.
pub async fn detail(
    mut console: Console,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = console.id(&id)?;
    let notice = query.notice(
        console.lang,
        &[
            ("created", "ops-shop-created"),
            ("plan", "ops-plan-changed"),
            ("suspend", "ops-shop-suspended"),
            ("reinstate", "ops-shop-reinstated"),
            ("close", "ops-shop-closed"),
        ],
    );
    detail_page(
        &mut console,
        id,
        String::new(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /ops/shops/{id}/plan`.
pub async fn change_plan(
    mut console: Console,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = console.id(&id)?;
    let form = Posted(form.into_inner());
    console.check_csrf(&form.get("csrf"))?;
    match console
        .api()
        .change_plan(console.caller(), id, &form.get("plan"))
        .await
    {
        Ok(_) => Ok(console
            .redirect(&format!("/ops/shops/{id}?done=plan"))
            .await),
        Err(failure) => {
            let problems = console.refused(&failure)?;
            let status = crate::admin::Desk::status_of(&failure);
            detail_page(&mut console, id, String::new(), problems, None, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "ops/confirm.html")]
struct ConfirmPage {
    page: Frame,
    csrf: String,
    id: String,
    action: &'static str,
    shop: String,
    reason: String,
}

/// `POST /ops/shops/{id}/{suspend|reinstate|close}`: the first sending shows what
/// it will do and asks again; the confirmed one does it.
pub async fn act(
    mut console: Console,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (id, action) = path.into_inner();
    let id = console.id(&id)?;
    let action = ShopAction::parse(&action).ok_or_else(|| PageError::not_found(console.lang))?;
    let form = Posted(form.into_inner());
    console.check_csrf(&form.get("csrf"))?;
    let reason = form.get("reason");
    if reason.is_empty() {
        let problems = vec![console.t("ops-reason-needed")];
        return detail_page(
            &mut console,
            id,
            reason,
            problems,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if form.get("confirmed") != "yes" {
        let shop = console
            .api()
            .tenant(console.caller(), id)
            .await
            .map_err(|failure| console.failed(&failure))?;
        let page = ConfirmPage {
            page: console.frame(
                console.t(&format!("ops-confirm-{}", action.as_str())),
                "shops",
            ),
            csrf: console.visit.csrf(),
            id: id.to_string(),
            action: action.as_str(),
            shop: shop.name,
            reason,
        };
        return Ok(console.send(StatusCode::OK, &page).await);
    }
    match console
        .api()
        .act_on_tenant(console.caller(), id, action, &reason)
        .await
    {
        Ok(_) => {
            let location = format!("/ops/shops/{id}?done={}", action.as_str());
            Ok(console.redirect(&location).await)
        }
        Err(failure) => {
            let problems = match failure.code() {
                Some("invalid_status_change") => vec![console.t("ops-status-changed")],
                _ => console.refused(&failure)?,
            };
            let status = crate::admin::Desk::status_of(&failure);
            detail_page(&mut console, id, reason, problems, None, status).await
        }
    }
}

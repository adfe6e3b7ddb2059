//! Stock: every variant with what is on hand, held by unpaid orders and free to
//! sell; a variant's ledger (every change, who made it and why) and the form to
//! record a change (received, damaged, a count's correction).

use super::today::StockRow;
use super::{Desk, Done, Section};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, StockFilter, StockItem};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    low: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/stock.html")]
struct ListPage {
    page: Frame,
    items: Vec<StockRow>,
    q: String,
    low: bool,
    next: Option<String>,
}

/// `GET /admin/stock`.
pub async fn list(mut desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| q.chars().take(200).collect::<String>());
    let low = query.low.as_deref().is_some_and(|l| !l.is_empty());
    let filter = StockFilter {
        q: q.clone(),
        low_stock: low.then_some(true),
        limit: Some(50),
        cursor: query.cursor.clone().filter(|c| !c.is_empty()),
        ..StockFilter::default()
    };
    let answer = match desk.api().stock(desk.caller(), &filter).await {
        Ok(answer) => answer,
        Err(Failure::Refused { status: 422, .. }) => desk
            .api()
            .stock(desk.caller(), &StockFilter::default())
            .await
            .map_err(|failure| desk.failed(&failure))?,
        Err(failure) => return Err(desk.failed(&failure)),
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(q) = &q {
        pairs.push(("q", q.clone()));
    }
    if low {
        pairs.push(("low", "1".to_owned()));
    }
    let page = ListPage {
        page: desk.frame(desk.t("admin-stock-title"), Section::Stock),
        items: answer
            .items
            .iter()
            .map(|item| StockRow::new(&desk, item))
            .collect(),
        q: q.unwrap_or_default(),
        low,
        next: answer.next_cursor.map(|cursor| {
            pairs.push(("cursor", cursor));
            format!(
                "/admin/stock?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        }),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

struct MovementRow {
    when: String,
    delta: String,
    on_hand: i32,
    reason: String,
    note: String,
    actor: String,
}

#[derive(Template)]
#[template(path = "admin/ledger.html")]
struct LedgerPage {
    page: Frame,
    csrf: String,
    item: StockRow,
    product: String,
    movements: Vec<MovementRow>,
    problems: Vec<String>,
    notice: Option<String>,
    delta: String,
    reason: String,
    note: String,
}

/// The variant's line of the stock list; another shop's variant is not found.
async fn item_of(desk: &Desk, variant: Uuid) -> Result<StockItem, PageError> {
    let filter = StockFilter {
        variant_id: Some(variant),
        ..StockFilter::default()
    };
    desk.api()
        .stock(desk.caller(), &filter)
        .await
        .map_err(|failure| desk.failed(&failure))?
        .items
        .into_iter()
        .next()
        .ok_or_else(|| PageError::not_found(desk.lang))
}

async fn ledger_page(
    desk: &mut Desk,
    variant: Uuid,
    problems: Vec<String>,
    notice: Option<String>,
    typed: (String, String, String),
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let item = item_of(desk, variant).await?;
    let movements = desk
        .api()
        .stock_ledger(desk.caller(), variant)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let row = StockRow::new(desk, &item);
    let page = LedgerPage {
        page: desk.frame(row.title.clone(), Section::Stock),
        csrf: desk.visit.csrf(),
        product: item.product_id.to_string(),
        movements: movements
            .iter()
            .map(|m| MovementRow {
                when: super::orders::china_time(m.created_at),
                delta: if m.delta > 0 {
                    format!("+{}", m.delta)
                } else {
                    m.delta.to_string()
                },
                on_hand: m.on_hand,
                reason: desk
                    .lang
                    .t_known(&format!("admin-reason-{}", m.reason))
                    .unwrap_or_else(|| m.reason.clone()),
                note: m.note.clone().unwrap_or_default(),
                actor: m.actor.clone(),
            })
            .collect(),
        item: row,
        problems,
        notice,
        delta: typed.0,
        reason: typed.1,
        note: typed.2,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/stock/{variant}`: the ledger, newest first, and the change form.
pub async fn ledger(
    mut desk: Desk,
    variant: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let variant = desk.id(&variant)?;
    let notice = query.notice(desk.lang, &[("adjusted", "admin-stock-adjusted")]);
    let typed = (String::new(), "received".to_owned(), String::new());
    ledger_page(
        &mut desk,
        variant,
        Vec::new(),
        notice,
        typed,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /admin/stock/{variant}`: records a change with its reason.
pub async fn adjust(
    mut desk: Desk,
    variant: web::Path<String>,
    form: web::Form<AdjustForm>,
) -> Result<HttpResponse, PageError> {
    let variant = desk.id(&variant)?;
    desk.check_csrf(&form.csrf)?;
    let typed = (form.delta.clone(), form.reason.clone(), form.note.clone());
    let delta = form
        .delta
        .trim()
        .trim_start_matches('+')
        .parse::<i32>()
        .ok()
        .filter(|d| *d != 0);
    let Some(delta) = delta else {
        let problem = desk.t("admin-stock-delta");
        return ledger_page(
            &mut desk,
            variant,
            vec![problem],
            None,
            typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    match desk
        .api()
        .adjust_stock(desk.caller(), variant, delta, form.reason.trim(), note)
        .await
    {
        Ok(_) => Ok(desk
            .redirect(&format!("/admin/stock/{variant}?done=adjusted"))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            ledger_page(
                &mut desk,
                variant,
                problems,
                None,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

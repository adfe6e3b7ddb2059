//! An order's page, reached after checkout or from the link in the order emails
//! (`?token=` carries the order's access token): its status as a timeline, what
//! was bought, where it goes, the shipments with carrier and tracking, and while
//! it waits for payment the ways to pay — the test card gateway, or bank transfer
//! / cash on delivery with the shop's details.

use super::Shop;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError, Visit, render, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, Order, PaymentRequest};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

/// A step of the timeline.
pub struct Step {
    pub label: String,
    pub when: Option<String>,
    pub done: bool,
}

pub struct LineView {
    pub title: String,
    pub quantity: i32,
    pub total: String,
}

pub struct ShipmentView {
    pub carrier: String,
    pub tracking: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    page: Frame,
    action: String,
    csrf: String,
    token: String,
    name: String,
    status: String,
    status_code: String,
    steps: Vec<Step>,
    lines: Vec<LineView>,
    subtotal: String,
    shipping: String,
    total: String,
    address: String,
    rate: String,
    shipments: Vec<ShipmentView>,
    payable: bool,
    /// By when it must be paid, and what happens otherwise (HTML).
    pay_by: String,
    instructions: Option<String>,
    notice: Option<(String, String)>,
    /// The group of a group deal's order.
    group: Option<super::groups::OrderGroupView>,
    /// "Refunded in full: ¥68.00", when everything paid went back.
    refunded_in_full: Option<String>,
    /// The harvest of a pre-order.
    preorder: Option<super::preorders::OrderPreorderView>,
    /// What the card form's button says it pays ("Pay ¥68.00", "Pay deposit ¥30.00").
    pay_button: &'static str,
    pay_amount: String,
    /// Whether bank transfer or cash on delivery may be chosen instead.
    manual: bool,
}

pub fn when(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    let pattern = match lang {
        Lang::ZhCn => "%Y年%m月%d日 %H:%M",
        _ => "%Y-%m-%d %H:%M",
    };
    crate::clock::in_china(at).format(pattern).to_string()
}

fn steps(lang: Lang, order: &Order) -> Vec<Step> {
    let mut steps = vec![Step {
        label: lang.t("status-step-placed"),
        when: Some(when(lang, order.created_at)),
        done: true,
    }];
    match order.status.as_str() {
        "cancelled" | "expired" => steps.push(Step {
            label: lang.t(&format!("status-{}", order.status)),
            when: order.cancelled_at.map(|at| when(lang, at)),
            done: true,
        }),
        status => {
            if let Some(preorder) = &order.preorder {
                // A pre-order: its first payment, the harvest, then paid in full.
                let first = order
                    .payments
                    .iter()
                    .find(|p| p.kind == "payment" && p.status == "succeeded");
                let deposit = preorder.deposit.is_some();
                steps.push(Step {
                    label: lang.t(if deposit {
                        "status-step-deposit"
                    } else {
                        "status-step-paid"
                    }),
                    when: first.map(|p| when(lang, p.created_at)),
                    done: order.paid.amount > 0,
                });
                steps.push(Step {
                    label: lang.t("status-step-harvest"),
                    when: None,
                    done: preorder.harvested,
                });
                if deposit {
                    steps.push(Step {
                        label: lang.t("status-step-balance"),
                        when: order.paid_at.map(|at| when(lang, at)),
                        done: order.paid_at.is_some(),
                    });
                }
            } else {
                steps.push(Step {
                    label: lang.t("status-step-paid"),
                    when: order.paid_at.map(|at| when(lang, at)),
                    done: order.paid_at.is_some(),
                });
            }
            if let Some(group) = &order.group {
                steps.push(Step {
                    label: lang.t("status-step-group-formed"),
                    when: None,
                    done: group.status == "formed",
                });
            }
            steps.push(Step {
                label: lang.t("status-step-shipped"),
                when: order.fulfillments.first().map(|f| when(lang, f.created_at)),
                done: !order.fulfillments.is_empty(),
            });
            steps.push(Step {
                label: lang.t("status-step-delivered"),
                when: None,
                done: status == "delivered",
            });
            if status.ends_with("refunded") {
                steps.push(Step {
                    label: lang.t(&format!("status-{status}")),
                    when: None,
                    done: true,
                });
            }
        }
    }
    steps
}

/// The token that opens `id` for this visitor: the link's, else the session's.
fn token_for(visit: &Visit, id: Uuid, from_link: Option<&str>) -> Option<String> {
    from_link
        .filter(|t| {
            t.len() <= 100
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .or_else(|| {
            visit
                .session
                .as_ref()
                .and_then(|session| session.data.orders.get(&id).cloned())
        })
}

/// `GET /s/{shop}/{lang}/orders/{id}`: the order's page.
pub async fn status(
    mut visit: Visit,
    path: web::Path<(String, String, Uuid)>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, id) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let token = token_for(&visit, id, query.token.as_deref());
    let bearer = visit.bearer().await;
    let order = visit
        .api()
        .order(
            visit.caller().with_bearer(bearer.as_deref()),
            shop.slug(),
            id,
            token.as_deref(),
        )
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let notice = query.outcome.as_deref().and_then(|outcome| match outcome {
        // Paid, but nothing is packed until the group fills.
        "paid" if order.status == "awaiting_group" => {
            Some(("good".to_owned(), shop.lang.t("payment-succeeded-group")))
        }
        // A deposit paid waits for the harvest; a balance paid ships.
        "paid" if order.status == "preordered" => {
            Some(("good".to_owned(), shop.lang.t("payment-succeeded-preorder")))
        }
        "paid" if order.preorder.is_some() => {
            Some(("good".to_owned(), shop.lang.t("payment-succeeded-balance")))
        }
        _ => notice(shop.lang, outcome),
    });
    show(&mut visit, &shop, &order, token.unwrap_or_default(), notice).await
}

fn notice(lang: Lang, outcome: &str) -> Option<(String, String)> {
    let (kind, key) = match outcome {
        "paid" => ("good", "payment-succeeded"),
        "declined" => ("bad", "payment-declined"),
        "insufficient" => ("bad", "payment-insufficient-funds"),
        "timeout" => ("warn", "payment-timed-out"),
        "manual" => ("good", "payment-manual-chosen"),
        "unavailable" => ("bad", "payment-unavailable"),
        _ => return None,
    };
    Some((kind.to_owned(), lang.t(key)))
}

async fn show(
    visit: &mut Visit,
    shop: &Shop,
    order: &Order,
    token: String,
    notice: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let l = shop.lang;
    let address = address_line(&order.shipping_address, l);
    let instructions = order
        .payments
        .iter()
        .rev()
        .find(|p| p.provider == "manual" && p.status == "pending")
        .and_then(|p| p.detail.clone());
    let due = super::preorders::Due::of(order);
    let by = |key: &str, at| super::preorders::isolated(l, key, &[("time", when(l, at))]);
    let (pay_button, pay_amount, pay_by) = match (due, &order.preorder) {
        (Some(super::preorders::Due::Deposit(deposit)), _) => (
            "pay-deposit-button",
            money::format(deposit, l),
            by("pay-by", order.expires_at),
        ),
        // Unpaid by its deadline, the balance costs what the shop's policy says.
        (Some(super::preorders::Due::Balance(balance)), Some(preorder)) => (
            "pay-balance-button",
            money::format(balance, l),
            by(
                if preorder.deposit_policy == "refund" {
                    "preorder-pay-balance-by-refund"
                } else {
                    "preorder-pay-balance-by-forfeit"
                },
                preorder.balance_due_at.unwrap_or(order.expires_at),
            ),
        ),
        _ => (
            "pay-card-button",
            money::format(order.total, l),
            by("pay-by", order.expires_at),
        ),
    };
    let mut page = shop.frame(
        visit,
        l.t_with("order-title", &[("name", order.name.clone())]),
        &format!("/orders/{}", order.id),
    );
    page.noindex = true;
    page.alternates.clear();
    page.canonical = None;
    let body = render(
        l,
        &OrderPage {
            action: format!("{}/orders/{}/pay", shop.root(), order.id),
            csrf: visit.csrf(),
            token,
            name: order.name.clone(),
            status: l.t(&format!("status-{}", order.status)),
            status_code: order.status.clone(),
            steps: steps(l, order),
            lines: order
                .lines
                .iter()
                .map(|line| LineView {
                    title: if line.variant_title.is_empty() {
                        line.title.clone()
                    } else {
                        format!("{} · {}", line.title, line.variant_title)
                    },
                    quantity: line.quantity,
                    total: money::format(line.line_total, l),
                })
                .collect(),
            subtotal: money::format(order.subtotal, l),
            shipping: money::format(order.shipping, l),
            total: money::format(order.total, l),
            address,
            rate: format!(
                "{} · {}",
                order.shipping_rate.zone, order.shipping_rate.name
            ),
            shipments: order
                .fulfillments
                .iter()
                .map(|f| ShipmentView {
                    carrier: f.carrier.clone(),
                    tracking: f.tracking_number.clone(),
                    when: when(l, f.created_at),
                })
                .collect(),
            payable: order.status == "pending_payment"
                || matches!(due, Some(super::preorders::Due::Balance(_))),
            pay_by,
            instructions,
            notice,
            group: order
                .group
                .as_ref()
                .map(|group| super::groups::OrderGroupView::of(visit, shop, group)),
            refunded_in_full: (order.refunded.amount > 0
                && order.refunded.amount >= order.paid.amount)
                .then(|| {
                    l.t_with(
                        "order-refunded-in-full",
                        &[("total", money::format(order.refunded, l))],
                    )
                }),
            preorder: order
                .preorder
                .as_ref()
                .map(|preorder| super::preorders::OrderPreorderView::of(shop, order, preorder)),
            pay_button,
            pay_amount,
            // The balance is paid by card: the shop's staff mark only orders waiting
            // for their first payment as paid.
            manual: order.status == "pending_payment",
            page,
        },
    )?;
    let response = visit.html(StatusCode::OK, body, false);
    Ok(visit.reply(response).await)
}

#[derive(Debug, Deserialize)]
pub struct PayForm {
    #[serde(default)]
    method: String,
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /s/{shop}/{lang}/orders/{id}/pay`: pays by card or chooses bank transfer
/// or cash on delivery, then shows the order with what happened.
pub async fn pay(
    mut visit: Visit,
    path: web::Path<(String, String, Uuid)>,
    form: web::Form<PayForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, id) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let token = token_for(
        &visit,
        id,
        Some(form.token.as_str()).filter(|t| !t.is_empty()),
    );
    let payment = if form.method == "manual" {
        PaymentRequest::Manual
    } else {
        PaymentRequest::Test {
            card_number: form
                .card_number
                .chars()
                .filter(char::is_ascii_digit)
                .take(19)
                .collect(),
        }
    };
    let bearer = visit.bearer().await;
    let paid = visit
        .api()
        .pay(
            visit.caller().with_bearer(bearer.as_deref()),
            shop.slug(),
            id,
            token.as_deref(),
            &payment,
        )
        .await;
    let outcome = match &paid {
        Ok(_) if form.method == "manual" => "manual",
        Ok(_) => "paid",
        Err(Failure::Refused {
            status: 402,
            problem,
        }) => {
            if problem
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("insufficient")
            {
                "insufficient"
            } else {
                "declined"
            }
        }
        Err(Failure::Refused { status: 504, .. }) => "timeout",
        // Already paid (a repeated submit), expired or cancelled: the page says.
        Err(Failure::Refused { status: 409, .. }) => "",
        Err(Failure::Refused { status: 404, .. }) => {
            return Err(PageError::not_found(shop.lang));
        }
        Err(Failure::Refused { .. }) => "declined",
        Err(Failure::Unavailable(_)) => "unavailable",
    };
    // Where the order is shown next: the link's token goes on only when the
    // session does not hold it (an order opened from an email in another browser).
    let mut location = format!("{}/orders/{id}", shop.root());
    let mut query: Vec<(&str, String)> = Vec::new();
    let in_session = visit
        .session
        .as_ref()
        .is_some_and(|session| session.data.orders.contains_key(&id));
    if let (Some(token), false) = (&token, in_session) {
        query.push(("token", token.clone()));
    }
    if !outcome.is_empty() {
        query.push(("outcome", outcome.to_owned()));
    }
    if !query.is_empty() {
        location.push('?');
        location.push_str(&serde_urlencoded::to_string(&query).unwrap_or_default());
    }
    Ok(see_other(&location))
}

/// An address on one line, its parts joined the way `lang` lists (`，` in Chinese,
/// `، ` in Uyghur) and its country named in `lang`.
pub fn address_line(address: &caravan_client::Address, lang: Lang) -> String {
    let a = address;
    let country = super::cart::country_name(lang, &a.country);
    [
        a.recipient.as_str(),
        a.street.as_str(),
        a.district.as_str(),
        a.city.as_str(),
        a.province.as_str(),
        a.postal_code.as_str(),
        country.as_str(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(lang.list_separator())
}

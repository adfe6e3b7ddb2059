//! Harvest pre-orders (预售) on the storefront: the box on a product page with an
//! open campaign (the price, the deposit and what is due later, the day the harvest
//! ships from, the units left and the deposit policy in words), pre-ordering (a
//! cart of its own with one unit of the campaign's variant, then the pre-order
//! checkout), and what an order's page says of its harvest.

use super::Shop;
use super::groups::text_in;
use crate::i18n::Lang;
use crate::money;
use crate::page::{PageError, Visit, see_other};
use crate::session::{CartRef, PreorderCart};
use actix_web::{HttpResponse, web};
use caravan_client::{CartKey, Failure, Money, Order, OrderPreorder, PublicCampaign};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

/// The refusals of a pre-order the product page explains.
pub const REFUSALS: [&str; 2] = ["allocation_sold_out", "campaign_closed"];

/// The sentence for a refused pre-order (`problem` as the API coded it).
pub fn problem_sentence(lang: Lang, problem: &str) -> Option<String> {
    let key = match problem {
        "allocation_sold_out" => "preorder-problem-sold-out",
        "campaign_closed" => "preorder-problem-closed",
        "preorder_unavailable" => "preorder-problem-unavailable",
        _ => return None,
    };
    Some(lang.t(key))
}

/// A day as `lang` writes dates: `2027年07月20日` in Chinese, `2027-07-20` otherwise.
pub fn day(lang: Lang, date: NaiveDate) -> String {
    let pattern = match lang {
        Lang::ZhCn => "%Y年%m月%d日",
        _ => "%Y-%m-%d",
    };
    date.format(pattern).to_string()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The string `key` as HTML with each argument (a price, a date, a count) in its
/// own `<bdi>`, so that it reads whole inside right-to-left text. Everything is
/// escaped; the template shows it with `|safe`.
pub fn isolated(lang: Lang, key: &str, args: &[(&'static str, String)]) -> String {
    let marker = |index: usize| format!("\u{e000}{index}\u{e001}");
    let marked: Vec<(&'static str, String)> = args
        .iter()
        .enumerate()
        .map(|(index, (name, _))| (*name, marker(index)))
        .collect();
    let mut html = escape(&lang.t_with(key, &marked));
    for (index, (_, value)) in args.iter().enumerate() {
        html = html.replace(&marker(index), &format!("<bdi>{}</bdi>", escape(value)));
    }
    html
}

/// The currency a campaign is shown and bought in: the page's when the campaign is
/// priced (and, with deposits, takes one) in it, else its first such.
fn campaign_currency(campaign: &PublicCampaign, wanted: &str) -> Option<String> {
    let sold_in = |code: &str| {
        campaign.prices.iter().any(|p| p.currency.as_str() == code)
            && campaign
                .deposits
                .as_ref()
                .is_none_or(|d| d.iter().any(|p| p.currency.as_str() == code))
    };
    if sold_in(wanted) {
        return Some(wanted.to_owned());
    }
    campaign
        .prices
        .iter()
        .map(|p| p.currency.as_str())
        .find(|code| sold_in(code))
        .map(str::to_owned)
}

fn in_currency(prices: &[Money], currency: &str) -> Option<Money> {
    prices
        .iter()
        .find(|p| p.currency.as_str() == currency)
        .copied()
}

/// The deposit policy in plain words.
fn policy_sentence(lang: Lang, deposit: bool, policy: &str, days: i32) -> String {
    let key = match (deposit, policy) {
        (false, _) => return lang.t("preorder-policy-full"),
        (true, "refund") => "preorder-policy-refund",
        _ => "preorder-policy-forfeit",
    };
    lang.t_with(key, &[("days", days.to_string())])
}

// --- the product page's box --------------------------------------------------------

/// An open campaign in the product page's box.
pub struct PreorderOffer {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub handle: String,
    pub variant: String,
    pub currency: String,
    pub price: String,
    /// "Ships from 2027-07-20", the date in its `<bdi>`.
    pub ships_from: String,
    /// "Deposit ¥30.00 now, balance ¥98.00 and shipping at harvest", or paid in full.
    pub terms: String,
    pub units_left: String,
    pub policy: String,
    pub available: bool,
}

/// The product's open campaigns, ready for its page (none when the API cannot say).
pub async fn offers(
    visit: &Visit,
    shop: &Shop,
    product: Uuid,
    currency: &str,
) -> Vec<PreorderOffer> {
    let campaigns = match visit
        .api()
        .product_campaigns(visit.caller(), shop.slug(), product)
        .await
    {
        Ok(campaigns) => campaigns,
        Err(failure) => {
            tracing::warn!(%failure, "pre-orders not shown");
            return Vec::new();
        }
    };
    let l = shop.lang;
    campaigns
        .iter()
        .filter_map(|campaign| {
            let currency = campaign_currency(campaign, currency)?;
            let price = in_currency(&campaign.prices, &currency)?;
            let deposit = campaign
                .deposits
                .as_deref()
                .and_then(|d| in_currency(d, &currency));
            let terms = match deposit {
                Some(deposit) => isolated(
                    l,
                    "preorder-deposit-terms",
                    &[
                        ("deposit", money::format(deposit, l)),
                        (
                            "balance",
                            money::format(
                                Money {
                                    amount: price.amount - deposit.amount,
                                    ..price
                                },
                                l,
                            ),
                        ),
                    ],
                ),
                None => escape(&l.t("preorder-full-terms")),
            };
            Some(PreorderOffer {
                id: campaign.id.to_string(),
                product_id: campaign.product_id.to_string(),
                variant_id: campaign.variant_id.to_string(),
                handle: campaign.handle.clone(),
                variant: campaign
                    .variant_title
                    .as_ref()
                    .map(|title| text_in(shop, title).0)
                    .unwrap_or_default(),
                price: money::format(price, l),
                ships_from: isolated(
                    l,
                    "preorder-ships-from",
                    &[("date", day(l, campaign.ships_from))],
                ),
                terms,
                units_left: isolated(
                    l,
                    "preorder-units-left",
                    &[("count", campaign.units_left.max(0).to_string())],
                ),
                policy: policy_sentence(
                    l,
                    deposit.is_some(),
                    &campaign.deposit_policy,
                    campaign.balance_days,
                ),
                available: campaign.units_left > 0,
                currency,
            })
        })
        .collect()
}

// --- pre-ordering ------------------------------------------------------------------

/// The product page a pre-order's buyer goes back to, saying why (`?problem=`).
pub fn back_to(shop: &Shop, handle: &str, problem: &str) -> String {
    // Only a handle's characters go in the address (it may come from a form).
    if handle.is_empty()
        || !handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return format!("{}/products", shop.root());
    }
    let query = serde_urlencoded::to_string([("problem", problem)]).unwrap_or_default();
    format!("{}/p/{handle}?{query}#preorder", shop.root())
}

#[derive(Debug, Deserialize)]
pub struct PreorderForm {
    campaign_id: Uuid,
    product_id: Uuid,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /s/{shop}/{lang}/preorder`: a cart of its own with one unit of the
/// campaign's variant (whose stock may be none: a pre-order holds no stock), kept
/// apart from the shop's cart, then the pre-order checkout.
pub async fn start(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<PreorderForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let l = shop.lang;
    let campaigns = visit
        .api()
        .product_campaigns(visit.caller(), shop.slug(), form.product_id)
        .await
        .map_err(|f| PageError::from_failure(l, &f))?;
    let Some(campaign) = campaigns.into_iter().find(|c| c.id == form.campaign_id) else {
        return Ok(see_other(&back_to(&shop, &form.handle, "campaign_closed")));
    };
    if campaign.units_left <= 0 {
        return Ok(see_other(&back_to(
            &shop,
            &campaign.handle,
            "allocation_sold_out",
        )));
    }
    let wanted = shop.currency(&visit, form.currency.as_deref());
    let Some(currency) = campaign_currency(&campaign, &wanted) else {
        return Err(PageError::not_found(l));
    };
    let bearer = visit.bearer().await;
    let caller = visit.caller().with_bearer(bearer.as_deref());
    let cart = visit
        .api()
        .create_cart(caller, shop.slug(), &currency, &shop.content_locale())
        .await
        .map_err(|f| PageError::from_failure(l, &f))?;
    let held = CartRef {
        id: cart.id,
        token: cart.token.clone().unwrap_or_default(),
        currency,
        count: 0,
    };
    let key = CartKey {
        id: held.id,
        token: &held.token,
    };
    match visit
        .api()
        .add_line(caller, shop.slug(), key, campaign.variant_id, 1)
        .await
    {
        Ok(_) => {}
        Err(Failure::Refused { .. }) => {
            return Ok(see_other(&back_to(
                &shop,
                &campaign.handle,
                "preorder_unavailable",
            )));
        }
        Err(failure) => return Err(PageError::from_failure(l, &failure)),
    }
    visit.session_mut().data.preorder_carts.insert(
        shop.slug().to_owned(),
        PreorderCart {
            cart: held,
            campaign_id: campaign.id,
            product_id: campaign.product_id,
            handle: campaign.handle.clone(),
        },
    );
    let response = see_other(&format!("{}/preorder-checkout", shop.root()));
    Ok(visit.reply(response).await)
}

/// What the pre-order checkout says of the harvest.
pub struct CheckoutSummary {
    pub ships_from: String,
    pub terms: String,
    pub policy: String,
}

/// The harvest of a pre-order checkout, or the problem that ends it (the campaign
/// closed or sold out).
pub async fn checkout_summary(
    visit: &Visit,
    shop: &Shop,
    held: &PreorderCart,
) -> Result<CheckoutSummary, &'static str> {
    let campaign = visit
        .api()
        .product_campaigns(visit.caller(), shop.slug(), held.product_id)
        .await
        .map_err(|_| "preorder_unavailable")?
        .into_iter()
        .find(|c| c.id == held.campaign_id)
        .ok_or("campaign_closed")?;
    if campaign.units_left <= 0 {
        return Err("allocation_sold_out");
    }
    let l = shop.lang;
    let currency = held.cart.currency.as_str();
    let price = in_currency(&campaign.prices, currency).ok_or("campaign_closed")?;
    let deposit = campaign
        .deposits
        .as_deref()
        .and_then(|d| in_currency(d, currency));
    Ok(CheckoutSummary {
        ships_from: isolated(
            l,
            "preorder-ships-from",
            &[("date", day(l, campaign.ships_from))],
        ),
        terms: match deposit {
            Some(deposit) => isolated(
                l,
                "preorder-deposit-terms",
                &[
                    ("deposit", money::format(deposit, l)),
                    (
                        "balance",
                        money::format(
                            Money {
                                amount: price.amount - deposit.amount,
                                ..price
                            },
                            l,
                        ),
                    ),
                ],
            ),
            None => escape(&l.t("preorder-full-terms")),
        },
        policy: policy_sentence(
            l,
            deposit.is_some(),
            &campaign.deposit_policy,
            campaign.balance_days,
        ),
    })
}

// --- an order's harvest --------------------------------------------------------------

/// What a payment of the order takes now, when it is a pre-order's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The deposit, at checkout.
    Deposit(Money),
    /// The balance, once the harvest is announced.
    Balance(Money),
}

impl Due {
    /// The pre-order payment `order` is waiting for, if it is one.
    pub fn of(order: &Order) -> Option<Self> {
        let preorder = order.preorder.as_ref()?;
        match order.status.as_str() {
            "pending_payment" => preorder.deposit.map(Self::Deposit),
            "preordered" if preorder.balance_due_at.is_some() && preorder.balance.amount > 0 => {
                Some(Self::Balance(preorder.balance))
            }
            _ => None,
        }
    }
}

/// The harvest of a pre-order, on its page.
pub struct OrderPreorderView {
    /// `waiting` (for its first payment), `preordered`, `balance` (due now),
    /// `shipping`, `called-off`, `lapsed` or `closed`.
    pub state: &'static str,
    /// The heading's sentence ("Pre-ordered — ships from …"), as HTML.
    pub heading: String,
    /// Label and amount pairs: the deposit, what is paid, the balance.
    pub figures: Vec<(String, String)>,
    /// What happens next, or what happened.
    pub says: Option<String>,
}

impl OrderPreorderView {
    pub fn of(shop: &Shop, order: &Order, preorder: &OrderPreorder) -> Self {
        let l = shop.lang;
        let date = day(l, preorder.ships_from);
        let ships = |key: &str| isolated(l, key, &[("date", date.clone())]);
        let status = order.status.as_str();
        let mut figures = Vec::new();
        if let Some(deposit) = preorder.deposit {
            let label = if order.paid.amount > 0 {
                "preorder-deposit-paid"
            } else {
                "preorder-deposit"
            };
            figures.push((l.t(label), money::format(deposit, l)));
        }
        let live = matches!(status, "pending_payment" | "preordered");
        if live
            && preorder.balance.amount > 0
            && (preorder.deposit.is_some() || status != "pending_payment")
        {
            figures.push((
                l.t("preorder-balance-due"),
                money::format(preorder.balance, l),
            ));
        }
        let (state, heading, says) = match status {
            "pending_payment" => ("waiting", ships("preorder-order-pending"), None),
            "preordered" => match preorder.balance_due_at {
                Some(due) if preorder.balance.amount > 0 => (
                    "balance",
                    isolated(
                        l,
                        "preorder-order-balance-now",
                        &[
                            ("balance", money::format(preorder.balance, l)),
                            ("time", super::orders::when(l, due)),
                        ],
                    ),
                    Some(escape(&l.t("preorder-order-harvest-in"))),
                ),
                _ => (
                    "preordered",
                    ships("preorder-order-waiting"),
                    Some(escape(&l.t(if preorder.balance.amount > 0 {
                        "preorder-order-balance-later"
                    } else {
                        "preorder-order-paid-waiting"
                    }))),
                ),
            },
            "cancelled" | "refunded" | "partially_refunded" if preorder.called_off => (
                "called-off",
                ships("preorder-order-heading"),
                Some(escape(&l.t("preorder-order-called-off"))),
            ),
            // Cancelled at its balance's deadline, the balance unpaid.
            "cancelled"
                if order.paid.amount > 0
                    && preorder.balance.amount > 0
                    && preorder.balance_due_at.is_some_and(|due| {
                        order.cancelled_at.is_some_and(|cancelled| cancelled >= due)
                    }) =>
            {
                let kept = order.paid.amount - order.refunded.amount;
                let says = if kept > 0 {
                    isolated(
                        l,
                        "preorder-order-lapsed-kept",
                        &[(
                            "deposit",
                            money::format(
                                Money {
                                    amount: kept,
                                    ..order.paid
                                },
                                l,
                            ),
                        )],
                    )
                } else {
                    escape(&l.t("preorder-order-lapsed-refunded"))
                };
                ("lapsed", ships("preorder-order-heading"), Some(says))
            }
            "paid" => (
                "shipping",
                ships("preorder-order-heading"),
                Some(escape(&l.t("preorder-order-shipping"))),
            ),
            // Shipped, delivered, or cancelled by the shop: the timeline says.
            _ => ("closed", ships("preorder-order-heading"), None),
        };
        Self {
            state,
            heading,
            figures,
            says,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_a_preorder_is_explained() {
        for code in REFUSALS.iter().chain(&["preorder_unavailable"]) {
            for lang in Lang::ALL {
                assert!(problem_sentence(lang, code).is_some(), "{code}");
            }
        }
        assert_eq!(problem_sentence(Lang::En, "<script>"), None);
    }

    fn order(status: &str, harvested: bool) -> Order {
        let money = |amount: i64| serde_json::json!({"amount": amount, "currency": "CNY"});
        let value = serde_json::json!({
            "id": Uuid::nil(), "number": 1, "name": "#1", "status": status, "access_token": null,
            "email": "b@example.cn", "phone": "1", "locale": "en", "currency": "CNY", "lines": [],
            "subtotal": money(12800), "shipping": money(1200), "total": money(14000),
            "paid": money(if status == "pending_payment" { 0 } else { 3000 }), "refunded": money(0),
            "shipping_address": {"recipient": "a", "street": "b", "city": "c", "country": "CN"},
            "shipping_rate": {"name": "n", "zone": "z"}, "note": null, "payment_provider": null,
            "created_at": "2026-12-01T08:00:00Z", "paid_at": null, "cancelled_at": null,
            "expires_at": "2026-12-01T09:00:00Z",
            "preorder": {"campaign_id": Uuid::nil(), "ships_from": "2027-07-20",
                "deposit": money(3000),
                "balance": money(if status == "pending_payment" { 14000 } else { 11000 }),
                "balance_due_at": if harvested { Some("2027-07-27T08:00:00Z") } else { None },
                "harvested": harvested, "called_off": false, "deposit_policy": "forfeit"}
        });
        serde_json::from_value(value).expect("an order")
    }

    #[test]
    fn a_preorder_pays_its_deposit_then_its_balance_once_the_harvest_is_in() {
        let money = |amount| Money {
            amount,
            currency: "CNY".parse().expect("a currency"),
        };
        assert_eq!(
            Due::of(&order("pending_payment", false)),
            Some(Due::Deposit(money(3000)))
        );
        assert_eq!(Due::of(&order("preordered", false)), None);
        assert_eq!(
            Due::of(&order("preordered", true)),
            Some(Due::Balance(money(11000)))
        );
        assert_eq!(Due::of(&order("paid", true)), None);
    }

    #[test]
    fn arguments_sit_in_their_own_bdi_and_everything_is_escaped() {
        let html = isolated(
            Lang::En,
            "preorder-ships-from",
            &[("date", "<2027-07-20>".to_owned())],
        );
        assert!(html.contains("<bdi>&lt;2027-07-20&gt;</bdi>"), "{html}");
        assert!(!html.contains('\u{e000}'));
        assert_eq!(
            day(
                Lang::ZhCn,
                NaiveDate::from_ymd_opt(2027, 7, 20).unwrap_or_default()
            ),
            "2027年07月20日"
        );
    }
}

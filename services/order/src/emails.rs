//! The order emails, in Chinese or English by the order's language: confirmation
//! and new-order notice when an order is placed, the shipped notice with tracking,
//! and the cancellation and refund notices.

use crate::domain::mail_language;
use crate::views::OrderView;
use caravan_shared::domain::Money;
use caravan_shared::mail::Email;
use std::fmt::Write;

/// A moment as buyers in China read it (UTC+8), as the order's page shows it too.
fn china_time(at: chrono::DateTime<chrono::Utc>) -> String {
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(china) => at
            .with_timezone(&china)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        None => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn lines_block(order: &OrderView) -> String {
    let mut block = String::new();
    for line in &order.lines {
        let title = if line.variant_title.is_empty() {
            line.title.clone()
        } else {
            format!("{} ({})", line.title, line.variant_title)
        };
        let _ = writeln!(
            block,
            "  {title} × {} — {}",
            line.quantity,
            line.line_total.format()
        );
    }
    block
}

fn address_block(order: &OrderView) -> String {
    let a = &order.shipping_address;
    [
        a.recipient.as_str(),
        a.street.as_str(),
        a.district.as_str(),
        a.city.as_str(),
        a.province.as_str(),
        a.postal_code.as_str(),
        a.country.as_str(),
    ]
    .iter()
    .filter(|part| !part.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The storefront's language segment for an order's language.
fn page_language(locale: &str) -> &'static str {
    match locale.split('-').next().unwrap_or_default() {
        "zh" => "zh-CN",
        "ug" => "ug",
        "ru" => "ru",
        _ => "en",
    }
}

/// The share page of a group, in the order's language, where friends join it
/// (`{public_url}/s/{shop}/{lang}/g/{group}`).
pub fn group_page(public_url: &str, shop: &str, locale: &str, group: uuid::Uuid) -> String {
    format!(
        "{}/s/{shop}/{}/g/{group}",
        public_url.trim_end_matches('/'),
        page_language(locale)
    )
}

/// The storefront's page of an order, opened by its access token: where the buyer
/// follows it and pays (`{public_url}/s/{shop}/{lang}/orders/{id}?token=…`).
pub fn order_page(public_url: &str, shop: &str, order: &OrderView, token: &str) -> String {
    let lang = page_language(&order.locale);
    format!(
        "{}/s/{shop}/{lang}/orders/{}?token={token}",
        public_url.trim_end_matches('/'),
        order.id
    )
}

/// To the buyer when the order is placed, with the link to the order's page, and
/// for a group order the link to share its group (`share`).
pub fn confirmation(
    order: &OrderView,
    shop: &str,
    instructions: Option<&str>,
    page: &str,
    share: Option<&str>,
) -> Email {
    let lines = lines_block(order);
    let address = address_block(order);
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        let mut body = format!(
            "您好！\n\n感谢您在「{shop}」下单。订单号 {name}。\n\n{lines}\n商品小计：{subtotal}\n运费：{shipping}\n合计：{total}\n\n收货地址：{address}\n\n请在 {expires}（北京时间）前完成付款，逾期订单将自动取消。\n\n查看订单状态、付款：{page}\n",
            name = order.name,
            subtotal = order.subtotal.format(),
            shipping = order.shipping.format(),
            total = order.total.format(),
            expires = china_time(order.expires_at),
        );
        if let Some(instructions) = instructions {
            let _ = write!(body, "\n付款方式：{instructions}\n");
        }
        if let Some(preorder) = &order.preorder {
            let _ = match preorder.deposit {
                Some(deposit) => write!(
                    body,
                    "\n这是预售订单：先付定金 {}，{} 起发货；新季收成后我们会通知您在期限内支付尾款 {}。\n",
                    deposit.format(),
                    preorder.ships_from,
                    order
                        .total
                        .checked_sub(deposit)
                        .unwrap_or(order.total)
                        .format()
                ),
                None => write!(
                    body,
                    "\n这是预售订单：{} 起按下单顺序发货。\n",
                    preorder.ships_from
                ),
            };
        }
        if let (Some(share), Some(group)) = (share, &order.group) {
            let _ = write!(
                body,
                "\n这是拼团订单：付款后，{size} 人在 {until}（北京时间）前付款即成团发货，未成团全额退款。分享给好友一起拼：{share}\n",
                size = group.group_size,
                until = china_time(group.expires_at),
            );
        }
        (format!("{shop} 订单 {} 已收到", order.name), body)
    } else {
        let mut body = format!(
            "Hello,\n\nThank you for your order from {shop}. Your order number is {name}.\n\n{lines}\nSubtotal: {subtotal}\nShipping: {shipping}\nTotal: {total}\n\nShipping to: {address}\n\nPlease pay by {expires} (China time, UTC+8); unpaid orders are cancelled automatically.\n\nFollow and pay for your order: {page}\n",
            name = order.name,
            subtotal = order.subtotal.format(),
            shipping = order.shipping.format(),
            total = order.total.format(),
            expires = china_time(order.expires_at),
        );
        if let Some(instructions) = instructions {
            let _ = write!(body, "\nHow to pay: {instructions}\n");
        }
        if let Some(preorder) = &order.preorder {
            let _ = match preorder.deposit {
                Some(deposit) => write!(
                    body,
                    "\nThis is a pre-order: a deposit of {} now; it ships from {}, and once the harvest is in we will ask you to pay the balance of {} by a deadline.\n",
                    deposit.format(),
                    preorder.ships_from,
                    order
                        .total
                        .checked_sub(deposit)
                        .unwrap_or(order.total)
                        .format()
                ),
                None => write!(
                    body,
                    "\nThis is a pre-order: it ships from {} in order of purchase.\n",
                    preorder.ships_from
                ),
            };
        }
        if let (Some(share), Some(group)) = (share, &order.group) {
            let _ = write!(
                body,
                "\nThis is a group order: once {size} buyers have paid by {until} (China time, UTC+8) the group forms and every order ships; otherwise every order is refunded in full. Share it with friends: {share}\n",
                size = group.group_size,
                until = china_time(group.expires_at),
            );
        }
        (format!("{shop}: order {} received", order.name), body)
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

/// To the shop when an order is placed, in the shop's language.
pub fn new_order_notice(order: &OrderView, shop: &str, to: &str, locale: &str) -> Email {
    let lines = lines_block(order);
    let address = address_block(order);
    let (subject, body) = if mail_language(locale) == "zh-CN" {
        (
            format!("新订单 {}：{}", order.name, order.total.format()),
            format!(
                "「{shop}」收到新订单 {name}。\n\n买家：{email}，{phone}\n{lines}\n合计：{total}\n收货地址：{address}\n{note}",
                name = order.name,
                email = order.email,
                phone = order.phone,
                total = order.total.format(),
                note = order
                    .note
                    .as_deref()
                    .map(|n| format!("买家留言：{n}\n"))
                    .unwrap_or_default(),
            ),
        )
    } else {
        (
            format!("New order {}: {}", order.name, order.total.format()),
            format!(
                "{shop} has a new order, {name}.\n\nBuyer: {email}, {phone}\n{lines}\nTotal: {total}\nShipping to: {address}\n{note}",
                name = order.name,
                email = order.email,
                phone = order.phone,
                total = order.total.format(),
                note = order
                    .note
                    .as_deref()
                    .map(|n| format!("Note from the buyer: {n}\n"))
                    .unwrap_or_default(),
            ),
        )
    };
    Email {
        to: to.to_owned(),
        subject,
        body,
    }
}

/// To the buyer when (part of) the order ships.
pub fn shipped(order: &OrderView, shop: &str, carrier: &str, tracking: &str) -> Email {
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        (
            format!("{shop} 订单 {} 已发货", order.name),
            format!(
                "您好！\n\n您在「{shop}」的订单 {name} 已发货。\n\n承运商：{carrier}\n运单号：{tracking}\n\n{lines}",
                name = order.name,
                lines = lines_block(order),
            ),
        )
    } else {
        (
            format!("{shop}: order {} has shipped", order.name),
            format!(
                "Hello,\n\nYour order {name} from {shop} is on its way.\n\nCarrier: {carrier}\nTracking number: {tracking}\n\n{lines}",
                name = order.name,
                lines = lines_block(order),
            ),
        )
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

/// Why an order was cancelled, as its buyer is told (staff's own reasons are
/// not passed on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Because<'a> {
    /// Not said.
    Unsaid,
    /// Its group did not form in time.
    GroupUnformed,
    /// Its balance was not paid by the deadline; `kept`: the shop kept the deposit.
    BalanceUnpaid { kept: bool },
    /// The harvest was called off, for the shop's reason.
    HarvestCalledOff(&'a str),
}

/// To the buyer when the order is cancelled (with the refund, if any), and why: in
/// Chinese, Uyghur, Russian or English by the order's language (the platform's own
/// reasons, a called-off harvest above all, reach every buyer in their language).
pub fn cancelled(order: &OrderView, shop: &str, refund: Option<Money>, because: Because) -> Email {
    let refund = refund.map(Money::format);
    let (subject, body) = match order.locale.split('-').next().unwrap_or_default() {
        "ug" => cancelled_ug(order, shop, refund, because),
        "ru" => cancelled_ru(order, shop, refund, because),
        _ if mail_language(&order.locale) == "zh-CN" => cancelled_zh(order, shop, refund, because),
        _ => cancelled_en(order, shop, refund, because),
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

fn cancelled_zh(
    order: &OrderView,
    shop: &str,
    refund: Option<String>,
    because: Because,
) -> (String, String) {
    let refund = refund
        .map(|amount| format!("已退款 {amount}，将原路退回。\n"))
        .unwrap_or_default();
    let why = match because {
        Because::Unsaid => String::new(),
        Because::GroupUnformed => "拼团未能在时限内凑齐人数，".to_owned(),
        Because::BalanceUnpaid { kept: true } => {
            "尾款未在截止时间前支付，按店铺定金规则定金不予退还，".to_owned()
        }
        Because::BalanceUnpaid { kept: false } => {
            "尾款未在截止时间前支付，按店铺定金规则定金全额退还，".to_owned()
        }
        Because::HarvestCalledOff(reason) => {
            format!("很抱歉，本季收成取消（{reason}），预售订单全额退款，")
        }
    };
    (
        format!("{shop} 订单 {} 已取消", order.name),
        format!(
            "您好！\n\n{why}您在「{shop}」的订单 {} 已取消。\n{refund}",
            order.name
        ),
    )
}

fn cancelled_ug(
    order: &OrderView,
    shop: &str,
    refund: Option<String>,
    because: Because,
) -> (String, String) {
    let refund = refund
        .map(|amount| format!("{amount} پۇل تۆلىگەن يولىڭىز بىلەن قايتۇرۇلدى.\n"))
        .unwrap_or_default();
    let why = match because {
        Because::Unsaid => String::new(),
        Because::GroupUnformed => "گۇرۇپپا ۋاقتىدا توشمىدى. ".to_owned(),
        Because::BalanceUnpaid { kept: true } => {
            "قالدۇق پۇل ۋاقتىدا تۆلەنمىدى؛ دۇكاننىڭ بەلگىلىمىسى بويىچە ئالدىن تۆلەم قايتۇرۇلمايدۇ. ".to_owned()
        }
        Because::BalanceUnpaid { kept: false } => {
            "قالدۇق پۇل ۋاقتىدا تۆلەنمىدى؛ دۇكاننىڭ بەلگىلىمىسى بويىچە ئالدىن تۆلەم تولۇق قايتۇرۇلىدۇ. ".to_owned()
        }
        Because::HarvestCalledOff(reason) => format!(
            "كەچۈرۈڭ، بۇ مەۋسۇملۇق ھوسۇل ئەمەلدىن قالدۇرۇلدى ({reason})؛ ھەممە ئالدىن زاكاز پۇلى تولۇق قايتۇرۇلىدۇ. "
        ),
    };
    (
        format!("{shop}: {} نومۇرلۇق زاكاز ئەمەلدىن قالدۇرۇلدى", order.name),
        format!(
            "ياخشىمۇسىز!\n\n{why}«{shop}» دىكى {} نومۇرلۇق زاكازىڭىز ئەمەلدىن قالدۇرۇلدى.\n{refund}",
            order.name
        ),
    )
}

fn cancelled_ru(
    order: &OrderView,
    shop: &str,
    refund: Option<String>,
    because: Because,
) -> (String, String) {
    let refund = refund
        .map(|amount| format!("{amount} возвращено тем же способом, которым вы платили.\n"))
        .unwrap_or_default();
    let why = match because {
        Because::Unsaid => String::new(),
        Because::GroupUnformed => "Группа не собралась вовремя. ".to_owned(),
        Because::BalanceUnpaid { kept: true } => {
            "Остаток не был оплачен в срок; по правилам магазина задаток не возвращается. "
                .to_owned()
        }
        Because::BalanceUnpaid { kept: false } => {
            "Остаток не был оплачен в срок; по правилам магазина задаток возвращается полностью. "
                .to_owned()
        }
        Because::HarvestCalledOff(reason) => format!(
            "К сожалению, урожай этого сезона отменён ({reason}); все предзаказы возвращаются полностью. "
        ),
    };
    (
        format!("{shop}: заказ {} отменён", order.name),
        format!(
            "Здравствуйте!\n\n{why}Ваш заказ {} в магазине «{shop}» отменён.\n{refund}",
            order.name
        ),
    )
}

fn cancelled_en(
    order: &OrderView,
    shop: &str,
    refund: Option<String>,
    because: Because,
) -> (String, String) {
    let refund = refund
        .map(|amount| format!("{amount} has been refunded to your original payment method.\n"))
        .unwrap_or_default();
    let why = match because {
        Because::Unsaid => String::new(),
        Because::GroupUnformed => "Your group did not fill up in time, so ".to_owned(),
        Because::BalanceUnpaid { kept: true } => {
            "The balance was not paid by its deadline, so under the shop's deposit policy the deposit is kept and ".to_owned()
        }
        Because::BalanceUnpaid { kept: false } => {
            "The balance was not paid by its deadline, so under the shop's deposit policy the deposit is refunded and ".to_owned()
        }
        Because::HarvestCalledOff(reason) => format!(
            "We are sorry: this season's harvest was called off ({reason}), every pre-order is refunded in full, and "
        ),
    };
    let your = if why.is_empty() { "Your" } else { "your" };
    (
        format!("{shop}: order {} cancelled", order.name),
        format!(
            "Hello,\n\n{why}{your} order {} from {shop} has been cancelled.\n{refund}",
            order.name
        ),
    )
}

/// To the buyer when money is returned.
pub fn refunded(order: &OrderView, shop: &str, amount: Money) -> Email {
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        (
            format!("{shop} 订单 {} 退款 {}", order.name, amount.format()),
            format!(
                "您好！\n\n您在「{shop}」的订单 {} 已退款 {}，累计退款 {}。\n",
                order.name,
                amount.format(),
                order.refunded.format()
            ),
        )
    } else {
        (
            format!(
                "{shop}: refund of {} for order {}",
                amount.format(),
                order.name
            ),
            format!(
                "Hello,\n\n{} has been refunded for your order {} from {shop} ({} refunded in total).\n",
                amount.format(),
                order.name,
                order.refunded.format()
            ),
        )
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

/// To each buyer of a group when it forms: the order is paid in full and ships.
pub fn group_formed(order: &OrderView, shop: &str) -> Email {
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        (
            format!("{shop} 拼团成功：订单 {}", order.name),
            format!(
                "您好！\n\n您在「{shop}」的拼团已凑齐人数，拼团成功。订单 {} 已付款 {}，商家将尽快发货。\n\n{}",
                order.name,
                order.paid.format(),
                lines_block(order)
            ),
        )
    } else {
        (
            format!("{shop}: your group formed, order {}", order.name),
            format!(
                "Hello,\n\nYour group at {shop} is complete. Order {} is paid ({}) and will ship soon.\n\n{}",
                order.name,
                order.paid.format(),
                lines_block(order)
            ),
        )
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

/// To a buyer whose pre-order, paid in full, ships now that the harvest is in.
pub fn harvest_shipping(order: &OrderView, shop: &str) -> Email {
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        (
            format!("{shop} 预售订单 {} 新货已收获，即将发货", order.name),
            format!(
                "您好！\n\n「{shop}」的新季收成已到，您已付清的预售订单 {} 将按下单顺序发货。\n\n{}",
                order.name,
                lines_block(order)
            ),
        )
    } else {
        (
            format!("{shop}: the harvest is in, order {} ships soon", order.name),
            format!(
                "Hello,\n\nThe new harvest at {shop} is in. Your pre-order {}, paid in full, ships in order of purchase.\n\n{}",
                order.name,
                lines_block(order)
            ),
        )
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

/// To a buyer who paid a deposit, when the harvest is in: the balance, its
/// deadline, and the link to pay it.
pub fn balance_due(order: &OrderView, shop: &str, page: &str) -> Email {
    let balance = order.total.checked_sub(order.paid).unwrap_or(order.total);
    let due = order
        .preorder
        .as_ref()
        .and_then(|p| p.balance_due_at)
        .map(china_time)
        .unwrap_or_default();
    let (subject, body) = if mail_language(&order.locale) == "zh-CN" {
        (
            format!(
                "{shop} 预售订单 {} 请支付尾款 {}",
                order.name,
                balance.format()
            ),
            format!(
                "您好！\n\n「{shop}」的新季收成已到。您的预售订单 {} 已付定金 {}，请在 {due}（北京时间）前支付尾款 {}，付清后即按下单顺序发货。逾期未付，订单将按店铺定金规则取消。\n\n支付尾款：{page}\n",
                order.name,
                order.paid.format(),
                balance.format()
            ),
        )
    } else {
        (
            format!(
                "{shop}: pay the balance of {} for order {}",
                balance.format(),
                order.name
            ),
            format!(
                "Hello,\n\nThe new harvest at {shop} is in. Your pre-order {} has a deposit of {} paid; please pay the balance of {} by {due} (China time, UTC+8) and it ships in order of purchase. Unpaid by then, the order is cancelled under the shop's deposit policy.\n\nPay the balance: {page}\n",
                order.name,
                order.paid.format(),
                balance.format()
            ),
        )
    };
    Email {
        to: order.email.clone(),
        subject,
        body,
    }
}

//! Money as a person reads it, one formatter per language: amounts come from the
//! API in minor units and are never floating point on the way to the page.

use crate::i18n::Lang;
use caravan_client::Money;
use caravan_shared::domain::Currency;

fn symbol(lang: Lang, code: &str) -> Option<&'static str> {
    Some(match (lang, code) {
        (Lang::ZhCn | Lang::Ug, "CNY") => "¥",
        (Lang::ZhCn | Lang::Ug, "USD") => "US$",
        (Lang::En, "CNY") => "CN¥",
        (Lang::En, "USD") => "$",
        (Lang::Ru, "CNY") => "CN¥",
        (Lang::Ru, "USD") => "$",
        (_, "KZT") => "₸",
        (_, "EUR") => "€",
        _ => return None,
    })
}

/// Groups the digits of `whole` in threes with `separator`.
fn grouped(whole: u64, separator: &str) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(digit);
    }
    out
}

/// `money` written the way `lang` writes prices: `¥1,234.50` in Chinese and
/// Uyghur, `CN¥1,234.50` in English, `1 234,50 CN¥` in Russian (with no-break
/// spaces); a currency without a symbol is named by its code.
pub fn format(money: Money, lang: Lang) -> String {
    let code = money.currency.as_str();
    let digits = Currency::parse(code).map_or(2, Currency::minor_units);
    let magnitude = money.amount.unsigned_abs();
    let scale = 10_u64.pow(u32::from(digits));
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    let sign = if money.amount < 0 { "-" } else { "" };
    let (group, decimal) = match lang {
        Lang::Ru => ("\u{a0}", ","),
        _ => (",", "."),
    };
    let mut number = grouped(whole, group);
    if digits > 0 {
        number.push_str(decimal);
        number.push_str(&format!("{fraction:0width$}", width = usize::from(digits)));
    }
    match (lang, symbol(lang, code)) {
        (Lang::Ru, Some(symbol)) => format!("{sign}{number}\u{a0}{symbol}"),
        (_, Some(symbol)) => format!("{sign}{symbol}{number}"),
        (Lang::Ru, None) => format!("{sign}{number}\u{a0}{code}"),
        (_, None) => format!("{sign}{code}\u{a0}{number}"),
    }
}

/// The amount as a plain decimal in major units (`68.00`), as schema.org wants it.
pub fn decimal(money: Money) -> String {
    let digits = Currency::parse(money.currency.as_str()).map_or(2, Currency::minor_units);
    let magnitude = money.amount.unsigned_abs();
    let scale = 10_u64.pow(u32::from(digits));
    let sign = if money.amount < 0 { "-" } else { "" };
    if digits == 0 {
        return format!("{sign}{magnitude}");
    }
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = usize::from(digits)
    )
}

/// Minor units of `currency` for a whole number of major units typed by a person
/// (`50` yuan is 5000 fen); `None` when it does not fit.
pub fn minor_units(major: u32, currency: &str) -> Option<i64> {
    let digits = Currency::parse(currency).map_or(2, Currency::minor_units);
    i64::from(major).checked_mul(10_i64.checked_pow(u32::from(digits))?)
}

/// Minor units of `currency` for an amount a person typed (`12`, `12.5`, `12.50`,
/// `12,50`, `1 200.00`); `None` when it is not a plain non-negative amount with at
/// most the currency's decimals, or does not fit.
pub fn parse_decimal(text: &str, currency: &str) -> Option<i64> {
    let digits = u32::from(Currency::parse(currency).map_or(2, Currency::minor_units));
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let plain = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !plain(whole) || !plain(fraction) || fraction.len() > digits as usize {
        return None;
    }
    if cleaned.contains('.') && fraction.is_empty() {
        return None;
    }
    let scale = 10_i64.checked_pow(digits)?;
    let whole: i64 = whole.parse().ok()?;
    let padded = format!("{fraction:0<width$}", width = digits as usize);
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole.checked_mul(scale)?.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: i64, code: &str) -> Money {
        Money {
            amount,
            currency: code.parse().unwrap(),
        }
    }

    #[test]
    fn chinese_and_uyghur_put_the_symbol_first() {
        assert_eq!(format(money(6800, "CNY"), Lang::ZhCn), "¥68.00");
        assert_eq!(
            format(money(123_456_789, "CNY"), Lang::ZhCn),
            "¥1,234,567.89"
        );
        assert_eq!(format(money(1200, "USD"), Lang::ZhCn), "US$12.00");
        assert_eq!(format(money(5, "CNY"), Lang::Ug), "¥0.05");
    }

    #[test]
    fn english_names_the_yuan() {
        assert_eq!(format(money(6800, "CNY"), Lang::En), "CN¥68.00");
        assert_eq!(format(money(99, "USD"), Lang::En), "$0.99");
        assert_eq!(format(money(540_000, "KZT"), Lang::En), "₸5,400.00");
    }

    #[test]
    fn russian_puts_the_symbol_last_with_spaces_and_a_comma() {
        assert_eq!(
            format(money(540_000, "KZT"), Lang::Ru),
            "5\u{a0}400,00\u{a0}₸"
        );
        assert_eq!(format(money(6800, "CNY"), Lang::Ru), "68,00\u{a0}CN¥");
    }

    #[test]
    fn typed_amounts() {
        assert_eq!(parse_decimal("12", "CNY"), Some(1200));
        assert_eq!(parse_decimal("12.5", "CNY"), Some(1250));
        assert_eq!(parse_decimal("12,50", "KZT"), Some(1250));
        assert_eq!(parse_decimal(" 1 200.05 ", "USD"), Some(120_005));
        assert_eq!(parse_decimal("0.01", "CNY"), Some(1));
        assert_eq!(parse_decimal("12.345", "CNY"), None);
        assert_eq!(parse_decimal("-3", "CNY"), None);
        assert_eq!(parse_decimal("12.", "CNY"), None);
        assert_eq!(parse_decimal("", "CNY"), None);
        assert_eq!(parse_decimal("1e3", "CNY"), None);
        assert_eq!(parse_decimal("99999999999999999999", "CNY"), None);
    }

    #[test]
    fn decimals_for_machines() {
        assert_eq!(decimal(money(6800, "CNY")), "68.00");
        assert_eq!(decimal(money(1500, "JPY")), "1500");
        assert_eq!(minor_units(50, "CNY"), Some(5000));
    }

    #[test]
    fn currencies_without_cents_and_without_symbols() {
        assert_eq!(format(money(1500, "JPY"), Lang::En), "JPY\u{a0}1,500");
        assert_eq!(format(money(-250, "USD"), Lang::En), "-$2.50");
        assert_eq!(format(money(100, "UZS"), Lang::Ru), "1,00\u{a0}UZS");
    }
}

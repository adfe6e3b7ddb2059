//! Money as an integer count of a currency's minor units (fen, cents, tiyn).
//!
//! Floats never hold money: a price of 12.50 CNY is `Money { amount: 1250, currency: CNY }`.
//! Arithmetic is checked so that an overflow or a mix of currencies is an error the caller
//! must handle, not a silently wrong total.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use utoipa::openapi::schema::{
    AllOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Circulating ISO 4217 currencies and their number of minor-unit digits.
///
/// Sorted by code so lookups can binary-search and so that `Currency`'s derived ordering,
/// which compares table positions, is alphabetical. Fund codes (BOV, CLF, USN, ...),
/// precious metals and the test codes XTS/XXX are left out: nobody pays for goods in them.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

// `Currency` stores a table position in a `u8`.
const _: () = assert!(CURRENCIES.len() <= 256);

/// An ISO 4217 currency code known to Caravan, such as `CNY`, `KZT` or `USD`.
///
/// Only codes from a built-in list of circulating currencies parse, so a `Currency` is always
/// real and its number of minor-unit digits is always known. It is one byte in size and `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(u8);

impl Currency {
    /// The Chinese yuan, the default currency of a shop.
    pub fn cny() -> Self {
        Self::parse("CNY").unwrap_or(Self(0))
    }

    /// Parses an uppercase three-letter ISO 4217 code; `cny` and unlisted codes are rejected.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        CURRENCIES
            .binary_search_by(|(known, _)| known.cmp(&code))
            .ok()
            .and_then(|index| u8::try_from(index).ok())
            .map(Self)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    /// The three-letter code, e.g. `"CNY"`.
    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    /// How many decimal digits the minor unit has: 2 for CNY (fen), 0 for JPY and KRW,
    /// 3 for KWD.
    pub fn minor_units(self) -> u8 {
        self.entry().1
    }

    fn entry(self) -> (&'static str, u8) {
        // In bounds: only `parse` creates a `Currency`, from a position in the table.
        CURRENCIES[usize::from(self.0)]
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Debug shows the code rather than the table position it is stored as.
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::parse(code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("ISO 4217 currency code."))
            .enum_values(Some(CURRENCIES.iter().map(|(code, _)| *code)))
            .examples(["CNY"])
            .into()
    }
}

impl ToSchema for Currency {}

/// The schema of a `Money` of at least `minimum` minor units (a price that is never
/// negative, a refund of at least one unit).
pub fn money_at_least(description: &str, minimum: i64) -> AllOfBuilder {
    AllOfBuilder::new()
        .description(Some(description))
        .item(Ref::from_schema_name(Money::name()))
        .item(
            ObjectBuilder::new().property(
                "amount",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(minimum)),
            ),
        )
}

/// An amount of money: a whole number of the currency's minor units.
///
/// Any `i64` amount is valid, including negative ones for refunds and adjustments.
/// Serialised as `{"amount": 1250, "currency": "CNY"}`; unknown fields are rejected so a
/// client sending `"value"` or `"price"` hears about it instead of being charged zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"amount": 1250, "currency": "CNY"})))]
pub struct Money {
    /// Amount in minor units of the currency: 1250 with CNY is 12.50 yuan.
    #[schema(example = 1250)]
    pub amount: i64,
    /// ISO 4217 currency code.
    pub currency: Currency,
}

impl Money {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Nothing, in `currency`; the starting point of a total.
    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// `self + other`, failing on different currencies or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|amount| Money::new(amount, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, failing on different currencies or overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        let currency = self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|amount| Money::new(amount, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The price of `quantity` items at `self` each, failing on overflow.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(quantity)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Adds up `amounts`, all of which must be in `currency`; an empty list sums to zero.
    pub fn sum<I>(amounts: I, currency: Currency) -> Result<Money, MoneyError>
    where
        I: IntoIterator<Item = Money>,
    {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.amount < 0
    }

    /// Human-readable text such as `"12.50 CNY"`, `"-0.05 USD"` or `"1500 JPY"`.
    ///
    /// Meant for emails and logs only: APIs carry the structured form, and clients format it
    /// for their own locale. That is also why `Money` does not implement `Display`.
    pub fn format(self) -> String {
        let digits = self.currency.minor_units();
        if digits == 0 {
            return format!("{} {}", self.amount, self.currency);
        }
        // `unsigned_abs` so that i64::MIN has a magnitude too.
        let magnitude = self.amount.unsigned_abs();
        let scale = 10_u64.pow(u32::from(digits));
        let sign = if self.is_negative() { "-" } else { "" };
        format!(
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency,
            width = usize::from(digits),
        )
    }

    fn same_currency(self, other: Money) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

/// Why a currency could not be parsed or two amounts could not be combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not an uppercase ISO 4217 code of a currency Caravan knows.
    #[error(
        "`{0}` is not a known ISO 4217 currency code; expected three uppercase letters such as CNY"
    )]
    UnknownCurrency(String),
    /// The two amounts are in different currencies; converting is never implicit.
    #[error("cannot combine an amount in {left} with an amount in {right}")]
    CurrencyMismatch {
        /// Currency of the left-hand amount.
        left: Currency,
        /// Currency of the right-hand amount.
        right: Currency,
    },
    /// The result does not fit in 64 bits of minor units.
    #[error("the amount is too large")]
    Overflow,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    fn yuan(amount: i64) -> Money {
        Money::new(amount, cny())
    }

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        assert!(CURRENCIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for (code, digits) in CURRENCIES {
            assert_eq!(code.len(), 3, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()), "{code}");
            assert!(*digits <= 3, "{code}");
        }
    }

    #[test]
    fn parses_common_currencies() {
        for code in [
            "CNY", "USD", "EUR", "KZT", "RUB", "GBP", "JPY", "HKD", "KRW", "UZS", "KGS", "TJS",
            "MNT", "PKR", "AED", "TRY", "INR", "SGD", "AUD", "CAD", "CHF",
        ] {
            let currency = Currency::parse(code).unwrap();
            assert_eq!(currency.as_str(), code);
            assert_eq!(currency.to_string(), code);
            assert_eq!(code.parse::<Currency>().unwrap(), currency);
        }
    }

    #[test]
    fn rejects_invalid_codes() {
        for code in ["cny", "Cny", "XYZ", "CN", "CNYY", "", " CNY", "XXX", "XTS"] {
            assert_eq!(
                Currency::parse(code),
                Err(MoneyError::UnknownCurrency(code.to_owned())),
                "{code:?}"
            );
        }
    }

    #[test]
    fn knows_minor_units() {
        let digits = |code| Currency::parse(code).unwrap().minor_units();
        assert_eq!(digits("CNY"), 2);
        assert_eq!(digits("USD"), 2);
        assert_eq!(digits("KZT"), 2);
        assert_eq!(digits("JPY"), 0);
        assert_eq!(digits("KRW"), 0);
        assert_eq!(digits("KWD"), 3);
    }

    #[test]
    fn currency_is_compact_and_ordered_by_code() {
        assert_eq!(std::mem::size_of::<Currency>(), 1);
        let mut codes = ["USD", "CNY", "KZT", "AED"].map(|c| Currency::parse(c).unwrap());
        codes.sort();
        assert_eq!(codes.map(Currency::as_str), ["AED", "CNY", "KZT", "USD"]);
        assert_eq!(format!("{:?}", cny()), "Currency(CNY)");
    }

    #[test]
    fn money_serde_round_trip() {
        let price = yuan(1250);
        let value = serde_json::to_value(price).unwrap();
        assert_eq!(value, json!({"amount": 1250, "currency": "CNY"}));
        assert_eq!(serde_json::from_value::<Money>(value).unwrap(), price);
    }

    #[test]
    fn money_deserialization_validates() {
        let unknown_field = json!({"amount": 1, "currency": "CNY", "value": 1.0});
        let err = serde_json::from_value::<Money>(unknown_field).unwrap_err();
        assert!(err.to_string().contains("unknown field `value`"), "{err}");

        let lowercase = json!({"amount": 1, "currency": "cny"});
        let err = serde_json::from_value::<Money>(lowercase).unwrap_err();
        assert!(err.to_string().contains("`cny` is not a known"), "{err}");

        let float = json!({"amount": 12.5, "currency": "CNY"});
        assert!(serde_json::from_value::<Money>(float).is_err());

        assert!(serde_json::from_value::<Money>(json!({"amount": 1})).is_err());
    }

    #[test]
    fn adds_subtracts_and_multiplies() {
        assert_eq!(yuan(1250).checked_add(yuan(50)), Ok(yuan(1300)));
        assert_eq!(yuan(1250).checked_sub(yuan(1300)), Ok(yuan(-50)));
        assert_eq!(yuan(1250).checked_mul(3), Ok(yuan(3750)));
        assert_eq!(yuan(1250).checked_mul(0), Ok(yuan(0)));
        assert!(yuan(-1).is_negative());
        assert!(!Money::zero(cny()).is_negative());
    }

    #[test]
    fn refuses_to_mix_currencies() {
        let usd = Currency::parse("USD").unwrap();
        let mismatch = MoneyError::CurrencyMismatch {
            left: cny(),
            right: usd,
        };
        assert_eq!(
            yuan(1).checked_add(Money::new(1, usd)),
            Err(mismatch.clone())
        );
        assert_eq!(
            yuan(1).checked_sub(Money::new(1, usd)),
            Err(mismatch.clone())
        );
        assert_eq!(
            mismatch.to_string(),
            "cannot combine an amount in CNY with an amount in USD"
        );
    }

    #[test]
    fn reports_overflow() {
        assert_eq!(
            yuan(i64::MAX).checked_add(yuan(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            yuan(i64::MIN).checked_sub(yuan(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(yuan(i64::MAX).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(yuan(i64::MIN).checked_mul(-1), Err(MoneyError::Overflow));
        assert_eq!(
            Money::sum([yuan(i64::MAX), yuan(1)], cny()),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn sums() {
        assert_eq!(
            Money::sum([yuan(1250), yuan(250), yuan(-500)], cny()),
            Ok(yuan(1000))
        );
        assert_eq!(Money::sum([], cny()), Ok(Money::zero(cny())));
        let usd = Currency::parse("USD").unwrap();
        assert!(matches!(
            Money::sum([yuan(1)], usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn formats_for_people() {
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(yuan(1250).format(), "12.50 CNY");
        assert_eq!(yuan(5).format(), "0.05 CNY");
        assert_eq!(yuan(0).format(), "0.00 CNY");
        assert_eq!(yuan(-1250).format(), "-12.50 CNY");
        assert_eq!(yuan(-5).format(), "-0.05 CNY");
        assert_eq!(Money::new(1500, jpy).format(), "1500 JPY");
        assert_eq!(Money::new(-1500, jpy).format(), "-1500 JPY");
        assert_eq!(Money::new(1005, kwd).format(), "1.005 KWD");
        assert_eq!(yuan(i64::MIN).format(), "-92233720368547758.08 CNY");
    }

    #[test]
    fn schemas_describe_the_wire_format() {
        let currency = serde_json::to_value(Currency::schema()).unwrap();
        assert_eq!(currency["type"], "string");
        assert_eq!(currency["enum"][0], "AED");
        assert!(
            currency["enum"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("KZT"))
        );
        assert_eq!(currency["examples"], json!(["CNY"]));

        let money = serde_json::to_value(Money::schema()).unwrap();
        assert_eq!(
            money["examples"],
            json!([{"amount": 1250, "currency": "CNY"}])
        );
        assert_eq!(money["required"], json!(["amount", "currency"]));
        let mut referenced = Vec::new();
        <Money as ToSchema>::schemas(&mut referenced);
        assert!(referenced.iter().any(|(name, _)| name == "Currency"));
    }
}

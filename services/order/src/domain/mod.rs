//! The order service's domain: values that cannot be invalid, the order's state
//! machine, shipping zones and the totals of a checkout.

pub mod authorisation;
pub mod group;
pub mod payment;
pub mod preorder;
pub mod reporting;
pub mod shipping;
pub mod status;

use caravan_shared::domain::text::line;
use caravan_shared::error::FieldError;
use serde::{Deserialize, Serialize};

pub use authorisation::{AuthorisationStatus, Settled};
pub use group::{DealStatus, DealTerms, GroupStatus, TermsInput};
pub use payment::{PaymentKind, PaymentStatus};
pub use preorder::{CampaignInput, CampaignStatus, CampaignTerms, DepositPolicy};
pub use status::{Action, IllegalTransition, OrderStatus, Shipping, Transition};

/// Most units of one variant in a cart.
pub const MAX_QUANTITY: i32 = 10_000;
/// Most lines in a cart.
pub const MAX_LINES: usize = 100;

/// The value of a field's check, or `None` with its problem added to `errors`: a
/// form's every invalid field is named at once.
pub fn collect<T>(errors: &mut Vec<FieldError>, checked: Result<T, FieldError>) -> Option<T> {
    checked.map_err(|error| errors.push(error)).ok()
}

/// Where an order goes, as the buyer typed it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"}))]
pub struct AddressInput {
    /// ISO 3166-1 alpha-2 country code, in capitals (`CN`, `KZ`, …).
    #[schema(value_type = caravan_shared::domain::CountryCode)]
    pub country: String,
    /// Province, region or state (at most 100 characters).
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub province: String,
    /// City (1 to 100 characters).
    // The patterns refuse control characters; a required field also needs a
    // character that is not a space, since the check trims first.
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub city: String,
    /// District or county (at most 100 characters).
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub district: String,
    /// Street, building and room (1 to 300 characters).
    #[schema(
        max_length = 300,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub street: String,
    /// Postal code: up to 20 letters, digits, spaces and hyphens.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9 -]{0,20}$")]
    pub postal_code: String,
    /// Who receives the parcel (1 to 100 characters).
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub recipient: String,
}

/// A checked shipping address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"}))]
pub struct Address {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Province, region or state.
    pub province: String,
    /// City.
    pub city: String,
    /// District or county.
    pub district: String,
    /// Street, building and room.
    pub street: String,
    /// Postal code.
    pub postal_code: String,
    /// Who receives the parcel.
    pub recipient: String,
}

impl Address {
    /// Checks every field, collecting each problem under `prefix.field`.
    pub fn parse(input: &AddressInput, prefix: &str, errors: &mut Vec<FieldError>) -> Option<Self> {
        let field = |name: &str| format!("{prefix}.{name}");
        let country = collect(
            errors,
            caravan_shared::domain::check_country_code(&input.country, field("country")),
        );
        let mut part = |name: &str, raw: &str, min: usize, max: usize| {
            collect(errors, line(raw, &field(name), min, max))
        };
        let province = part("province", &input.province, 0, 100);
        let city = part("city", &input.city, 1, 100);
        let district = part("district", &input.district, 0, 100);
        let street = part("street", &input.street, 1, 300);
        let postal_code = part("postal_code", &input.postal_code, 0, 20);
        let recipient = part("recipient", &input.recipient, 1, 100);
        if let Some(code) = &postal_code
            && !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            errors.push(FieldError::new(
                field("postal_code"),
                "may hold letters, digits, spaces and hyphens only",
            ));
        }
        Some(Self {
            country: country.map(|()| input.country.clone())?,
            province: province?,
            city: city?,
            district: district?,
            street: street?,
            postal_code: postal_code?,
            recipient: recipient?,
        })
    }
}

/// The language of an order's emails: Chinese for Chinese locales, English otherwise.
pub fn mail_language(locale: &str) -> &'static str {
    if locale.starts_with("zh") || locale == "ug" {
        "zh-CN"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AddressInput {
        AddressInput {
            country: "CN".into(),
            province: "上海市".into(),
            city: "上海市".into(),
            district: "浦东新区".into(),
            street: "世纪大道 100 号".into(),
            postal_code: "200120".into(),
            recipient: "王芳".into(),
        }
    }

    #[test]
    fn addresses_are_checked_field_by_field() {
        let mut errors = Vec::new();
        let address = Address::parse(&input(), "shipping_address", &mut errors).unwrap();
        assert_eq!(address.country, "CN");
        assert!(errors.is_empty());

        for country in ["cn", "XK", " CN"] {
            let mut other = input();
            other.country = country.into();
            let mut errors = Vec::new();
            assert!(Address::parse(&other, "shipping_address", &mut errors).is_none());
            assert_eq!(errors[0].field, "shipping_address.country", "{country:?}");
        }

        let mut bad = input();
        bad.country = "China".into();
        bad.street = "  ".into();
        let mut errors = Vec::new();
        assert!(Address::parse(&bad, "shipping_address", &mut errors).is_none());
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["shipping_address.country", "shipping_address.street"]
        );
    }
}

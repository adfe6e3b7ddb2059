//! Shipping zones: where a shop ships, and what it costs by weight.

use super::Address;
use crate::schemas;
use caravan_shared::domain::{Currency, Money};
use caravan_shared::error::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AllOfBuilder, OneOfBuilder};
use uuid::Uuid;

/// A rate as sent by staff.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "SF Express 顺丰, up to 1 kg", "min_weight_grams": 0, "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}}))]
pub struct RateInput {
    /// What the buyer sees, e.g. "SF Express 顺丰" (1 to 100 characters).
    #[schema(max_length = 100, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub name: String,
    /// The band starts here (inclusive).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_weight_grams: i32,
    /// The band ends below this weight, which must be more than `min_weight_grams`;
    /// absent for no limit.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub max_weight_grams: Option<i32>,
    /// What shipping costs in this band (0 or more).
    #[schema(schema_with = rate_price_schema)]
    pub price: Money,
}

fn rate_price_schema() -> AllOfBuilder {
    schemas::money_at_least("What shipping costs in this band (0 or more).", 0)
}

fn threshold_schema() -> OneOfBuilder {
    schemas::or_null(schemas::money_at_least(
        "Orders whose subtotal reaches this ship free (0 or more, in the rates' currency).",
        0,
    ))
}

/// A zone as sent by staff.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Mainland China", "countries": ["CN"], "provinces": [],
    "free_shipping_threshold": {"amount": 19900, "currency": "CNY"},
    "rates": [
        {"name": "SF Express, up to 1 kg", "min_weight_grams": 0, "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}},
        {"name": "SF Express, 1 kg and more", "min_weight_grams": 1000, "price": {"amount": 2500, "currency": "CNY"}}
    ]
}))]
pub struct ZoneInput {
    /// The zone's name (1 to 100 characters).
    // Something besides spaces, which the check trims (U+0085 is one to Rust's
    // `trim` though not to ECMA's `\s`), and no NUL, which PostgreSQL refuses.
    #[schema(max_length = 100, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub name: String,
    /// 1 to 250 ISO 3166-1 alpha-2 codes; several countries make a cross-border zone.
    #[schema(value_type = Vec<caravan_shared::domain::CountryCode>, min_items = 1, max_items = 250)]
    pub countries: Vec<String>,
    /// Only these provinces (matched by name, 1 to 100 characters each); empty for
    /// the whole countries.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub provinces: Vec<String>,
    /// Orders whose subtotal reaches this ship free.
    #[serde(default)]
    #[schema(schema_with = threshold_schema)]
    pub free_shipping_threshold: Option<Money>,
    /// Rates by weight band (1 to 20); every price in one currency.
    #[schema(min_items = 1, max_items = 20)]
    pub rates: Vec<RateInput>,
}

/// A weight band and its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-6a00-7000-8000-000000000001", "name": "SF Express, up to 1 kg",
    "min_weight_grams": 0, "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}
}))]
pub struct Rate {
    /// The rate's id.
    pub id: Uuid,
    /// What the buyer sees.
    pub name: String,
    /// The band starts here (inclusive).
    pub min_weight_grams: i32,
    /// The band ends below this weight; `null` for no limit.
    pub max_weight_grams: Option<i32>,
    /// What shipping costs in this band.
    pub price: Money,
}

impl Rate {
    /// Whether a parcel of `grams` falls in the band.
    pub fn fits(&self, grams: i64) -> bool {
        grams >= i64::from(self.min_weight_grams)
            && self
                .max_weight_grams
                .is_none_or(|max| grams < i64::from(max))
    }
}

/// A checked zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The zone's id.
    pub id: Uuid,
    /// The zone's name.
    pub name: String,
    /// Countries it covers.
    pub countries: Vec<String>,
    /// Provinces it is limited to (empty: all).
    pub provinces: Vec<String>,
    /// The currency of its prices.
    pub currency: Currency,
    /// Free shipping from this subtotal.
    pub free_shipping_threshold: Option<Money>,
    /// Its rates.
    pub rates: Vec<Rate>,
}

fn same_place(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Zone {
    /// Checks staff input; every problem is reported with its field.
    pub fn parse(id: Uuid, input: &ZoneInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if input.countries.is_empty() || input.countries.len() > 250 {
            errors.push(FieldError::new("countries", "must list 1 to 250 countries"));
        }
        let mut countries = Vec::new();
        for (index, raw) in input.countries.iter().enumerate() {
            match caravan_shared::domain::check_country_code(raw, format!("countries[{index}]")) {
                Ok(()) if !countries.contains(raw) => countries.push(raw.clone()),
                Ok(()) => {}
                Err(error) => errors.push(error),
            }
        }
        let mut provinces = Vec::new();
        for (index, raw) in input.provinces.iter().enumerate() {
            let province = raw.trim();
            if province.is_empty() || province.chars().count() > 100 {
                errors.push(FieldError::new(
                    format!("provinces[{index}]"),
                    "must be 1 to 100 characters",
                ));
            } else {
                provinces.push(province.to_owned());
            }
        }
        if input.rates.is_empty() || input.rates.len() > 20 {
            errors.push(FieldError::new("rates", "must hold 1 to 20 rates"));
        }
        let currency = input
            .rates
            .first()
            .map(|rate| rate.price.currency)
            .or(input.free_shipping_threshold.map(|m| m.currency));
        let mut rates = Vec::new();
        for (index, rate) in input.rates.iter().enumerate() {
            let field = |name: &str| format!("rates[{index}].{name}");
            let rate_name = rate.name.trim();
            if rate_name.is_empty() || rate_name.chars().count() > 100 {
                errors.push(FieldError::new(
                    field("name"),
                    "must be 1 to 100 characters",
                ));
            }
            if rate.min_weight_grams < 0 {
                errors.push(FieldError::new(
                    field("min_weight_grams"),
                    "must be 0 or more",
                ));
            }
            if rate
                .max_weight_grams
                .is_some_and(|max| max <= rate.min_weight_grams)
            {
                errors.push(FieldError::new(
                    field("max_weight_grams"),
                    "must be more than min_weight_grams",
                ));
            }
            if rate.price.amount < 0 {
                errors.push(FieldError::new(field("price.amount"), "must be 0 or more"));
            }
            if Some(rate.price.currency) != currency {
                errors.push(FieldError::new(
                    field("price.currency"),
                    "every rate of a zone must be in the same currency",
                ));
            }
            rates.push(Rate {
                id: Uuid::now_v7(),
                name: rate_name.to_owned(),
                min_weight_grams: rate.min_weight_grams,
                max_weight_grams: rate.max_weight_grams,
                price: rate.price,
            });
        }
        if let Some(threshold) = input.free_shipping_threshold {
            if threshold.amount < 0 {
                errors.push(FieldError::new(
                    "free_shipping_threshold.amount",
                    "must be 0 or more",
                ));
            }
            if Some(threshold.currency) != currency {
                errors.push(FieldError::new(
                    "free_shipping_threshold.currency",
                    "must be the currency of the rates",
                ));
            }
        }
        match (errors.is_empty(), currency) {
            (true, Some(currency)) => Ok(Self {
                id,
                name: name.to_owned(),
                countries,
                provinces,
                currency,
                free_shipping_threshold: input.free_shipping_threshold,
                rates,
            }),
            _ => Err(errors),
        }
    }

    /// Whether the zone ships to `country` (and `province`, when it names provinces).
    pub fn covers(&self, country: &str, province: &str) -> bool {
        self.countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(country))
            && (self.provinces.is_empty() || self.provinces.iter().any(|p| same_place(p, province)))
    }

    /// The rate's price for an order of `subtotal` (free over the threshold).
    pub fn price(&self, rate: &Rate, subtotal: Money) -> Money {
        match self.free_shipping_threshold {
            Some(threshold)
                if threshold.currency == subtotal.currency
                    && subtotal.amount >= threshold.amount =>
            {
                Money::zero(rate.price.currency)
            }
            _ => rate.price,
        }
    }
}

/// A way to ship a cart to an address, with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "rate_id": "0193a7c4-6a00-7000-8000-000000000002", "zone": "Mainland China",
    "name": "SF Express, 1 kg and more", "price": {"amount": 2500, "currency": "CNY"}
}))]
pub struct ShippingOption {
    /// The rate to send as `shipping_rate_id` at checkout.
    pub rate_id: Uuid,
    /// The zone's name.
    pub zone: String,
    /// The rate's name.
    pub name: String,
    /// What shipping costs for this cart (0 over the free-shipping threshold).
    pub price: Money,
}

/// The options for a parcel of `grams` worth `subtotal` going to `address`, cheapest first.
pub fn options(
    zones: &[Zone],
    address: (&str, &str),
    grams: i64,
    subtotal: Money,
) -> Vec<ShippingOption> {
    let mut found: Vec<ShippingOption> = zones
        .iter()
        .filter(|zone| zone.covers(address.0, address.1) && zone.currency == subtotal.currency)
        .flat_map(|zone| {
            zone.rates
                .iter()
                .filter(|rate| rate.fits(grams))
                .map(|rate| ShippingOption {
                    rate_id: rate.id,
                    zone: zone.name.clone(),
                    name: rate.name.clone(),
                    price: zone.price(rate, subtotal),
                })
        })
        .collect();
    found.sort_by_key(|option| option.price.amount);
    found
}

/// Whether some zone ships to the address at all.
pub fn ships_to(zones: &[Zone], address: &Address) -> bool {
    zones
        .iter()
        .any(|zone| zone.covers(&address.country, &address.province))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zone(value: serde_json::Value) -> Result<Zone, Vec<FieldError>> {
        Zone::parse(Uuid::now_v7(), &serde_json::from_value(value).unwrap())
    }

    fn cny(amount: i64) -> Money {
        Money::new(amount, Currency::parse("CNY").unwrap())
    }

    fn domestic() -> Zone {
        zone(json!({
            "name": "Mainland", "countries": ["CN"],
            "free_shipping_threshold": {"amount": 20000, "currency": "CNY"},
            "rates": [
                {"name": "light", "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}},
                {"name": "heavy", "min_weight_grams": 1000, "price": {"amount": 2500, "currency": "CNY"}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn weight_bands_are_half_open() {
        let zone = domestic();
        let light = options(std::slice::from_ref(&zone), ("CN", "新疆"), 999, cny(100));
        assert_eq!(light.len(), 1);
        assert_eq!(light[0].name, "light");
        let heavy = options(&[zone], ("CN", "新疆"), 1000, cny(100));
        assert_eq!(heavy[0].name, "heavy");
        assert_eq!(heavy[0].price, cny(2500));
    }

    #[test]
    fn the_threshold_makes_shipping_free() {
        let free = options(&[domestic()], ("CN", ""), 500, cny(20000));
        assert_eq!(free[0].price, cny(0));
    }

    #[test]
    fn zones_limited_to_provinces_cover_only_those() {
        let west = zone(json!({
            "name": "West", "countries": ["CN"], "provinces": ["Xinjiang", "甘肃"],
            "rates": [{"name": "post", "price": {"amount": 800, "currency": "CNY"}}]
        }))
        .unwrap();
        assert!(west.covers("CN", " xinjiang "));
        assert!(west.covers("cn", "甘肃"));
        assert!(!west.covers("CN", "上海"));
        assert!(!west.covers("KZ", "Xinjiang"));
    }

    #[test]
    fn bad_zones_name_each_field() {
        let errors = zone(json!({
            "name": "", "countries": ["China", "CN", "kz", "XK"],
            "rates": [
                {"name": "a", "min_weight_grams": 500, "max_weight_grams": 100, "price": {"amount": 100, "currency": "CNY"}},
                {"name": "b", "price": {"amount": 100, "currency": "USD"}}
            ]
        }))
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "countries[0]",
                "countries[2]",
                "countries[3]",
                "rates[0].max_weight_grams",
                "rates[1].price.currency"
            ]
        );
    }
}

//! A shop's settings, as its staff change them.

use super::languages::{ShopNames, names_patch_schema};
use super::theme::{self, Theme, ThemePatch};
use caravan_shared::domain::{Currency, Locale, LocalizedText};
use caravan_shared::{ApiError, FieldError};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A partial change of settings: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Zhongning Goji Cooperative",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "zh-CN": "中宁枸杞合作社"},
    "description": {"zh-CN": "宁夏中宁枸杞合作社", "en": "Goji berries from Zhongning, Ningxia", "ug": "نىڭشيا جۇڭنىڭ لەڭزە"},
    "base_currency": "CNY", "currencies": ["CNY", "USD", "KZT"],
    "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"],
    "timezone": "Asia/Shanghai", "ship_to": ["CN", "KZ"],
    "theme": {"brand_color": "#0F6E56", "accent_color": "#B5432A", "sections": ["banner", "new", "categories", "story"]}
}))]
pub struct SettingsPatch {
    /// Shop name shown to buyers (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: Option<String>,
    /// The shop's name in other languages, keyed by language tag: replaces every
    /// name given before (`{}` removes them all; null leaves them).
    #[schema(schema_with = names_patch_schema)]
    pub names: Option<BTreeMap<String, String>>,
    /// Translatable description.
    #[schema(value_type = Option<LocalizedText>)]
    pub description: Option<LocalizedText>,
    /// The logo: an HTTPS URL (at most 500 characters, no spaces), or the path of
    /// one of this shop's uploads, `/media/{shop id}/{upload id}/{width}.jpg` or
    /// `.webp` (another shop's upload is refused); null removes it.
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^(https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?|/media/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9]{1,5}\.(jpg|webp))$")]
    pub logo_url: Option<Option<String>>,
    /// Contact email for buyers.
    #[schema(value_type = Option<caravan_shared::domain::Email>)]
    pub contact_email: Option<String>,
    /// Contact phone for buyers: digits, spaces and dashes with an optional leading
    /// `+`; 5 to 20 digits.
    #[schema(pattern = r"^\+?[ -]*(?:[0-9][ -]*){5,20}$")]
    pub contact_phone: Option<String>,
    /// The currency prices are kept in (ISO 4217).
    #[schema(value_type = Option<Currency>)]
    pub base_currency: Option<Currency>,
    /// Currencies buyers may pay in; must include the base currency.
    #[schema(value_type = Option<Vec<Currency>>, min_items = 1)]
    pub currencies: Option<Vec<Currency>>,
    /// Locale shown when a buyer's is not offered.
    #[schema(value_type = Option<Locale>)]
    pub default_locale: Option<Locale>,
    /// Locales the shop offers; must include the default.
    #[schema(value_type = Option<Vec<Locale>>, min_items = 1)]
    pub locales: Option<Vec<Locale>>,
    /// IANA time zone, e.g. `Asia/Shanghai` or `Asia/Urumqi` (`UTC`, or an area and
    /// a place of letters, digits, `_`, `-` and `+`; at most 64 characters).
    #[schema(max_length = 64, pattern = r"^(UTC|[A-Za-z0-9_+-]+/[A-Za-z0-9/_+-]+)$")]
    pub timezone: Option<String>,
    /// Countries shipped to (ISO 3166-1 alpha-2, such as `CN`); at least one.
    #[schema(value_type = Option<Vec<caravan_shared::domain::CountryCode>>, min_items = 1)]
    pub ship_to: Option<Vec<String>>,
    /// The storefront's theme: only the fields present change; null resets the
    /// whole theme to the defaults.
    #[serde(default, deserialize_with = "caravan_shared::http::nullable_object")]
    #[schema(value_type = Option<ThemePatch>)]
    pub theme: Option<Option<ThemePatch>>,
}

/// Settings as stored, after a patch is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Shop name.
    pub name: String,
    /// The name in other languages, as stored.
    pub names: serde_json::Value,
    /// Description.
    pub description: serde_json::Value,
    /// Logo.
    pub logo_url: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
    /// Base currency.
    pub base_currency: String,
    /// Accepted currencies.
    pub currencies: Vec<String>,
    /// Default locale.
    pub default_locale: String,
    /// Offered locales.
    pub locales: Vec<String>,
    /// Time zone.
    pub timezone: String,
    /// Countries shipped to.
    pub ship_to: Vec<String>,
    /// The storefront's theme.
    pub theme: Theme,
}

fn valid_timezone(zone: &str) -> bool {
    zone == "UTC"
        || zone.split_once('/').is_some_and(|(area, city)| {
            !area.is_empty()
                && !city.is_empty()
                && zone.len() <= 64
                && zone
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        })
}

impl SettingsPatch {
    /// Applies the patch to shop `shop`'s `current` settings, answering the new
    /// settings or every field at fault.
    pub fn apply(self, shop: Uuid, current: &Settings) -> Result<Settings, ApiError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut next = current.clone();
        if let Some(name) = self.name {
            match caravan_shared::domain::text::line(&name, "name", 1, 100) {
                Ok(name) => next.name = name,
                Err(error) => errors.push(error),
            }
        }
        if let Some(names) = self.names
            && let Some(names) = ShopNames::parse(&names, "names", &mut errors)
        {
            next.names = names.to_stored();
        }
        if let Some(description) = self.description {
            next.description = serde_json::to_value(&description).unwrap_or_default();
        }
        if let Some(logo) = self.logo_url {
            match logo
                .map(|url| theme::image_url(&url, shop, "logo_url"))
                .transpose()
            {
                Ok(url) => next.logo_url = url,
                Err(error) => errors.push(error),
            }
        }
        if let Some(email) = self.contact_email {
            match super::email(&email, "contact_email") {
                Ok(email) => next.contact_email = Some(email),
                Err(error) => errors.push(error),
            }
        }
        if let Some(phone) = self.contact_phone {
            match caravan_shared::domain::text::phone(&phone, "contact_phone") {
                Ok(phone) => next.contact_phone = Some(phone),
                Err(error) => errors.push(error),
            }
        }
        if let Some(currency) = self.base_currency {
            next.base_currency = currency.as_str().to_owned();
        }
        if let Some(currencies) = self.currencies {
            let mut codes: Vec<String> = currencies.iter().map(|c| c.as_str().to_owned()).collect();
            codes.dedup();
            next.currencies = codes;
        }
        if !next.currencies.contains(&next.base_currency) {
            errors.push(FieldError::new(
                "currencies",
                "must include the base currency",
            ));
        }
        if let Some(locale) = self.default_locale {
            next.default_locale = locale.as_str().to_owned();
        }
        if let Some(locales) = self.locales {
            let mut tags: Vec<String> = locales.iter().map(|l| l.as_str().to_owned()).collect();
            tags.dedup();
            next.locales = tags;
        }
        if !next.locales.contains(&next.default_locale) {
            errors.push(FieldError::new(
                "locales",
                "must include the default locale",
            ));
        }
        if let Some(zone) = self.timezone {
            if valid_timezone(zone.trim()) {
                next.timezone = zone.trim().to_owned();
            } else {
                errors.push(FieldError::new(
                    "timezone",
                    "must be an IANA time zone such as Asia/Shanghai",
                ));
            }
        }
        if let Some(countries) = self.ship_to {
            match countries.iter().enumerate().find_map(|(index, code)| {
                caravan_shared::domain::check_country_code(code, format!("ship_to[{index}]")).err()
            }) {
                Some(error) => errors.push(error),
                None if countries.is_empty() => {
                    errors.push(FieldError::new("ship_to", "must name at least one country"));
                }
                None => next.ship_to = countries,
            }
        }
        match self.theme {
            None => {}
            Some(None) => next.theme = Theme::default(),
            Some(Some(patch)) => next.theme = patch.apply(shop, &current.theme, &mut errors),
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ApiError::invalid_fields(errors))
        }
    }
}

//! The languages of a shop and of the people who apply for one: the shop's name in
//! other languages, and the language an applicant is written to in.

use caravan_shared::FieldError;
use caravan_shared::domain::Locale;
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// Most languages a shop's name is given in.
pub const MAX_NAME_LANGUAGES: usize = 10;

/// Longest name in one language, in characters (as the shop's `name`).
pub const MAX_NAME: usize = 100;

/// Tags as [`Locale`] writes them, for the documentation of the names' keys.
const CANONICAL_TAG: &str = "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$";

/// One line with something besides white space in it and no control characters
/// (what `caravan_shared::domain::text::line` accepts with a minimum of 1).
const NOT_BLANK: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

/// A shop's name in other languages than its `name`: language tag → name, 1 to 100
/// characters each, at most [`MAX_NAME_LANGUAGES`] languages. May be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopNames(BTreeMap<Locale, String>);

impl ShopNames {
    /// Checks names as sent, field `field`: each key a language tag (normalised, so
    /// `zh-cn` is `zh-CN`), each name trimmed and 1 to 100 characters. Every name at
    /// fault is added to `errors` as `field.<key>`.
    pub fn parse(
        raw: &BTreeMap<String, String>,
        field: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Self> {
        let before = errors.len();
        if raw.len() > MAX_NAME_LANGUAGES {
            errors.push(FieldError::new(
                field,
                format!("must be in at most {MAX_NAME_LANGUAGES} languages"),
            ));
        }
        let mut names = BTreeMap::new();
        for (tag, name) in raw {
            let at = format!("{field}.{tag}");
            let Ok(locale) = Locale::parse(tag) else {
                errors.push(FieldError::new(
                    at,
                    "is not a language tag such as zh-CN, ug, en or ru",
                ));
                continue;
            };
            match caravan_shared::domain::text::line(name, &at, 1, MAX_NAME) {
                Ok(name) => {
                    if names.insert(locale.clone(), name).is_some() {
                        errors.push(FieldError::new(
                            at,
                            format!("the language {locale} is given more than once"),
                        ));
                    }
                }
                Err(error) => errors.push(error),
            }
        }
        (errors.len() == before).then_some(Self(names))
    }

    /// The name in exactly the language `tag`, if given.
    pub fn get(&self, tag: &str) -> Option<&str> {
        let locale = Locale::parse(tag).ok()?;
        self.0.get(&locale).map(String::as_str)
    }

    /// As stored (a JSON object, `{}` when empty).
    pub fn to_stored(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(locale, name)| (locale.to_string(), name.clone().into()))
                .collect(),
        )
    }

    /// Names as stored; anything unreadable reads as none.
    pub fn from_stored(stored: &serde_json::Value) -> Self {
        Self(
            stored
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(tag, name)| {
                    Some((Locale::parse(tag).ok()?, name.as_str()?.to_owned()))
                })
                .collect(),
        )
    }

    /// For answers: language tag → name.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(locale, name)| (locale.to_string(), name.clone()))
            .collect()
    }
}

/// The shop's names as an application takes them (null: none).
pub fn names_schema() -> Schema {
    names_request(
        "The shop's name in other languages than `shop_name`, keyed by BCP 47 language \
         tag (`zh-CN`, `ug`, `en`, `ru`, …): 1 to 100 characters each, at most 10 \
         languages; `{}` or null for none.",
    )
}

/// The shop's names as a settings change takes them (null: left as they are).
pub fn names_patch_schema() -> Schema {
    names_request(
        "The shop's name in other languages than `name`, keyed by BCP 47 language tag \
         (`zh-CN`, `ug`, `en`, `ru`, …): 1 to 100 characters each, at most 10 \
         languages. Replaces every name given before; `{}` removes them all, null (or \
         no field) leaves them as they are.",
    )
}

fn names_request(description: &str) -> Schema {
    names_object()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(description))
        .examples([serde_json::json!({
            "ug": "جۇڭنىڭ لەڭزە كوپىراتىپى",
            "en": "Zhongning Goji Cooperative",
            "ru": "Кооператив годжи Чжуннин"
        })])
        .into()
}

/// The shop's names as answers give them.
pub fn names_view_schema() -> Schema {
    names_object()
        .description(Some(
            "The shop's name in other languages, keyed by language tag; may be empty \
             (then `name` is the only one).",
        ))
        .examples([serde_json::json!({
            "ug": "جۇڭنىڭ لەڭزە كوپىراتىپى",
            "en": "Zhongning Goji Cooperative"
        })])
        .into()
}

fn names_object() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(CANONICAL_TAG))
                .max_length(Some(35))
                .build(),
        )))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_NAME))
                .pattern(Some(NOT_BLANK)),
        ))
        .max_properties(Some(MAX_NAME_LANGUAGES))
}

/// The languages the platform writes to applicants in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailLanguage {
    /// Simplified Chinese, the default.
    #[default]
    Chinese,
    /// Uyghur, in Arabic script.
    Uyghur,
    /// English.
    English,
    /// Russian.
    Russian,
}

impl MailLanguage {
    /// Every language, as tagged.
    pub const TAGS: &'static [&'static str] = &["zh-CN", "ug", "en", "ru"];

    /// Reads a language tag, spelt exactly as [`Self::TAGS`] spell it (the contract
    /// lists them as they are); `None` for any other.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "zh-CN" => Some(Self::Chinese),
            "ug" => Some(Self::Uyghur),
            "en" => Some(Self::English),
            "ru" => Some(Self::Russian),
            _ => None,
        }
    }

    /// Reads a stored tag; an unknown one is the default.
    pub fn from_stored(stored: &str) -> Self {
        Self::parse(stored).unwrap_or_default()
    }

    /// Its tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chinese => "zh-CN",
            Self::Uyghur => "ug",
            Self::English => "en",
            Self::Russian => "ru",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(tag, name)| ((*tag).to_owned(), (*name).to_owned()))
            .collect()
    }

    #[test]
    fn names_are_checked_and_normalised() {
        let mut errors = Vec::new();
        let names = ShopNames::parse(
            &raw(&[("ug", " جۇڭنىڭ لەڭزە "), ("EN", "Zhongning Goji")]),
            "names",
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(
            names.to_stored(),
            serde_json::json!({"en": "Zhongning Goji", "ug": "جۇڭنىڭ لەڭزە"})
        );
        assert_eq!(ShopNames::from_stored(&names.to_stored()), names);
        assert_eq!(
            ShopNames::parse(&raw(&[]), "names", &mut errors),
            Some(ShopNames::default())
        );
    }

    #[test]
    fn every_bad_name_is_named() {
        let mut errors = Vec::new();
        let long = "x".repeat(101);
        let names = ShopNames::parse(
            &raw(&[("zh_CN", "枸杞"), ("en", " "), ("ru", &long), ("ug", "ok")]),
            "names",
            &mut errors,
        );
        assert_eq!(names, None);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["names.en", "names.ru", "names.zh_CN"]);

        let mut errors = Vec::new();
        ShopNames::parse(
            &raw(&[("zh-CN", "枸杞"), ("zh-cn", "枸杞子")]),
            "names",
            &mut errors,
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn mail_languages() {
        assert_eq!(MailLanguage::parse("zh-CN"), Some(MailLanguage::Chinese));
        assert_eq!(
            MailLanguage::parse("zh-cn"),
            None,
            "only as the contract spells it"
        );
        assert_eq!(MailLanguage::parse(" ug"), None);
        assert_eq!(MailLanguage::parse("ug"), Some(MailLanguage::Uyghur));
        assert_eq!(MailLanguage::parse("kk"), None);
        assert_eq!(MailLanguage::parse("nonsense!"), None);
        assert_eq!(MailLanguage::from_stored("??"), MailLanguage::Chinese);
        for tag in MailLanguage::TAGS {
            assert_eq!(MailLanguage::parse(tag).unwrap().as_str(), *tag);
        }
    }
}

//! Language tags and text that exists in several languages.
//!
//! Shops on Caravan write product names and descriptions in Chinese, Uyghur, Kazakh, Russian
//! and English. A `LocalizedText` holds those versions side by side and picks the one a reader
//! asked for, falling back sensibly when that language is missing.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Longest tag accepted; BCP 47 asks implementations to support at least 35 characters.
const MAX_TAG_LEN: usize = 35;

/// The tag shape `Locale::parse` accepts, for API documentation.
const TAG_PATTERN: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$";

/// Tags in the form [`Locale`] gives them: `zh`, `zh-CN`, `zh-Hans-CN`, `es-419`.
const CANONICAL_TAG_PATTERN: &str = "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$";

/// Text with something besides white space (as Rust counts it) in it, and no NUL
/// (PostgreSQL cannot store one).
pub const NOT_BLANK_PATTERN: &str = "^[^\\u0000]*[^\\u0000\\u0009-\\u000D \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$";

/// A BCP 47 language tag such as `zh-CN`, `en`, `ug`, `kk` or `zh-Hant-TW`.
///
/// Parsing checks the shape (a 2–3 letter language, then subtags of 2–8 letters or digits,
/// at most 35 characters) and normalises the case: `ZH-cn` becomes `zh-CN`, `sr-latn` becomes
/// `sr-Latn`. Equal tags therefore compare, hash and sort equal, so a `Locale` works as a map
/// key. Whether the language exists is not checked: a shop may write in any language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

impl Locale {
    /// Parses and normalises a language tag.
    pub fn parse(tag: &str) -> Result<Self, InvalidLocale> {
        let invalid = || InvalidLocale(tag.to_owned());
        if tag.is_empty() || tag.len() > MAX_TAG_LEN {
            return Err(invalid());
        }
        let mut normalised = String::with_capacity(tag.len());
        for (position, subtag) in tag.split('-').enumerate() {
            let letters = subtag.bytes().all(|b| b.is_ascii_alphabetic());
            let valid = if position == 0 {
                (2..=3).contains(&subtag.len()) && letters
            } else {
                (2..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric())
            };
            if !valid {
                return Err(invalid());
            }
            if position > 0 {
                normalised.push('-');
            }
            match (position, subtag.len(), letters) {
                // Region, as in zh-CN.
                (1.., 2, true) => normalised.push_str(&subtag.to_ascii_uppercase()),
                // Script, as in zh-Hant; variants of four characters start with a digit.
                (1.., 4, true) => {
                    let (first, rest) = subtag.split_at(1);
                    normalised.push_str(&first.to_ascii_uppercase());
                    normalised.push_str(&rest.to_ascii_lowercase());
                }
                _ => normalised.push_str(&subtag.to_ascii_lowercase()),
            }
        }
        Ok(Self(normalised))
    }

    /// The normalised tag, e.g. `"zh-CN"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag: `"zh"` for `zh-CN`, `"ug"` for `ug`.
    pub fn language(&self) -> &str {
        self.0
            .split_once('-')
            .map_or(&self.0, |(language, _)| language)
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Locale {
    type Err = InvalidLocale;

    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        Self::parse(tag)
    }
}

impl Serialize for Locale {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        Self::parse(&tag).map_err(de::Error::custom)
    }
}

impl PartialSchema for Locale {
    fn schema() -> RefOr<Schema> {
        tag_schema()
            .description(Some("BCP 47 language tag."))
            .examples(["zh-CN"])
            .into()
    }
}

impl ToSchema for Locale {}

fn tag_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TAG_PATTERN))
        .max_length(Some(MAX_TAG_LEN))
}

/// The text is not a language tag `Locale::parse` accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid language tag; expected a BCP 47 tag such as zh-CN, en or ug")]
pub struct InvalidLocale(String);

/// The same text in one or more languages, keyed by [`Locale`].
///
/// Serialised as a JSON object: `{"zh-CN": "宁夏枸杞", "en": "Ningxia goji berries"}`.
/// Always holds at least one entry and no blank texts; deserialisation rejects invalid or
/// repeated language tags, an empty object and blank texts, naming the offending tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LocalizedText(BTreeMap<Locale, String>);

impl LocalizedText {
    /// Text in a single language.
    pub fn new(locale: Locale, text: impl Into<String>) -> Result<Self, LocalizedTextError> {
        Self(BTreeMap::new()).with(locale, text)
    }

    /// Adds the text in another language, replacing any text already held for `locale`.
    pub fn with(
        mut self,
        locale: Locale,
        text: impl Into<String>,
    ) -> Result<Self, LocalizedTextError> {
        let text = text.into();
        check_not_blank(&locale, &text)?;
        self.0.insert(locale, text);
        Ok(self)
    }

    /// The text in exactly `locale`, if there is one.
    pub fn get(&self, locale: &Locale) -> Option<&str> {
        self.0.get(locale).map(String::as_str)
    }

    /// The languages present, in tag order.
    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.0.keys()
    }

    /// Every language with its text, in tag order.
    pub fn iter(&self) -> impl Iterator<Item = (&Locale, &str)> {
        self.0.iter().map(|(locale, text)| (locale, text.as_str()))
    }

    /// The best text for a reader, with the locale it is actually in.
    ///
    /// Goes through `wanted` in order of preference (as from [`parse_accept_language`]) and,
    /// for each, takes an exact match or else any text in the same language, so a reader
    /// asking for `zh-TW` or `zh` gets `zh-CN` before their second-choice language. Then it
    /// tries `fallback` the same way, and finally the first entry, so there is always an
    /// answer.
    pub fn resolve(&self, wanted: &[Locale], fallback: &Locale) -> (Locale, &str) {
        wanted
            .iter()
            .chain(std::iter::once(fallback))
            .find_map(|locale| self.closest(locale))
            .or_else(|| self.0.first_key_value())
            // Only reachable for an empty map, which construction and deserialisation prevent.
            .map_or((fallback.clone(), ""), |(locale, text)| {
                (locale.clone(), text.as_str())
            })
    }

    fn closest(&self, wanted: &Locale) -> Option<(&Locale, &String)> {
        self.0.get_key_value(wanted).or_else(|| {
            self.0
                .iter()
                .find(|(locale, _)| locale.language() == wanted.language())
        })
    }
}

fn check_not_blank(locale: &Locale, text: &str) -> Result<(), LocalizedTextError> {
    if text.trim().is_empty() {
        return Err(LocalizedTextError::BlankText(locale.clone()));
    }
    Ok(())
}

impl<'de> Deserialize<'de> for LocalizedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LocalizedTextVisitor)
    }
}

struct LocalizedTextVisitor;

impl<'de> Visitor<'de> for LocalizedTextVisitor {
    type Value = LocalizedText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            r#"an object of texts keyed by language tag, such as {"zh-CN": "…", "en": "…"}"#,
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut texts = BTreeMap::new();
        while let Some((tag, text)) = map.next_entry::<String, String>()? {
            let locale = Locale::parse(&tag).map_err(de::Error::custom)?;
            check_not_blank(&locale, &text).map_err(de::Error::custom)?;
            // `zh-cn` and `zh-CN` are the same key once normalised; keeping either one
            // silently would lose text.
            match texts.entry(locale) {
                Entry::Vacant(entry) => {
                    entry.insert(text);
                }
                Entry::Occupied(entry) => {
                    return Err(de::Error::custom(LocalizedTextError::DuplicateLocale(
                        entry.key().clone(),
                    )));
                }
            }
        }
        if texts.is_empty() {
            return Err(de::Error::custom(LocalizedTextError::Empty));
        }
        Ok(LocalizedText(texts))
    }
}

impl PartialSchema for LocalizedText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The same text in several languages, keyed by BCP 47 language tag. \
                 At least one entry; texts must not be blank.",
            ))
            // Keys as `Locale` writes them, so that no two keys name the same
            // language; the server also takes other spellings and normalises them.
            .property_names(Some(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(CANONICAL_TAG_PATTERN))
                    .max_length(Some(MAX_TAG_LEN))
                    .build(),
            )))
            .additional_properties(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .pattern(Some(NOT_BLANK_PATTERN)),
            ))
            .min_properties(Some(1))
            .examples([serde_json::json!({
                "zh-CN": "宁夏枸杞",
                "en": "Ningxia goji berries",
                "ug": "نىڭشيا لەڭزە",
            })])
            .into()
    }
}

impl ToSchema for LocalizedText {}

/// Why a [`LocalizedText`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalizedTextError {
    /// A key is not a valid language tag.
    #[error(transparent)]
    InvalidLocale(#[from] InvalidLocale),
    /// No language was given at all.
    #[error("at least one language is required")]
    Empty,
    /// The text for this language is empty or only whitespace.
    #[error("the text for `{0}` is blank")]
    BlankText(Locale),
    /// The same language appears twice, possibly spelt with different case.
    #[error("the language `{0}` is given more than once")]
    DuplicateLocale(Locale),
}

/// The languages an `Accept-Language` header asks for, most preferred first.
///
/// Entries with `q=0`, the `*` wildcard, invalid tags and malformed q-values are skipped, and
/// repeats keep their first position; equal q-values keep header order. Never fails: a
/// useless header just means no preference.
pub fn parse_accept_language(header: &str) -> Vec<Locale> {
    let mut weighted: Vec<(u16, Locale)> = header
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let tag = parts.next()?.trim();
            let mut quality = 1000;
            for parameter in parts {
                if let Some((name, value)) = parameter.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    quality = parse_quality(value.trim())?;
                }
            }
            if quality == 0 || tag == "*" {
                return None;
            }
            Some((quality, Locale::parse(tag).ok()?))
        })
        .collect();
    // Stable, so equal weights stay in header order.
    weighted.sort_by_key(|(quality, _)| std::cmp::Reverse(*quality));
    let mut locales: Vec<Locale> = Vec::with_capacity(weighted.len());
    for (_, locale) in weighted {
        if !locales.contains(&locale) {
            locales.push(locale);
        }
    }
    locales
}

/// A q-value (`0`, `0.8`, `1.000`) in thousandths, per RFC 9110's `qvalue` grammar.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut digits = fraction.bytes();
    let fraction = (0..3).fold(0_u16, |acc, _| {
        acc * 10 + digits.next().map_or(0, |digit| u16::from(digit - b'0'))
    });
    let quality = whole + fraction;
    (quality <= 1000).then_some(quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn locale(tag: &str) -> Locale {
        Locale::parse(tag).unwrap()
    }

    fn tags(locales: &[Locale]) -> Vec<&str> {
        locales.iter().map(Locale::as_str).collect()
    }

    fn goji() -> LocalizedText {
        serde_json::from_value(json!({
            "zh-CN": "宁夏枸杞",
            "en": "Ningxia goji berries",
            "ug": "نىڭشيا لەڭزە",
        }))
        .unwrap()
    }

    #[test]
    fn parses_and_normalises_tags() {
        for (input, expected) in [
            ("zh-CN", "zh-CN"),
            ("zh-cn", "zh-CN"),
            ("ZH-CN", "zh-CN"),
            ("en", "en"),
            ("EN", "en"),
            ("ug", "ug"),
            ("ug-CN", "ug-CN"),
            ("kk", "kk"),
            ("ru", "ru"),
            ("KK-cyrl-kz", "kk-Cyrl-KZ"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("uz-Latn", "uz-Latn"),
            ("es-419", "es-419"),
            ("de-CH-1996", "de-CH-1996"),
            ("sl-ROZAJ", "sl-rozaj"),
            ("yue", "yue"),
        ] {
            assert_eq!(locale(input).as_str(), expected, "{input}");
            assert_eq!(input.parse::<Locale>().unwrap().to_string(), expected);
        }
    }

    #[test]
    fn rejects_malformed_tags() {
        let too_long = format!("en-{}", ["abcdefgh"; 4].join("-"));
        assert_eq!(too_long.len(), 38);
        for input in [
            "",
            "e",
            "english",
            "z1",
            "zh_CN",
            "zh-",
            "-zh",
            "zh--CN",
            "zh-C",
            "zh-toolongtag",
            "zh CN",
            " en",
            "*",
            "x-private",
            "ug-ئۇ",
            "中文",
            too_long.as_str(),
        ] {
            assert_eq!(
                Locale::parse(input),
                Err(InvalidLocale(input.to_owned())),
                "{input:?}"
            );
        }
    }

    #[test]
    fn primary_language() {
        assert_eq!(locale("zh-CN").language(), "zh");
        assert_eq!(locale("zh-Hant-TW").language(), "zh");
        assert_eq!(locale("ug").language(), "ug");
    }

    #[test]
    fn locale_serde_validates() {
        assert_eq!(
            serde_json::to_value(locale("zh-cn")).unwrap(),
            json!("zh-CN")
        );
        assert_eq!(
            serde_json::from_value::<Locale>(json!("kk-kz")).unwrap(),
            locale("kk-KZ")
        );
        let err = serde_json::from_value::<Locale>(json!("zh_CN")).unwrap_err();
        assert!(err.to_string().contains("`zh_CN` is not a valid"), "{err}");
    }

    #[test]
    fn localized_text_round_trips() {
        let text = goji();
        assert_eq!(text.get(&locale("zh-CN")), Some("宁夏枸杞"));
        assert_eq!(text.get(&locale("ug")), Some("نىڭشيا لەڭزە"));
        assert_eq!(text.get(&locale("kk")), None);
        assert_eq!(
            text.locales().map(Locale::as_str).collect::<Vec<_>>(),
            ["en", "ug", "zh-CN"]
        );
        let value = serde_json::to_value(&text).unwrap();
        assert_eq!(
            value,
            json!({"en": "Ningxia goji berries", "ug": "نىڭشيا لەڭزە", "zh-CN": "宁夏枸杞"})
        );
        assert_eq!(
            serde_json::from_value::<LocalizedText>(value).unwrap(),
            text
        );
    }

    #[test]
    fn deserialisation_normalises_keys() {
        let text: LocalizedText = serde_json::from_value(json!({"zh-cn": "枸杞"})).unwrap();
        assert_eq!(text.get(&locale("zh-CN")), Some("枸杞"));
    }

    #[test]
    fn deserialisation_rejects_bad_input_naming_the_locale() {
        let message = |value| {
            serde_json::from_value::<LocalizedText>(value)
                .unwrap_err()
                .to_string()
        };
        assert!(message(json!({"zh_CN": "枸杞"})).contains("`zh_CN` is not a valid language tag"));
        assert!(message(json!({})).contains("at least one language is required"));
        assert!(
            message(json!({"en": "Goji", "ug": "  \n"})).contains("the text for `ug` is blank")
        );
        assert!(message(json!({"zh-CN": ""})).contains("the text for `zh-CN` is blank"));
        assert!(message(json!({"en": 1})).contains("invalid type"));
        assert!(message(json!(["en", "Goji"])).contains("keyed by language tag"));

        // Duplicate keys only survive in raw JSON, not in a `serde_json::Value`.
        let err = serde_json::from_str::<LocalizedText>(r#"{"zh-CN": "枸杞", "zh-cn": "枸杞子"}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the language `zh-CN` is given more than once"),
            "{err}"
        );
    }

    #[test]
    fn builds_in_code() {
        let text = LocalizedText::new(locale("zh-CN"), "宁夏枸杞")
            .unwrap()
            .with(locale("ug"), "نىڭشيا لەڭزە")
            .unwrap()
            .with(locale("en"), "Goji")
            .unwrap()
            .with(locale("en"), "Ningxia goji berries")
            .unwrap();
        assert_eq!(text, goji());
        assert_eq!(
            text.iter().collect::<Vec<_>>()[0],
            (&locale("en"), "Ningxia goji berries")
        );
        assert_eq!(
            LocalizedText::new(locale("kk"), " "),
            Err(LocalizedTextError::BlankText(locale("kk")))
        );
        assert_eq!(
            text.with(locale("ru"), ""),
            Err(LocalizedTextError::BlankText(locale("ru")))
        );
    }

    #[test]
    fn resolves_exact_then_language_then_fallback_then_first() {
        let text = goji();
        let resolve = |wanted: &[&str], fallback: &str| {
            let wanted: Vec<Locale> = wanted.iter().map(|tag| locale(tag)).collect();
            let (found, text) = text.resolve(&wanted, &locale(fallback));
            (found.to_string(), text.to_owned())
        };

        assert_eq!(
            resolve(&["ug", "zh-CN"], "zh-CN"),
            ("ug".into(), "نىڭشيا لەڭزە".into())
        );
        assert_eq!(resolve(&["zh"], "en"), ("zh-CN".into(), "宁夏枸杞".into()));
        assert_eq!(
            resolve(&["zh-TW"], "en"),
            ("zh-CN".into(), "宁夏枸杞".into())
        );
        // A same-language match beats the reader's second-choice language.
        assert_eq!(
            resolve(&["zh-TW", "en"], "en"),
            ("zh-CN".into(), "宁夏枸杞".into())
        );
        assert_eq!(
            resolve(&["en-US", "zh-CN"], "zh-CN"),
            ("en".into(), "Ningxia goji berries".into())
        );
        assert_eq!(
            resolve(&["kk", "ru"], "zh-CN"),
            ("zh-CN".into(), "宁夏枸杞".into())
        );
        assert_eq!(resolve(&[], "zh-TW"), ("zh-CN".into(), "宁夏枸杞".into()));
        assert_eq!(
            resolve(&["kk"], "ru"),
            ("en".into(), "Ningxia goji berries".into())
        );
    }

    #[test]
    fn parses_accept_language() {
        assert_eq!(
            tags(&parse_accept_language("zh-CN,zh;q=0.9,en;q=0.8")),
            ["zh-CN", "zh", "en"]
        );
        assert_eq!(
            tags(&parse_accept_language(
                "en;q=0.5, ug , kk-kz;q=0.7, ru;q=0.7"
            )),
            ["ug", "kk-KZ", "ru", "en"]
        );
        assert_eq!(
            tags(&parse_accept_language(
                "*;q=0.1, fr;q=0, de;Q=0.25, es;q=1.0"
            )),
            ["es", "de"]
        );
        assert_eq!(
            tags(&parse_accept_language(
                "zh_CN, english, en;q=abc, ru;q=1.5, kk;q=0.1234, ug;q=0.001"
            )),
            ["ug"]
        );
        assert_eq!(
            tags(&parse_accept_language("en-US, en-us;q=0.9, EN-US;q=0.1")),
            ["en-US"]
        );
        assert_eq!(tags(&parse_accept_language("ug;level=1;q=0.3")), ["ug"]);
        assert!(parse_accept_language("").is_empty());
        assert!(parse_accept_language(" , ;q=1, *").is_empty());
    }

    #[test]
    fn parses_quality_values() {
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("0.8"), Some(800));
        assert_eq!(parse_quality("0.25"), Some(250));
        assert_eq!(parse_quality("0"), Some(0));
        assert_eq!(parse_quality("1.001"), None);
        assert_eq!(parse_quality("2"), None);
        assert_eq!(parse_quality("-0.5"), None);
        assert_eq!(parse_quality(".5"), None);
        assert_eq!(parse_quality(""), None);
    }

    #[test]
    fn schemas_describe_the_wire_format() {
        let locale = serde_json::to_value(Locale::schema()).unwrap();
        assert_eq!(locale["type"], "string");
        assert_eq!(locale["examples"], json!(["zh-CN"]));

        let text = serde_json::to_value(LocalizedText::schema()).unwrap();
        assert_eq!(text["type"], "object");
        assert_eq!(text["additionalProperties"]["type"], "string");
        assert_eq!(text["minProperties"], 1);
        assert_eq!(text["examples"][0]["ug"], "نىڭشيا لەڭزە");
        assert_eq!(text["propertyNames"]["pattern"], CANONICAL_TAG_PATTERN);
    }
}

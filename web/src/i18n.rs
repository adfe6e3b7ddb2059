//! The languages of the web faces and their strings (Fluent files in `locales/`,
//! compiled in). A key missing in any language fails `every_key_in_every_language`.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Templates place text in elements that carry their own direction; Fluent's
        // isolation marks would show up in titles and attributes.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages' identifiers, parsed once (in the order of [`Lang`]'s variants).
static IDENTIFIERS: LazyLock<[LanguageIdentifier; 4]> = LazyLock::new(|| {
    // The four tags are valid identifiers; `en` is the loader's own fallback.
    Lang::ALL.map(|lang| lang.tag().parse().unwrap_or_default())
});

/// A language of the web faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    ZhCn,
    Ug,
    En,
    Ru,
}

impl Lang {
    /// Every language, in the order the language menu shows them.
    pub const ALL: [Lang; 4] = [Lang::ZhCn, Lang::Ug, Lang::En, Lang::Ru];

    /// The BCP 47 tag (`zh-CN`, `ug`, `en`, `ru`): in URLs, `lang` and API calls.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::Ug => "ug",
            Self::En => "en",
            Self::Ru => "ru",
        }
    }

    /// The language's own name, for the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::ZhCn => "中文",
            Self::Ug => "ئۇيغۇرچە",
            Self::En => "English",
            Self::Ru => "Русский",
        }
    }

    /// `rtl` for Uyghur, else `ltr`.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Ug => "rtl",
            _ => "ltr",
        }
    }

    /// What separates the parts of a list, such as an address's: `，` in Chinese,
    /// `، ` in Uyghur, `, ` otherwise.
    pub fn list_separator(self) -> &'static str {
        match self {
            Self::ZhCn => "，",
            Self::Ug => "، ",
            Self::En | Self::Ru => ", ",
        }
    }

    /// `og:locale` form (`zh_CN`).
    pub fn og_locale(self) -> &'static str {
        match self {
            Self::ZhCn => "zh_CN",
            Self::Ug => "ug_CN",
            Self::En => "en_US",
            Self::Ru => "ru_RU",
        }
    }

    /// The language of a tag exactly as URLs spell it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Self::ALL.into_iter().find(|lang| lang.tag() == tag)
    }

    /// The closest language for a locale such as `zh`, `zh-Hans-CN`, `ru-KZ` or `ug-Arab`.
    pub fn closest(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Self::ZhCn),
            "ug" => Some(Self::Ug),
            "en" => Some(Self::En),
            "ru" | "kk" => Some(Self::Ru),
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that the web faces speak.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranges: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty() && quality > 0.0).then_some((quality, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges.into_iter().find_map(|(_, tag)| Self::closest(tag))
    }

    fn identifier(self) -> &'static LanguageIdentifier {
        &IDENTIFIERS[self as usize]
    }

    /// The string `key` in this language.
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.identifier(), key)
            .unwrap_or_else(|| {
                tracing::error!(key, lang = self.tag(), "missing UI string");
                key.to_owned()
            })
    }

    /// The string `key`, when this language has it.
    pub fn t_known(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.identifier(), key)
    }

    /// The string `key` with arguments (`{ $name }` in the Fluent file).
    pub fn t_with(self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        LOCALES
            .try_lookup_with_args(self.identifier(), key, &args)
            .unwrap_or_else(|| {
                tracing::error!(key, lang = self.tag(), "missing UI string");
                key.to_owned()
            })
    }

    /// The string `key` for a count (Fluent chooses the plural form).
    pub fn t_count(self, key: &str, count: i64) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> =
            [(Cow::Borrowed("count"), FluentValue::from(count))]
                .into_iter()
                .collect();
        LOCALES
            .try_lookup_with_args(self.identifier(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }
}

/// The Fluent sources (the storefront's, the admin's, the console's, the
/// pre-orders'), for the test that every
/// language has every key.
#[cfg(test)]
const SOURCES: [(Lang, [&str; 4]); 4] = [
    (
        Lang::ZhCn,
        [
            include_str!("../locales/zh-CN/main.ftl"),
            include_str!("../locales/zh-CN/admin.ftl"),
            include_str!("../locales/zh-CN/ops.ftl"),
            include_str!("../locales/zh-CN/preorder.ftl"),
        ],
    ),
    (
        Lang::Ug,
        [
            include_str!("../locales/ug/main.ftl"),
            include_str!("../locales/ug/admin.ftl"),
            include_str!("../locales/ug/ops.ftl"),
            include_str!("../locales/ug/preorder.ftl"),
        ],
    ),
    (
        Lang::En,
        [
            include_str!("../locales/en/main.ftl"),
            include_str!("../locales/en/admin.ftl"),
            include_str!("../locales/en/ops.ftl"),
            include_str!("../locales/en/preorder.ftl"),
        ],
    ),
    (
        Lang::Ru,
        [
            include_str!("../locales/ru/main.ftl"),
            include_str!("../locales/ru/admin.ftl"),
            include_str!("../locales/ru/ops.ftl"),
            include_str!("../locales/ru/preorder.ftl"),
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(sources: &[&str; 4]) -> BTreeSet<String> {
        sources
            .iter()
            .flat_map(|source| source.lines())
            .filter(|line| line.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_key_in_every_language() {
        let all: BTreeSet<String> = SOURCES.iter().flat_map(|(_, s)| keys(s)).collect();
        assert!(all.len() > 50, "the Fluent files were not read");
        for (lang, source) in SOURCES {
            let present = keys(&source);
            let missing: Vec<_> = all.difference(&present).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
            let args: Vec<(&'static str, String)> = [
                "query",
                "currency",
                "available",
                "grams",
                "days",
                "name",
                "time",
                "total",
                "status",
                "field",
                "slug",
                "language",
                "count",
                "price",
                "done",
                "total",
                "service",
                "error",
                "email",
                "joined",
                "size",
                "hours",
                "minutes",
                "regular",
                "forming",
                "formed",
                "failed",
                "held",
                "date",
                "deposit",
                "balance",
            ]
            .into_iter()
            .map(|name| (name, "1".to_owned()))
            .collect();
            for key in &all {
                let text = lang.t_with(key, &args);
                assert_ne!(&text, key, "{} cannot render {key}", lang.tag());
            }
        }
    }

    #[test]
    fn templates_use_only_keys_that_exist() {
        let known = keys(&SOURCES[2].1);
        let mut unknown = Vec::new();
        let folders = ["/templates", "/templates/admin", "/templates/ops"]
            .map(|folder| format!("{}{folder}", env!("CARGO_MANIFEST_DIR")));
        for entry in folders
            .iter()
            .flat_map(std::fs::read_dir)
            .flatten()
            .flatten()
            .filter(|entry| entry.path().is_file())
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text
                .split(".t(\"")
                .skip(1)
                .chain(text.split(".t_with(\"").skip(1))
            {
                if let Some(key) = part.split('"').next()
                    && !known.contains(key)
                {
                    unknown.push(format!("{}: {key}", entry.path().display()));
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "templates name unknown keys: {unknown:?}"
        );
    }

    #[test]
    fn languages_come_from_urls_and_headers() {
        assert_eq!(Lang::from_tag("ug"), Some(Lang::Ug));
        assert_eq!(Lang::from_tag("zh"), None);
        assert_eq!(
            Lang::from_accept_language("ru-KZ,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, zh-Hans-CN;q=0.5"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::Ug.dir(), "rtl");
        assert_eq!(Lang::Ug.list_separator(), "، ");
        assert_eq!(Lang::ZhCn.dir(), "ltr");
    }
}

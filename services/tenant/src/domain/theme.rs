//! A shop's theme: its colours, the banner of its home page, and the order of the
//! home page's sections. Colours must carry white text legibly (WCAG 2 contrast of
//! at least 4.5:1), since the storefront writes white on them.

use caravan_shared::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The least contrast white text must have on a theme colour (WCAG 2 AA, body text).
pub const MIN_CONTRAST: f64 = 4.5;
/// The brand colour until the shop picks one: a deep goji-leaf green (6.2:1).
pub const DEFAULT_BRAND: &str = "#0F6E56";
/// The accent colour until the shop picks one: a dried-goji red (5.5:1).
pub const DEFAULT_ACCENT: &str = "#B5432A";

/// A colour as `#RRGGBB`, kept in capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    /// Parses `#RRGGBB` (either case); `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let hex = raw.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        Some(Self([channel(0)?, channel(2)?, channel(4)?]))
    }

    /// WCAG 2 relative luminance, 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    /// The contrast ratio of white text on this colour, 1 to 21.
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02X}{g:02X}{b:02X}")
    }
}

/// A section of the shop's home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = "banner")]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// The banner image.
    Banner,
    /// The categories.
    Categories,
    /// The newest products.
    New,
    /// The cooperative's story.
    Story,
}

impl Section {
    /// Every section, in the default order.
    pub const ALL: [Section; 4] = [Self::Banner, Self::Categories, Self::New, Self::Story];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Banner => "banner",
            Self::Categories => "categories",
            Self::New => "new",
            Self::Story => "story",
        }
    }

    /// The section with this name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|section| section.as_str() == raw)
    }
}

/// The theme as stored (jsonb): what the shop chose; absent values are defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_color: Option<String>,
    /// `#RRGGBB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    /// HTTPS URL or the shop's own media path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner_url: Option<String>,
    /// The home page's sections, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<Section>>,
}

impl Theme {
    /// The stored theme; a row written before themes existed (`{}`), or one that
    /// cannot be read, is the default theme.
    pub fn from_stored(value: &serde_json::Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or_default()
    }

    /// As stored.
    pub fn to_stored(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// A change of theme: only the fields present change; `null` resets one to its
/// default.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "brand_color": "#0F6E56", "accent_color": "#B5432A",
    "banner_url": "/media/0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11/0193b2d0-4f10-7a2b-8c3d-4e5f6a7b8c9d/1280.jpg",
    "sections": ["banner", "new", "categories", "story"]
}))]
pub struct ThemePatch {
    /// Brand colour as `#RRGGBB`, on which white text has a contrast of at least
    /// 4.5:1; null: the default (`#0F6E56`).
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<String>, pattern = "^#[0-9A-Fa-f]{6}$", example = "#0F6E56")]
    pub brand_color: Option<Option<String>>,
    /// Accent colour as `#RRGGBB`, on which white text has a contrast of at least
    /// 4.5:1; null: the default (`#B5432A`).
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<String>, pattern = "^#[0-9A-Fa-f]{6}$", example = "#B5432A")]
    pub accent_color: Option<Option<String>>,
    /// The home page's banner: an HTTPS URL (at most 500 characters), or the path of
    /// one of this shop's uploads, `/media/{shop id}/{upload id}/{width}.jpg` or
    /// `.webp`; null: none.
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub banner_url: Option<Option<String>>,
    /// The home page's sections in order: distinct values of `banner`, `categories`,
    /// `new`, `story`, at least one; null: all four in that order.
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<Vec<Section>>, min_items = 1, max_items = 4)]
    pub sections: Option<Option<Vec<String>>>,
}

impl ThemePatch {
    /// Applies the patch to `current` for shop `shop`, pushing every fault to
    /// `errors`.
    pub fn apply(self, shop: Uuid, current: &Theme, errors: &mut Vec<FieldError>) -> Theme {
        let mut next = current.clone();
        for (field, value, slot) in [
            ("theme.brand_color", self.brand_color, &mut next.brand_color),
            (
                "theme.accent_color",
                self.accent_color,
                &mut next.accent_color,
            ),
        ] {
            match value.map(|raw| raw.map(|raw| colour(&raw, field)).transpose()) {
                None => {}
                Some(Ok(colour)) => *slot = colour.map(|c| c.to_string()),
                Some(Err(error)) => errors.push(error),
            }
        }
        if let Some(banner) = self.banner_url {
            match banner
                .map(|url| image_url(&url, shop, "theme.banner_url"))
                .transpose()
            {
                Ok(url) => next.banner_url = url,
                Err(error) => errors.push(error),
            }
        }
        if let Some(sections) = self.sections {
            match sections.map(|list| sections_of(&list)).transpose() {
                Ok(list) => next.sections = list,
                Err(error) => errors.push(error),
            }
        }
        next
    }
}

/// A theme colour white text can be read on.
pub fn colour(raw: &str, field: &str) -> Result<Colour, FieldError> {
    let colour = Colour::parse(raw.trim())
        .ok_or_else(|| FieldError::new(field, "must be a colour as #RRGGBB, e.g. #0F6E56"))?;
    let contrast = colour.contrast_with_white();
    if contrast < MIN_CONTRAST {
        // One decimal, as people quote contrast; just under the bar it would read
        // 4.5:1, so there two decimals, rounded down, show why it is refused.
        let shown = if (contrast * 10.0).round() / 10.0 < MIN_CONTRAST {
            format!("{contrast:.1}")
        } else {
            format!("{:.2}", (contrast * 100.0).floor() / 100.0)
        };
        return Err(FieldError::new(
            field,
            format!(
                "white text on {colour} has contrast {shown}:1; at least {MIN_CONTRAST:.1}:1 is needed"
            ),
        ));
    }
    Ok(colour)
}

fn sections_of(list: &[String]) -> Result<Vec<Section>, FieldError> {
    if list.is_empty() {
        return Err(FieldError::new(
            "theme.sections",
            "name at least one section, or null for all four",
        ));
    }
    let mut sections: Vec<Section> = Vec::with_capacity(list.len());
    for (index, raw) in list.iter().enumerate() {
        let field = format!("theme.sections[{index}]");
        let section = Section::parse(raw).ok_or_else(|| {
            FieldError::new(
                field.clone(),
                "must be one of: banner, categories, new, story",
            )
        })?;
        if sections.contains(&section) {
            return Err(FieldError::new(
                field,
                format!(
                    "`{}` is already listed; each section appears once",
                    section.as_str()
                ),
            ));
        }
        sections.push(section);
    }
    Ok(sections)
}

/// An image address a shop may show: an HTTPS URL of at most 500 characters, or the
/// path of one of `shop`'s own uploads, `/media/{shop}/{upload}/{width}.{jpg|webp}`
/// (ids as lowercase hyphenated UUIDs, the width in digits). Another shop's upload
/// is refused: its path would show that shop's image under this one's name, and
/// break when that shop deletes it.
pub fn image_url(raw: &str, shop: Uuid, field: &str) -> Result<String, FieldError> {
    if raw.starts_with('/') {
        return media_path(raw, shop)
            .map(str::to_owned)
            .map_err(|reason| FieldError::new(field, reason));
    }
    if caravan_shared::domain::web_address::is_https_url(raw) && raw.len() <= 500 {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be an https:// URL with a host name (at most 500 characters), or the path of one of this shop's uploads, /media/{shop id}/{upload id}/{width}.jpg or .webp",
        ))
    }
}

fn media_path(raw: &str, shop: Uuid) -> Result<&str, &'static str> {
    const SHAPE: &str = "must be the path of one of this shop's uploads, /media/{shop id}/{upload id}/{width}.jpg or .webp";
    let canonical = |text: &str| {
        Uuid::parse_str(text)
            .ok()
            .filter(|id| id.hyphenated().to_string() == text)
    };
    let rest = raw.strip_prefix("/media/").ok_or(SHAPE)?;
    let mut parts = rest.split('/');
    let (Some(owner), Some(upload), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SHAPE);
    };
    let owner = canonical(owner).ok_or(SHAPE)?;
    canonical(upload).ok_or(SHAPE)?;
    let (width, extension) = file.split_once('.').ok_or(SHAPE)?;
    if width.is_empty()
        || width.len() > 5
        || !width.bytes().all(|b| b.is_ascii_digit())
        || !matches!(extension, "jpg" | "webp")
    {
        return Err(SHAPE);
    }
    if owner != shop {
        return Err("must be an upload of this shop; the path names another shop");
    }
    Ok(raw)
}

/// The theme as answered, with defaults filled in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "brand_color": "#0F6E56", "accent_color": "#B5432A",
    "banner_url": "/media/0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11/0193b2d0-4f10-7a2b-8c3d-4e5f6a7b8c9d/1280.jpg",
    "sections": ["banner", "categories", "new", "story"]
}))]
pub struct ThemeView {
    /// Brand colour, `#RRGGBB` (white text reads on it).
    #[schema(example = "#0F6E56")]
    pub brand_color: String,
    /// Accent colour, `#RRGGBB` (white text reads on it).
    #[schema(example = "#B5432A")]
    pub accent_color: String,
    /// The home page's banner: an HTTPS URL or a same-origin `/media/…` path; null
    /// when none.
    pub banner_url: Option<String>,
    /// The home page's sections, in order.
    pub sections: Vec<Section>,
}

impl From<Theme> for ThemeView {
    fn from(theme: Theme) -> Self {
        Self {
            brand_color: theme
                .brand_color
                .unwrap_or_else(|| DEFAULT_BRAND.to_owned()),
            accent_color: theme
                .accent_color
                .unwrap_or_else(|| DEFAULT_ACCENT.to_owned()),
            banner_url: theme.banner_url,
            sections: theme.sections.unwrap_or_else(|| Section::ALL.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_carry_white_text() {
        for default in [DEFAULT_BRAND, DEFAULT_ACCENT] {
            let contrast = Colour::parse(default).unwrap().contrast_with_white();
            assert!(contrast >= MIN_CONTRAST, "{default}: {contrast}");
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let ratio = |hex: &str| Colour::parse(hex).unwrap().contrast_with_white();
        assert!((ratio("#000000") - 21.0).abs() < 1e-9);
        assert!((ratio("#FFFFFF") - 1.0).abs() < 1e-9);
        // #767676 is the lightest grey that passes AA on white (4.54:1).
        assert!((ratio("#767676") - 4.54).abs() < 0.01);
        assert!(ratio("#777777") < MIN_CONTRAST);
        let refused = colour("#f5c242", "theme.brand_color").unwrap_err();
        assert_eq!(
            refused.message,
            "white text on #F5C242 has contrast 1.7:1; at least 4.5:1 is needed"
        );
        assert_eq!(
            colour("#777777", "f").unwrap_err().message,
            "white text on #777777 has contrast 4.47:1; at least 4.5:1 is needed"
        );
        assert_eq!(colour("#0f6e56", "f").unwrap().to_string(), "#0F6E56");
        for bad in ["0F6E56", "#0F6E5", "#0F6E567", "#GGGGGG", "#0F 6E5"] {
            assert!(Colour::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn media_paths_must_be_the_shops_own_uploads() {
        let shop = Uuid::now_v7();
        let upload = Uuid::now_v7();
        let own = format!("/media/{shop}/{upload}/1280.jpg");
        assert_eq!(image_url(&own, shop, "f").unwrap(), own);
        assert!(image_url(&format!("/media/{shop}/{upload}/640.webp"), shop, "f").is_ok());
        let other = format!("/media/{}/{upload}/1280.jpg", Uuid::now_v7());
        assert!(
            image_url(&other, shop, "f")
                .unwrap_err()
                .message
                .contains("another shop")
        );
        for bad in [
            format!("/media/{shop}/{upload}/1280.png"),
            format!("/media/{shop}/{upload}/big.jpg"),
            format!("/media/{shop}/{upload}/.jpg"),
            format!("/media/{shop}/{upload}/1280.jpg?x=1"),
            format!("/media/{shop}/{upload}/../1280.jpg"),
            format!("/media/{shop}/{}/1280.jpg", upload.simple()),
            format!(
                "/media/{}/{upload}/1280.jpg",
                shop.to_string().to_uppercase()
            ),
            format!("/static/{shop}/{upload}/1280.jpg"),
            "//evil.example/x.jpg".to_owned(),
            "http://cdn.example.cn/x.jpg".to_owned(),
        ] {
            assert!(image_url(&bad, shop, "f").is_err(), "{bad}");
        }
        assert!(image_url("https://cdn.zhongning-goji.cn/banner.jpg", shop, "f").is_ok());
    }
}

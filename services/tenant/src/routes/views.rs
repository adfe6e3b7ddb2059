//! What the tenant service answers with.

use crate::domain::languages::{ShopNames, names_view_schema};
use crate::domain::theme::{Theme, ThemeView};
use crate::store::entities::{applications, audit_log, plans, tenants};
use caravan_shared::domain::Money;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// An application for a shop.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a6f0-9c20-7b3d-8e4f-5a6b7c8d9e0f", "status": "approved",
    "shop_name": "Zhongning Goji Cooperative", "slug": "zhongning-goji", "region": "Ningxia",
    "contact_name": "Ma Jun", "email": "owner@zhongning-goji.example.cn", "phone": "+86 955 555 0100",
    "description": "Dried goji berries and goji juice from 120 member farms in Zhongning county.",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "en": "Zhongning Goji Cooperative"},
    "plan": "standard", "locale": "ug",
    "reason": null, "tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11",
    "created_at": "2026-08-18T02:30:00Z", "decided_at": "2026-08-19T07:45:00Z"
}))]
pub struct ApplicationView {
    /// Id.
    pub id: Uuid,
    /// `pending`, `approved` or `rejected`.
    #[schema(example = "pending")]
    pub status: String,
    /// Shop name.
    #[schema(example = "Zhongning Goji Cooperative")]
    pub shop_name: String,
    /// Desired slug.
    #[schema(example = "zhongning-goji")]
    pub slug: String,
    /// Region or province.
    #[schema(example = "Ningxia")]
    pub region: String,
    /// Contact person.
    pub contact_name: String,
    /// Contact email.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// What they sell.
    pub description: String,
    /// The shop's name in other languages, keyed by language tag (may be empty).
    #[schema(schema_with = names_view_schema)]
    pub names: BTreeMap<String, String>,
    /// The plan wished for: `free`, `standard` or `pro`; null for no wish.
    #[schema(example = "standard")]
    pub plan: Option<String>,
    /// The applicant's language, which their mail is written in: `zh-CN`, `ug`,
    /// `en` or `ru`.
    #[schema(example = "ug")]
    pub locale: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The shop made from it.
    pub tenant_id: Option<Uuid>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<applications::Model> for ApplicationView {
    fn from(model: applications::Model) -> Self {
        Self {
            id: model.id,
            status: model.status,
            shop_name: model.shop_name,
            slug: model.slug,
            region: model.region,
            contact_name: model.contact_name,
            email: model.email,
            phone: model.phone,
            description: model.description,
            names: ShopNames::from_stored(&model.names).to_map(),
            plan: model.plan,
            locale: model.locale,
            reason: model.reason,
            tenant_id: model.tenant_id,
            created_at: model.created_at.with_timezone(&Utc),
            decided_at: model.decided_at.map(|at| at.with_timezone(&Utc)),
        }
    }
}

/// A shop, as operators and its own staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11", "slug": "zhongning-goji", "name": "Zhongning Goji Cooperative",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "zh-CN": "中宁枸杞合作社"},
    "status": "active", "plan": "standard", "region": "Ningxia", "owner_email": "owner@zhongning-goji.example.cn",
    "description": {"zh-CN": "宁夏中宁枸杞合作社", "en": "Goji berries from Zhongning, Ningxia", "ug": "نىڭشيا جۇڭنىڭ لەڭزە"},
    "logo_url": "https://cdn.zhongning-goji.cn/logo.png", "contact_email": "shop@zhongning-goji.example.cn",
    "contact_phone": "+86 955 555 0100", "base_currency": "CNY", "currencies": ["CNY", "USD", "KZT"],
    "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"], "timezone": "Asia/Shanghai",
    "ship_to": ["CN", "KZ"],
    "theme": {"brand_color": "#0F6E56", "accent_color": "#B5432A", "banner_url": null, "sections": ["banner", "categories", "new", "story"]},
    "created_at": "2026-08-19T07:45:00Z", "updated_at": "2026-11-02T01:12:00Z"
}))]
pub struct TenantView {
    /// Id.
    pub id: Uuid,
    /// Slug.
    #[schema(example = "zhongning-goji")]
    pub slug: String,
    /// Name (the shop's default; buyers see it where `names` has none in their
    /// language).
    #[schema(example = "Zhongning Goji Cooperative")]
    pub name: String,
    /// The name in other languages, keyed by language tag (may be empty).
    #[schema(schema_with = names_view_schema)]
    pub names: BTreeMap<String, String>,
    /// `active`, `suspended` or `closed`.
    #[schema(example = "active")]
    pub status: String,
    /// Plan code.
    #[schema(example = "standard")]
    pub plan: String,
    /// Region or province.
    pub region: String,
    /// Owner's email.
    pub owner_email: String,
    /// Translatable description.
    #[schema(value_type = Object)]
    pub description: serde_json::Value,
    /// Logo.
    pub logo_url: Option<String>,
    /// Contact email for buyers.
    pub contact_email: Option<String>,
    /// Contact phone for buyers.
    pub contact_phone: Option<String>,
    /// Base currency.
    #[schema(example = "CNY")]
    pub base_currency: String,
    /// Accepted currencies.
    pub currencies: Vec<String>,
    /// Default locale.
    #[schema(example = "zh-CN")]
    pub default_locale: String,
    /// Offered locales.
    pub locales: Vec<String>,
    /// Time zone.
    #[schema(example = "Asia/Shanghai")]
    pub timezone: String,
    /// Countries shipped to.
    pub ship_to: Vec<String>,
    /// The storefront's theme, defaults filled in.
    pub theme: ThemeView,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<tenants::Model> for TenantView {
    fn from(model: tenants::Model) -> Self {
        Self {
            id: model.id,
            slug: model.slug,
            names: ShopNames::from_stored(&model.names).to_map(),
            name: model.name,
            status: model.status,
            plan: model.plan,
            region: model.region,
            owner_email: model.owner_email,
            description: model.description,
            logo_url: model.logo_url,
            contact_email: model.contact_email,
            contact_phone: model.contact_phone,
            base_currency: model.base_currency,
            currencies: model.currencies,
            default_locale: model.default_locale,
            locales: model.locales,
            timezone: model.timezone,
            ship_to: model.ship_to,
            theme: Theme::from_stored(&model.theme).into(),
            created_at: model.created_at.with_timezone(&Utc),
            updated_at: model.updated_at.with_timezone(&Utc),
        }
    }
}

/// A shop's public profile, for storefronts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "slug": "zhongning-goji", "name": "Zhongning Goji Cooperative",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "zh-CN": "中宁枸杞合作社"},
    "description": {"zh-CN": "宁夏中宁枸杞合作社", "en": "Goji berries from Zhongning, Ningxia", "ug": "نىڭشيا جۇڭنىڭ لەڭزە"},
    "logo_url": "https://cdn.zhongning-goji.cn/logo.png", "contact_email": "shop@zhongning-goji.example.cn",
    "contact_phone": "+86 955 555 0100", "base_currency": "CNY", "currencies": ["CNY", "USD", "KZT"],
    "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"], "ship_to": ["CN", "KZ"],
    "theme": {"brand_color": "#0F6E56", "accent_color": "#B5432A", "banner_url": null, "sections": ["banner", "categories", "new", "story"]}
}))]
pub struct ShopProfile {
    /// Slug.
    #[schema(example = "zhongning-goji")]
    pub slug: String,
    /// Name (the shop's default; buyers see it where `names` has none in their
    /// language).
    #[schema(example = "Zhongning Goji Cooperative")]
    pub name: String,
    /// The name in other languages, keyed by language tag (may be empty).
    #[schema(schema_with = names_view_schema)]
    pub names: BTreeMap<String, String>,
    /// Translatable description.
    #[schema(value_type = Object)]
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
    /// Countries shipped to.
    pub ship_to: Vec<String>,
    /// The storefront's theme, defaults filled in.
    pub theme: ThemeView,
}

/// An open shop in the public directory.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "slug": "zhongning-goji", "name": "Zhongning Goji Cooperative",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "zh-CN": "中宁枸杞合作社"},
    "description": {"zh-CN": "宁夏中宁枸杞合作社", "en": "Goji berries from Zhongning, Ningxia"},
    "region": "Ningxia", "logo_url": "https://cdn.zhongning-goji.cn/logo.png",
    "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"]
}))]
pub struct ShopListing {
    /// Slug (its storefront is `/s/{slug}/`).
    #[schema(example = "zhongning-goji")]
    pub slug: String,
    /// Name (the shop's default; buyers see it where `names` has none in their
    /// language).
    #[schema(example = "Zhongning Goji Cooperative")]
    pub name: String,
    /// The name in other languages, keyed by language tag (may be empty).
    #[schema(schema_with = names_view_schema)]
    pub names: BTreeMap<String, String>,
    /// Translatable description.
    #[schema(value_type = Object)]
    pub description: serde_json::Value,
    /// Where the cooperative is.
    #[schema(example = "Ningxia")]
    pub region: String,
    /// Logo.
    pub logo_url: Option<String>,
    /// Default locale.
    pub default_locale: String,
    /// Offered locales.
    pub locales: Vec<String>,
}

impl From<tenants::Model> for ShopListing {
    fn from(model: tenants::Model) -> Self {
        Self {
            slug: model.slug,
            names: ShopNames::from_stored(&model.names).to_map(),
            name: model.name,
            description: model.description,
            region: model.region,
            logo_url: model.logo_url,
            default_locale: model.default_locale,
            locales: model.locales,
        }
    }
}

impl From<tenants::Model> for ShopProfile {
    fn from(model: tenants::Model) -> Self {
        Self {
            slug: model.slug,
            names: ShopNames::from_stored(&model.names).to_map(),
            name: model.name,
            description: model.description,
            logo_url: model.logo_url,
            contact_email: model.contact_email,
            contact_phone: model.contact_phone,
            base_currency: model.base_currency,
            currencies: model.currencies,
            default_locale: model.default_locale,
            locales: model.locales,
            ship_to: model.ship_to,
            theme: Theme::from_stored(&model.theme).into(),
        }
    }
}

/// A plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "standard", "name": "Standard", "max_products": 1000, "max_staff": 10,
    "max_orders_per_month": 5000, "monthly_price": {"amount": 29900, "currency": "CNY"}
}))]
pub struct PlanView {
    /// Code.
    #[schema(example = "standard")]
    pub code: String,
    /// Name.
    pub name: String,
    /// Products allowed (null: unlimited).
    pub max_products: Option<i32>,
    /// Staff accounts allowed (null: unlimited).
    pub max_staff: Option<i32>,
    /// Orders per month allowed (null: unlimited).
    pub max_orders_per_month: Option<i32>,
    /// Monthly price.
    pub monthly_price: Money,
}

impl TryFrom<plans::Model> for PlanView {
    type Error = caravan_shared::domain::MoneyError;
    fn try_from(model: plans::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            monthly_price: Money::new(
                model.monthly_price_amount,
                caravan_shared::domain::Currency::parse(&model.monthly_price_currency)?,
            ),
            code: model.code,
            name: model.name,
            max_products: model.max_products,
            max_staff: model.max_staff,
            max_orders_per_month: model.max_orders_per_month,
        })
    }
}

/// One entry of a shop's audit trail.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b4c2-7d10-7e2f-8a3b-4c5d6e7f8a9b", "actor": "operator:0193a0b1-c2d3-7e4f-8a5b-6c7d8e9f0a1b",
    "action": "plan.change", "reason": null, "details": {"from": "free", "to": "standard"},
    "created_at": "2026-11-02T01:12:00Z"
}))]
pub struct AuditEntry {
    /// Id.
    pub id: Uuid,
    /// Who: `operator:<id>`, `staff:<id>`, `applicant`.
    pub actor: String,
    /// What: `approve`, `suspend`, `settings.update`, …
    pub action: String,
    /// Why, when given.
    pub reason: Option<String>,
    /// Details of the change.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(model: audit_log::Model) -> Self {
        Self {
            id: model.id,
            actor: model.actor,
            action: model.action,
            reason: model.reason,
            details: model.details,
            created_at: model.created_at.with_timezone(&Utc),
        }
    }
}

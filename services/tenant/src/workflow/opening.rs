//! Opening a shop: from an approved application, or directly by an operator.

use crate::domain::ShopStatus;
use crate::events;
use crate::store::entities::{plans, tenants};
use crate::store::{self, is_duplicate};
use caravan_shared::tenancy::PlatformScope;
use caravan_shared::{ApiError, ErrorCode};
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

/// A shop about to open.
pub struct NewShop {
    pub slug: String,
    pub name: String,
    pub region: String,
    pub owner_email: String,
    pub owner_name: Option<String>,
    pub phone: Option<String>,
    /// Its name in other languages, as stored (`{}`: none).
    pub names: serde_json::Value,
}

/// Who opens a shop and why, for the audit trail.
pub struct Opening<'a> {
    /// `operator:<id>`.
    pub actor: &'a str,
    /// `approve` or `create`.
    pub action: &'a str,
    /// What the audit entry records besides.
    pub details: serde_json::Value,
}

/// The slug refusal of a shop that cannot open under it.
pub fn slug_taken(slug: &str) -> ApiError {
    ApiError::conflict(ErrorCode::SlugTaken, format!("the slug {slug} is taken"))
        .with_field("slug", "is taken")
}

/// Opens an active shop in `tx`: stores it, records the opening in the audit trail,
/// and publishes `tenant.activated` (so the auth service invites the owner).
#[tracing::instrument(skip_all, fields(slug = %shop.slug, plan = %plan.code, action = opening.action))]
pub async fn open_shop(
    tx: &DatabaseTransaction,
    shop: NewShop,
    plan: &plans::Model,
    opening: Opening<'_>,
) -> Result<tenants::Model, ApiError> {
    let slug = shop.slug.clone();
    let opened = store::insert_tenant(
        tx,
        tenants::ActiveModel {
            id: Set(Uuid::now_v7()),
            slug: Set(shop.slug),
            name: Set(shop.name),
            status: Set(ShopStatus::Active.as_str().to_owned()),
            plan: Set(plan.code.clone()),
            region: Set(shop.region),
            owner_email: Set(shop.owner_email.clone()),
            contact_email: Set(Some(shop.owner_email)),
            contact_phone: Set(shop.phone),
            names: Set(shop.names),
            ..Default::default()
        },
    )
    .await
    .map_err(|error| {
        if is_duplicate(&error) {
            slug_taken(&slug)
        } else {
            error.into()
        }
    })?;
    store::audit(
        tx,
        Some(opened.id),
        opening.actor,
        opening.action,
        None,
        opening.details,
    )
    .await?;
    events::publish(
        tx,
        "tenant.activated",
        &opened,
        plan,
        json!({"owner_email": opened.owner_email, "owner_name": shop.owner_name}),
    )
    .await?;
    Ok(opened)
}

/// An operator opens a shop directly, on `plan` (`free` when none is named): the
/// slug must be free of every shop and open application.
#[tracing::instrument(skip_all, fields(slug = %shop.slug))]
pub async fn open_directly(
    db: &DatabaseConnection,
    shop: NewShop,
    plan: Option<&str>,
    actor: &str,
) -> Result<tenants::Model, ApiError> {
    let tx = db.begin().await?;
    PlatformScope::enter(
        &tx,
        "an operator opens a shop: its slug is checked against every open application",
    )
    .await?;
    let plan = store::plan(&tx, plan.unwrap_or("free"))
        .await?
        .ok_or_else(|| ApiError::invalid_field("plan", "no such plan"))?;
    if store::slug_taken(&tx, &shop.slug).await? {
        return Err(slug_taken(&shop.slug));
    }
    let opening = Opening {
        actor,
        action: "create",
        details: json!({"plan": plan.code}),
    };
    let shop = open_shop(&tx, shop, &plan, opening).await?;
    tx.commit().await?;
    Ok(shop)
}

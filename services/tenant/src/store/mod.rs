//! Queries of the tenant database.

pub mod entities;
pub mod webhooks;

use crate::domain::settings::Settings;
use crate::domain::theme::Theme;
use crate::domain::{ApplicationStatus, ShopStatus};
use caravan_shared::domain::PageRequest;
use entities::{applications, audit_log, plans, tenants};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub use caravan_shared::db::is_duplicate;

/// Every plan, cheapest first.
#[tracing::instrument(skip_all)]
pub async fn plans<C: ConnectionTrait>(conn: &C) -> Result<Vec<plans::Model>, DbErr> {
    plans::Entity::find()
        .order_by_asc(plans::Column::Position)
        .order_by_asc(plans::Column::Code)
        .all(conn)
        .await
}

/// One plan.
#[tracing::instrument(skip_all)]
pub async fn plan<C: ConnectionTrait>(conn: &C, code: &str) -> Result<Option<plans::Model>, DbErr> {
    plans::Entity::find_by_id(code.to_owned()).one(conn).await
}

/// Whether a slug is held by a shop or an open application.
#[tracing::instrument(skip_all)]
pub async fn slug_taken<C: ConnectionTrait>(conn: &C, slug: &str) -> Result<bool, DbErr> {
    let shop = tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(conn)
        .await?;
    let application = applications::Entity::find()
        .filter(applications::Column::Slug.eq(slug))
        .filter(applications::Column::Status.eq(ApplicationStatus::Pending.as_str()))
        .one(conn)
        .await?;
    Ok(shop.is_some() || application.is_some())
}

/// Stores an application.
#[tracing::instrument(skip_all)]
pub async fn insert_application<C: ConnectionTrait>(
    conn: &C,
    model: applications::ActiveModel,
) -> Result<applications::Model, DbErr> {
    model.insert(conn).await
}

/// One application.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn application<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<applications::Model>, DbErr> {
    applications::Entity::find_by_id(id).one(conn).await
}

/// One application, locked for a decision.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn application_for_update<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<applications::Model>, DbErr> {
    applications::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await
}

/// Applications, oldest first, optionally by status, after a cursor.
#[tracing::instrument(skip_all, fields(after = ?after))]
pub async fn applications<C: ConnectionTrait>(
    conn: &C,
    status: Option<&str>,
    page: &PageRequest,
    after: Option<Uuid>,
) -> Result<Vec<applications::Model>, DbErr> {
    let mut query = applications::Entity::find().order_by_asc(applications::Column::Id);
    if let Some(status) = status {
        query = query.filter(applications::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(applications::Column::Id.gt(after));
    }
    query.limit(page.fetch_limit()).all(conn).await
}

/// Records a decision on an application (the status its machine moved it to).
#[tracing::instrument(skip_all, fields(id = %id, tenant_id = ?tenant_id))]
pub async fn decide_application<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: ApplicationStatus,
    reason: Option<&str>,
    tenant_id: Option<Uuid>,
    decided_by: &str,
) -> Result<(), DbErr> {
    applications::Entity::update_many()
        .col_expr(applications::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            applications::Column::Reason,
            Expr::value(reason.map(str::to_owned)),
        )
        .col_expr(applications::Column::TenantId, Expr::value(tenant_id))
        .col_expr(applications::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(applications::Column::DecidedAt, Expr::current_timestamp())
        .filter(applications::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Stores a shop.
#[tracing::instrument(skip_all)]
pub async fn insert_tenant<C: ConnectionTrait>(
    conn: &C,
    model: tenants::ActiveModel,
) -> Result<tenants::Model, DbErr> {
    model.insert(conn).await
}

/// One shop.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn tenant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id).one(conn).await
}

/// One shop, locked for a change.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn tenant_for_update<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await
}

/// One shop by slug.
#[tracing::instrument(skip_all)]
pub async fn tenant_by_slug<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(conn)
        .await
}

/// Which shops a listing takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopFilter<'a> {
    /// Only shops in this status.
    pub status: Option<&'a str>,
    /// Only shops on this plan.
    pub plan: Option<&'a str>,
    /// Only shops with this text in the slug, name or owner's email.
    pub text: Option<&'a str>,
}

/// Shops by id, filtered, after a cursor.
#[tracing::instrument(skip_all, fields(after = ?after))]
pub async fn tenants<C: ConnectionTrait>(
    conn: &C,
    filter: ShopFilter<'_>,
    page: &PageRequest,
    after: Option<Uuid>,
) -> Result<Vec<tenants::Model>, DbErr> {
    let mut query = tenants::Entity::find().order_by_asc(tenants::Column::Id);
    if let Some(status) = filter.status {
        query = query.filter(tenants::Column::Status.eq(status));
    }
    if let Some(plan) = filter.plan {
        query = query.filter(tenants::Column::Plan.eq(plan));
    }
    if let Some(text) = filter.text {
        let pattern = caravan_shared::db::contains_pattern(text);
        query = query.filter(
            sea_orm::Condition::any()
                .add(tenants::Column::Slug.like(&pattern))
                .add(tenants::Column::Name.like(&pattern))
                .add(tenants::Column::OwnerEmail.like(&pattern)),
        );
    }
    if let Some(after) = after {
        query = query.filter(tenants::Column::Id.gt(after));
    }
    query.limit(page.fetch_limit()).all(conn).await
}

/// Sets a shop's status (the one its machine moved it to).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn set_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: ShopStatus,
) -> Result<(), DbErr> {
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value(status.as_str()))
        .col_expr(tenants::Column::UpdatedAt, Expr::current_timestamp())
        .filter(tenants::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Sets a shop's plan.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn set_plan<C: ConnectionTrait>(conn: &C, id: Uuid, plan: &str) -> Result<(), DbErr> {
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Plan, Expr::value(plan))
        .col_expr(tenants::Column::UpdatedAt, Expr::current_timestamp())
        .filter(tenants::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// A shop's settings.
pub fn settings_of(model: &tenants::Model) -> Settings {
    Settings {
        name: model.name.clone(),
        names: model.names.clone(),
        description: model.description.clone(),
        logo_url: model.logo_url.clone(),
        contact_email: model.contact_email.clone(),
        contact_phone: model.contact_phone.clone(),
        base_currency: model.base_currency.clone(),
        currencies: model.currencies.clone(),
        default_locale: model.default_locale.clone(),
        locales: model.locales.clone(),
        timezone: model.timezone.clone(),
        ship_to: model.ship_to.clone(),
        theme: Theme::from_stored(&model.theme),
    }
}

/// Saves a shop's settings.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn save_settings<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    settings: &Settings,
) -> Result<tenants::Model, DbErr> {
    tenants::ActiveModel {
        id: Set(id),
        name: Set(settings.name.clone()),
        names: Set(settings.names.clone()),
        description: Set(settings.description.clone()),
        logo_url: Set(settings.logo_url.clone()),
        contact_email: Set(settings.contact_email.clone()),
        contact_phone: Set(settings.contact_phone.clone()),
        base_currency: Set(settings.base_currency.clone()),
        currencies: Set(settings.currencies.clone()),
        default_locale: Set(settings.default_locale.clone()),
        locales: Set(settings.locales.clone()),
        timezone: Set(settings.timezone.clone()),
        ship_to: Set(settings.ship_to.clone()),
        theme: Set(settings.theme.to_stored()),
        updated_at: Set(chrono::Utc::now().into()),
        ..Default::default()
    }
    .update(conn)
    .await
}

/// Records who did what to a shop and why.
#[tracing::instrument(skip_all, fields(tenant_id = ?tenant_id))]
pub async fn audit<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Option<Uuid>,
    actor: &str,
    action: &str,
    reason: Option<&str>,
    details: serde_json::Value,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        reason: Set(reason.map(str::to_owned)),
        details: Set(details),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A shop's audit trail, oldest first, after a cursor.
#[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, after = ?after))]
pub async fn audit_trail<C: ConnectionTrait>(
    conn: &C,
    tenant_id: Uuid,
    page: &PageRequest,
    after: Option<Uuid>,
) -> Result<Vec<audit_log::Model>, DbErr> {
    let mut query = audit_log::Entity::find()
        .filter(audit_log::Column::TenantId.eq(tenant_id))
        .order_by_asc(audit_log::Column::Id);
    if let Some(after) = after {
        query = query.filter(audit_log::Column::Id.gt(after));
    }
    query.limit(page.fetch_limit()).all(conn).await
}

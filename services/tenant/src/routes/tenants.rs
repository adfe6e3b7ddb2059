//! Shops: operators create them and steer their lifecycle and plan; a shop's own
//! staff read and change its settings.

use super::TenantState;
use super::views::{AuditEntry, TenantView};
use crate::domain::settings::SettingsPatch;
use crate::domain::{PLAN_CODES, ShopAction, ShopStatus, Slug, email};
use crate::events;
use crate::store;
use crate::store::entities::tenants;
use crate::workflow::opening::{self, NewShop};
use actix_web::{HttpResponse, get, patch, post, web};
use caravan_shared::domain::text::{line, paragraphs};
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::{Operator, Principal, Role};
use caravan_shared::tenancy::{TenantScope, TenantTx};
use caravan_shared::{ApiError, FieldError, TenantId, tenant_status};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

/// A shop created directly by an operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Turpan Raisin and Hami Melon Cooperative", "slug": "turpan-raisins", "owner_email": "aysha@turpan-raisins.cn", "plan": "standard", "region": "Xinjiang"}))]
pub struct CreateRequest {
    /// Shop name (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub name: String,
    /// Slug.
    #[schema(schema_with = Slug::schema)]
    pub slug: String,
    /// The owner, invited by email.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub owner_email: String,
    /// Plan code (default `free`).
    #[schema(schema_with = super::optional_plan_schema)]
    pub plan: Option<String>,
    /// Region or province (at most 60 characters; default empty).
    #[schema(max_length = 60, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub region: Option<String>,
}

/// Creates an active shop directly; its owner is invited by email.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    request_body = CreateRequest,
    responses(
        (status = 201, description = "The new shop", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants")]
pub async fn create(
    state: web::Data<TenantState>,
    operator: Operator,
    body: Json<CreateRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let name = line(&body.name, "name", 1, 100)
        .map_err(|e| errors.push(e))
        .ok();
    let slug = Slug::parse(&body.slug).map_err(|e| errors.push(e)).ok();
    let owner = email(&body.owner_email, "owner_email")
        .map_err(|e| errors.push(e))
        .ok();
    let region = line(body.region.as_deref().unwrap_or(""), "region", 0, 60)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(name), Some(slug), Some(owner), Some(region)) = (name, slug, owner, region) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let actor = format!("operator:{}", operator.0.subject);
    let shop = NewShop {
        slug: slug.as_str().to_owned(),
        name,
        region,
        owner_email: owner,
        owner_name: None,
        phone: None,
        names: json!({}),
    };
    let shop =
        opening::open_directly(&state.context.db, shop, body.plan.as_deref(), &actor).await?;
    Ok(HttpResponse::Created().json(TenantView::from(shop)))
}

/// Filters of the shop list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TenantQuery {
    /// Only shops in this status: `active`, `suspended` or `closed`.
    #[param(schema_with = tenant_status_schema)]
    pub status: Option<String>,
    /// Only shops on this plan: `free`, `standard` or `pro`.
    #[param(schema_with = tenant_plan_schema)]
    pub plan: Option<String>,
    /// Text in the slug, name or owner's email.
    #[param(nullable = false, pattern = r"^[^\u0000]*$")]
    pub q: Option<String>,
    /// Page size: 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The statuses the shop list filters by.
const TENANT_STATUSES: &[&str] = &["active", "suspended", "closed"];

fn tenant_status_schema() -> ObjectBuilder {
    super::one_of(TENANT_STATUSES).description(Some(
        "Only shops in this status: `active`, `suspended` or `closed`.",
    ))
}

fn tenant_plan_schema() -> ObjectBuilder {
    super::one_of(PLAN_CODES).description(Some(
        "Only shops on this plan: `free`, `standard` or `pro`.",
    ))
}

/// Shops, oldest first (platform operators); the filters combine.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(TenantQuery),
    responses(
        (status = 200, description = "A page of shops", body = Page<TenantView>),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants")]
pub async fn list(
    state: web::Data<TenantState>,
    _operator: Operator,
    query: web::Query<TenantQuery>,
) -> Result<web::Json<Page<TenantView>>, ApiError> {
    let query = query.into_inner();
    let mut errors = Vec::new();
    if let Some(status) = query.status.as_deref()
        && !TENANT_STATUSES.contains(&status)
    {
        errors.push(FieldError::new(
            "status",
            "must be active, suspended or closed",
        ));
    }
    if let Some(plan) = query.plan.as_deref()
        && !PLAN_CODES.contains(&plan)
    {
        errors.push(FieldError::new("plan", "must be free, standard or pro"));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<Uuid> = page.after()?;
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = store::ShopFilter {
        status: query.status.as_deref(),
        plan: query.plan.as_deref(),
        text,
    };
    let rows = store::tenants(&state.context.db, filter, &page, after).await?;
    Ok(web::Json(
        Page::from_rows(rows, page.limit(), |row| row.id).map(TenantView::from),
    ))
}

/// Who may see a shop: operators, and its own owner and staff. Others get 404 —
/// another shop's existence is not disclosed.
async fn visible_shop(
    state: &TenantState,
    principal: &Principal,
    id: Uuid,
) -> Result<tenants::Model, ApiError> {
    let not_found = || ApiError::not_found("no such shop");
    let own = principal.is_staff() && principal.tenant == Some(TenantId::from(id));
    if principal.role != Role::PlatformAdmin && !own {
        return Err(not_found());
    }
    if own {
        tenant_status::ensure_active(&state.context.shops, TenantId::from(id)).await?;
    }
    store::tenant(&state.context.db, id)
        .await?
        .ok_or_else(not_found)
}

/// A shop's profile and settings (operators, or the shop's own staff).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    responses(
        (status = 200, description = "The shop", body = TenantView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants/{id}")]
pub async fn show(
    state: web::Data<TenantState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<web::Json<TenantView>, ApiError> {
    Ok(web::Json(
        visible_shop(&state, &principal, id.into_inner())
            .await?
            .into(),
    ))
}

/// Changes a shop's settings (operators, or the shop's own staff); publishes
/// `tenant.updated`.
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "The changed shop", body = TenantView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/tenants/{id}")]
pub async fn update(
    state: web::Data<TenantState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: Json<SettingsPatch>,
) -> Result<web::Json<TenantView>, ApiError> {
    let id = id.into_inner();
    visible_shop(&state, &principal, id).await?;
    let tx = state.context.db.begin().await?;
    // The shop's own transaction: its audit entry, event and status row.
    TenantScope::enter(&tx, TenantId::from(id)).await?;
    let current = store::tenant_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such shop"))?;
    let next = body.into_inner().apply(id, &store::settings_of(&current))?;
    let saved = store::save_settings(&tx, id, &next).await?;
    let plan = store::plan(&tx, &saved.plan)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("plan {} missing", saved.plan)))?;
    store::audit(
        &tx,
        Some(id),
        &principal.describe(),
        "settings.update",
        None,
        json!({}),
    )
    .await?;
    events::publish(&tx, "tenant.updated", &saved, &plan, json!({})).await?;
    tx.commit().await?;
    Ok(web::Json(saved.into()))
}

/// A lifecycle change's reason, optional (reinstating).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Complaints about mislabelled origin; under review."}))]
pub struct ReasonRequest {
    /// Why (1 to 1000 characters).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reason: Option<String>,
}

/// A lifecycle change's reason, required (suspending, closing). Parsed like
/// [`ReasonRequest`] so a missing reason answers the same "is required".
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Complaints about mislabelled origin; under review."}))]
pub struct RequiredReasonRequest {
    /// Why (1 to 1000 characters).
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reason: Option<String>,
}

async fn change_status(
    state: &TenantState,
    operator: &Operator,
    id: Uuid,
    action: ShopAction,
    reason: Option<String>,
) -> Result<web::Json<TenantView>, ApiError> {
    let reason = match reason {
        Some(reason) => Some(
            paragraphs(&reason, "reason", 1, 1000)
                .map_err(|e| ApiError::invalid_fields(vec![e]))?,
        ),
        None if matches!(action, ShopAction::Suspend | ShopAction::Close) => {
            return Err(ApiError::invalid_field("reason", "is required"));
        }
        None => None,
    };
    let tx = state.context.db.begin().await?;
    // The shop's own transaction: its audit entry, event and status row.
    TenantScope::enter(&tx, TenantId::from(id)).await?;
    let shop = locked_shop(&tx, id).await?;
    let from = ShopStatus::from_stored(&shop.status)?;
    let to = from.after(action)?;
    store::set_status(&tx, id, to).await?;
    let actor = format!("operator:{}", operator.0.subject);
    store::audit(
        &tx,
        Some(id),
        &actor,
        action.as_str(),
        reason.as_deref(),
        json!({"from": from.as_str(), "to": to.as_str()}),
    )
    .await?;
    let changed = locked_shop(&tx, id).await?;
    let plan = store::plan(&tx, &changed.plan)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("plan {} missing", changed.plan)))?;
    let event = match to {
        ShopStatus::Suspended => "tenant.suspended",
        ShopStatus::Closed => "tenant.closed",
        ShopStatus::Active => "tenant.reinstated",
    };
    events::publish(&tx, event, &changed, &plan, json!({"reason": reason})).await?;
    tx.commit().await?;
    Ok(web::Json(changed.into()))
}

async fn locked_shop(tx: &DatabaseTransaction, id: Uuid) -> Result<tenants::Model, ApiError> {
    store::tenant_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such shop"))
}

/// Suspends a shop: within a second every service refuses its staff, storefront and
/// checkouts (event `tenant.suspended`).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    request_body = RequiredReasonRequest,
    responses(
        (status = 200, description = "Suspended", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not active", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/{id}/suspend")]
pub async fn suspend(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: Json<RequiredReasonRequest>,
) -> Result<web::Json<TenantView>, ApiError> {
    change_status(
        &state,
        &operator,
        id.into_inner(),
        ShopAction::Suspend,
        body.into_inner().reason,
    )
    .await
}

/// Lets a suspended shop sell again (event `tenant.reinstated`).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Active again", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not suspended", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: Json<ReasonRequest>,
) -> Result<web::Json<TenantView>, ApiError> {
    change_status(
        &state,
        &operator,
        id.into_inner(),
        ShopAction::Reinstate,
        body.into_inner().reason,
    )
    .await
}

/// Closes a shop for good (event `tenant.closed`).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    request_body = RequiredReasonRequest,
    responses(
        (status = 200, description = "Closed", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/{id}/close")]
pub async fn close(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: Json<RequiredReasonRequest>,
) -> Result<web::Json<TenantView>, ApiError> {
    change_status(
        &state,
        &operator,
        id.into_inner(),
        ShopAction::Close,
        body.into_inner().reason,
    )
    .await
}

/// A plan change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "pro"}))]
pub struct PlanRequest {
    /// The new plan's code.
    #[schema(schema_with = super::plan_schema)]
    pub plan: String,
}

/// Moves a shop to another plan; the services that enforce its quotas learn of it
/// (event `tenant.plan_changed`).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id")),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "On the new plan", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown plan", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/{id}/plan")]
pub async fn change_plan(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: Json<PlanRequest>,
) -> Result<web::Json<TenantView>, ApiError> {
    let id = id.into_inner();
    let tx = state.context.db.begin().await?;
    // The shop's own transaction: its audit entry, event and status row.
    TenantScope::enter(&tx, TenantId::from(id)).await?;
    let plan = store::plan(&tx, &body.plan)
        .await?
        .ok_or_else(|| ApiError::invalid_field("plan", "no such plan"))?;
    let shop = locked_shop(&tx, id).await?;
    store::set_plan(&tx, id, &plan.code).await?;
    let actor = format!("operator:{}", operator.0.subject);
    store::audit(
        &tx,
        Some(id),
        &actor,
        "plan.change",
        None,
        json!({"from": shop.plan, "to": plan.code}),
    )
    .await?;
    let changed = locked_shop(&tx, id).await?;
    events::publish(&tx, "tenant.plan_changed", &changed, &plan, json!({})).await?;
    tx.commit().await?;
    Ok(web::Json(changed.into()))
}

/// Paging of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Page size: 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A shop's audit trail, oldest first (platform operators).
#[utoipa::path(
    tag = "tenants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Shop id"), AuditQuery),
    responses(
        (status = 200, description = "Who did what, when and why", body = Page<AuditEntry>),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants/{id}/audit")]
pub async fn audit(
    state: web::Data<TenantState>,
    _operator: Operator,
    id: web::Path<Uuid>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let id = id.into_inner();
    let query = query.into_inner();
    store::tenant(&state.context.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such shop"))?;
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<Uuid> = page.after()?;
    let tx = TenantTx::begin(&state.context.db, TenantId::from(id)).await?;
    let rows = store::audit_trail(tx.conn(), id, &page, after).await?;
    tx.commit().await?;
    Ok(web::Json(
        Page::from_rows(rows, page.limit(), |row| row.id).map(AuditEntry::from),
    ))
}

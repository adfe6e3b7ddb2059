//! A shop's categories: a tree through `parent_id`, ordered by position.

use super::CatalogState;
use crate::domain::handle;
use crate::domain::limits::{self, MAX_CATEGORY_NAME, check_localized};
use crate::store;
use crate::views::CategoryView;
use actix_web::{HttpResponse, delete, get, post, put, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::domain::{LocalizedText, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{CatalogRead, CatalogWrite};
use caravan_shared::tenancy::TenantTx;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A new category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "dried-fruit", "name": {"zh-CN": "干果", "en": "Dried fruit", "ug": "قۇرۇق مېۋە"}, "position": 1}))]
pub struct CategoryRequest {
    /// Unique in the shop: 1 to 100 of a-z, 0-9 and -.
    #[schema(pattern = "^[a-z0-9-]{1,100}$")]
    pub handle: String,
    /// Translatable name, at most 100 characters per language.
    #[schema(schema_with = category_name_schema)]
    pub name: LocalizedText,
    /// Parent category.
    pub parent_id: Option<Uuid>,
    /// Position among siblings.
    #[serde(default)]
    pub position: i32,
}

fn category_name_schema() -> utoipa::openapi::schema::Schema {
    limits::localized_schema(
        "Translatable name, at most 100 characters per language.",
        MAX_CATEGORY_NAME,
        false,
    )
}

/// Creates a category.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    request_body = CategoryRequest,
    responses(
        (status = 201, description = "Created", body = CategoryView),
        (status = 409, description = "Handle taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values or unknown parent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/categories")]
pub async fn create_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    body: Json<CategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let handle = handle(&body.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    check_localized(&body.name, "name", MAX_CATEGORY_NAME, &mut errors);
    let Some(handle) = handle.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    check_parent(&store::categories(&tx).await?, None, body.parent_id)?;
    let name = serde_json::to_value(&body.name).unwrap_or_default();
    let row = store::insert_category(&tx, &handle, &name, body.parent_id, body.position)
        .await
        .map_err(handle_taken)?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(CategoryView::from(row)))
}

/// Where `id` would sit under `parent`: refused when `parent` is not one of the
/// shop's categories, or is the category itself or one inside it (a loop).
fn check_parent(
    all: &[store::CategoryRow],
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> Result<(), ApiError> {
    let Some(mut at) = parent else {
        return Ok(());
    };
    for _ in 0..=all.len() {
        if Some(at) == id {
            return Err(ApiError::invalid_field(
                "parent_id",
                "would put the category inside itself",
            ));
        }
        match all.iter().find(|category| category.id == at) {
            Some(category) => match category.parent_id {
                Some(up) => at = up,
                None => return Ok(()),
            },
            None => {
                return Err(ApiError::invalid_field(
                    "parent_id",
                    "is not a category of this shop",
                ));
            }
        }
    }
    Ok(())
}

fn handle_taken(error: sea_orm::DbErr) -> ApiError {
    if caravan_shared::db::is_duplicate(&error) {
        ApiError::conflict(
            ErrorCode::HandleTaken,
            "a category of the shop has this handle",
        )
        .with_field("handle", "is taken")
    } else {
        error.into()
    }
}

/// Renames, moves or reorders a category (the whole category is sent).
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "The category")),
    request_body = CategoryRequest,
    responses(
        (status = 200, description = "Changed", body = CategoryView),
        (status = 404, description = "No such category in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Handle taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, an unknown parent, or a parent inside the category", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/v1/categories/{id}")]
pub async fn update_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
    body: Json<CategoryRequest>,
) -> Result<web::Json<CategoryView>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut errors = Vec::new();
    let handle = handle(&body.handle, "handle")
        .map_err(|e| errors.push(e))
        .ok();
    check_localized(&body.name, "name", MAX_CATEGORY_NAME, &mut errors);
    let Some(handle) = handle.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let all = store::categories(&tx).await?;
    if !all.iter().any(|category| category.id == id) {
        return Err(ApiError::not_found("no such category"));
    }
    check_parent(&all, Some(id), body.parent_id)?;
    let name = serde_json::to_value(&body.name).unwrap_or_default();
    let row = store::update_category(&tx, id, &handle, &name, body.parent_id, body.position)
        .await
        .map_err(handle_taken)?
        .ok_or_else(|| ApiError::not_found("no such category"))?;
    tx.commit().await?;
    Ok(web::Json(CategoryView::from(row)))
}

/// Deletes a category without subcategories; its products stay, without it.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:write"])),
    params(("id" = Uuid, Path, description = "The category")),
    responses(
        (status = 204, description = "Deleted, and taken off its products"),
        (status = 404, description = "No such category in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has subcategories: move or delete them first", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/categories/{id}")]
pub async fn delete_category(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let all = store::categories(&tx).await?;
    if all.iter().any(|category| category.parent_id == Some(id)) {
        return Err(ApiError::conflict(
            ErrorCode::CategoryHasSubcategories,
            "this category has subcategories: move or delete them first",
        ));
    }
    if !store::delete_category(&tx, id).await? {
        return Err(ApiError::not_found("no such category"));
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The shop's categories (a tree through `parent_id`), by position.
#[utoipa::path(
    tag = "categories",
    security(("bearer" = ["catalog:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of categories", body = Page<CategoryView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `catalog:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/categories")]
pub async fn categories(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogRead>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<CategoryView>>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::categories(&tx).await?;
    tx.commit().await?;
    let rows = Page::from_sorted(rows, &page, store::CategoryRow::sort_key)?;
    Ok(web::Json(rows.map(CategoryView::from)))
}

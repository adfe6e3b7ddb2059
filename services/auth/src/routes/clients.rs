//! App clients: third-party credentials of a shop, with scopes.

use super::AuthState;
use crate::domain::{ALL_SCOPES, Scopes};
use crate::store;
use crate::store::entities::app_clients;
use actix_web::{HttpResponse, delete, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::Staff;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};
use uuid::Uuid;

/// A new app client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Kashgar logistics sync", "scopes": ["orders:read", "catalog:read"]}))]
pub struct ClientRequest {
    /// What the app is, for the shop's records (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\u0000\u0009-\u000D \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000]*$"
    )]
    pub name: String,
    /// Scopes its tokens carry: `catalog:read`, `catalog:write`, `orders:read`,
    /// `orders:write`, `webhooks:write`.
    #[schema(schema_with = scopes_schema)]
    pub scopes: Vec<String>,
}

/// `scopes` as documented: at least one of [`ALL_SCOPES`] (repeats are ignored).
fn scopes_schema() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ALL_SCOPES.iter().copied())),
        )
        .min_items(Some(1))
        .description(Some(
            "Scopes its tokens carry, at least one: `catalog:read`, `catalog:write`, \
             `orders:read`, `orders:write`, `webhooks:write`.",
        ))
        .build()
}

/// An app client.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0a2-4c10-7d2e-9f3a-4b5c6d7e8f90", "client_id": "cli_6f1d0c2b9a8e7f3d5c4b2a19",
    "name": "Kashgar logistics sync", "scopes": ["orders:read", "catalog:read"],
    "created_at": "2026-10-03T03:55:00Z", "revoked_at": null
}))]
pub struct ClientOut {
    /// Id (for revoking).
    pub id: Uuid,
    /// Public client id for the token endpoint.
    #[schema(example = "cli_6f1d0c2b9a8e7f3d5c4b2a19")]
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A just-created client with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b0a2-4c10-7d2e-9f3a-4b5c6d7e8f90", "client_id": "cli_6f1d0c2b9a8e7f3d5c4b2a19",
    "name": "Kashgar logistics sync", "scopes": ["orders:read", "catalog:read"],
    "created_at": "2026-10-03T03:55:00Z", "revoked_at": null,
    "client_secret": "Yz3kP0q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH"
}))]
pub struct CreatedClient {
    /// The client.
    #[serde(flatten)]
    pub client: ClientOut,
    /// The secret: store it now; only its hash is kept.
    #[schema(example = "Yz3kP0q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH")]
    pub client_secret: String,
}

impl From<app_clients::Model> for ClientOut {
    fn from(model: app_clients::Model) -> Self {
        Self {
            id: model.id,
            client_id: model.client_id,
            name: model.name,
            scopes: model.scopes,
            created_at: model.created_at.with_timezone(&Utc),
            revoked_at: model.revoked_at.map(|at| at.with_timezone(&Utc)),
        }
    }
}

fn owner_only(staff: &Staff) -> Result<(), ApiError> {
    super::owner_only(staff, "only the shop's owner manages app clients")
}

/// Creates an app client for the caller's shop (owners only).
#[utoipa::path(
    tag = "app clients",
    security(("bearer" = [])),
    request_body = ClientRequest,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = CreatedClient),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or scopes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/clients")]
pub async fn create(
    state: web::Data<AuthState>,
    staff: Staff,
    body: Json<ClientRequest>,
) -> Result<HttpResponse, ApiError> {
    owner_only(&staff)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    let scopes = Scopes::parse(&body.scopes)?;
    let client_id = format!("cli_{}", &secrets::hash(&secrets::generate())[..24]);
    let client_secret = secrets::generate();
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let client = store::insert_client(
        &tx,
        &client_id,
        name,
        &secrets::hash(&client_secret),
        scopes.as_slice(),
        staff.principal.subject.parse().ok(),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(CreatedClient {
        client: client.into(),
        client_secret,
    }))
}

/// The caller's shop's app clients, newest first (owners only).
#[utoipa::path(
    tag = "app clients",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The clients (secrets are never shown again)", body = Page<ClientOut>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/auth/clients")]
pub async fn list(
    state: web::Data<AuthState>,
    staff: Staff,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ClientOut>>, ApiError> {
    owner_only(&staff)?;
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let clients = store::clients(&tx, page.after()?, page.fetch_limit()).await?;
    tx.commit().await?;
    let clients = Page::from_rows(clients, page.limit(), |client| client.id);
    Ok(web::Json(clients.map(ClientOut::from)))
}

/// Revokes one of the shop's app clients: it gets no more tokens, and those it has
/// stop working within a second (owners only).
#[utoipa::path(
    tag = "app clients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client's `id`, or its public `client_id`", example = "cli_6f1d0c2b9a8e7f3d5c4b2a19")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live client in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/v1/auth/clients/{id}")]
pub async fn revoke(
    state: web::Data<AuthState>,
    staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owner_only(&staff)?;
    let client = match Uuid::parse_str(&id) {
        Ok(id) => store::ClientRef::Id(id),
        Err(_) => store::ClientRef::ClientId(&id),
    };
    let tx = TenantTx::begin(&state.context.db, staff.tenant).await?;
    let Some(revoked) = store::revoke_client(&tx, client).await? else {
        return Err(ApiError::not_found("no such app client"));
    };
    // Its tokens (their session is the client) stop working too, not only new ones.
    state.end_sessions(&[revoked]).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

//! A small service used to test the common crate through real HTTP, PostgreSQL and
//! Redis: a tenant-owned `notes` table under row-level security, and a few routes
//! that exercise the extractors.
#![allow(dead_code)]

use actix_web::{HttpResponse, get, post};
use caravan_shared::ApiError;
use caravan_shared::config::{ServiceName, Settings};
use caravan_shared::db::{BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::EVENTS_MIGRATION;
use caravan_shared::http::Json;
use caravan_shared::identity::{MaybeSignedIn, Operator, Principal, RequireScope, Staff, scopes};
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use caravan_shared::tenant_status::{TENANT_STATUS_MIGRATION, TenantStatusHandler};
use caravan_shared::testing::TestApp;
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub struct NotesMigrations;

impl ServiceMigrations for NotesMigrations {
    const LIST: &'static [SqlMigration] = &[
        BASE_MIGRATION,
        EVENTS_MIGRATION,
        TENANT_STATUS_MIGRATION,
        caravan_shared::tenancy::RLS_EVERYWHERE_MIGRATION,
        caravan_shared::tenant_status::SHOP_PROFILE_MIGRATION,
        caravan_shared::tenant_status::SHOP_CHANGES_MIGRATION,
        SqlMigration {
            name: "m0001_notes",
            sql: "CREATE TABLE notes (
                      id uuid PRIMARY KEY,
                      tenant_id uuid NOT NULL,
                      body text NOT NULL
                  );
                  SELECT caravan_enable_tenant_rls('notes');",
        },
    ];
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub body: String,
    pub weight_grams: u32,
}

#[utoipa::path(request_body = Note, responses((status = 200, body = Note)))]
#[post("/v1/notes/echo")]
async fn echo(note: Json<Note>) -> HttpResponse {
    HttpResponse::Ok().json(note.into_inner())
}

#[utoipa::path(responses((status = 500)))]
#[get("/v1/notes/broken")]
async fn broken() -> Result<HttpResponse, ApiError> {
    Err(ApiError::internal(anyhow::anyhow!(
        "relation \"secret_internal_table\" does not exist"
    )))
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/whoami")]
async fn whoami(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "subject": principal.subject,
        "role": principal.role,
        "tenant": principal.tenant,
    }))
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/anyone")]
async fn anyone(person: MaybeSignedIn) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "role": person.0.map(|principal| principal.role),
    }))
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/staff")]
async fn staff_only(staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "tenant": staff.tenant }))
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/operators")]
async fn operators_only(_operator: Operator) -> HttpResponse {
    HttpResponse::NoContent().finish()
}

#[utoipa::path(responses((status = 200)))]
#[get("/v1/notes/catalog-write")]
async fn catalog_writers(caller: RequireScope<scopes::CatalogWrite>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "tenant": caller.tenant }))
}

pub fn routes(config: &mut ServiceConfig) {
    config
        .service(echo)
        .service(broken)
        .service(whoami)
        .service(anyone)
        .service(staff_only)
        .service(operators_only)
        .service(catalog_writers);
}

pub const INFO: ApiInfo = ApiInfo {
    title: "Notes",
    description: "A service for testing the common crate.",
};

pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let context = ServiceContext::start::<NotesMigrations>(settings).await?;
    context.subscribe(
        ServiceName::Tenant,
        std::sync::Arc::new(TenantStatusHandler),
    )?;
    Application::serve(&context, INFO, routes)
}

pub async fn spawn_notes(overrides: &[(&str, &str)]) -> TestApp {
    TestApp::spawn::<NotesMigrations, _, _>(ServiceName::Catalog, build, overrides)
        .await
        .expect("the notes service starts")
}

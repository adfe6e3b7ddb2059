//! Applications: a cooperative applies without an account; operators decide.

use super::TenantState;
use super::views::{ApplicationView, TenantView};
use crate::domain::languages::{MailLanguage, ShopNames, names_schema};
use crate::domain::{PLAN_CODES, Slug, email};
use crate::store::{self};
use crate::workflow::applying::{self, Applicant};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use caravan_shared::domain::text::{line, paragraphs, phone};
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::{Json, OptionalJson};
use caravan_shared::identity::Operator;
use caravan_shared::tenancy::PlatformTx;
use caravan_shared::{ApiError, FieldError};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

/// Applications one address may send per hour.
const APPLICATIONS_PER_HOUR: u64 = 10;

/// An application for a shop.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "shop_name": "Zhongning Goji Cooperative", "slug": "zhongning-goji", "region": "Ningxia",
    "contact_name": "Ma Jun", "email": "ma.jun@zhongning-goji.cn", "phone": "+86 955 555 0100",
    "description": "Dried goji berries and goji juice from 120 member farms in Zhongning county.",
    "names": {"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "en": "Zhongning Goji Cooperative"},
    "plan": "standard", "locale": "ug"
}))]
pub struct ApplicationRequest {
    /// Shop name (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub shop_name: String,
    /// Desired slug: 3 to 40 of a-z, 0-9 and -.
    #[schema(schema_with = Slug::schema)]
    pub slug: String,
    /// Region or province (1 to 60 characters).
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub region: String,
    /// Contact person (1 to 100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub contact_name: String,
    /// Contact email; the decision is sent here.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// Contact phone: digits, spaces and dashes with an optional leading `+`; 5 to
    /// 20 digits.
    #[schema(pattern = r"^\+?[ -]*(?:[0-9][ -]*){5,20}$")]
    pub phone: String,
    /// What the cooperative sells (1 to 2000 characters).
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub description: String,
    /// The shop's name in other languages, keyed by language tag (optional; the
    /// shop opens with them).
    #[serde(default)]
    #[schema(schema_with = names_schema)]
    pub names: Option<BTreeMap<String, String>>,
    /// The plan the cooperative wishes for (optional); the operator approving may
    /// choose another.
    #[serde(default)]
    #[schema(schema_with = wished_plan_schema)]
    pub plan: Option<String>,
    /// The applicant's language: the confirmation and the decision are emailed in it
    /// (default `zh-CN`).
    #[serde(default)]
    #[schema(schema_with = applicant_locale_schema)]
    pub locale: Option<String>,
}

/// The plan an application wishes for, as documented.
fn wished_plan_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null))
        .item(crate::domain::plan_code_schema())
        .description(Some(
            "The plan wished for: `free`, `standard` or `pro`; null or absent for no wish.",
        ))
        .into()
}

/// The languages an applicant may be written to in, as documented.
fn applicant_locale_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null))
        .item(super::one_of(MailLanguage::TAGS))
        .description(Some(
            "The applicant's language: `zh-CN` (the default, also for null), `ug`, `en` \
             or `ru`.",
        ))
        .into()
}

/// One address's applications this hour: at most [`APPLICATIONS_PER_HOUR`]. Only
/// applications made count: an attempt refused (a taken slug, a bad field) gives its
/// place back, so a cooperative trying a few names is not locked out.
struct Allowance {
    key: Option<String>,
}

impl Allowance {
    /// Takes a place, or refuses with 429 when the hour's are used up.
    async fn take(state: &TenantState, request: &HttpRequest) -> Result<Self, ApiError> {
        let address =
            caravan_shared::http::client_address(request, &state.context.settings.trusted_proxies);
        let key = format!("applications:address:{address}");
        match state.context.redis.count(&key, 3600).await {
            Some((count, ttl)) if count > APPLICATIONS_PER_HOUR => {
                state.context.redis.uncount(&key).await;
                Err(ApiError::too_many_requests(ttl))
            }
            Some(_) => Ok(Self { key: Some(key) }),
            // Spam protection must not take the form down with Redis.
            None => Ok(Self { key: None }),
        }
    }

    /// The attempt did not make an application: its place goes back.
    async fn give_back(self, state: &TenantState) {
        if let Some(key) = self.key {
            state.context.redis.uncount(&key).await;
        }
    }
}

/// Applies for a shop. No account needed. The applicant is emailed a confirmation
/// at once, in their `locale`; a platform operator decides, and the decision is
/// emailed in the same language. Every invalid field is named in one answer.
/// Rate-limited per address.
#[utoipa::path(
    tag = "applications",
    request_body = ApplicationRequest,
    responses(
        (status = 201, description = "Received, pending a decision", body = ApplicationView),
        (status = 409, description = "The slug is taken; `choices` lists free ones", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many applications from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/applications")]
pub async fn apply(
    request: HttpRequest,
    state: web::Data<TenantState>,
    body: Json<ApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut take = |result: Result<String, FieldError>| match result {
        Ok(value) => value,
        Err(error) => {
            errors.push(error);
            String::new()
        }
    };
    let shop_name = take(line(&body.shop_name, "shop_name", 1, 100));
    let region = take(line(&body.region, "region", 1, 60));
    let contact_name = take(line(&body.contact_name, "contact_name", 1, 100));
    let contact_email = take(email(&body.email, "email"));
    let contact_phone = take(phone(&body.phone, "phone"));
    let description = take(paragraphs(&body.description, "description", 1, 2000));
    let names = ShopNames::parse(&body.names.unwrap_or_default(), "names", &mut errors);
    let plan = body.plan.filter(|plan| {
        let known = PLAN_CODES.contains(&plan.as_str());
        if !known {
            errors.push(FieldError::new("plan", "no such plan"));
        }
        known
    });
    let locale = match body.locale.as_deref().map(MailLanguage::parse) {
        None => MailLanguage::default(),
        Some(Some(language)) => language,
        Some(None) => {
            errors.push(FieldError::new("locale", "must be zh-CN, ug, en or ru"));
            MailLanguage::default()
        }
    };
    let slug = Slug::parse(&body.slug);
    if let Err(error) = &slug {
        errors.push(error.clone());
    }
    let (Ok(slug), Some(names), true) = (slug, names, errors.is_empty()) else {
        return Err(ApiError::invalid_fields(errors));
    };
    let allowance = Allowance::take(&state, &request).await?;
    let applicant = Applicant {
        shop_name,
        region,
        contact_name,
        contact_email,
        contact_phone,
        description,
        names,
        plan,
        locale,
    };
    let public_url = &state.context.settings.public_url;
    match applying::submit(&state.context.db, public_url, slug, applicant).await {
        Ok(application) => Ok(HttpResponse::Created().json(ApplicationView::from(application))),
        Err(error) => {
            allowance.give_back(&state).await;
            Err(error)
        }
    }
}

/// Filters of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    /// Only applications in this status: `pending`, `approved` or `rejected`.
    #[param(schema_with = application_status_schema)]
    pub status: Option<String>,
    /// Page size: 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The statuses the application list filters by.
const APPLICATION_STATUSES: &[&str] = &["pending", "approved", "rejected"];

fn application_status_schema() -> ObjectBuilder {
    super::one_of(APPLICATION_STATUSES).description(Some(
        "Only applications in this status: `pending`, `approved` or `rejected`.",
    ))
}

/// Applications, oldest first (platform operators).
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(ApplicationQuery),
    responses(
        (status = 200, description = "A page of applications", body = Page<ApplicationView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants/applications")]
pub async fn list(
    state: web::Data<TenantState>,
    _operator: Operator,
    query: web::Query<ApplicationQuery>,
) -> Result<web::Json<Page<ApplicationView>>, ApiError> {
    let query = query.into_inner();
    if let Some(status) = query.status.as_deref()
        && !APPLICATION_STATUSES.contains(&status)
    {
        return Err(ApiError::invalid_field(
            "status",
            "must be pending, approved or rejected",
        ));
    }
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<Uuid> = page.after()?;
    let tx = PlatformTx::begin(&state.context.db, "operators list every application").await?;
    let rows = store::applications(tx.conn(), query.status.as_deref(), &page, after).await?;
    tx.commit().await?;
    Ok(web::Json(
        Page::from_rows(rows, page.limit(), |row| row.id).map(ApplicationView::from),
    ))
}

/// One application (platform operators).
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants/applications/{id}")]
pub async fn show(
    state: web::Data<TenantState>,
    _operator: Operator,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let tx = PlatformTx::begin(&state.context.db, "operators read any application").await?;
    let application = store::application(tx.conn(), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    tx.commit().await?;
    Ok(web::Json(application.into()))
}

/// An approval.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"plan": "standard"}))]
pub struct ApproveRequest {
    /// Plan of the new shop (default: the plan the application wishes for, else
    /// `free`).
    #[schema(schema_with = approved_plan_schema)]
    pub plan: Option<String>,
}

/// The plan an approval names, as documented.
fn approved_plan_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null))
        .item(crate::domain::plan_code_schema())
        .description(Some(
            "Plan code: `free`, `standard` or `pro`; null or absent for the plan the \
             application wishes for, or `free` when it wishes for none.",
        ))
        .into()
}

/// Approves an application: the shop becomes active, on the plan named here, else
/// the one the application wishes for, else `free`; it keeps the application's
/// names in other languages, and its owner is invited by the auth service (event
/// `tenant.activated`).
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Application id")),
    request_body(content = Option<ApproveRequest>, description = "Optional; an empty body approves on the plan the application wishes for (else `free`)"),
    responses(
        (status = 201, description = "The new shop", body = TenantView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or the slug was taken meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown plan", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/applications/{id}/approve")]
pub async fn approve(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: OptionalJson<ApproveRequest>,
) -> Result<HttpResponse, ApiError> {
    let plan = body.0.and_then(|body| body.plan);
    let actor = format!("operator:{}", operator.0.subject);
    let shop = applying::approve(&state.context.db, id.into_inner(), plan, &actor).await?;
    Ok(HttpResponse::Created().json(TenantView::from(shop)))
}

/// A rejection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "We could not verify the cooperative's registration; please apply again with its licence number."}))]
pub struct RejectRequest {
    /// Why (1 to 1000 characters); emailed to the applicant.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reason: String,
}

/// Rejects an application and emails the applicant the reason, in the language
/// they applied in.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = RejectRequest,
    responses(
        (status = 200, description = "Rejected", body = ApplicationView),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/tenants/applications/{id}/reject")]
pub async fn reject(
    state: web::Data<TenantState>,
    operator: Operator,
    id: web::Path<Uuid>,
    body: Json<RejectRequest>,
) -> Result<web::Json<ApplicationView>, ApiError> {
    let reason = paragraphs(&body.reason, "reason", 1, 1000)
        .map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let actor = format!("operator:{}", operator.0.subject);
    let decided = applying::reject(&state.context.db, id.into_inner(), &reason, &actor).await?;
    Ok(web::Json(decided.into()))
}

/// The slug asked about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlugQuery {
    /// The wished address.
    pub slug: String,
}

// By hand: the derive drops `required` from a parameter whose schema is given.
impl IntoParams for SlugQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        vec![
            ParameterBuilder::new()
                .name("slug")
                .parameter_in(ParameterIn::Query)
                .required(utoipa::openapi::Required::True)
                .description(Some("The wished address: 3 to 40 of a-z, 0-9 and -."))
                .schema(Some(<Slug as utoipa::PartialSchema>::schema()))
                .build(),
        ]
    }
}

/// Whether a shop address is free.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"slug": "zhongning-goji", "available": false, "choices": ["zhongning-goji-ningxia", "zhongning-goji-2", "zhongning-goji-shop"]}))]
pub struct SlugAvailability {
    /// The slug, as the platform spells it.
    pub slug: String,
    /// Whether no shop and no open application has it.
    pub available: bool,
    /// Free alternatives when it is taken (up to three), else empty.
    pub choices: Vec<String>,
}

/// Checks a wished shop address as it is typed: free, or taken with free
/// alternatives. No account needed.
#[utoipa::path(
    tag = "applications",
    params(SlugQuery),
    responses(
        (status = 200, description = "Free or taken", body = SlugAvailability),
        (status = 422, description = "Not a slug (`errors` names `slug` and says why)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/tenants/slug-availability")]
pub async fn slug_availability(
    state: web::Data<TenantState>,
    query: web::Query<SlugQuery>,
) -> Result<web::Json<SlugAvailability>, ApiError> {
    let slug = Slug::parse(&query.slug).map_err(|error| ApiError::invalid_fields(vec![error]))?;
    let (available, choices) = applying::availability(&state.context.db, &slug).await?;
    Ok(web::Json(SlugAvailability {
        slug: slug.as_str().to_owned(),
        available,
        choices,
    }))
}

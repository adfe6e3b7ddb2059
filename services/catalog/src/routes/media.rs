//! Product photos: uploads from the shop's staff (a phone, usually) and the public
//! reads of their renditions.

use super::CatalogState;
use crate::domain::media::{self, MAX_UPLOAD_BYTES, MediaKey, Processed, Refusal};
use crate::store::{self, MediaValues};
use crate::views::{MediaView, StoredRendition};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::error::Problem;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::CatalogWrite;
use caravan_shared::tenancy::TenantTx;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// The photo store and the few decodes it lets run at once (each may hold a
/// few hundred megabytes while it works).
pub struct MediaStore {
    /// Where renditions are kept.
    pub objects: Arc<dyn ObjectStore>,
    decodes: Semaphore,
}

impl MediaStore {
    /// `objects`, with at most `parallel_decodes` photos decoded at once.
    pub fn new(objects: Arc<dyn ObjectStore>, parallel_decodes: usize) -> Self {
        Self {
            objects,
            decodes: Semaphore::new(parallel_decodes.max(1)),
        }
    }
}

/// An image file's bytes, as the contract describes a file.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, example = "(the bytes of a JPEG, PNG or WebP file)")]
#[expect(
    dead_code,
    reason = "a name for the contract's file schema; never built"
)]
pub struct ImageFile(Vec<u8>);

/// An oversized body is read to its end (up to this much) before the 413 is
/// answered, so the client reads the answer instead of a reset connection; a
/// body larger still is cut off.
const MAX_DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Reads the upload, refusing more than [`MAX_UPLOAD_BYTES`] with 413.
async fn read_upload(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(MAX_UPLOAD_BYTES));
    let mut received = 0usize;
    let too_large = declared.is_some_and(|length| length > MAX_UPLOAD_BYTES);
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::bad_request(format!("body not readable: {error}")))?;
        received += chunk.len();
        if received > MAX_DRAIN_BYTES {
            break;
        }
        if !too_large && received <= MAX_UPLOAD_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    if too_large || received > MAX_UPLOAD_BYTES {
        return Err(ApiError::payload_too_large(MAX_UPLOAD_BYTES)
            .with_detail("a photo may be at most 15 MiB (15728640 bytes)"));
    }
    Ok(body.freeze())
}

fn refused(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::NotAnImage => ApiError::unsupported_media_type("a JPEG, PNG or WebP image")
            .with_field("file", refusal.to_string()),
        Refusal::TooLarge { .. } | Refusal::Corrupt { .. } => {
            ApiError::invalid_field("file", refusal.to_string())
        }
    }
}

/// Uploads a product photo. The body is the image file itself (JPEG, PNG or WebP,
/// at most 15 MiB, 40 megapixels and 12000 pixels a side); its type is read from
/// its content, whatever the `Content-Type`. The photo is stood upright (EXIF
/// orientation) and stored as renditions 320, 640 and 1280 pixels wide (never
/// wider than the photo): JPEG when opaque, lossless WebP with transparency. The
/// original file — with its EXIF metadata such as GPS position — is not kept.
/// Name the answer's `id` as `media_id` in a product's images.
#[utoipa::path(
    tag = "media",
    security(("bearer" = ["catalog:write"])),
    request_body(
        description = "The image file: JPEG, PNG or WebP, at most 15 MiB",
        content(
            (ImageFile = "image/jpeg"),
            (ImageFile = "image/png"),
            (ImageFile = "image/webp"),
            (ImageFile = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 201, description = "Stored", body = MediaView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No catalog:write scope, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 15 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG or WebP image (`errors` names `file`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many pixels, or a damaged file (`errors` names `file`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/media")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant.into_uuid()))]
pub async fn upload(
    state: web::Data<CatalogState>,
    caller: RequireScope<CatalogWrite>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_upload(&request, payload).await?;
    // Cheap refusals before waiting for a decoding slot.
    media::sniff(&bytes).map_err(|refusal| refused(&refusal))?;
    let processed = {
        let _slot = state
            .media
            .decodes
            .acquire()
            .await
            .map_err(ApiError::internal)?;
        web::block(move || media::process(&bytes))
            .await
            .map_err(ApiError::internal)?
            .map_err(|refusal| refused(&refusal))?
    };
    let tenant = caller.tenant.into_uuid();
    let media_id = Uuid::new_v4();
    let keys = store_renditions(&state.media.objects, tenant, media_id, &processed).await?;
    match record(&state, &caller, media_id, &processed).await {
        Ok(row) => {
            tracing::info!(media = %media_id, renditions = keys.len(), "photo stored");
            let view = MediaView::new(tenant, &row).map_err(ApiError::internal)?;
            Ok(HttpResponse::Created().json(view))
        }
        Err(error) => {
            // Nothing half-stored: without its row, the renditions go too.
            remove_objects(&state.media.objects, &keys).await;
            Err(error)
        }
    }
}

/// Writes every rendition; on a failure, removes those already written.
async fn store_renditions(
    objects: &Arc<dyn ObjectStore>,
    tenant: Uuid,
    media_id: Uuid,
    processed: &Processed,
) -> Result<Vec<ObjectPath>, ApiError> {
    let mut written = Vec::with_capacity(processed.renditions.len());
    for rendition in &processed.renditions {
        let key = ObjectPath::from(
            MediaKey {
                tenant,
                media: media_id,
                width: rendition.width,
                format: processed.format,
            }
            .object_key(),
        );
        if let Err(error) = objects.put(&key, rendition.bytes.clone().into()).await {
            remove_objects(objects, &written).await;
            return Err(ApiError::internal(
                anyhow::Error::new(error).context(format!("storing rendition {key}")),
            ));
        }
        written.push(key);
    }
    Ok(written)
}

async fn remove_objects(objects: &Arc<dyn ObjectStore>, keys: &[ObjectPath]) {
    for key in keys {
        if let Err(error) = objects.delete(key).await {
            tracing::error!(%key, error = %error, "an orphaned rendition could not be removed");
        }
    }
}

async fn record(
    state: &CatalogState,
    caller: &RequireScope<CatalogWrite>,
    media_id: Uuid,
    processed: &Processed,
) -> Result<store::MediaRow, ApiError> {
    let renditions: Vec<StoredRendition> = processed
        .renditions
        .iter()
        .map(|r| StoredRendition {
            width: r.width,
            height: r.height,
            bytes: r.bytes.len() as u64,
        })
        .collect();
    let bytes: u64 = renditions.iter().map(|r| r.bytes).sum();
    let values = MediaValues {
        id: media_id,
        content_type: processed.format,
        width: i32::try_from(processed.width).map_err(ApiError::internal)?,
        height: i32::try_from(processed.height).map_err(ApiError::internal)?,
        renditions: serde_json::to_value(&renditions).map_err(ApiError::internal)?,
        bytes: i64::try_from(bytes).map_err(ApiError::internal)?,
    };
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let row = store::insert_media(&tx, &values).await?;
    tx.commit().await?;
    Ok(row)
}

fn unknown() -> ApiError {
    ApiError::not_found("no such photo")
}

/// One rendition of an uploaded photo, for anyone (storefronts show them). The
/// answer never changes: it may be cached for a year.
#[utoipa::path(
    tag = "media",
    params(
        ("tenant_id" = Uuid, Path, description = "The shop"),
        ("media_id" = Uuid, Path, description = "The upload"),
        ("file" = String, Path, description = "`{width}.jpg` or `{width}.webp`", pattern = r"^[1-9][0-9]{0,4}\.(jpg|webp)$"),
    ),
    responses(
        (status = 200, description = "The image", content(
            (ImageFile = "image/jpeg"),
            (ImageFile = "image/webp"),
        )),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such photo", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{tenant_id}/{media_id}/{file}")]
pub async fn serve(
    state: web::Data<CatalogState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, media_id, file) = path.into_inner();
    let key = MediaKey::parse(&tenant, &media_id, &file).ok_or_else(unknown)?;
    let etag = key.etag();
    let cached = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let object = state
        .media
        .objects
        .get(&ObjectPath::from(key.object_key()))
        .await
        .map_err(|error| match error {
            object_store::Error::NotFound { .. } => unknown(),
            other => ApiError::internal(
                anyhow::Error::new(other).context(format!("reading {}", key.object_key())),
            ),
        })?;
    let mut answer = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if cached {
        return Ok(answer.finish());
    }
    let size = object.meta.size;
    let body = object
        .into_stream()
        .map_err(|error| std::io::Error::other(error.to_string()));
    Ok(answer
        .content_type(key.format.content_type())
        .no_chunking(size)
        .streaming(body))
}

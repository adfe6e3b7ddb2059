//! Importing a catalog CSV file (format in `csv_format`): parse every row, check it
//! like the JSON calls, then write the products in batches — new ones in bulk,
//! existing ones one by one — with their stock set and recorded in the ledger.

use crate::csv_format::list;
use crate::domain::limits::MAX_VARIANTS;
use crate::domain::{
    Origin, ProductFields, ProductRequest, ProductStatus, VariantInput, check_product,
    check_variant, handle, requested_status,
};
use crate::events;
use crate::store;
use crate::workflow::products::{
    conflict_on_duplicate, ensure_quota, insert_full, product_values, variant_values,
};
use caravan_shared::domain::{Currency, Locale, LocalizedText, Money};
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode, FieldError, TenantId};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Products per transaction. New products of a batch are written with a few
/// multi-row statements, so bigger batches mean fewer round trips; when that write
/// fails, the batch falls back to one savepoint per product.
const BATCH: usize = 200;

/// What became of one row.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "line": 4, "handle": "black-goji-dried", "sku": "BLACKGOJI-250G", "outcome": "error",
    "errors": [{"field": "prices", "message": "\"38.00 CNY\" is not \"<minor units> <ISO 4217 code>\""}]
}))]
pub struct RowReport {
    /// Line in the file (the header is line 1).
    pub line: usize,
    /// The row's handle.
    pub handle: String,
    /// The row's SKU.
    pub sku: String,
    /// `created`, `updated` or `error`.
    pub outcome: &'static str,
    /// Why, for errors.
    pub errors: Vec<FieldError>,
}

/// An import's report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "created": 1, "updated": 1, "failed": 1,
    "rows": [
        {"line": 2, "handle": "ningxia-goji-dried", "sku": "GOJI-500G", "outcome": "updated", "errors": []},
        {"line": 3, "handle": "goji-juice", "sku": "GOJI-JUICE-6X250ML", "outcome": "created", "errors": []},
        {
            "line": 4, "handle": "black-goji-dried", "sku": "BLACKGOJI-250G", "outcome": "error",
            "errors": [{"field": "prices", "message": "\"38.00 CNY\" is not \"<minor units> <ISO 4217 code>\""}]
        }
    ]
}))]
pub struct ImportReport {
    /// Rows whose product was created.
    pub created: usize,
    /// Rows whose product was updated.
    pub updated: usize,
    /// Rows that changed nothing.
    pub failed: usize,
    /// Every row.
    pub rows: Vec<RowReport>,
}

struct Row {
    line: usize,
    fields: HashMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.fields.get(column).map_or("", |value| value.trim())
    }

    fn optional(&self, column: &str) -> Option<String> {
        Some(self.get(column).to_owned()).filter(|value| !value.is_empty())
    }
}

fn localized(row: &Row, prefix: &str, errors: &mut Vec<FieldError>) -> Option<LocalizedText> {
    let mut text: Option<LocalizedText> = None;
    for tag in ["zh-CN", "en", "ug"] {
        let column = format!("{prefix}.{tag}");
        let value = row.get(&column);
        if value.is_empty() {
            continue;
        }
        let Ok(locale) = Locale::parse(tag) else {
            continue;
        };
        text = match text {
            None => LocalizedText::new(locale, value)
                .map_err(|e| errors.push(FieldError::new(&column, e.to_string())))
                .ok(),
            Some(existing) => existing
                .with(locale, value)
                .map_err(|e| errors.push(FieldError::new(&column, e.to_string())))
                .ok(),
        };
    }
    text
}

fn number(row: &Row, column: &str, errors: &mut Vec<FieldError>) -> Option<i32> {
    let raw = row.get(column);
    if raw.is_empty() {
        return None;
    }
    // A number too large for its column is kept at the column's limit, so the domain
    // check refuses it with its range, like any other number out of range.
    raw.parse::<i64>()
        .map(|number| i32::try_from(number).unwrap_or(if number < 0 { i32::MIN } else { i32::MAX }))
        .map_err(|_| errors.push(FieldError::new(column, "must be a whole number")))
        .ok()
}

fn prices(row: &Row, errors: &mut Vec<FieldError>) -> Vec<Money> {
    let mut prices = Vec::new();
    for part in list(row.get("prices")) {
        let parsed = part.split_once(' ').and_then(|(amount, currency)| {
            Some(Money::new(
                amount.trim().parse().ok()?,
                Currency::parse(currency.trim()).ok()?,
            ))
        });
        match parsed {
            Some(price) => prices.push(price),
            None => errors.push(FieldError::new(
                "prices",
                format!("{part:?} is not \"<minor units> <ISO 4217 code>\""),
            )),
        }
    }
    prices
}

/// A product as the file gives it: its status only when a row names one.
struct Imported {
    status: Option<ProductStatus>,
    product: ProductRequest,
}

/// Parses one row into its product (from the row's product columns) and variant.
fn parse_row(row: &Row, errors: &mut Vec<FieldError>) -> Option<(String, Imported)> {
    let handle = handle(row.get("handle"), "handle")
        .map_err(|e| errors.push(e))
        .ok();
    let title = localized(row, "title", errors);
    if title.is_none() {
        errors.push(FieldError::new(
            "title.zh-CN",
            "a title in at least one language is required",
        ));
    }
    let status = row.optional("status");
    // Left out, it is `draft` for a new product and unchanged for an existing one.
    let product_status = match status.as_deref() {
        None => None,
        Some(raw) => requested_status(Some(raw)).map_err(|e| errors.push(e)).ok(),
    };
    let harvest_months: Vec<i32> = list(row.get("harvest_months"))
        .iter()
        .filter_map(|month| {
            month
                .parse()
                .map_err(|_| {
                    errors.push(FieldError::new("harvest_months", "must be months 1 to 12"))
                })
                .ok()
        })
        .collect();
    let origin = Origin {
        country: row.optional("origin_country"),
        province: row.optional("origin_province"),
        place: row.optional("origin_place"),
    };
    let variant = VariantInput {
        sku: row.get("sku").to_owned(),
        title: localized(row, "variant_title", errors),
        options: serde_json::Map::new(),
        unit: row.get("unit").to_owned(),
        weight_grams: number(row, "weight_grams", errors).unwrap_or(0),
        prices: prices(row, errors),
        compare_at_price: None,
        track_stock: true,
        stock: number(row, "stock", errors).unwrap_or(0),
        low_stock_threshold: number(row, "low_stock_threshold", errors).unwrap_or(0),
    };
    let mut variant_errors = Vec::new();
    check_variant(&variant, "variant", &mut variant_errors);
    errors.extend(
        variant_errors
            .into_iter()
            .map(|e| FieldError::new(e.field.trim_start_matches("variant."), e.message)),
    );
    let shelf_life_days = number(row, "shelf_life_days", errors);
    let description = localized(row, "description", errors);
    let tags = list(row.get("tags"));
    let certifications = list(row.get("certifications"));
    let producer = row.optional("producer");
    let storage = row.optional("storage");
    // The same checks as the JSON calls (the variant's above, named by its column).
    check_product(
        &ProductFields {
            title: title.as_ref(),
            description: description.as_ref(),
            tags: Some(&tags),
            producer: producer.as_deref(),
            origin: Some(&origin),
            certifications: Some(&certifications),
            images: None,
            category_ids: None,
            harvest_months: Some(&harvest_months),
            shelf_life_days,
            storage: storage.as_deref(),
            variants: None,
        },
        errors,
    );
    let (Some(handle), Some(title)) = (handle, title) else {
        return None;
    };
    if !errors.is_empty() {
        return None;
    }
    Some((
        handle,
        Imported {
            status: product_status,
            product: ProductRequest {
                handle: row.get("handle").to_owned(),
                title,
                description,
                status,
                category_ids: Vec::new(),
                tags,
                images: Vec::new(),
                origin: Some(origin),
                producer,
                harvest_months,
                shelf_life_days,
                storage,
                certifications,
                variants: vec![variant],
            },
        },
    ))
}

/// The file's rows, each with its cells by column; an error when the file is not in
/// the format at all.
fn read_rows(text: &str) -> Result<Vec<Row>, ApiError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| ApiError::invalid_field("body", format!("no header row: {error}")))?
        .iter()
        .map(|header| header.trim().to_owned())
        .collect();
    for required in ["handle", "sku", "unit", "prices"] {
        if !headers.iter().any(|header| header == required) {
            return Err(ApiError::invalid_field(
                "body",
                format!("the {required} column is missing"),
            ));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            ApiError::invalid_field("body", format!("line {}: {error}", index + 2))
        })?;
        rows.push(Row {
            line: index + 2,
            fields: headers
                .iter()
                .cloned()
                .zip(
                    record
                        .iter()
                        .map(|cell| caravan_shared::spreadsheet::restored(cell).to_owned()),
                )
                .collect(),
        });
    }
    Ok(rows)
}

/// Imports `text`, a catalog CSV file, into the shop `tenant` on behalf of `actor`,
/// and reports what became of each row. A product with any invalid row changes
/// nothing; the others are applied. Stock in the file is set, not added, and
/// recorded in the ledger. A file that is not in the format at all (no header, a
/// required column missing, a broken line) is refused as a whole.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn run(
    db: &DatabaseConnection,
    tenant: TenantId,
    actor: &str,
    text: &str,
) -> Result<ImportReport, ApiError> {
    let rows = read_rows(text)?;

    // Parse every row, then group them into products by handle.
    let mut reports: Vec<RowReport> = Vec::new();
    let mut groups: Vec<(String, Vec<usize>, Option<Imported>)> = Vec::new();
    for row in &rows {
        let mut errors = Vec::new();
        let parsed = parse_row(row, &mut errors);
        reports.push(RowReport {
            line: row.line,
            handle: row.get("handle").to_owned(),
            sku: row.get("sku").to_owned(),
            outcome: if parsed.is_some() { "pending" } else { "error" },
            errors,
        });
        let key = row.get("handle").to_owned();
        let report_index = reports.len() - 1;
        let group = match groups.iter().position(|(handle, _, _)| *handle == key) {
            Some(position) => &mut groups[position],
            None => {
                groups.push((key, Vec::new(), None));
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        group.1.push(report_index);
        match (parsed, &mut group.2) {
            (Some((_, product)), slot @ None) => *slot = Some(product),
            (Some((_, product)), Some(existing)) => {
                existing.product.variants.extend(product.product.variants)
            }
            (None, _) => {}
        }
    }

    // Products go in batches, each product in a savepoint of its batch's transaction:
    // a refusal undoes that product only, no transaction holds locks for the whole
    // file, and a batch stays under PostgreSQL's cache of 64 subtransactions.
    let mut batches = groups.into_iter().peekable();
    while batches.peek().is_some() {
        let batch: Vec<_> = batches.by_ref().take(BATCH).collect();
        let tx = TenantTx::begin(db, tenant).await?;
        let mut valid = Vec::new();
        for (handle_key, indices, product) in batch {
            if indices.len() > MAX_VARIANTS {
                for &i in &indices {
                    reports[i].outcome = "error";
                    reports[i].errors.push(FieldError::new(
                        "handle",
                        format!("a product has at most {MAX_VARIANTS} variants"),
                    ));
                }
            }
            let invalid = indices.iter().any(|&i| reports[i].outcome == "error");
            match product.filter(|_| !invalid) {
                Some(product) => valid.push((handle_key, indices, product)),
                None => {
                    for &i in &indices {
                        if reports[i].outcome != "error" {
                            reports[i].outcome = "error";
                            reports[i].errors.push(FieldError::new(
                                "handle",
                                "another row of this product is invalid",
                            ));
                        }
                    }
                }
            }
        }
        // New products go in bulk; when that fails (a duplicate SKU, the quota),
        // they go one by one like the updates, so each gets its own answer.
        let handles: Vec<String> = valid.iter().map(|(handle, _, _)| handle.clone()).collect();
        let existing = store::existing_handles(&tx, &handles).await?;
        let (mut single, new): (Vec<_>, Vec<_>) = valid
            .into_iter()
            .partition(|(handle, _, _)| existing.contains(handle));
        if !new.is_empty() {
            if create_in_bulk(&tx, &new, actor).await? {
                for (_, indices, _) in &new {
                    for &i in indices {
                        reports[i].outcome = "created";
                    }
                }
            } else {
                single.extend(new);
            }
        }
        for (handle_key, indices, product) in single {
            let savepoint = tx.conn().begin().await?;
            let scope = caravan_shared::tenancy::TenantScope::inherit(&savepoint, tx.tenant());
            let outcome = match apply(&scope, &tx, handle_key, product, actor).await {
                Ok(outcome) => {
                    savepoint.commit().await?;
                    outcome
                }
                Err(error) => {
                    savepoint.rollback().await?;
                    let problem = error.problem();
                    let reason = problem.detail.clone().unwrap_or(problem.title.clone());
                    for &i in &indices {
                        reports[i].outcome = "error";
                        reports[i]
                            .errors
                            .push(FieldError::new("handle", reason.clone()));
                    }
                    continue;
                }
            };
            for &i in &indices {
                reports[i].outcome = outcome;
            }
        }
        tx.commit().await?;
    }
    let count = |outcome: &str| reports.iter().filter(|r| r.outcome == outcome).count();
    Ok(ImportReport {
        created: count("created"),
        updated: count("updated"),
        failed: count("error"),
        rows: reports,
    })
}

/// Creates new products in a few statements, in a savepoint; false when that did
/// not work and they must go one by one.
async fn create_in_bulk(
    tx: &TenantTx,
    new: &[(String, Vec<usize>, Imported)],
    actor: &str,
) -> Result<bool, ApiError> {
    // PostgreSQL takes at most 65,535 parameters per statement (15 per variant).
    let variants: usize = new
        .iter()
        .map(|(_, _, imported)| imported.product.variants.len())
        .sum();
    if variants > 4000 || ensure_quota(tx, new.len() as i64).await.is_err() {
        return Ok(false);
    }
    let products: Vec<_> = new
        .iter()
        .map(|(handle, _, Imported { status, product })| {
            let variants = product
                .variants
                .iter()
                .enumerate()
                .map(|(position, variant)| variant_values(variant, position))
                .collect();
            (
                uuid::Uuid::now_v7(),
                product_values(
                    handle.clone(),
                    status.unwrap_or(ProductStatus::Draft),
                    product,
                ),
                variants,
            )
        })
        .collect();
    let savepoint = tx.conn().begin().await?;
    let scope = caravan_shared::tenancy::TenantScope::inherit(&savepoint, tx.tenant());
    let events: Vec<_> = products
        .iter()
        .map(|(id, values, _)| {
            (
                "product.created",
                Some(tx.tenant()),
                serde_json::json!({"product_id": id, "handle": values.handle, "status": values.status}),
            )
        })
        .collect();
    let stored = match store::insert_many(&scope, &products, actor).await {
        Ok(()) => caravan_shared::events::outbox::append_many(scope.conn(), &events)
            .await
            .map(|_| ()),
        Err(error) => Err(error),
    };
    match stored {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(_) => {
            savepoint.rollback().await?;
            Ok(false)
        }
    }
}

async fn apply(
    scope: &impl TenantScoped,
    tx: &TenantTx,
    handle_key: String,
    Imported { status, product }: Imported,
    actor: &str,
) -> Result<&'static str, ApiError> {
    let Some(existing) = store::product_by_handle(scope, &handle_key).await? else {
        ensure_quota(tx, 1).await?;
        let status = status.unwrap_or(ProductStatus::Draft);
        insert_full(
            scope,
            handle_key,
            status,
            product,
            serde_json::json!([]),
            actor,
        )
        .await?;
        return Ok("created");
    };
    // The CSV carries neither categories nor images, and may leave status out.
    let mut values = product_values(handle_key, status.unwrap_or(existing.status), &product);
    values.category_ids = existing.category_ids.clone();
    values.images = existing.images.clone();
    let current = store::variants_of(scope, &[existing.id]).await?;
    let added = product
        .variants
        .iter()
        .filter(|variant| !current.iter().any(|row| row.sku == variant.sku.trim()))
        .count();
    if current.len() + added > MAX_VARIANTS {
        return Err(ApiError::invalid_field(
            "handle",
            format!(
                "a product has at most {MAX_VARIANTS} variants; it has {} and the file adds {added}",
                current.len()
            ),
        ));
    }
    store::update_product(scope, existing.id, &values)
        .await
        .map_err(conflict_on_duplicate)?;
    let mut position = i32::try_from(current.len()).unwrap_or(0);
    for variant in &product.variants {
        let sku = variant.sku.trim();
        match current.iter().find(|row| row.sku == sku) {
            Some(row) => {
                store::update_variant(scope, row.id, &variant_values(variant, 0)).await?;
                let delta = variant.stock - row.on_hand;
                if delta != 0 {
                    let changed = store::adjust_stock(scope, row.id, delta, "import", None, actor)
                        .await?
                        .ok_or_else(|| {
                            ApiError::conflict(
                                ErrorCode::InsufficientStock,
                                format!(
                                    "{sku}: stock cannot go below the {} reserved",
                                    row.reserved
                                ),
                            )
                        })?;
                    events::stock(scope, &changed, Some(row.available())).await?;
                }
            }
            None => {
                let values = variant_values(variant, usize::try_from(position).unwrap_or(0));
                let id = store::insert_variant(scope, existing.id, &values)
                    .await
                    .map_err(conflict_on_duplicate)?;
                if variant.stock > 0 {
                    store::record_movement(
                        scope,
                        id,
                        variant.stock,
                        variant.stock,
                        "import",
                        None,
                        actor,
                    )
                    .await?;
                }
                position += 1;
            }
        }
    }
    store::refresh_min_price(scope, existing.id).await?;
    events::product(
        scope,
        "product.updated",
        existing.id,
        &values.handle,
        values.status,
    )
    .await?;
    Ok("updated")
}

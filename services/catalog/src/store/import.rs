//! Bulk import: many products, variants and opening stock in a few statements.

use super::{ProductValues, VariantValues};
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{ConnectionTrait, DbErr, Value};
use uuid::Uuid;

/// Which of `handles` the shop already has.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn existing_handles(
    scope: &impl TenantScoped,
    handles: &[String],
) -> Result<Vec<String>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(
            "SELECT handle FROM products WHERE tenant_id = $1 AND handle = ANY($2)",
            vec![scope.tenant().into_uuid().into(), handles.to_vec().into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "handle")).collect()
}

/// Builds `(…), (…)` placeholders for `rows` rows of `width` parameters.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=width)
                .map(|col| format!("${}", row * width + col))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts new products with their variants and opening stock in a few statements
/// (bulk import). Answers nothing; a duplicate fails the whole call. Named SQL: one
/// multi-row INSERT per table and one UPDATE of every new product's lowest price,
/// however many rows the file has.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn insert_many(
    scope: &impl TenantScoped,
    products: &[(Uuid, ProductValues, Vec<VariantValues>)],
    actor: &str,
) -> Result<(), DbErr> {
    let tenant = scope.tenant().into_uuid();
    let mut values: Vec<Value> = Vec::new();
    for (id, product, _) in products {
        values.extend([(*id).into(), tenant.into()]);
        values = product.append_to(values);
    }
    scope
        .conn()
        .execute_raw(statement(
            &format!(
                "INSERT INTO products (id, tenant_id, handle, title, description, status, category_ids, tags, images, \
                 origin, producer, harvest_months, shelf_life_days, storage, certifications, search_text) VALUES {}",
                placeholders(products.len(), 16)
            ),
            values,
        ))
        .await?;
    let mut variant_values: Vec<Value> = Vec::new();
    let mut movement_values: Vec<Value> = Vec::new();
    let (mut variants, mut movements) = (0, 0);
    for (product, _, product_variants) in products {
        for v in product_variants {
            let id = Uuid::now_v7();
            variant_values.extend([
                id.into(),
                tenant.into(),
                (*product).into(),
                v.sku.clone().into(),
                v.title.clone().into(),
                v.options.clone().into(),
                v.unit.clone().into(),
                v.weight_grams.into(),
                v.prices.clone().into(),
                v.base_price.into(),
                v.compare_at_price.into(),
                v.track_stock.into(),
                v.on_hand.into(),
                v.low_stock_threshold.into(),
                v.position.into(),
            ]);
            variants += 1;
            if v.track_stock && v.on_hand > 0 {
                movement_values.extend([
                    Uuid::now_v7().into(),
                    tenant.into(),
                    id.into(),
                    v.on_hand.into(),
                    v.on_hand.into(),
                    "import".into(),
                    actor.into(),
                ]);
                movements += 1;
            }
        }
    }
    scope
        .conn()
        .execute_raw(statement(
            &format!(
                "INSERT INTO variants (id, tenant_id, product_id, sku, title, options, unit, weight_grams, prices, \
                 base_price, compare_at_price, track_stock, on_hand, low_stock_threshold, position) VALUES {}",
                placeholders(variants, 15)
            ),
            variant_values,
        ))
        .await?;
    if movements > 0 {
        scope
            .conn()
            .execute_raw(statement(
                &format!(
                    "INSERT INTO stock_movements (id, tenant_id, variant_id, delta, on_hand, reason, actor) VALUES {}",
                    placeholders(movements, 7)
                ),
                movement_values,
            ))
            .await?;
    }
    let ids: Vec<Uuid> = products.iter().map(|(id, _, _)| *id).collect();
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET min_price = prices.min FROM \
             (SELECT product_id, min(base_price) AS min FROM variants WHERE tenant_id = $1 AND product_id = ANY($2) \
              GROUP BY product_id) AS prices \
             WHERE products.tenant_id = $1 AND products.id = prices.product_id",
            vec![tenant.into(), ids.into()],
        ))
        .await?;
    Ok(())
}

//! Shipping zones and their rates.

use super::{StoredCurrency, tenant_of};
use crate::domain::shipping::{Rate, Zone};
use caravan_shared::db::statement;
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

#[derive(Debug, FromQueryResult)]
struct ZoneRow {
    id: Uuid,
    name: String,
    countries: Vec<String>,
    provinces: Vec<String>,
    currency: StoredCurrency,
    free_shipping_threshold: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct RateRow {
    id: Uuid,
    zone_id: Uuid,
    name: String,
    min_weight_grams: i32,
    max_weight_grams: Option<i32>,
    price: i64,
}

/// Stores a zone (new, or replacing one with the same id).
pub async fn save_zone(scope: &impl TenantScoped, zone: &Zone) -> Result<(), DbErr> {
    let tenant = tenant_of(scope);
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO shipping_zones (id, tenant_id, name, countries, provinces, currency, free_shipping_threshold) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = $3, countries = $4, \
             provinces = $5, currency = $6, free_shipping_threshold = $7, updated_at = now()",
            vec![
                zone.id.into(),
                tenant.clone(),
                zone.name.clone().into(),
                zone.countries.clone().into(),
                zone.provinces.clone().into(),
                zone.currency.as_str().into(),
                zone.free_shipping_threshold.map(|m| m.amount).into(),
            ],
        ))
        .await?;
    scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM shipping_rates WHERE tenant_id = $1 AND zone_id = $2",
            vec![tenant.clone(), zone.id.into()],
        ))
        .await?;
    for (position, rate) in zone.rates.iter().enumerate() {
        scope
            .conn()
            .execute_raw(statement(
                "INSERT INTO shipping_rates (id, tenant_id, zone_id, name, min_weight_grams, max_weight_grams, price, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    rate.id.into(),
                    tenant.clone(),
                    zone.id.into(),
                    rate.name.clone().into(),
                    rate.min_weight_grams.into(),
                    rate.max_weight_grams.into(),
                    rate.price.amount.into(),
                    i32::try_from(position).unwrap_or(i32::MAX).into(),
                ],
            ))
            .await?;
    }
    Ok(())
}

/// The shop's zones, oldest first.
pub async fn zones(scope: &impl TenantScoped) -> Result<Vec<Zone>, DbErr> {
    let zones = ZoneRow::find_by_statement(statement(
        "SELECT id, name, countries, provinces, currency, free_shipping_threshold FROM shipping_zones \
         WHERE tenant_id = $1 ORDER BY id",
        vec![tenant_of(scope)],
    ))
    .all(scope.conn())
    .await?;
    let rates = RateRow::find_by_statement(statement(
        "SELECT id, zone_id, name, min_weight_grams, max_weight_grams, price FROM shipping_rates \
         WHERE tenant_id = $1 ORDER BY zone_id, position",
        vec![tenant_of(scope)],
    ))
    .all(scope.conn())
    .await?;
    let mut result = Vec::with_capacity(zones.len());
    for row in zones {
        let currency = row.currency.0;
        result.push(Zone {
            id: row.id,
            name: row.name,
            countries: row.countries,
            provinces: row.provinces,
            currency,
            free_shipping_threshold: row
                .free_shipping_threshold
                .map(|amount| Money::new(amount, currency)),
            rates: rates
                .iter()
                .filter(|rate| rate.zone_id == row.id)
                .map(|rate| Rate {
                    id: rate.id,
                    name: rate.name.clone(),
                    min_weight_grams: rate.min_weight_grams,
                    max_weight_grams: rate.max_weight_grams,
                    price: Money::new(rate.price, currency),
                })
                .collect(),
        });
    }
    Ok(result)
}

/// Deletes a zone; answers whether it existed.
pub async fn delete_zone(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM shipping_zones WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

//! Shipping zones and their rates.

use super::entities::{shipping_rates, shipping_zones};
use super::tenant_of;
use crate::domain::shipping::{Rate, Zone};
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// Stores a zone (new, or replacing one with the same id) and its rates.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), zone = %zone.id))]
pub async fn save_zone(scope: &impl TenantScoped, zone: &Zone) -> Result<(), DbErr> {
    let tenant = tenant_of(scope);
    shipping_zones::Entity::insert(shipping_zones::ActiveModel {
        id: Set(zone.id),
        tenant_id: Set(tenant),
        name: Set(zone.name.clone()),
        countries: Set(zone.countries.clone()),
        provinces: Set(zone.provinces.clone()),
        currency: Set(zone.currency.into()),
        free_shipping_threshold: Set(zone.free_shipping_threshold.map(|m| m.amount)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(shipping_zones::Column::Id)
            .update_columns([
                shipping_zones::Column::Name,
                shipping_zones::Column::Countries,
                shipping_zones::Column::Provinces,
                shipping_zones::Column::Currency,
                shipping_zones::Column::FreeShippingThreshold,
            ])
            .value(shipping_zones::Column::UpdatedAt, Expr::current_timestamp())
            .to_owned(),
    )
    .exec_without_returning(scope.conn())
    .await?;
    shipping_rates::Entity::delete_many()
        .filter(shipping_rates::Column::TenantId.eq(tenant))
        .filter(shipping_rates::Column::ZoneId.eq(zone.id))
        .exec(scope.conn())
        .await?;
    let rates = zone
        .rates
        .iter()
        .enumerate()
        .map(|(position, rate)| shipping_rates::ActiveModel {
            id: Set(rate.id),
            tenant_id: Set(tenant),
            zone_id: Set(zone.id),
            name: Set(rate.name.clone()),
            min_weight_grams: Set(rate.min_weight_grams),
            max_weight_grams: Set(rate.max_weight_grams),
            price: Set(rate.price.amount),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        });
    shipping_rates::Entity::insert_many(rates)
        .exec_without_returning(scope.conn())
        .await?;
    Ok(())
}

/// The shop's zones, oldest first, with their rates: one query (every cart view
/// with an address and every checkout reads them).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn zones(scope: &impl TenantScoped) -> Result<Vec<Zone>, DbErr> {
    let zones = shipping_zones::Entity::find()
        .filter(shipping_zones::Column::TenantId.eq(tenant_of(scope)))
        .find_with_related(shipping_rates::Entity)
        .order_by_asc(shipping_rates::Column::Position)
        .all(scope.conn())
        .await?;
    Ok(zones
        .into_iter()
        .map(|(row, rates)| {
            let currency = row.currency.0;
            Zone {
                id: row.id,
                name: row.name,
                countries: row.countries,
                provinces: row.provinces,
                currency,
                free_shipping_threshold: row
                    .free_shipping_threshold
                    .map(|amount| Money::new(amount, currency)),
                rates: rates
                    .into_iter()
                    .map(|rate| Rate {
                        id: rate.id,
                        name: rate.name,
                        min_weight_grams: rate.min_weight_grams,
                        max_weight_grams: rate.max_weight_grams,
                        price: Money::new(rate.price, currency),
                    })
                    .collect(),
            }
        })
        .collect())
}

/// Deletes a zone (its rates go with it); answers whether it existed.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), zone = %id))]
pub async fn delete_zone(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = shipping_zones::Entity::delete_many()
        .filter(shipping_zones::Column::TenantId.eq(tenant_of(scope)))
        .filter(shipping_zones::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

//! A shop's checkout settings.

use super::entities::order_settings;
use super::tenant_of;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

/// A shop's checkout settings.
#[derive(Debug, Clone)]
pub struct SettingsRow {
    pub payment_window_minutes: i32,
    pub bank_transfer_details: Option<String>,
    pub notify_email: Option<String>,
}

impl Default for SettingsRow {
    fn default() -> Self {
        Self {
            payment_window_minutes: 30,
            bank_transfer_details: None,
            notify_email: None,
        }
    }
}

impl From<order_settings::Model> for SettingsRow {
    fn from(row: order_settings::Model) -> Self {
        Self {
            payment_window_minutes: row.payment_window_minutes,
            bank_transfer_details: row.bank_transfer_details,
            notify_email: row.notify_email,
        }
    }
}

/// The shop's checkout settings (defaults until changed).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn settings(scope: &impl TenantScoped) -> Result<SettingsRow, DbErr> {
    Ok(order_settings::Entity::find()
        .filter(order_settings::Column::TenantId.eq(tenant_of(scope)))
        .one(scope.conn())
        .await?
        .map(SettingsRow::from)
        .unwrap_or_default())
}

/// Saves the shop's checkout settings.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn save_settings(scope: &impl TenantScoped, settings: &SettingsRow) -> Result<(), DbErr> {
    order_settings::Entity::insert(order_settings::ActiveModel {
        tenant_id: Set(tenant_of(scope)),
        payment_window_minutes: Set(settings.payment_window_minutes),
        bank_transfer_details: Set(settings.bank_transfer_details.clone()),
        notify_email: Set(settings.notify_email.clone()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(order_settings::Column::TenantId)
            .update_columns([
                order_settings::Column::PaymentWindowMinutes,
                order_settings::Column::BankTransferDetails,
                order_settings::Column::NotifyEmail,
            ])
            .value(order_settings::Column::UpdatedAt, Expr::current_timestamp())
            .to_owned(),
    )
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

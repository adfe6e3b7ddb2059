//! A shop's checkout settings.

use super::tenant_of;
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

/// A shop's checkout settings.
#[derive(Debug, Clone, FromQueryResult)]
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

/// The shop's checkout settings (defaults until changed).
pub async fn settings(scope: &impl TenantScoped) -> Result<SettingsRow, DbErr> {
    Ok(SettingsRow::find_by_statement(statement(
        "SELECT payment_window_minutes, bank_transfer_details, notify_email FROM order_settings WHERE tenant_id = $1",
        vec![tenant_of(scope)],
    ))
    .one(scope.conn())
    .await?
    .unwrap_or_default())
}

/// Saves the shop's checkout settings.
pub async fn save_settings(scope: &impl TenantScoped, settings: &SettingsRow) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO order_settings (tenant_id, payment_window_minutes, bank_transfer_details, notify_email) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET \
             payment_window_minutes = $2, bank_transfer_details = $3, notify_email = $4, updated_at = now()",
            vec![
                tenant_of(scope),
                settings.payment_window_minutes.into(),
                settings.bank_transfer_details.clone().into(),
                settings.notify_email.clone().into(),
            ],
        ))
        .await?;
    Ok(())
}

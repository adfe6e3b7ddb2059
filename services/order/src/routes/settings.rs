//! A shop's checkout settings: how long an unpaid order holds its stock, the bank
//! transfer details shown to buyers who pay manually, and where new-order notices go.

use super::OrderState;
use crate::store::{self, SettingsRow};
use actix_web::{get, patch, web};
use caravan_shared::domain::Email;
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{OrdersRead, OrdersWrite};
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The shop's checkout settings.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "payment_window_minutes": 60,
    "bank_transfer_details": "中国农业银行 宁夏中宁支行 6228 4800 0000 0000 000 宁夏中宁枸杞合作社",
    "notify_email": "orders@zhongning-goji.example.cn"
}))]
pub struct OrderSettings {
    /// Minutes an unpaid order holds its stock before it expires (5 to 10080).
    pub payment_window_minutes: i32,
    /// Shown to buyers who choose manual payment.
    pub bank_transfer_details: Option<String>,
    /// Where new-order notices go (the shop's contact or owner email when unset).
    pub notify_email: Option<String>,
}

impl From<SettingsRow> for OrderSettings {
    fn from(row: SettingsRow) -> Self {
        Self {
            payment_window_minutes: row.payment_window_minutes,
            bank_transfer_details: row.bank_transfer_details,
            notify_email: row.notify_email,
        }
    }
}

/// Changes to the settings; absent fields stay, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"payment_window_minutes": 60, "bank_transfer_details": "中国农业银行 宁夏中宁支行 6228 4800 0000 0000 000 宁夏中宁枸杞合作社"}))]
pub struct OrderSettingsPatch {
    /// Minutes an unpaid order holds its stock (5 to 10080).
    #[serde(default)]
    #[schema(minimum = 5, maximum = 10080)]
    pub payment_window_minutes: Option<i32>,
    /// Bank transfer or cash-on-delivery instructions (at most 1000 characters).
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^[^\x00]*$")]
    pub bank_transfer_details: Option<Option<String>>,
    /// Where new-order notices go; `null` or blank for the shop's contact.
    #[serde(default, deserialize_with = "caravan_shared::http::nullable")]
    #[schema(
        value_type = Option<String>,
        max_length = 254,
        pattern = r"^ *$|^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,32}(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,15})?@[A-Za-z0-9]([A-Za-z0-9-]{0,28}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,28}[A-Za-z0-9])?){1,4}$"
    )]
    pub notify_email: Option<Option<String>>,
}

/// The shop's checkout settings.
#[utoipa::path(
    tag = "order settings",
    security(("bearer" = ["orders:read"])),
    responses(
        (status = 200, description = "The settings", body = OrderSettings),
        (status = 403, description = "Not the shop's staff, or no `orders:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders/settings")]
pub async fn show(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
) -> Result<web::Json<OrderSettings>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let settings = store::settings(&tx).await?;
    tx.commit().await?;
    Ok(web::Json(settings.into()))
}

/// Changes the shop's checkout settings (for orders placed from now on).
#[utoipa::path(
    tag = "order settings",
    security(("bearer" = ["orders:write"])),
    request_body = OrderSettingsPatch,
    responses(
        (status = 200, description = "The settings", body = OrderSettings),
        (status = 403, description = "Not the shop's staff, or no `orders:write`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/orders/settings")]
pub async fn update(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    body: Json<OrderSettingsPatch>,
) -> Result<web::Json<OrderSettings>, ApiError> {
    let patch = body.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let mut settings = store::settings(&tx).await?;
    let mut errors = Vec::new();
    if let Some(minutes) = patch.payment_window_minutes {
        if (5..=10080).contains(&minutes) {
            settings.payment_window_minutes = minutes;
        } else {
            errors.push(FieldError::new(
                "payment_window_minutes",
                "must be 5 to 10080",
            ));
        }
    }
    if let Some(details) = patch.bank_transfer_details {
        let details = details
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        if details.as_ref().is_some_and(|d| d.chars().count() > 1000) {
            errors.push(FieldError::new(
                "bank_transfer_details",
                "must be at most 1000 characters",
            ));
        }
        settings.bank_transfer_details = details;
    }
    if let Some(email) = patch.notify_email {
        settings.notify_email = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(raw) => match Email::parse(raw, "notify_email") {
                Ok(email) => Some(email.as_str().to_owned()),
                Err(error) => {
                    errors.push(error);
                    None
                }
            },
        };
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    store::save_settings(&tx, &settings).await?;
    tx.commit().await?;
    Ok(web::Json(settings.into()))
}

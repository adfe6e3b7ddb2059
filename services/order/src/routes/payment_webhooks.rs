//! Notifications from payment providers (a card payment confirmed or failed after
//! the buyer's request ended). Each provider signs its own; an unsigned or forged
//! notification is refused.

use super::{OrderState, header};
use crate::workflow;
use actix_web::{HttpRequest, HttpResponse, post, web};
use caravan_shared::error::Problem;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, TenantId};

/// Receives a provider's signed notification: `payment.succeeded` pays the order
/// (once, however often it is delivered), `payment.failed` is recorded.
#[utoipa::path(
    tag = "payments",
    params(
        ("provider" = String, Path, description = "The provider (`test`)"),
        ("Test-Gateway-Signature" = String, Header, description = "The `test` provider's signature: hex HMAC-SHA256 of the body with the deployment's webhook secret", pattern = "^[0-9a-f]{64}$"),
    ),
    request_body(content = serde_json::Value, description = "The provider's notification, as it signs it"),
    responses(
        (status = 204, description = "Handled (or already handled)"),
        (status = 401, description = "Missing or wrong signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown provider or order", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The amount is not what the order owes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/payments/{provider}/webhooks")]
pub async fn receive(
    state: web::Data<OrderState>,
    request: HttpRequest,
    provider: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let provider = state
        .providers
        .get(&provider)
        .ok_or_else(|| ApiError::not_found("no such payment provider"))?;
    let notice = provider
        .verify_webhook(header(&request, provider.signature_header()), &body)
        .map_err(|error| ApiError::unauthorized(error.to_string()))?;
    let actor = format!("provider:{}", provider.name());
    let tx = TenantTx::begin(&state.context.db, TenantId::from(notice.tenant_id)).await?;
    let order = workflow::lock(&tx, notice.order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    let pending = workflow::status_of(&order.row).as_str() == "pending_payment";
    match notice.kind.as_str() {
        "payment.succeeded" if pending => {
            let owed = order.row.total - order.row.paid;
            if notice.amount.amount != owed || notice.amount.currency.as_str() != order.row.currency
            {
                return Err(ApiError::invalid_field(
                    "amount",
                    format!("the order owes {owed} {}", order.row.currency),
                ));
            }
            workflow::pay(&tx, &order, provider.name(), Some(notice.reference), &actor).await?;
        }
        "payment.failed" if pending => {
            workflow::payment_attempt(
                &tx,
                &order.row,
                provider.name(),
                "declined",
                "reported by the provider",
                &actor,
            )
            .await?;
        }
        // A repeat, or news about an order that has moved on: nothing to do.
        _ => {}
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Notifications from payment providers (a card payment confirmed or failed after
//! the buyer's request ended, or while it still waits). Each provider signs its
//! own; an unsigned or forged notification is refused. A genuine one changes an
//! order only through an authorisation the provider itself started for that order:
//! its reference, order, amount and currency must match, and it must still be open
//! (requested or pending). Anything else changes nothing.

use super::{OrderState, header};
use crate::domain::{AuthorisationStatus, PaymentStatus, Settled};
use crate::views::money;
use crate::{store, workflow};
use actix_web::{HttpRequest, HttpResponse, post, web};
use caravan_shared::error::Problem;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::{ApiError, TenantId};

/// Receives a provider's signed notification about one of its authorisations:
/// `payment.succeeded` pays the order, `payment.failed` records the failure. The
/// authorisation is settled once; delivering the same notification again answers
/// 204 and changes nothing.
#[utoipa::path(
    tag = "payments",
    params(
        ("provider" = String, Path, description = "The provider (`test`, where the deployment offers it)"),
        ("Test-Gateway-Signature" = String, Header, description = "The `test` provider's signature: hex HMAC-SHA256 of the body with the deployment's `PAYMENT_TEST_WEBHOOK_SECRET`", pattern = "^[0-9a-f]{64}$"),
    ),
    request_body(content = serde_json::Value, description = "The provider's notification, as it signs it: `{type, tenant_id, order_id, reference, amount}`, where `reference` names the authorisation (shown in the order's `payments`)"),
    responses(
        (status = 204, description = "Handled, or a repeat of a notification already handled"),
        (status = 401, description = "Missing or wrong signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A provider this deployment does not offer, no such order, or no authorisation with this reference", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The authorisation is already settled otherwise (named in `errors`), or the order no longer waits for payment; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reference is another order's, the amount or currency is not the authorisation's, or the type is unknown; nothing changed", body = Problem, content_type = "application/problem+json"),
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
        .filter(|provider| provider.notifies())
        .ok_or_else(|| ApiError::not_found("no such payment provider"))?;
    let notice = provider
        .verify_webhook(header(&request, provider.signature_header()), &body)
        .map_err(|error| ApiError::unauthorized(error.to_string()))?;
    let succeeded = match notice.kind.as_str() {
        "payment.succeeded" => true,
        "payment.failed" => false,
        _ => {
            return Err(ApiError::invalid_field(
                "type",
                "must be payment.succeeded or payment.failed",
            ));
        }
    };
    let actor = format!("provider:{}", provider.name());
    let tx = TenantTx::begin(&state.context.db, TenantId::from(notice.tenant_id)).await?;
    // The order first, locked, as the buyer's payment does: deliveries of one
    // notification take turns, and each sees what the one before it settled.
    let order = workflow::lock(&tx, notice.order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    let authorisation = store::authorisation(&tx, provider.name(), &notice.reference)
        .await?
        .ok_or_else(|| ApiError::not_found("no authorisation with this reference"))?;
    if authorisation.order_id != order.row.id {
        return Err(ApiError::invalid_field(
            "reference",
            "names an authorisation of another order",
        ));
    }
    let authorised = money(authorisation.amount, authorisation.currency);
    if notice.amount != authorised {
        return Err(ApiError::invalid_field(
            "amount",
            format!("the authorisation was for {}", authorised.format()),
        ));
    }
    let status = authorisation.status;
    if status.already_reports(succeeded) {
        // A repeat: it was handled the first time.
        tx.rollback().await?;
        return Ok(HttpResponse::NoContent().finish());
    }
    // Requested (its buyer's request is still waiting for the gateway's answer) or
    // pending (the gateway did not answer in time).
    if !status.is_open() {
        return Err(workflow::settled(Settled { status }));
    }
    if succeeded {
        let owed = workflow::payment::due(&order.row)
            .map_err(workflow::illegal)?
            .amount;
        if owed != authorisation.amount {
            return Err(ApiError::invalid_field(
                "amount",
                format!(
                    "the order owes {}",
                    money(owed, order.row.currency).format()
                ),
            ));
        }
        workflow::settle(&tx, authorisation.id, status, AuthorisationStatus::Captured).await?;
        workflow::pay(
            &tx,
            &order,
            provider.name(),
            Some(authorisation.reference),
            &actor,
        )
        .await?;
    } else {
        workflow::settle(&tx, authorisation.id, status, AuthorisationStatus::Failed).await?;
        workflow::payment_attempt(
            &tx,
            &order.row,
            &workflow::Unpaid {
                provider: provider.name(),
                status: PaymentStatus::Declined,
                detail: "reported by the provider",
                reference: Some(&authorisation.reference),
                actor: &actor,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

//! The order service's HTTP routes (parse, call, map).

mod buyer;
mod carts;
mod checkout;
mod group_deals;
mod operations;
mod payment_webhooks;
mod preorders;
mod reports;
mod settings;
mod shipping;
mod staff;

use crate::catalog::Catalog;
use crate::payments::Providers;
use actix_web::HttpRequest;
use caravan_shared::ApiError;
use caravan_shared::service::ServiceContext;
use caravan_shared::tenant_status::{self, ShopState};
use std::sync::Arc;
use utoipa_actix_web::service_config::ServiceConfig;

/// What the order routes share.
pub struct OrderState {
    /// Database, Redis, settings.
    pub context: ServiceContext,
    /// The catalog, over REST.
    pub catalog: Arc<Catalog>,
    /// The payment providers on offer.
    pub providers: Providers,
    /// A small pool of its own for order deadlines, which are written beside a
    /// checkout's transaction and must outlive it; a separate pool means a checkout
    /// holding a connection never waits for a second one from the same pool.
    pub deadlines: sea_orm::DatabaseConnection,
    /// Variants a checkout found sold out a moment ago.
    pub sold_out: crate::sold_out::SoldOut,
}

impl OrderState {
    /// The active shop with this slug, or 404.
    pub async fn storefront(&self, slug: &str) -> Result<ShopState, ApiError> {
        tenant_status::storefront(&self.context.shops, slug).await
    }
}

/// A header's value, if present and text.
pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(carts::create)
        .service(carts::show)
        .service(carts::add_line)
        .service(carts::set_line)
        .service(carts::remove_line)
        .service(checkout::checkout)
        .service(buyer::list)
        .service(buyer::show)
        .service(buyer::pay)
        .service(settings::show)
        .service(settings::update)
        .service(staff::list)
        // Before `/v1/orders/{id}`, which would take `summary` for an id.
        .service(reports::summary)
        .service(reports::export)
        .service(staff::show)
        .service(staff::timeline)
        .service(staff::mark_paid)
        .service(staff::fulfil)
        .service(staff::deliver)
        .service(staff::cancel)
        .service(staff::refund)
        .service(group_deals::create)
        .service(group_deals::list)
        .service(group_deals::show)
        .service(group_deals::update)
        .service(group_deals::end)
        .service(group_deals::list_groups)
        .service(group_deals::show_group)
        .service(group_deals::storefront_deals)
        .service(group_deals::storefront_group)
        .service(preorders::create)
        .service(preorders::list)
        .service(preorders::show)
        .service(preorders::orders)
        .service(preorders::harvest)
        .service(preorders::call_off)
        .service(preorders::storefront_campaigns)
        .service(shipping::create)
        .service(shipping::list)
        .service(shipping::replace)
        .service(shipping::remove)
        .service(payment_webhooks::receive)
        .service(operations::order_usage);
}

//! The first-run checklist (`/admin/welcome`): what a new shop needs before it can
//! sell — its profile and logo, a first product with a photo on sale, a shipping
//! zone, payment details — each ticked off as the shop's own data shows it done,
//! and at the end the storefront's address to share.

use super::{Desk, Section};
use crate::page::{Frame, PageError};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use caravan_client::ProductFilter;

/// One thing to do.
pub struct Step {
    pub key: &'static str,
    pub href: &'static str,
    pub done: bool,
}

/// Where the new shop stands.
pub struct Checklist {
    pub steps: Vec<Step>,
}

impl Checklist {
    /// Reads the shop as its owner sees it.
    pub async fn of(desk: &Desk) -> Result<Self, PageError> {
        let caller = desk.caller();
        let on_sale = ProductFilter {
            status: Some("active".to_owned()),
            limit: Some(100),
            ..ProductFilter::default()
        };
        let (shop, orders, zones, products) = futures_util::join!(
            desk.api().shop_settings(caller, desk.staff.shop_id),
            desk.api().order_settings(caller),
            desk.api().shipping_zones(caller),
            desk.api().shop_products(caller, &on_sale),
        );
        let shop = shop.map_err(|failure| desk.failed(&failure))?;
        let orders = orders.map_err(|failure| desk.failed(&failure))?;
        let zones = zones.map_err(|failure| desk.failed(&failure))?;
        let products = products.map_err(|failure| desk.failed(&failure))?;
        let described = shop
            .description
            .values()
            .any(|text| !text.trim().is_empty());
        Ok(Self {
            steps: vec![
                Step {
                    key: "profile",
                    href: "/admin/settings#profile",
                    done: described,
                },
                Step {
                    key: "logo",
                    href: "/admin/settings#theme",
                    done: shop.logo_url.is_some(),
                },
                Step {
                    key: "product",
                    href: "/admin/products/new",
                    done: products.items.iter().any(|p| !p.images.is_empty()),
                },
                Step {
                    key: "shipping",
                    href: "/admin/shipping",
                    done: !zones.is_empty(),
                },
                Step {
                    key: "payment",
                    href: "/admin/settings#orders",
                    done: orders
                        .bank_transfer_details
                        .as_deref()
                        .is_some_and(|details| !details.trim().is_empty()),
                },
            ],
        })
    }

    pub fn done(&self) -> usize {
        self.steps.iter().filter(|step| step.done).count()
    }

    /// "3 of 5 done", in `lang`.
    pub fn progress(&self, lang: crate::i18n::Lang) -> String {
        lang.t_with(
            "admin-welcome-progress",
            &[
                ("done", self.done().to_string()),
                ("total", self.steps.len().to_string()),
            ],
        )
    }

    pub fn complete(&self) -> bool {
        self.done() == self.steps.len()
    }
}

#[derive(Template)]
#[template(path = "admin/welcome.html")]
struct WelcomePage {
    page: Frame,
    checklist: Checklist,
    progress: String,
    storefront: String,
}

/// `GET /admin/welcome` (owner).
pub async fn show(mut desk: Desk) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let checklist = Checklist::of(&desk).await?;
    let page = WelcomePage {
        page: desk.frame(desk.t("admin-welcome-title"), Section::Today),
        progress: checklist.progress(desk.lang),
        storefront: format!("{}/s/{}/", desk.visit.web.public_url, desk.staff.shop),
        checklist,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

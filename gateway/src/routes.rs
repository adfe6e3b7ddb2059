//! The public surface: which service answers which path.

/// A service behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    Auth,
    Tenant,
    Catalog,
    Order,
    /// The web faces: every path that is not API.
    Web,
}

impl Upstream {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Tenant => "tenant",
            Self::Catalog => "catalog",
            Self::Order => "order",
            Self::Web => "web",
        }
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The service for a public path (decoded, in the one reading
/// [`crate::path::CanonicalPath`] allows): an API path goes to the service that owns
/// it, any other path to the web faces; `None` for what nobody outside may reach —
/// `/internal/…` above all, the probes and metrics, and API paths no service owns.
pub fn route(path: &str) -> Option<Upstream> {
    if path.contains("/../") || path.ends_with("/..") || path.contains("//") {
        return None;
    }
    match api_route(path) {
        Some(upstream) => Some(upstream),
        None if under(path, "/v1")
            || under(path, "/internal")
            || under(path, "/.well-known")
            || matches!(path, "/metrics" | "/healthz" | "/readyz" | "/openapi.json") =>
        {
            None
        }
        None => Some(Upstream::Web),
    }
}

fn api_route(path: &str) -> Option<Upstream> {
    if path == "/v1/shops" {
        return Some(Upstream::Tenant);
    }
    if under(path, "/v1/auth") || path == "/.well-known/jwks.json" {
        return Some(Upstream::Auth);
    }
    if under(path, "/v1/tenants") || under(path, "/v1/plans") || under(path, "/v1/webhooks") {
        return Some(Upstream::Tenant);
    }
    if under(path, "/v1/products")
        || under(path, "/v1/categories")
        || under(path, "/v1/inventory")
        || under(path, "/v1/media")
        || path.starts_with("/media/")
    {
        return Some(Upstream::Catalog);
    }
    if under(path, "/v1/orders")
        || under(path, "/v1/shipping-zones")
        || under(path, "/v1/payments")
        || under(path, "/v1/group-deals")
        || under(path, "/v1/groups")
        || under(path, "/v1/preorder-campaigns")
    {
        return Some(Upstream::Order);
    }
    if let Some(rest) = path.strip_prefix("/v1/operations/") {
        return match rest.split('/').next() {
            Some("auth") => Some(Upstream::Auth),
            Some("tenant") => Some(Upstream::Tenant),
            Some("catalog") => Some(Upstream::Catalog),
            Some("order") => Some(Upstream::Order),
            _ => None,
        };
    }
    let shop = path.strip_prefix("/v1/shops/")?;
    let mut parts = shop.splitn(2, '/');
    parts.next().filter(|slug| !slug.is_empty())?;
    match parts.next() {
        None => Some(Upstream::Tenant),
        Some(rest) => {
            let area = rest.split('/').next().unwrap_or_default();
            match area {
                "products" | "categories" => Some(Upstream::Catalog),
                "carts" | "checkout" | "orders" | "group-deals" | "groups"
                | "preorder-campaigns" => Some(Upstream::Order),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Upstream, route};

    #[test]
    fn public_paths_reach_their_service() {
        for (path, upstream) in [
            ("/v1/auth/login", Upstream::Auth),
            ("/.well-known/jwks.json", Upstream::Auth),
            ("/v1/tenants/applications", Upstream::Tenant),
            ("/v1/plans", Upstream::Tenant),
            ("/v1/webhooks/0193/deliveries", Upstream::Tenant),
            ("/v1/shops/zhongning-goji", Upstream::Tenant),
            ("/v1/shops", Upstream::Tenant),
            ("/", Upstream::Web),
            ("/s/zhongning-goji/zh-CN/p/goji", Upstream::Web),
            ("/verify-email", Upstream::Web),
            ("/assets/app.1234567890.css", Upstream::Web),
            ("/v1/products/import", Upstream::Catalog),
            ("/v1/inventory/adjustments", Upstream::Catalog),
            ("/v1/categories", Upstream::Catalog),
            ("/v1/inventory", Upstream::Catalog),
            ("/v1/media", Upstream::Catalog),
            (
                "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/640.jpg",
                Upstream::Catalog,
            ),
            (
                "/v1/shops/zhongning-goji/products/goji-500g",
                Upstream::Catalog,
            ),
            ("/v1/shops/zhongning-goji/categories", Upstream::Catalog),
            ("/v1/shops/zhongning-goji/carts/0193/lines", Upstream::Order),
            ("/v1/shops/zhongning-goji/checkout", Upstream::Order),
            (
                "/v1/shops/zhongning-goji/orders/0193/payments",
                Upstream::Order,
            ),
            ("/v1/orders/0193/refunds", Upstream::Order),
            ("/v1/shipping-zones", Upstream::Order),
            ("/v1/group-deals/0193/groups", Upstream::Order),
            ("/v1/groups/0193", Upstream::Order),
            ("/v1/preorder-campaigns/0193/harvest", Upstream::Order),
            (
                "/v1/shops/zhongning-goji/preorder-campaigns",
                Upstream::Order,
            ),
            ("/v1/shops/zhongning-goji/group-deals", Upstream::Order),
            ("/v1/shops/zhongning-goji/groups/0193", Upstream::Order),
            ("/v1/payments/test/webhooks", Upstream::Order),
            ("/v1/operations/tenant/parked-events", Upstream::Tenant),
            (
                "/v1/operations/order/parked-events/catalog/7/retry",
                Upstream::Order,
            ),
        ] {
            assert_eq!(route(path), Some(upstream), "{path}");
        }
    }

    #[test]
    fn internal_and_unknown_paths_go_nowhere() {
        for path in [
            "/internal/v1/events",
            "/internal/v1/reservations",
            "/v1/authx",
            "/v1/shops/",
            "/v1/shops/goji/internal",
            "/v1/products/../../internal/v1/events",
            "//internal/v1/events",
            "/metrics",
            "/readyz",
            "/internal",
            "/.well-known/other",
            "/v1/operations/billing/parked-events",
        ] {
            assert_eq!(route(path), None, "{path}");
        }
    }
}

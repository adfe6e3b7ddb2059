//! Typed calls to Caravan's public API, made the way any third party makes them:
//! through the gateway, with the caller's own credentials. Each call is defined
//! here once; the web faces use nothing else to reach Caravan.

pub mod groups;
pub mod owner;
pub mod platform;
pub mod preorders;
pub mod staff;
pub mod types;

pub use groups::*;
pub use owner::*;
pub use platform::*;
pub use preorders::*;
pub use staff::*;
pub use types::*;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::time::Duration;
use uuid::Uuid;

/// Header with which a trusted web tier hands back the gateway's grant for the page
/// it is rendering, so the calls behind one page view are not counted again.
pub const PAGE_GRANT_HEADER: &str = "caravan-page-grant";

/// How many pages of 100 [`Api::every`] follows before it stops.
const MAX_PAGES: usize = 20;

/// Why a call did not give its answer.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The API refused the request (4xx, or 504 when a provider behind it did not
    /// answer in time) and said why.
    #[error("{status}: {}", problem.detail.as_deref().unwrap_or(&problem.title))]
    Refused { status: u16, problem: Problem },
    /// The API could not answer (unreachable, timed out, 5xx, unreadable answer).
    #[error("the API cannot answer: {0}")]
    Unavailable(String),
}

impl Failure {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Unavailable(_) => None,
        }
    }

    /// The problem's `code`, when the API refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { problem, .. } => Some(problem.code.as_str()),
            Self::Unavailable(_) => None,
        }
    }

    /// Whether the API answered 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// Who a call is made for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// The person's address, passed as `X-Forwarded-For` (believed by the gateway
    /// only from a proxy it trusts).
    pub address: Option<IpAddr>,
    /// The gateway's grant for the page being rendered.
    pub grant: Option<&'a str>,
    /// The person's access token.
    pub bearer: Option<&'a str>,
}

impl<'a> Caller<'a> {
    /// The same person, with their access token.
    pub fn with_bearer(self, bearer: Option<&'a str>) -> Self {
        Self { bearer, ..self }
    }
}

/// The public API at one base URL.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

pub(crate) fn path_segment(value: &str) -> String {
    // Slugs, handles and ids are URL-safe by contract; anything else is escaped so
    // it cannot change the path.
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Api {
    /// A client of the API at `base` (the gateway), calling from `local_address`
    /// when given (the address the gateway trusts as this web tier's).
    pub fn new(base: &str, local_address: Option<IpAddr>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local_address)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn request(&self, method: Method, path: &str, caller: Caller<'_>) -> RequestBuilder {
        let mut builder = self.http.request(method, format!("{}{path}", self.base));
        if let Some(address) = caller.address {
            builder = builder.header("x-forwarded-for", address.to_string());
        }
        if let Some(grant) = caller.grant {
            builder = builder.header(PAGE_GRANT_HEADER, grant);
        }
        if let Some(bearer) = caller.bearer {
            builder = builder.bearer_auth(bearer);
        }
        builder
    }

    fn post(&self, path: &str, caller: Caller<'_>, body: serde_json::Value) -> RequestBuilder {
        self.request(Method::POST, path, caller).json(&body)
    }

    async fn send<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T, Failure> {
        let response = Self::answer(builder).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| Failure::Unavailable(error.to_string()))?;
        serde_json::from_slice(&bytes)
            .map_err(|error| Failure::Unavailable(format!("unreadable answer: {error}")))
    }

    async fn answer(builder: RequestBuilder) -> Result<reqwest::Response, Failure> {
        let response = builder
            .send()
            .await
            .map_err(|error| Failure::Unavailable(error.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // A provider behind the API that did not answer in time is an answer the
        // caller acts on (the payment may still complete), not an outage.
        if status.is_server_error() && status != StatusCode::GATEWAY_TIMEOUT {
            return Err(Failure::Unavailable(format!("the API answered {status}")));
        }
        let problem = response
            .json::<Problem>()
            .await
            .unwrap_or_else(|_| Problem {
                title: status.canonical_reason().unwrap_or("refused").to_owned(),
                ..Problem::default()
            });
        Err(Failure::Refused {
            status: status.as_u16(),
            problem,
        })
    }

    /// Every item of a list, following `next_cursor` a page of 100 at a time, at
    /// most [`MAX_PAGES`] pages: the lists read whole are a shop's own categories,
    /// zones, clients and webhooks, the plans, a service's parked events, a harvest's
    /// pre-orders.
    async fn every<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        caller: Caller<'_>,
    ) -> Result<Vec<T>, Failure> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut pairs = query.to_vec();
            pairs.push(("limit", "100"));
            if let Some(cursor) = &cursor {
                pairs.push(("cursor", cursor));
            }
            let page: Page<T> = Self::send(self.request(
                Method::GET,
                &Self::query(path.to_owned(), &pairs),
                caller,
            ))
            .await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(items)
    }

    async fn no_content(builder: RequestBuilder) -> Result<(), Failure> {
        Self::answer(builder).await.map(|_| ())
    }

    fn query<Q: Serialize>(path: String, query: &Q) -> String {
        match serde_urlencoded::to_string(query) {
            Ok(encoded) if !encoded.is_empty() => format!("{path}?{encoded}"),
            _ => path,
        }
    }

    // --- shops -------------------------------------------------------------------

    /// `GET /v1/shops`: the directory of open shops.
    pub async fn shops(&self, caller: Caller<'_>) -> Result<Vec<ShopListing>, Failure> {
        let page: Page<ShopListing> =
            Self::send(self.request(Method::GET, "/v1/shops?limit=100", caller)).await?;
        Ok(page.items)
    }

    /// `GET /v1/shops/{slug}`: a shop's public profile (404 when it is not open).
    pub async fn shop(&self, caller: Caller<'_>, slug: &str) -> Result<ShopProfile, Failure> {
        let path = format!("/v1/shops/{}", path_segment(slug));
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/shops/{slug}/categories`.
    pub async fn categories(
        &self,
        caller: Caller<'_>,
        slug: &str,
        locale: &str,
    ) -> Result<Vec<Category>, Failure> {
        let path = format!("/v1/shops/{}/categories", path_segment(slug));
        self.every(&path, &[("locale", locale)], caller).await
    }

    /// `GET /v1/shops/{slug}/products`.
    pub async fn products(
        &self,
        caller: Caller<'_>,
        slug: &str,
        query: &ProductQuery,
    ) -> Result<Page<Product>, Failure> {
        let path = Self::query(format!("/v1/shops/{}/products", path_segment(slug)), query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    /// `GET /v1/shops/{slug}/products/{handle}`.
    pub async fn product(
        &self,
        caller: Caller<'_>,
        slug: &str,
        handle: &str,
        locale: &str,
        currency: &str,
    ) -> Result<Product, Failure> {
        let path = Self::query(
            format!(
                "/v1/shops/{}/products/{}",
                path_segment(slug),
                path_segment(handle)
            ),
            &[("locale", locale), ("currency", currency)],
        );
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    // --- carts -------------------------------------------------------------------

    /// `POST /v1/shops/{slug}/carts`: a new cart (tied to the account when the
    /// caller is signed in).
    pub async fn create_cart(
        &self,
        caller: Caller<'_>,
        slug: &str,
        currency: &str,
        locale: &str,
    ) -> Result<Cart, Failure> {
        let path = format!("/v1/shops/{}/carts", path_segment(slug));
        Self::send(
            self.request(Method::POST, &path, caller)
                .json(&serde_json::json!({"currency": currency, "locale": locale})),
        )
        .await
    }

    /// `GET /v1/shops/{slug}/carts/{id}`, with shipping options when a destination
    /// is given.
    pub async fn cart(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cart: CartKey<'_>,
        destination: Option<(&str, &str)>,
    ) -> Result<Cart, Failure> {
        let mut path = format!("/v1/shops/{}/carts/{}", path_segment(slug), cart.id);
        if let Some((country, province)) = destination {
            path = Self::query(path, &[("country", country), ("province", province)]);
        }
        Self::send(cart.sign(self.request(Method::GET, &path, caller))).await
    }

    /// `POST /v1/shops/{slug}/carts/{id}/lines`: adds units of a variant.
    pub async fn add_line(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cart: CartKey<'_>,
        variant_id: Uuid,
        quantity: i32,
    ) -> Result<Cart, Failure> {
        let path = format!("/v1/shops/{}/carts/{}/lines", path_segment(slug), cart.id);
        Self::send(
            cart.sign(self.request(Method::POST, &path, caller))
                .json(&serde_json::json!({"variant_id": variant_id, "quantity": quantity})),
        )
        .await
    }

    /// `PUT /v1/shops/{slug}/carts/{id}/lines/{variant}`: sets a line's quantity.
    pub async fn set_line(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cart: CartKey<'_>,
        variant_id: Uuid,
        quantity: i32,
    ) -> Result<Cart, Failure> {
        let path = format!(
            "/v1/shops/{}/carts/{}/lines/{variant_id}",
            path_segment(slug),
            cart.id
        );
        Self::send(
            cart.sign(self.request(Method::PUT, &path, caller))
                .json(&serde_json::json!({"quantity": quantity})),
        )
        .await
    }

    /// `DELETE /v1/shops/{slug}/carts/{id}/lines/{variant}`.
    pub async fn remove_line(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cart: CartKey<'_>,
        variant_id: Uuid,
    ) -> Result<Cart, Failure> {
        let path = format!(
            "/v1/shops/{}/carts/{}/lines/{variant_id}",
            path_segment(slug),
            cart.id
        );
        Self::send(cart.sign(self.request(Method::DELETE, &path, caller))).await
    }

    /// `POST /v1/shops/{slug}/checkout` with an `Idempotency-Key`: a retry with the
    /// same key answers the first order.
    pub async fn checkout(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cart: CartKey<'_>,
        idempotency_key: &str,
        body: &CheckoutRequest,
    ) -> Result<Order, Failure> {
        let path = format!("/v1/shops/{}/checkout", path_segment(slug));
        Self::send(
            cart.sign(self.request(Method::POST, &path, caller))
                .header("idempotency-key", idempotency_key)
                .json(body),
        )
        .await
    }

    // --- orders ------------------------------------------------------------------

    /// `GET /v1/shops/{slug}/orders/{id}` with the order's token (or as its customer).
    pub async fn order(
        &self,
        caller: Caller<'_>,
        slug: &str,
        id: Uuid,
        token: Option<&str>,
    ) -> Result<Order, Failure> {
        let path = format!("/v1/shops/{}/orders/{id}", path_segment(slug));
        let mut builder = self.request(Method::GET, &path, caller);
        if let Some(token) = token {
            builder = builder.header("x-order-token", token);
        }
        Self::send(builder).await
    }

    /// `POST /v1/shops/{slug}/orders/{id}/payments`. An order is paid once: a second
    /// payment of a paid order is refused (409), so a repeated submit never charges
    /// twice.
    pub async fn pay(
        &self,
        caller: Caller<'_>,
        slug: &str,
        id: Uuid,
        token: Option<&str>,
        payment: &PaymentRequest,
    ) -> Result<Order, Failure> {
        let path = format!("/v1/shops/{}/orders/{id}/payments", path_segment(slug));
        let mut builder = self.request(Method::POST, &path, caller).json(payment);
        if let Some(token) = token {
            builder = builder.header("x-order-token", token);
        }
        Self::send(builder).await
    }

    /// `GET /v1/shops/{slug}/orders`: the signed-in customer's orders in this shop.
    pub async fn my_orders(
        &self,
        caller: Caller<'_>,
        slug: &str,
        cursor: Option<&str>,
    ) -> Result<Page<OrderSummary>, Failure> {
        let mut query = vec![("limit", "20")];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let path = Self::query(format!("/v1/shops/{}/orders", path_segment(slug)), &query);
        Self::send(self.request(Method::GET, &path, caller)).await
    }

    // --- accounts ----------------------------------------------------------------

    /// `POST /v1/auth/register`: a buyer's account; a verification link is emailed.
    pub async fn register(
        &self,
        caller: Caller<'_>,
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<(), Failure> {
        Self::no_content(self.post(
            "/v1/auth/register",
            caller,
            serde_json::json!({"email": email, "password": password, "display_name": display_name}),
        ))
        .await
    }

    /// `POST /v1/auth/verify-email`.
    pub async fn verify_email(&self, caller: Caller<'_>, token: &str) -> Result<(), Failure> {
        Self::no_content(self.post(
            "/v1/auth/verify-email",
            caller,
            serde_json::json!({"token": token}),
        ))
        .await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(
        &self,
        caller: Caller<'_>,
        email: &str,
        password: &str,
    ) -> Result<Tokens, Failure> {
        Self::send(self.post(
            "/v1/auth/login",
            caller,
            serde_json::json!({"email": email, "password": password}),
        ))
        .await
    }

    /// `POST /v1/auth/refresh`: a new pair for a refresh token (single use).
    pub async fn refresh(
        &self,
        caller: Caller<'_>,
        refresh_token: &str,
    ) -> Result<Tokens, Failure> {
        Self::send(self.post(
            "/v1/auth/refresh",
            caller,
            serde_json::json!({"refresh_token": refresh_token}),
        ))
        .await
    }

    /// `POST /v1/auth/logout`: ends the refresh token's session.
    pub async fn logout(&self, caller: Caller<'_>, refresh_token: &str) -> Result<(), Failure> {
        Self::no_content(self.post(
            "/v1/auth/logout",
            caller,
            serde_json::json!({"refresh_token": refresh_token}),
        ))
        .await
    }

    /// `POST /v1/auth/password/forgot`: a reset link is emailed when the account exists.
    pub async fn forgot_password(&self, caller: Caller<'_>, email: &str) -> Result<(), Failure> {
        Self::no_content(self.post(
            "/v1/auth/password/forgot",
            caller,
            serde_json::json!({"email": email}),
        ))
        .await
    }

    /// `POST /v1/auth/password/reset`.
    pub async fn reset_password(
        &self,
        caller: Caller<'_>,
        token: &str,
        password: &str,
    ) -> Result<(), Failure> {
        Self::no_content(self.post(
            "/v1/auth/password/reset",
            caller,
            serde_json::json!({"token": token, "password": password}),
        ))
        .await
    }

    /// `POST /v1/auth/invitations/accept`: sets the invited person's password.
    pub async fn accept_invitation(
        &self,
        caller: Caller<'_>,
        token: &str,
        password: &str,
        display_name: &str,
    ) -> Result<Tokens, Failure> {
        Self::send(self.post(
            "/v1/auth/invitations/accept",
            caller,
            serde_json::json!({"token": token, "password": password, "display_name": display_name}),
        ))
        .await
    }

    /// `GET /v1/auth/me`.
    pub async fn me(&self, caller: Caller<'_>) -> Result<Me, Failure> {
        Self::send(self.request(Method::GET, "/v1/auth/me", caller)).await
    }

    /// Whether the API's gateway answers at all (for readiness).
    pub async fn reachable(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .is_ok_and(|response| response.status() == StatusCode::OK)
    }
}

/// A cart and the secret that opens it (a guest's `X-Cart-Token`).
#[derive(Debug, Clone, Copy)]
pub struct CartKey<'a> {
    pub id: Uuid,
    pub token: &'a str,
}

impl CartKey<'_> {
    fn sign(&self, builder: RequestBuilder) -> RequestBuilder {
        builder.header("x-cart-token", self.token)
    }
}

//! HTTP edges shared by every service: the JSON body extractor, and the handlers that
//! turn framework errors (bad path, bad query, unknown route, wrong method, oversized
//! body) into problem+json.

use crate::error::{ApiError, PROBLEM_JSON};
use actix_web::body::EitherBody;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};

/// The largest request body a service accepts, as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How long the gateway and the services keep an idle connection open. Longer
/// than any caller's pool keeps one (reqwest's default is 90 s): a caller then
/// always drops an idle connection before the server does, and never sends a
/// request on a connection the server is closing at that moment (which fails as
/// "error sending request" and showed to buyers as a 503).
pub const SERVER_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(120);

/// A JSON request body parsed into `T`.
///
/// Unlike `actix_web::web::Json`, every failure is a problem naming what was wrong:
/// 415 for another media type, 413 over the body limit, 400 for malformed JSON, and
/// 422 with the field path for a well-formed body with wrong or missing values.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(request: &HttpRequest) -> bool {
    match request.mime_type() {
        Ok(Some(mime)) => {
            mime.subtype() == "json" || mime.suffix().is_some_and(|suffix| suffix == "json")
        }
        _ => false,
    }
}

/// Reads a whole body, refusing more than `limit` bytes with 413.
pub async fn read_body<S, E>(
    request: &HttpRequest,
    payload: &mut S,
    limit: usize,
) -> Result<web::BytesMut, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::bad_request(format!("body not readable: {error}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a JSON document, naming the field at fault on failure. Every body this API
/// takes is an object, and so is every object within it: serde would read a struct
/// from an array of its fields in order too, which no client means, so an array
/// where an object belongs is refused (as is any top-level value but an object). A number with
/// a zero fraction (`256.0`) is the integer JSON Schema says it is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut document: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| not_json(&error))?;
    if !document.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    whole_numbers_as_integers(&mut document);
    let value: T = serde_path_to_error::deserialize(Objects(document)).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = without_position(&inner.to_string());
                let field = match missing_field(&message) {
                    Some(name) if path == "." => name.to_owned(),
                    Some(name) => format!("{path}.{name}"),
                    None if path == "." => "body".to_owned(),
                    None => path,
                };
                ApiError::invalid_field(field, message)
            }
            _ => not_json(&inner),
        }
    })?;
    Ok(value)
}

/// A JSON document read as [`serde_json::Value`] reads it, except that a struct is
/// read from an object only, at every depth.
struct Objects(serde_json::Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for Objects {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for Objects {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Array(items) => {
                let mut items = SeqDeserializer::new(items.into_iter().map(Objects));
                let value = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(value)
            }
            serde_json::Value::Object(fields) => {
                let mut fields =
                    MapDeserializer::new(fields.into_iter().map(|(name, v)| (name, Objects(v))));
                let value = visitor.visit_map(&mut fields)?;
                fields.end()?;
                Ok(value)
            }
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Array(_) => {
                Err(de::Error::invalid_type(de::Unexpected::Seq, &"an object"))
            }
            other => Objects(other).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Objects(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// Largest magnitude a float holds every whole number up to (2^53).
const EXACT_FLOAT_INTEGERS: f64 = 9_007_199_254_740_992.0;

fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() <= EXACT_FLOAT_INTEGERS
            {
                #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53
                let whole = float as i64;
                *value = serde_json::Value::from(whole);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers)
        }
        _ => {}
    }
}

fn not_json(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "the body is not valid JSON: {}",
        without_position(&error.to_string())
    ))
}

fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = whole_body(request, payload);
        Box::pin(async move {
            let (request, body) = body.await?;
            if !is_json(&request) {
                return Err(ApiError::unsupported_media_type("application/json"));
            }
            parse_json(&body).map(Json)
        })
    }
}

/// The request's whole body, within the service's [`BodyLimit`].
fn whole_body(
    request: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<(HttpRequest, web::BytesMut), ApiError>> {
    let request = request.clone();
    let limit = request
        .app_data::<BodyLimit>()
        .map_or(DEFAULT_BODY_LIMIT, |limit| limit.0);
    let mut payload = payload.take();
    Box::pin(async move {
        let body = read_body(&request, &mut payload, limit).await?;
        Ok((request, body))
    })
}

/// A JSON body the client may leave out: an empty body (or `null`) is `None`; any other body must
/// be JSON of the right shape, as with [`Json`] (a broken body is never taken for
/// none).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = whole_body(request, payload);
        Box::pin(async move {
            let (request, body) = body.await?;
            let absent =
                std::str::from_utf8(&body).is_ok_and(|text| matches!(text.trim(), "" | "null"));
            if absent {
                return Ok(OptionalJson(None));
            }
            if !is_json(&request) {
                return Err(ApiError::unsupported_media_type("application/json"));
            }
            parse_json(&body).map(|value| OptionalJson(Some(value)))
        })
    }
}

/// The header the gateway puts on every request it passes on (replacing any copy a
/// client sent). A request carrying it came from outside the platform: service
/// credentials are refused on it.
pub const GATEWAY_HEADER: &str = "caravan-gateway";

/// Whether the request came in through the public gateway.
pub fn through_gateway(request: &HttpRequest) -> bool {
    request.headers().contains_key(GATEWAY_HEADER)
}

/// Networks whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`: comma-separated
/// addresses or CIDR blocks, such as the gateway's). Empty: nobody's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut networks = Vec::new();
        for item in value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let (address, bits) = match item.split_once('/') {
                Some((address, bits)) => (address, Some(bits)),
                None => (item, None),
            };
            let address: std::net::IpAddr = address
                .parse()
                .map_err(|_| format!("{item:?} is not an address or CIDR block"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|bits| *bits <= max)
                    .ok_or_else(|| format!("{item:?} has a bad prefix length"))?,
                None => max,
            };
            // An IPv4-mapped block (`::ffff:10.0.0.0/104`) is the IPv4 block it maps,
            // as peers are compared in their IPv4 form.
            let network = match address {
                std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) if bits >= 96 => (std::net::IpAddr::V4(v4), bits - 96),
                    Some(_) => return Err(format!("{item:?} has a bad prefix length")),
                    None => (address, bits),
                },
                v4 => (v4, bits),
            };
            networks.push(network);
        }
        Ok(Self(networks))
    }
}

impl TrustedProxies {
    /// Whether `address` is one of the trusted proxies.
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        let address = canonical(address);
        self.0
            .iter()
            .any(|(network, bits)| match (*network, address) {
                (std::net::IpAddr::V4(network), std::net::IpAddr::V4(address)) => {
                    prefix_matches(&network.octets(), &address.octets(), *bits)
                }
                (std::net::IpAddr::V6(network), std::net::IpAddr::V6(address)) => {
                    prefix_matches(&network.octets(), &address.octets(), *bits)
                }
                _ => false,
            })
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries
    /// further left were written by whoever the client is, and prove nothing).
    /// `Forwarded`, `X-Real-IP` and the like are never read.
    pub fn client_of(&self, request: &HttpRequest) -> Option<std::net::IpAddr> {
        let peer = canonical(request.peer_addr()?.ip());
        if !self.contains(peer) {
            return Some(peer);
        }
        let mut client = peer;
        let entries: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        for entry in entries.into_iter().rev() {
            match entry.parse::<std::net::IpAddr>() {
                Ok(address) => {
                    client = canonical(address);
                    if !self.contains(client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Some(client)
    }
}

fn canonical(address: std::net::IpAddr) -> std::net::IpAddr {
    match address {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, std::net::IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_matches(network: &[u8], address: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let whole = bits / 8;
    if network[..whole] != address[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        network[whole] & mask == address[whole] & mask
    }
}

/// The client's address as throttles count it (see [`TrustedProxies::client_of`]): an
/// IPv4 address, or an IPv6 address's /64 network — one subscriber holds a whole
/// /64, and counting its addresses apart would give it billions of allowances.
pub fn client_address(request: &HttpRequest, trusted: &TrustedProxies) -> String {
    trusted
        .client_of(request)
        .map_or_else(|| "unknown".to_owned(), throttle_key)
}

/// The key a throttle counts `address` under: itself for IPv4, its /64 for IPv6.
pub fn throttle_key(address: std::net::IpAddr) -> String {
    match canonical(address) {
        std::net::IpAddr::V6(v6) => {
            let segments = v6.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        v4 => v4.to_string(),
    }
}

/// Registers the extractor settings that answer problems, and the body limits.
pub fn configure_extractors(config: &mut web::ServiceConfig, body_limit: usize) {
    config
        .app_data(BodyLimit(body_limit))
        .app_data(web::PayloadConfig::new(body_limit))
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| ApiError::not_found("no such resource").into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            let message = error.to_string();
            let message = message
                .strip_prefix("Query deserialize error: ")
                .unwrap_or(&message);
            // The query string parses as text always; what fails is a value (a
            // number that is not one, an unknown enum): 422 like any invalid value.
            ApiError::validation(format!("invalid query string: {message}"))
                .with_field("query", message.to_owned())
                .into()
        }))
        .app_data(web::FormConfig::default().limit(body_limit).error_handler(
            |error, _| match error {
                actix_web::error::UrlencodedError::Overflow { limit, .. } => {
                    ApiError::payload_too_large(limit).into()
                }
                actix_web::error::UrlencodedError::ContentType => {
                    ApiError::unsupported_media_type("application/x-www-form-urlencoded").into()
                }
                other => ApiError::bad_request(format!("invalid form body: {other}")).into(),
            },
        ));
}

/// The answer when no route takes a request: 405 when the path exists with other
/// methods (routes guard on method, so a wrong method lands here), 404 otherwise.
pub async fn no_route(request: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    if request.resource_map().has_resource(request.path()) {
        let allowed = request
            .app_data::<web::Data<RouteMethods>>()
            .and_then(|methods| methods.allowed(request.path()));
        Ok(method_not_allowed(allowed.as_deref()))
    } else {
        Err(ApiError::not_found("no such resource"))
    }
}

fn method_not_allowed(allowed: Option<&str>) -> actix_web::HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&ApiError::method_not_allowed());
    if let Some(value) = allowed.and_then(|allowed| header::HeaderValue::from_str(allowed).ok()) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Middleware: a method the documented path does not take answers 405, also where a
/// parameterised path of the same shape takes it (`PATCH /v1/products/export` must not
/// reach `PATCH /v1/products/{id}` and answer 404 for an id named "export").
pub async fn undeclared_method(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refused = request
        .app_data::<web::Data<RouteMethods>>()
        .and_then(|methods| methods.refuses(request.method().as_str(), request.path()));
    match refused {
        Some(allowed) => {
            let response = method_not_allowed(Some(&allowed));
            Ok(request.into_response(response).map_into_right_body())
        }
        None => next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// The methods each documented path takes, for the `Allow` header of a 405.
#[derive(Debug, Clone, Default)]
pub struct RouteMethods(Vec<(Vec<String>, String)>);

impl RouteMethods {
    /// The paths and methods of an OpenAPI document.
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                let segments = path.split('/').map(str::to_owned).collect();
                (segments, methods.join(", "))
            })
            .collect();
        Self(routes)
    }

    /// The methods of the documented path `path` matches, literal segments first.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let best = self.best_matches(path);
        (!best.is_empty()).then(|| best.join(", "))
    }

    /// `Some(allowed methods)` when the documented paths `path` matches best (the
    /// most literal segments) do not take `method`; `None` when they do, or when no
    /// documented path matches (the router decides).
    pub fn refuses(&self, method: &str, path: &str) -> Option<String> {
        if !matches!(method, "GET" | "PUT" | "POST" | "DELETE" | "PATCH") {
            return None;
        }
        let best = self.best_matches(path);
        (!best.is_empty() && !best.contains(&method)).then(|| best.join(", "))
    }

    fn best_matches(&self, path: &str) -> Vec<&str> {
        let wanted: Vec<&str> = path.split('/').collect();
        let matching: Vec<(usize, &String)> = self
            .0
            .iter()
            .filter(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments.iter().zip(&wanted).all(|(template, actual)| {
                        template == actual || (template.starts_with('{') && !actual.is_empty())
                    })
            })
            .map(|(segments, methods)| {
                let literal = segments.iter().filter(|s| !s.starts_with('{')).count();
                (literal, methods)
            })
            .collect();
        let most = matching.iter().map(|(literal, _)| *literal).max();
        let mut methods: Vec<&str> = Vec::new();
        for method in matching
            .iter()
            .filter(|(literal, _)| Some(*literal) == most)
            .flat_map(|(_, methods)| methods.split(", "))
        {
            if !method.is_empty() && !methods.contains(&method) {
                methods.push(method);
            }
        }
        methods
    }
}

/// Middleware that turns any error response without a JSON body (a wrong method, a
/// framework error) into problem+json.
pub fn problem_responses<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_problem)
}

fn to_problem<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Error bodies a handler wrote on purpose (a problem, or JSON in another agreed
    // format such as OAuth 2.0 errors) are left alone.
    let deliberate = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with(PROBLEM_JSON) || value.starts_with("application/json")
        });
    if deliberate {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let (request, _) = response.into_parts();
    let problem = actix_web::ResponseError::error_response(&ApiError::from_status(status));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_into_right_body::<B>(),
    ))
}

/// Type of the responses the problem middleware produces.
pub type ProblemBody<B> = EitherBody<B>;

/// For PATCH fields that may be cleared: with `#[serde(default, deserialize_with =
/// "caravan_shared::http::nullable")]` on an `Option<Option<T>>`, an absent field is
/// `None` (keep), `null` is `Some(None)` (clear) and a value is `Some(Some(v))`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// For PATCH fields holding an object that may be cleared: as [`nullable`], but only
/// a JSON object (or `null`) is taken. Serde reads a struct from an array as well
/// (`[null, null]` would be a theme with every field absent); a body that says a list
/// where the contract says an object is refused instead.
pub fn nullable_object<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match <Option<serde_json::Value> as serde::Deserialize>::deserialize(deserializer)? {
        None => Ok(Some(None)),
        Some(object @ serde_json::Value::Object(_)) => serde_json::from_value(object)
            .map(|value| Some(Some(value)))
            .map_err(D::Error::custom),
        Some(_) => Err(D::Error::custom("must be an object or null")),
    }
}

/// Middleware: what only the platform itself may reach — `/internal/…` and the
/// probes and metrics — answers 404 to a request that came in through the gateway,
/// whatever path trick carried it there. (The gateway never routes these paths; this
/// is the second lock.)
pub async fn internal_stays_internal(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = request.path();
    let internal = path == "/internal"
        || path.starts_with("/internal/")
        || matches!(path, "/metrics" | "/healthz" | "/readyz");
    if internal && through_gateway(request.request()) {
        let response =
            actix_web::ResponseError::error_response(&ApiError::not_found("no such resource"));
        return Ok(request.into_response(response).map_into_right_body());
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The Content-Security-Policy of the API docs at `/docs`: Swagger UI's own scripts,
/// styles and images from this origin only (it sets inline styles, and its icons are
/// `data:` images), requests to this origin, and no framing.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Middleware: the security headers of every response. `X-Content-Type-Options:
/// nosniff` always; `Cache-Control: no-store` unless the handler chose its own
/// caching (the storefront's public reads do), so answers with personal data or
/// tokens are never kept by a cache; and on the API docs (`/docs`) a
/// Content-Security-Policy ([`DOCS_CONTENT_SECURITY_POLICY`]), `X-Frame-Options:
/// DENY` and `Referrer-Policy: no-referrer`, as the gateway serves its own docs.
/// (Handlers' errors reach it as answers: actix turns them into responses before any
/// middleware sees them. A middleware's error — a request shed at its deadline by
/// [`crate::deadline::honour`] — becomes an answer only after every middleware: it
/// gets the same headers here.)
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_docs = request.path() == "/docs" || request.path().starts_with("/docs/");
    match next.call(request).await {
        Ok(mut response) => {
            secure(response.headers_mut(), is_docs);
            Ok(response)
        }
        Err(error) => {
            let mut response = error.error_response();
            secure(response.headers_mut(), is_docs);
            Err(actix_web::error::InternalError::from_response(error.to_string(), response).into())
        }
    }
}

fn secure(headers: &mut header::HeaderMap, is_docs: bool) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    if is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("no-referrer"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Product {
        handle: String,
        variants: Vec<Variant>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Variant {
        sku: String,
        weight_grams: u32,
    }

    fn request_from(peer: &str, forwarded_for: Option<&str>) -> HttpRequest {
        let mut request = actix_web::test::TestRequest::default()
            .peer_addr(peer.parse().unwrap())
            .insert_header(("forwarded", "for=192.0.2.66"))
            .insert_header(("x-real-ip", "192.0.2.67"));
        if let Some(value) = forwarded_for {
            request = request.insert_header(("x-forwarded-for", value));
        }
        request.to_http_request()
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: TrustedProxies = "127.0.0.1, 10.0.0.0/8, ::1".parse().unwrap();
        // Not a trusted peer: whatever it claims, the peer is the client.
        let direct = request_from("203.0.113.5:4000", Some("198.51.100.1"));
        assert_eq!(client_address(&direct, &trusted), "203.0.113.5");
        // The gateway: the rightmost entry it did not write itself.
        let gateway = request_from(
            "127.0.0.1:4000",
            Some("198.51.100.1, 203.0.113.9, 10.2.3.4"),
        );
        assert_eq!(client_address(&gateway, &trusted), "203.0.113.9");
        // `Forwarded` and `X-Real-IP` are never read.
        let bare = request_from("127.0.0.1:4000", None);
        assert_eq!(client_address(&bare, &trusted), "127.0.0.1");
        // Nobody trusted: the peer, always.
        let none = TrustedProxies::default();
        assert_eq!(client_address(&gateway, &none), "127.0.0.1");
        // IPv4-mapped IPv6 peers are the IPv4 address they map.
        let mapped = request_from("[::ffff:127.0.0.1]:4000", Some("203.0.113.7"));
        assert_eq!(client_address(&mapped, &trusted), "203.0.113.7");
        // One IPv6 subscriber (a /64) is one client to the throttles.
        let six = request_from("[2001:db8:1:2:aaaa::1]:4000", None);
        assert_eq!(client_address(&six, &trusted), "2001:db8:1:2::/64");
        // Garbage in the header stops the walk at the last good address.
        let garbage = request_from("127.0.0.1:4000", Some("203.0.113.8, not-an-address"));
        assert_eq!(client_address(&garbage, &trusted), "127.0.0.1");
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_blocks() {
        let trusted: TrustedProxies = "172.28.0.10,fd00::/8,10.1.0.0/16".parse().unwrap();
        assert!(trusted.contains("172.28.0.10".parse().unwrap()));
        assert!(!trusted.contains("172.28.0.11".parse().unwrap()));
        assert!(trusted.contains("10.1.255.1".parse().unwrap()));
        assert!(!trusted.contains("10.2.0.1".parse().unwrap()));
        assert!(trusted.contains("fd12::1".parse().unwrap()));
        let mapped: TrustedProxies = "::ffff:172.28.0.10, ::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped.contains("172.28.0.10".parse().unwrap()));
        assert!(mapped.contains("::ffff:10.9.8.7".parse().unwrap()));
        assert!(!mapped.contains("11.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nowhere", "10.0.0.0/x", "::ffff:10.0.0.0/95"] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let error = parse_json::<Product>(br#"{"handle": "#).unwrap_err();
        assert_eq!(error.problem().status, 400);
    }

    #[test]
    fn a_wrong_value_names_its_path() {
        let error = parse_json::<Product>(
            br#"{"handle": "goji", "variants": [{"sku": "G-1", "weight_grams": -5}]}"#,
        )
        .unwrap_err();
        let problem = error.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[0].weight_grams");
        assert!(!problem.errors[0].message.contains("line"));
    }

    #[test]
    fn a_missing_field_is_named() {
        let error = parse_json::<Product>(br#"{"handle": "goji", "variants": [{"sku": "G-1"}]}"#)
            .unwrap_err();
        assert_eq!(error.problem().errors[0].field, "variants[0].weight_grams");
        let error = parse_json::<Product>(br#"{"variants": []}"#).unwrap_err();
        assert_eq!(error.problem().errors[0].field, "handle");
    }

    #[test]
    fn an_object_written_as_an_array_is_refused_where_it_belongs() {
        let problem = parse_json::<Product>(br#"{"handle": "goji", "variants": [["G-1", 250]]}"#)
            .unwrap_err()
            .problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[0]");
        assert!(
            problem.errors[0].message.contains("sequence"),
            "{problem:?}"
        );
        // Everything else reads as before: arrays, options, free-form values.
        #[derive(Debug, Deserialize)]
        struct Loose {
            tags: Option<Vec<String>>,
            note: Option<String>,
            extra: serde_json::Value,
            variant: Option<Variant>,
        }
        let loose = parse_json::<Loose>(
            br#"{"tags": ["a", "b"], "note": null, "extra": [1, {"x": [2]}], "variant": {"sku": "S", "weight_grams": 3.0}}"#,
        )
        .unwrap();
        assert_eq!(loose.tags.unwrap(), ["a", "b"]);
        assert!(loose.note.is_none());
        assert_eq!(loose.extra, serde_json::json!([1, {"x": [2]}]));
        assert_eq!(loose.variant.unwrap().weight_grams, 3);
        let problem = parse_json::<Loose>(br#"{"extra": 1, "variant": ["S", 3]}"#)
            .unwrap_err()
            .problem();
        assert_eq!(problem.errors[0].field, "variant");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        for body in [&br#"["goji", []]"#[..], b" 12", b"null", br#""goji""#] {
            let problem = parse_json::<Product>(body).unwrap_err().problem();
            assert_eq!(problem.status, 422);
            assert_eq!(problem.errors[0].field, "body");
        }
    }

    #[test]
    fn a_literal_path_refuses_methods_only_its_parameterised_twin_takes() {
        let routes = RouteMethods(
            [
                ("/v1/products/export", "GET"),
                ("/v1/products/{id}", "GET, DELETE, PATCH"),
                ("/v1/products/{id}/archive", "POST"),
            ]
            .into_iter()
            .map(|(path, methods)| {
                (
                    path.split('/').map(str::to_owned).collect(),
                    methods.to_owned(),
                )
            })
            .collect(),
        );
        assert_eq!(
            routes.refuses("PATCH", "/v1/products/export").as_deref(),
            Some("GET")
        );
        assert_eq!(routes.refuses("GET", "/v1/products/export"), None);
        assert_eq!(routes.refuses("PATCH", "/v1/products/0193"), None);
        assert_eq!(
            routes.refuses("POST", "/v1/products/0193").as_deref(),
            Some("GET, DELETE, PATCH")
        );
        assert_eq!(routes.refuses("HEAD", "/v1/products/export"), None);
        assert_eq!(routes.refuses("GET", "/v1/unknown"), None);
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let product = parse_json::<Product>(
            br#"{"handle": "goji", "variants": [{"sku": "G-1", "weight_grams": 520.0}]}"#,
        )
        .unwrap();
        assert_eq!(product.variants[0].weight_grams, 520);
        let problem = parse_json::<Product>(
            br#"{"handle": "goji", "variants": [{"sku": "G-1", "weight_grams": 520.5}]}"#,
        )
        .unwrap_err()
        .problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "variants[0].weight_grams");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let error =
            parse_json::<Product>(br#"{"handle": "goji", "variants": []} trailing"#).unwrap_err();
        assert_eq!(error.problem().status, 400);
    }
}

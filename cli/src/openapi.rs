//! The committed OpenAPI contract in `openapi/`: each service's document as it
//! serves it at `/openapi.json`, and one merged document of the public surface (the
//! gateway's paths: no `/internal/…`, no probes or metrics).

mod links;

use caravan_shared::service::{ApiInfo, openapi_document};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use utoipa::openapi::{InfoBuilder, OpenApi, Server};

/// Paths the gateway does not route.
fn public(path: &str) -> bool {
    !(path.starts_with("/internal/") || matches!(path, "/healthz" | "/readyz" | "/metrics"))
}

fn service_documents() -> Vec<(&'static str, OpenApi)> {
    vec![
        (
            "auth",
            openapi_document(caravan_auth::startup::API, caravan_auth::routes::configure),
        ),
        (
            "tenant",
            openapi_document(
                caravan_tenant::startup::API,
                caravan_tenant::routes::configure,
            ),
        ),
        (
            "catalog",
            openapi_document(
                caravan_catalog::startup::API,
                caravan_catalog::routes::configure,
            ),
        ),
        (
            "order",
            openapi_document(
                caravan_order::startup::API,
                caravan_order::routes::configure,
            ),
        ),
    ]
}

/// The public API as one document.
pub const PUBLIC: ApiInfo = ApiInfo {
    title: "Caravan API",
    description: "The public API of Caravan, the storefront platform for farm cooperatives: identities and app credentials, shops and webhooks, catalogs and storefronts, carts, checkout and orders. Everything here is reached at one base URL through the gateway.",
};

/// Every document: (file name, pretty JSON with a final newline).
pub fn documents() -> anyhow::Result<Vec<(String, String)>> {
    let services = service_documents();
    let mut merged: Option<OpenApi> = None;
    let mut files = Vec::new();
    for (name, document) in &services {
        files.push((
            format!("{name}.json"),
            format!("{}\n", document.to_pretty_json()?),
        ));
        let mut public_part = document.clone();
        public_part.paths.paths.retain(|path, _| public(path));
        if let (Some(merged), Some(components)) = (&merged, &public_part.components) {
            for (schema, definition) in &components.schemas {
                let existing = merged
                    .components
                    .as_ref()
                    .and_then(|c| c.schemas.get(schema));
                if let Some(existing) = existing
                    && serde_json::to_value(existing)? != serde_json::to_value(definition)?
                {
                    anyhow::bail!(
                        "schema {schema} means different things in two services; rename one"
                    );
                }
            }
        }
        match &mut merged {
            None => merged = Some(public_part),
            Some(merged) => merged.merge(public_part),
        }
    }
    let mut merged = merged.ok_or_else(|| anyhow::anyhow!("no services"))?;
    merged.info = InfoBuilder::new()
        .title(PUBLIC.title)
        .description(Some(PUBLIC.description))
        .license(merged.info.license.clone())
        .version(env!("CARGO_PKG_VERSION"))
        .build();
    merged.servers = Some(vec![Server::new("http://localhost:8080")]);
    let mut merged = serde_json::to_value(&merged)?;
    prune_unused_schemas(&mut merged);
    document_rate_limits(&mut merged);
    links::document_links(&mut merged)?;
    files.push((
        "caravan.json".to_owned(),
        format!("{}\n", serde_json::to_string_pretty(&merged)?),
    ));
    Ok(files)
}

fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            found.insert(name.to_owned());
                        }
                    }
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

/// Drops schemas only the service-to-service routes and probes used.
fn prune_unused_schemas(document: &mut Value) {
    let mut used = BTreeSet::new();
    references(&document["paths"], &mut used);
    // Schemas used by used schemas, until nothing new turns up.
    loop {
        let mut more = BTreeSet::new();
        for name in &used {
            references(&document["components"]["schemas"][name], &mut more);
        }
        let before = used.len();
        used.extend(more);
        if used.len() == before {
            break;
        }
    }
    if let Some(schemas) = document["components"]["schemas"].as_object_mut() {
        schemas.retain(|name, _| used.contains(name));
    }
}

/// The gateway's rate limits (`caravan_gateway::limits`): every answer through it
/// says where the client stands, and any operation can answer 429.
fn document_rate_limits(document: &mut Value) {
    let integer = |description: &str, example: u64| {
        json!({
            "description": description,
            "schema": {"type": "integer", "minimum": 0},
            "example": example,
        })
    };
    document["components"]["headers"] = json!({
        "RateLimit-Limit": integer("Requests this client may make in the current one-minute window", 1200),
        "RateLimit-Remaining": integer("Requests left in the current window", 1187),
        "RateLimit-Reset": integer("Seconds until the window turns and the count starts again", 42),
        "Retry-After": integer("Seconds to wait before trying again", 42),
    });
    let standing = json!({
        "RateLimit-Limit": {"$ref": "#/components/headers/RateLimit-Limit"},
        "RateLimit-Remaining": {"$ref": "#/components/headers/RateLimit-Remaining"},
        "RateLimit-Reset": {"$ref": "#/components/headers/RateLimit-Reset"},
    });
    let mut limited = standing.clone();
    limited["Retry-After"] = json!({"$ref": "#/components/headers/Retry-After"});
    document["components"]["responses"] = json!({
        "TooManyRequests": {
            "description": "Over the client's rate limit (per bearer token, or per address without one); retry after `Retry-After` seconds",
            "headers": limited,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    });
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            for response in responses.values_mut().filter_map(Value::as_object_mut) {
                let headers = response.entry("headers").or_insert_with(|| json!({}));
                if let (Some(headers), Some(standing)) =
                    (headers.as_object_mut(), standing.as_object())
                {
                    for (name, header) in standing {
                        headers.insert(name.clone(), header.clone());
                    }
                }
            }
            responses
                .entry("429")
                .or_insert_with(|| json!({"$ref": "#/components/responses/TooManyRequests"}));
        }
    }
}

/// Writes the documents into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in documents()? {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The documents in `dir` that differ from what the code generates.
pub fn stale(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut stale = Vec::new();
    for (name, text) in documents()? {
        let committed = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        if committed != text {
            stale.push(name);
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged() -> Value {
        let documents = documents().unwrap();
        let (_, caravan) = documents
            .iter()
            .find(|(name, _)| name == "caravan.json")
            .unwrap();
        serde_json::from_str(caravan).unwrap()
    }

    #[test]
    fn a_new_order_links_to_what_staff_and_buyer_can_do_with_it() {
        let caravan = merged();
        let links =
            &caravan["paths"]["/v1/shops/{shop}/checkout"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["ShowOrder"]["operationId"], "orders_show");
        assert_eq!(links["ShowOrder"]["parameters"]["id"], "$response.body#/id");
        assert_eq!(links["Refund"]["operationId"], "orders_refund");
        let own = &links["ShowOwnOrder"];
        assert_eq!(own["operationId"], "buyer_orders_show");
        assert_eq!(own["parameters"]["shop"], "$request.path.shop");
        assert_eq!(
            own["parameters"]["header.X-Order-Token"],
            "$response.body#/access_token"
        );
    }

    #[test]
    fn a_link_to_a_parameter_the_target_lacks_is_refused() {
        let mut caravan = merged();
        let operation = &mut caravan["paths"]["/v1/orders/{id}"]["get"];
        operation["parameters"] = json!([]);
        let error = links::document_links(&mut caravan).unwrap_err();
        assert_eq!(error.to_string(), "orders_show takes no path parameter id");
    }

    #[test]
    fn every_public_schema_has_an_example() {
        let caravan = merged();
        let schemas = caravan["components"]["schemas"].as_object().unwrap();
        let missing: Vec<&str> = schemas
            .iter()
            .filter(|(_, schema)| {
                schema.get("example").is_none() && schema.get("examples").is_none()
            })
            .map(|(name, _)| name.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "schemas of the public contract without an example: {}",
            missing.join(", ")
        );
    }
}

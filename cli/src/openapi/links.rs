//! OpenAPI links of the public contract: which answer gives the ids that other
//! operations take. A client (or a contract fuzzer) follows them from a created or
//! listed record to what can be done with it.

use serde_json::{Map, Value, json};

/// Operations that take one record's id, grouped with the id's parameter name.
struct Family {
    /// Link names and the operations they lead to.
    targets: &'static [(&'static str, &'static str)],
    /// The parameters every target takes, by name (qualified by location where it
    /// is not the path), and the part of the answer each comes from (`/id`,
    /// `/variants/0/id`).
    parameters: &'static [(&'static str, &'static str)],
    /// Parameters copied from the source request: (name, runtime expression).
    from_request: &'static [(&'static str, &'static str)],
}

impl Family {
    /// Operations that take the record's `id` in the path and nothing else.
    const fn by_id(targets: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            targets,
            parameters: &[("id", "/id")],
            from_request: &[],
        }
    }
}

const PRODUCT: Family = Family::by_id(&[
    ("ShowProduct", "products_show"),
    ("UpdateProduct", "products_update"),
    ("ArchiveProduct", "products_archive"),
    ("RemoveProduct", "products_remove"),
]);

const VARIANT: Family = Family {
    targets: &[("UpdateVariant", "products_update_variant")],
    parameters: &[("id", "/id"), ("variant_id", "/variants/0/id")],
    from_request: &[],
};

const ZONE: Family = Family::by_id(&[
    ("ReplaceZone", "shipping_replace"),
    ("RemoveZone", "shipping_remove"),
]);

const WEBHOOK: Family = Family::by_id(&[
    ("ShowWebhook", "webhooks_show"),
    ("UpdateWebhook", "webhooks_update"),
    ("RemoveWebhook", "webhooks_remove"),
    ("ListDeliveries", "webhooks_deliveries"),
    ("RotateSecret", "webhooks_rotate_secret"),
]);

const APP_CLIENT: Family = Family::by_id(&[("RevokeClient", "app_clients_revoke")]);

const APPLICATION: Family = Family::by_id(&[
    ("ShowApplication", "applications_show"),
    ("ApproveApplication", "applications_approve"),
    ("RejectApplication", "applications_reject"),
]);

const TENANT: Family = Family::by_id(&[
    ("ShowTenant", "tenants_show"),
    ("UpdateTenant", "tenants_update"),
    ("TenantAudit", "tenants_audit"),
    ("SuspendTenant", "tenants_suspend"),
    ("ReinstateTenant", "tenants_reinstate"),
    ("ChangePlan", "tenants_change_plan"),
    ("CloseTenant", "tenants_close"),
]);

const CART: Family = Family {
    targets: &[("ShowCart", "carts_show"), ("AddLine", "carts_add_line")],
    parameters: &[("id", "/id"), ("header.X-Cart-Token", "/token")],
    from_request: &[("shop", "$request.path.shop")],
};

const CART_LINE: Family = Family {
    targets: &[
        ("SetLine", "carts_set_line"),
        ("RemoveLine", "carts_remove_line"),
    ],
    parameters: &[("header.X-Cart-Token", "/token")],
    from_request: &[
        ("shop", "$request.path.shop"),
        ("id", "$request.path.id"),
        ("variant_id", "$request.body#/variant_id"),
    ],
};

const STAFF_ORDER: Family = Family::by_id(&[
    ("ShowOrder", "orders_show"),
    ("OrderTimeline", "orders_timeline"),
    ("MarkPaid", "orders_mark_paid"),
    ("Fulfil", "orders_fulfil"),
    ("Deliver", "orders_deliver"),
    ("Refund", "orders_refund"),
    ("CancelOrder", "orders_cancel"),
]);

const BUYER_ORDER: Family = Family {
    targets: &[
        ("ShowOwnOrder", "buyer_orders_show"),
        ("PayOrder", "buyer_orders_pay"),
    ],
    parameters: &[("id", "/id"), ("header.X-Order-Token", "/access_token")],
    from_request: &[("shop", "$request.path.shop")],
};

/// Where each family's records are made: (operation, status, family). Lists are no
/// source: an empty page links nowhere.
const SOURCES: &[(&str, &str, &Family)] = &[
    ("products_create", "201", &PRODUCT),
    ("products_create", "201", &VARIANT),
    ("shipping_create", "201", &ZONE),
    ("webhooks_create", "201", &WEBHOOK),
    ("app_clients_create", "201", &APP_CLIENT),
    ("applications_apply", "201", &APPLICATION),
    ("applications_approve", "201", &TENANT),
    ("tenants_create", "201", &TENANT),
    ("carts_create", "201", &CART),
    ("carts_add_line", "200", &CART_LINE),
    ("checkout_checkout", "201", &STAFF_ORDER),
    ("checkout_checkout", "201", &BUYER_ORDER),
];

/// Adds the links to the responses of `document`. Fails on a link to an operation,
/// response or parameter the document does not have, so the table cannot drift from
/// the code.
pub fn document_links(document: &mut Value) -> anyhow::Result<()> {
    let mut links: Vec<(String, String, String, Value)> = Vec::new();
    for (source, status, family) in SOURCES {
        for (name, target) in family.targets {
            let mut parameters = Map::new();
            for (parameter, field) in family.parameters {
                parameters.insert(
                    (*parameter).to_owned(),
                    json!(format!("$response.body#{field}")),
                );
            }
            for (parameter, expression) in family.from_request {
                parameters.insert((*parameter).to_owned(), json!(expression));
            }
            check_parameters(document, target, &parameters)?;
            links.push((
                (*source).to_owned(),
                (*status).to_owned(),
                (*name).to_owned(),
                json!({"operationId": target, "parameters": parameters}),
            ));
        }
    }
    for (source, status, name, link) in links {
        let response = response_mut(document, &source, &status)?;
        let map = response
            .entry("links")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("{source} {status}: links is not an object"))?;
        if map.insert(name.clone(), link).is_some() {
            anyhow::bail!("{source} {status}: link {name} is named twice");
        }
    }
    Ok(())
}

fn operations(document: &Value) -> impl Iterator<Item = &Value> {
    document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
}

fn check_parameters(
    document: &Value,
    target: &str,
    parameters: &Map<String, Value>,
) -> anyhow::Result<()> {
    let operation = operations(document)
        .find(|operation| operation["operationId"] == target)
        .ok_or_else(|| anyhow::anyhow!("a link leads to {target}, which no operation is"))?;
    let declared: Vec<(String, String)> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["in"].as_str()?.to_owned(), p["name"].as_str()?.to_owned())))
        .collect();
    for name in parameters.keys() {
        let (location, bare) = name.split_once('.').unwrap_or(("path", name));
        if !declared.iter().any(|(l, n)| l == location && n == bare) {
            anyhow::bail!("{target} takes no {location} parameter {bare}");
        }
    }
    Ok(())
}

fn response_mut<'a>(
    document: &'a mut Value,
    operation_id: &str,
    status: &str,
) -> anyhow::Result<&'a mut Map<String, Value>> {
    document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .find(|operation| operation["operationId"] == operation_id)
        .and_then(|operation| operation["responses"][status].as_object_mut())
        .ok_or_else(|| anyhow::anyhow!("no {status} answer of {operation_id} to link from"))
}

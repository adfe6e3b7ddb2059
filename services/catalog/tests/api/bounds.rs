//! Every text a buyer sees, every list and every amount has a bound; each refusal is
//! a 422 naming the field, whichever way the product is written, and nothing is
//! written.

use crate::helpers::{goji, problem, shop, spawn_app};
use caravan_shared::testing::TestApp;
use serde_json::{Value, json};

const MAX_PRICE: i64 = 10_000_000_000;

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_named(problem: &Value, expected: &[&str]) {
    let named = fields(problem);
    for field in expected {
        assert!(
            named.iter().any(|f| f == field),
            "{field} is not named in {named:?}"
        );
    }
}

async fn products(app: &TestApp, token: &str) -> Vec<Value> {
    let listed: Value = app
        .get_with(token, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    listed["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn oversized_texts_lists_and_amounts_are_refused_on_create() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let mut product = goji("oversized", "BIG-1", 5);
    product["title"]["en"] = json!("枸".repeat(300_000));
    product["description"]["en"] = json!("x".repeat(10_001));
    product["tags"] = json!(["goji", "t".repeat(51)]);
    product["producer"] = json!("p".repeat(201));
    product["origin"]["place"] = json!("q".repeat(101));
    product["certifications"] = json!(vec!["organic"; 21]);
    product["images"] = json!([{"url": "https://cdn.example.cn/a.jpg", "alt": "a".repeat(301)}]);
    product["shelf_life_days"] = json!(i32::MAX);
    let variant = &mut product["variants"][0];
    variant["title"]["en"] = json!("v".repeat(201));
    variant["options"] = json!({"size": "s".repeat(101)});
    variant["prices"] = json!([
        {"amount": i64::MAX, "currency": "CNY"},
        {"amount": 0, "currency": "USD"}
    ]);
    variant["compare_at_price"] = json!({"amount": MAX_PRICE + 1, "currency": "CNY"});
    variant["weight_grams"] = json!(i32::MAX);
    variant["stock"] = json!(i32::MAX);
    variant["low_stock_threshold"] = json!(i32::MAX);
    let refused = problem(app.post_with(&a.owner, "/v1/products", &product).await, 422).await;
    assert_named(
        &refused,
        &[
            "title.en",
            "description.en",
            "tags[1]",
            "producer",
            "origin.place",
            "certifications",
            "images[0].alt",
            "shelf_life_days",
            "variants[0].title.en",
            "variants[0].options.size",
            "variants[0].prices[0].amount",
            "variants[0].prices[1].amount",
            "variants[0].compare_at_price.amount",
            "variants[0].weight_grams",
            "variants[0].stock",
            "variants[0].low_stock_threshold",
        ],
    );
    assert!(!fields(&refused).contains(&"title.zh-CN".to_owned()));

    // Too many of a thing is refused by its count.
    let mut many = goji("many", "MANY-1", 5);
    many["tags"] = json!((0..31).map(|i| format!("tag-{i}")).collect::<Vec<_>>());
    many["variants"] = json!(
        (0..101)
            .map(|i| {
                let mut variant = goji("x", &format!("MANY-{i}"), 1)["variants"][0].clone();
                variant["prices"] = json!(
                    [
                        "CNY", "USD", "EUR", "KZT", "RUB", "GBP", "JPY", "HKD", "KRW", "UZS", "KGS"
                    ]
                    .iter()
                    .map(|currency| json!({"amount": 100, "currency": currency}))
                    .collect::<Vec<_>>()
                );
                variant
            })
            .collect::<Vec<_>>()
    );
    let refused = problem(app.post_with(&a.owner, "/v1/products", &many).await, 422).await;
    assert_named(&refused, &["tags", "variants", "variants[0].prices"]);

    // The largest values allowed are taken, and add up without overflowing.
    let mut largest = goji("largest", "MAX-1", 10_000_000);
    largest["title"]["en"] = json!("枸".repeat(200));
    largest["variants"][0]["prices"] = json!([{"amount": MAX_PRICE, "currency": "CNY"}]);
    largest["variants"][0]["compare_at_price"] = json!({"amount": MAX_PRICE, "currency": "CNY"});
    largest["variants"][0]["weight_grams"] = json!(1_000_000);
    let created = app.post_with(&a.owner, "/v1/products", &largest).await;
    assert_eq!(created.status(), 201);

    let stored = products(&app, &a.owner).await;
    assert_eq!(stored.len(), 1, "the refused products wrote nothing");
    assert_eq!(stored[0]["handle"], "largest");
}

#[tokio::test]
async fn changes_of_products_and_variants_are_bounded_like_creation() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", "G-1", 5))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();

    let refused = problem(
        app.patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({
                "title": {"en": "t".repeat(201)},
                "description": {"ug": "d".repeat(10_001)},
                "tags": ["goji", "t".repeat(51)],
                "certifications": ["c".repeat(101)],
                "producer": "p".repeat(201),
                "origin": {"province": "p".repeat(101)},
            }),
        )
        .await,
        422,
    )
    .await;
    assert_named(
        &refused,
        &[
            "title.en",
            "description.ug",
            "tags[1]",
            "certifications[0]",
            "producer",
            "origin.province",
        ],
    );
    let too_many = problem(
        app.patch_with(
            &a.owner,
            &format!("/v1/products/{id}"),
            &json!({"tags": (0..31).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
        )
        .await,
        422,
    )
    .await;
    assert_named(&too_many, &["tags"]);

    let variant_path = format!("/v1/products/{id}/variants/{variant}");
    for (change, field) in [
        (
            json!({"prices": [{"amount": i64::MAX, "currency": "CNY"}]}),
            "prices[0].amount",
        ),
        (
            json!({"prices": [{"amount": 0, "currency": "CNY"}]}),
            "prices[0].amount",
        ),
        (
            json!({"compare_at_price": {"amount": MAX_PRICE + 1, "currency": "CNY"}}),
            "compare_at_price.amount",
        ),
        (json!({"weight_grams": i32::MAX}), "weight_grams"),
        (
            json!({"low_stock_threshold": i32::MAX}),
            "low_stock_threshold",
        ),
        (json!({"title": {"en": "v".repeat(201)}}), "title.en"),
        (
            json!({"options": {"size": "s".repeat(101)}}),
            "options.size",
        ),
        (
            json!({"options": {"size": {"nested": true}}}),
            "options.size",
        ),
    ] {
        let refused = problem(app.patch_with(&a.owner, &variant_path, &change).await, 422).await;
        assert_named(&refused, &[field]);
    }

    // Nothing changed.
    let now: Value = app
        .get_with(&a.owner, &format!("/v1/products/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["title"], product["title"]);
    assert_eq!(now["tags"], product["tags"]);
    assert_eq!(now["producer"], product["producer"]);
    assert_eq!(
        now["variants"][0]["prices"],
        product["variants"][0]["prices"]
    );
    assert_eq!(
        now["variants"][0]["weight_grams"],
        product["variants"][0]["weight_grams"]
    );
    assert_eq!(
        now["variants"][0]["low_stock_threshold"],
        product["variants"][0]["low_stock_threshold"]
    );
}

#[tokio::test]
async fn csv_rows_are_bounded_like_json() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let header = "handle,title.en,description.en,tags,producer,sku,unit,weight_grams,prices,stock,low_stock_threshold";
    let long_title = "t".repeat(201);
    let long_description = "d".repeat(10_001);
    let long_tag = "g".repeat(51);
    let csv = format!(
        "{header}\n\
         long-title,{long_title},,,,LT-1,piece,100,100 CNY,1,0\n\
         long-description,Description,{long_description},,,LD-1,piece,100,100 CNY,1,0\n\
         long-tag,Tag,,goji|{long_tag},,LG-1,piece,100,100 CNY,1,0\n\
         huge-price,Price,,,,HP-1,piece,100,{} CNY,1,0\n\
         free,Free,,,,FR-1,piece,100,0 CNY,1,0\n\
         huge-stock,Stock,,,,HS-1,piece,100,100 CNY,99999999999,0\n\
         heavy,Heavy,,,,HV-1,piece,2147483647,100 CNY,1,2147483647\n",
        i64::MAX
    );
    let report = app
        .client
        .post(app.url("/v1/products/import"))
        .bearer_auth(&a.owner)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let report: Value = report.json().await.unwrap();
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["failed"], 7, "{report}");
    let rows = report["rows"].as_array().unwrap();
    let expected: [&[&str]; 7] = [
        &["title.en"],
        &["description.en"],
        &["tags[1]"],
        &["prices[0].amount"],
        &["prices[0].amount"],
        &["stock"],
        &["weight_grams", "low_stock_threshold"],
    ];
    for (row, fields) in rows.iter().zip(expected) {
        assert_eq!(row["outcome"], "error", "{row}");
        assert_named(row, fields);
    }
    assert!(
        products(&app, &a.owner).await.is_empty(),
        "no row was written"
    );
}

#[tokio::test]
async fn stock_and_categories_are_bounded() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let product: Value = app
        .post_with(
            &a.owner,
            "/v1/products",
            &goji("full", "FULL-1", 10_000_000),
        )
        .await
        .json()
        .await
        .unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap();
    let adjustment =
        |delta: i64| json!({"variant_id": variant, "delta": delta, "reason": "received"});
    let refused = problem(
        app.post_with(&a.owner, "/v1/inventory/adjustments", &adjustment(1))
            .await,
        422,
    )
    .await;
    assert_named(&refused, &["delta"]);
    let refused = problem(
        app.post_with(
            &a.owner,
            "/v1/inventory/adjustments",
            &json!({"variant_id": variant, "delta": -1, "reason": "damaged", "note": "n".repeat(501)}),
        )
        .await,
        422,
    )
    .await;
    assert_named(&refused, &["note"]);
    let taken = app
        .post_with(&a.owner, "/v1/inventory/adjustments", &adjustment(-5))
        .await;
    assert_eq!(taken.status(), 200);
    let ledger: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/inventory/adjustments?variant_id={variant}"),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(ledger.as_array().unwrap().len(), 2, "initial and -5 only");
    assert_eq!(ledger[0]["on_hand"], 9_999_995, "{ledger}");

    let refused = problem(
        app.post_with(
            &a.owner,
            "/v1/categories",
            &json!({"handle": "dried-fruit", "name": {"zh-CN": "干果", "en": "d".repeat(101)}}),
        )
        .await,
        422,
    )
    .await;
    assert_named(&refused, &["name.en"]);
    let categories: Value = app
        .get_with(&a.owner, "/v1/categories")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(categories, json!([]));
}

#[tokio::test]
async fn the_contract_states_the_bounds() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &document["components"]["schemas"];
    let product = &schemas["ProductRequest"]["properties"];
    assert_eq!(
        product["title"]["allOf"][1]["additionalProperties"]["maxLength"],
        200
    );
    assert_eq!(
        product["description"]["oneOf"][0]["allOf"][1]["additionalProperties"]["maxLength"],
        10_000
    );
    assert_eq!(product["tags"]["maxItems"], 30);
    assert_eq!(product["tags"]["items"]["maxLength"], 50);
    assert_eq!(product["certifications"]["items"]["maxLength"], 100);
    assert_eq!(product["producer"]["maxLength"], 200);
    assert_eq!(product["variants"]["maxItems"], 100);
    let variant = &schemas["VariantInput"]["properties"];
    assert_eq!(variant["prices"]["maxItems"], 10);
    let amount = &variant["prices"]["items"]["allOf"][1]["properties"]["amount"];
    assert_eq!(amount["minimum"], 1);
    assert_eq!(amount["maximum"], MAX_PRICE);
    assert_eq!(
        variant["compare_at_price"]["oneOf"][0]["allOf"][1]["properties"]["amount"]["maximum"],
        MAX_PRICE
    );
    assert_eq!(variant["weight_grams"]["maximum"], 1_000_000);
    assert_eq!(variant["low_stock_threshold"]["maximum"], 10_000_000);
    assert_eq!(variant["options"]["maxProperties"], 10);
    let patch = &schemas["VariantPatch"]["properties"];
    assert_eq!(
        patch["prices"]["items"]["allOf"][1]["properties"]["amount"]["maximum"],
        MAX_PRICE
    );
    assert_eq!(
        schemas["ProductPatch"]["properties"]["tags"]["items"]["maxLength"],
        50
    );
    assert_eq!(
        schemas["CategoryRequest"]["properties"]["name"]["allOf"][1]["additionalProperties"]["maxLength"],
        100
    );
    assert_eq!(schemas["Origin"]["properties"]["place"]["maxLength"], 100);
}

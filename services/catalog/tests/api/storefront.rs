use crate::helpers::{goji, shop, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn buyers_search_in_chinese_and_get_their_language_and_currency() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    app.post_with(&a.owner, "/v1/products", &goji("ningxia-goji", "G-1", 5))
        .await;
    let mut raisins = goji("turpan-raisins", "R-1", 0);
    raisins["title"] =
        json!({"zh-CN": "吐鲁番葡萄干", "en": "Turpan raisins", "ug": "تۇرپان ئۈزۈم قۇرۇقى"});
    raisins["description"] = json!({"zh-CN": "无核白葡萄", "en": "Seedless green raisins"});
    raisins["tags"] = json!(["raisins"]);
    raisins["variants"][0]["prices"] = json!([{"amount": 3900, "currency": "CNY"}]);
    app.post_with(&a.owner, "/v1/products", &raisins).await;
    let mut draft = goji("secret-draft", "D-1", 5);
    draft["status"] = json!("draft");
    app.post_with(&a.owner, "/v1/products", &draft).await;

    let url = |query: &str| app.url(&format!("/v1/shops/{}/products{query}", a.slug));
    let all: Value = app
        .client
        .get(url(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let handles: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["handle"].as_str().unwrap())
        .collect();
    assert_eq!(
        handles,
        ["turpan-raisins", "ningxia-goji"],
        "active only, newest first"
    );

    let goji_search: Value = app
        .client
        .get(url("?q=枸杞"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(goji_search["items"].as_array().unwrap().len(), 1);
    assert_eq!(goji_search["items"][0]["title"], "宁夏中宁枸杞");
    let uyghur: Value = app
        .client
        .get(url("?q=ئۈزۈم&locale=ug"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uyghur["items"][0]["title"], "تۇرپان ئۈزۈم قۇرۇقى");
    let latin: Value = app
        .client
        .get(url("?q=RAISIN"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(latin["items"][0]["handle"], "turpan-raisins");

    let english: Value = app
        .client
        .get(url("?currency=USD"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let goji_item = english["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["handle"] == "ningxia-goji")
        .unwrap();
    assert_eq!(goji_item["title"], "Ningxia goji berries");
    assert_eq!(goji_item["locale"], "en");
    assert_eq!(
        goji_item["variants"][0]["price"],
        json!({"amount": 950, "currency": "USD"})
    );
    // Raisins have no USD price: the base price answers.
    let raisin_item = english["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["handle"] == "turpan-raisins")
        .unwrap();
    assert_eq!(
        raisin_item["variants"][0]["price"],
        json!({"amount": 3900, "currency": "CNY"})
    );
    // A language the shop lacks falls back.
    let kazakh: Value = app
        .client
        .get(url("?locale=kk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kazakh["items"][1]["title"], "宁夏中宁枸杞");

    let by_price: Value = app
        .client
        .get(url("?sort=price&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_price["items"][0]["handle"], "turpan-raisins");
    let cursor = by_price["next_cursor"].as_str().unwrap();
    let next: Value = app
        .client
        .get(url(&format!("?sort=price&limit=1&cursor={cursor}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["handle"], "ningxia-goji");
    assert!(next["next_cursor"].is_null());
    let in_stock: Value = app
        .client
        .get(url("?in_stock=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        in_stock["items"].as_array().unwrap().len(),
        1,
        "raisins have no stock"
    );
    let cheap: Value = app
        .client
        .get(url("?max_price=4000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cheap["items"].as_array().unwrap().len(), 1);

    // Conditional requests.
    let detail = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/ningxia-goji", a.slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), 200);
    let etag = detail.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/ningxia-goji", a.slug)))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let draft_page = app
        .client
        .get(app.url(&format!("/v1/shops/{}/products/secret-draft", a.slug)))
        .send()
        .await
        .unwrap();
    assert_eq!(draft_page.status(), 404);
    let bad_sort = app.client.get(url("?sort=random")).send().await.unwrap();
    assert_eq!(bad_sort.status(), 422);
    let unknown_shop = app
        .client
        .get(app.url("/v1/shops/no-such-shop/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_shop.status(), 404);
}

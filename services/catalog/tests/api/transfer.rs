use crate::helpers::{shop, spawn_app};
use serde_json::Value;

const HEADER: &str = "handle,status,title.zh-CN,title.en,title.ug,description.zh-CN,description.en,description.ug,tags,origin_country,origin_province,origin_place,producer,harvest_months,shelf_life_days,storage,certifications,sku,variant_title.zh-CN,variant_title.en,unit,weight_grams,prices,stock,low_stock_threshold";

async fn import(
    app: &caravan_shared::testing::TestApp,
    token: &str,
    csv: String,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/products/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_csv_import_applies_good_products_and_reports_bad_rows() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let csv = format!(
        "\u{feff}{HEADER}\n\
         hami-melon,active,哈密瓜,Hami melon,قوغۇن,,,,melon|fresh,CN,Xinjiang,Hami,,7|8,20,chilled,GI: Hami melon,MELON-1,一个,One melon,piece,2500,3500 CNY|500 USD,40,5\n\
         hami-melon,active,哈密瓜,Hami melon,,,,,,,,,,,,,,MELON-2,两个,Two melons,box,5000,6500 CNY,20,2\n\
         bad-product,active,坏,Bad,,,,,,,,,,,,,,BAD-1,,,bushel,100,100 CNY,1,0\n\
         bad-product,active,坏,Bad,,,,,,,,,,,,,,BAD-2,,,piece,100,100 CNY,1,0\n\
         no-price,active,无价,No price,,,,,,,,,,,,,,NP-1,,,piece,100,,1,0\n"
    );
    let report = import(&app, &a.owner, csv).await;
    assert_eq!(report.status(), 200);
    let report: Value = report.json().await.unwrap();
    assert_eq!(report["created"], 2);
    assert_eq!(report["failed"], 3);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows[0]["outcome"], "created");
    assert_eq!(rows[2]["outcome"], "error");
    assert_eq!(rows[2]["errors"][0]["field"], "unit");
    assert_eq!(
        rows[3]["outcome"], "error",
        "its product's other row is invalid"
    );
    assert_eq!(rows[4]["errors"][0]["field"], "prices");
    assert_eq!(rows[4]["line"], 6);

    let listed: Value = app
        .get_with(&a.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "invalid rows changed nothing");
    assert_eq!(items[0]["title"]["ug"], "قوغۇن");
    assert_eq!(items[0]["variants"].as_array().unwrap().len(), 2);

    // New products are written in bulk, opening stock recorded as an import.
    let melon_id = items[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "MELON-1")
        .unwrap()["id"]
        .clone();
    let ledger: Value = app
        .get_with(
            &a.owner,
            &format!(
                "/v1/inventory/adjustments?variant_id={}",
                melon_id.as_str().unwrap()
            ),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(ledger[0]["reason"], "import", "{ledger}");

    // Import again with new stock and price: the product is updated, stock set.
    let again = format!(
        "{HEADER}\nhami-melon,active,哈密瓜,Hami melon,,,,,,,,,,,,,,MELON-1,,,piece,2500,3300 CNY,55,5\n"
    );
    let report: Value = import(&app, &a.owner, again).await.json().await.unwrap();
    assert_eq!(report["updated"], 1);
    let product: Value = app
        .get_with(
            &a.owner,
            &format!("/v1/products/{}", items[0]["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    let melon = product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "MELON-1")
        .unwrap();
    assert_eq!(melon["on_hand"], 55);
    assert_eq!(melon["prices"][0]["amount"], 3300);

    // Export answers the same format, and re-importing it changes nothing but updates.
    let exported = app.get_with(&a.owner, "/v1/products/export").await;
    assert!(
        exported.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = exported.text().await.unwrap();
    assert!(text.starts_with(HEADER));
    assert!(text.contains("哈密瓜") && text.contains("3300 CNY"));
    let report: Value = import(&app, &a.owner, text).await.json().await.unwrap();
    assert_eq!(report["failed"], 0);
    assert_eq!(report["updated"], 2);

    let not_csv = app
        .post_with(&a.owner, "/v1/products/import", &serde_json::json!({}))
        .await;
    assert_eq!(not_csv.status(), 415);
    let no_columns = import(&app, &a.owner, "name,price\nx,1\n".to_owned()).await;
    assert_eq!(no_columns.status(), 422);
}

#[tokio::test]
async fn a_duplicate_sku_across_new_products_fails_only_the_second() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let csv = format!(
        "{HEADER}\n\
         korla-pears,active,库尔勒香梨,Korla pears,,,,,,,,,,,,,,PEAR-1,,,box,5000,8800 CNY,10,0\n\
         aksu-apples,active,阿克苏苹果,Aksu apples,,,,,,,,,,,,,,PEAR-1,,,box,5000,6600 CNY,10,0\n\
         hotan-walnuts,active,和田核桃,Hotan walnuts,,,,,,,,,,,,,,NUT-1,,,kg,1000,4500 CNY,30,0\n"
    );
    let report: Value = import(&app, &a.owner, csv).await.json().await.unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["rows"][1]["outcome"], "error");
    let listed: Value = app
        .get_with(&a.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_export_never_hands_a_spreadsheet_a_formula_and_imports_back_unchanged() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let csv = format!(
        "{HEADER}\n\
         formula-melon,active,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"哈密瓜\"\")\",@SUM(A1),,,,,,,,,,,,,,MELON-9,,,piece,2500,3300 CNY,5,0\n"
    );
    let report: Value = import(&app, &a.owner, csv).await.json().await.unwrap();
    assert_eq!(report["created"], 1, "{report}");
    let exported = app
        .get_with(&a.owner, "/v1/products/export")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        exported.contains("\"'=HYPERLINK(") && exported.contains(",'@SUM(A1),"),
        "{exported}"
    );
    let again: Value = import(&app, &a.owner, exported).await.json().await.unwrap();
    assert_eq!(again["updated"], 1, "{again}");
    let listed: Value = app
        .get_with(&a.owner, "/v1/products")
        .await
        .json()
        .await
        .unwrap();
    let title = &listed["items"][0]["title"];
    assert_eq!(
        title["zh-CN"], "=HYPERLINK(\"http://evil.example\",\"哈密瓜\")",
        "the title came back as it was: {title}"
    );
    assert_eq!(title["en"], "@SUM(A1)");
}

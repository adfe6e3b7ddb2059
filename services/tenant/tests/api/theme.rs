//! A shop's theme: colours white text reads on, a banner, the home page's sections.

use crate::helpers::{Platform, problem, spawn_platform};
use serde_json::{Value, json};

const DEFAULT_THEME: &str = r##"{"brand_color": "#0F6E56", "accent_color": "#B5432A", "banner_url": null, "sections": ["banner", "categories", "new", "story"]}"##;

fn default_theme() -> Value {
    serde_json::from_str(DEFAULT_THEME).unwrap()
}

async fn refused(platform: &Platform, token: &str, id: &str, body: Value) -> Vec<(String, String)> {
    let answer = problem(
        platform
            .patch_with(token, &format!("/v1/tenants/{id}"), &body)
            .await,
        422,
    )
    .await;
    answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn theme_of(platform: &Platform, token: &str, id: &str, slug: &str) -> (Value, Value) {
    let staff: Value = platform
        .get_with(Some(token), &format!("/v1/tenants/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let public: Value = platform
        .get(&format!("/v1/shops/{slug}"))
        .await
        .json()
        .await
        .unwrap();
    (staff["theme"].clone(), public["theme"].clone())
}

#[tokio::test]
async fn a_new_shop_has_the_default_theme_and_its_owner_changes_and_resets_it() {
    let platform = spawn_platform().await;
    let (id, slug, _owner, token) = platform.live_shop("theme").await;
    assert_eq!(
        theme_of(&platform, &token, &id, &slug).await,
        (default_theme(), default_theme())
    );

    let banner = format!("/media/{id}/0193b2d0-4f10-7a2b-8c3d-4e5f6a7b8c9d/1280.webp");
    let changed = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"theme": {
                "brand_color": "#1a4d8f", "accent_color": "#8B1E3F",
                "banner_url": banner, "sections": ["new", "banner"]
            }}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let expected = json!({
        "brand_color": "#1A4D8F", "accent_color": "#8B1E3F",
        "banner_url": banner, "sections": ["new", "banner"]
    });
    assert_eq!(changed.json::<Value>().await.unwrap()["theme"], expected);
    assert_eq!(
        theme_of(&platform, &token, &id, &slug).await,
        (expected.clone(), expected)
    );

    // Only what is sent changes; null puts one value back to its default.
    let partly = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"name": "Zhongning Goji", "theme": {"brand_color": null, "sections": null}}),
        )
        .await;
    let partly: Value = partly.json().await.unwrap();
    assert_eq!(
        partly["theme"],
        json!({"brand_color": "#0F6E56", "accent_color": "#8B1E3F", "banner_url": banner,
               "sections": ["banner", "categories", "new", "story"]})
    );
    // A settings change without a theme keeps it.
    let kept: Value = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"timezone": "Asia/Urumqi"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["theme"], partly["theme"]);
    // The whole theme back to the defaults.
    let reset: Value = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"theme": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reset["theme"], default_theme());
}

#[tokio::test]
async fn colours_white_text_cannot_be_read_on_are_refused_with_the_ratio() {
    let platform = spawn_platform().await;
    let (id, slug, _owner, token) = platform.live_shop("contrast").await;

    assert_eq!(
        refused(
            &platform,
            &token,
            &id,
            json!({"theme": {"brand_color": "#F5C242"}})
        )
        .await,
        [(
            "theme.brand_color".to_owned(),
            "white text on #F5C242 has contrast 1.7:1; at least 4.5:1 is needed".to_owned()
        )]
    );
    // Both at once, each named; #777777 is just under (4.478:1): two decimals,
    // rounded down, so it never reads as 4.5:1.
    assert_eq!(
        refused(
            &platform,
            &token,
            &id,
            json!({"theme": {"brand_color": "#ffffff", "accent_color": "#777777"}})
        )
        .await,
        [
            (
                "theme.brand_color".to_owned(),
                "white text on #FFFFFF has contrast 1.0:1; at least 4.5:1 is needed".to_owned()
            ),
            (
                "theme.accent_color".to_owned(),
                "white text on #777777 has contrast 4.47:1; at least 4.5:1 is needed".to_owned()
            ),
        ]
    );
    for malformed in ["0F6E56", "#0F6E5", "#GG6E56", "green", ""] {
        let errors = refused(
            &platform,
            &token,
            &id,
            json!({"theme": {"accent_color": malformed}}),
        )
        .await;
        assert_eq!(errors[0].0, "theme.accent_color", "{malformed}");
        assert!(errors[0].1.contains("#RRGGBB"), "{malformed}");
    }
    // #767676 just passes (4.54:1).
    let passes = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"theme": {"accent_color": "#767676"}}),
        )
        .await;
    assert_eq!(passes.status(), 200);
    // Nothing refused was kept.
    let (staff, _) = theme_of(&platform, &token, &id, &slug).await;
    assert_eq!(staff["brand_color"], "#0F6E56");
    assert_eq!(staff["accent_color"], "#767676");
}

#[tokio::test]
async fn sections_are_known_distinct_and_at_least_one() {
    let platform = spawn_platform().await;
    let (id, _slug, _owner, token) = platform.live_shop("sections").await;
    let errors = refused(
        &platform,
        &token,
        &id,
        json!({"theme": {"sections": ["banner", "reviews"]}}),
    )
    .await;
    assert_eq!(errors[0].0, "theme.sections[1]");
    assert!(errors[0].1.contains("banner, categories, new, story"));
    let errors = refused(
        &platform,
        &token,
        &id,
        json!({"theme": {"sections": ["new", "story", "new"]}}),
    )
    .await;
    assert_eq!(errors[0].0, "theme.sections[2]");
    assert!(
        errors[0].1.contains("`new` is already listed"),
        "{errors:?}"
    );
    let errors = refused(&platform, &token, &id, json!({"theme": {"sections": []}})).await;
    assert_eq!(errors[0].0, "theme.sections");
    // An unknown theme field is a malformed request.
    let unknown = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"theme": {"font": "serif"}}),
        )
        .await;
    assert!(unknown.status().is_client_error());
    // A theme is an object: a list where one belongs changes nothing.
    for not_an_object in [json!([null, null]), json!(["#0F6E56"]), json!("banner")] {
        let refused = platform
            .patch_with(
                &token,
                &format!("/v1/tenants/{id}"),
                &json!({"theme": not_an_object}),
            )
            .await;
        assert!(refused.status().is_client_error(), "{not_an_object}");
    }
    let subset = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"theme": {"sections": ["story", "categories"]}}),
        )
        .await;
    assert_eq!(
        subset.json::<Value>().await.unwrap()["theme"]["sections"],
        json!(["story", "categories"])
    );
}

#[tokio::test]
async fn logo_and_banner_may_be_this_shops_uploads_but_not_another_shops() {
    let platform = spawn_platform().await;
    let (id_a, slug_a, _owner_a, token_a) = platform.live_shop("media-a").await;
    let (id_b, _slug_b, _owner_b, token_b) = platform.live_shop("media-b").await;
    let upload = "0193b2d0-4f10-7a2b-8c3d-4e5f6a7b8c9d";

    let own_logo = format!("/media/{id_a}/{upload}/640.jpg");
    let own_banner = format!("/media/{id_a}/{upload}/1280.webp");
    let changed = platform
        .patch_with(
            &token_a,
            &format!("/v1/tenants/{id_a}"),
            &json!({"logo_url": own_logo, "theme": {"banner_url": own_banner}}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let profile: Value = platform
        .get(&format!("/v1/shops/{slug_a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["logo_url"], own_logo);
    assert_eq!(profile["theme"]["banner_url"], own_banner);

    // Shop B's owner cannot point its logo or banner at shop A's uploads.
    let errors = refused(
        &platform,
        &token_b,
        &id_b,
        json!({"logo_url": own_logo, "theme": {"banner_url": own_banner}}),
    )
    .await;
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["logo_url", "theme.banner_url"]);
    assert!(
        errors.iter().all(|(_, m)| m.contains("another shop")),
        "{errors:?}"
    );

    for bad in [
        format!("/media/{id_b}/{upload}/1280.png"),
        format!("/media/{id_b}/{upload}/large.jpg"),
        format!("/media/{id_b}/../{upload}/1280.jpg"),
        format!("/media/{id_b}/{upload}/1280.jpg?download=1"),
        "//cdn.example.cn/banner.jpg".to_owned(),
        "http://cdn.example.cn/banner.jpg".to_owned(),
    ] {
        let errors = refused(
            &platform,
            &token_b,
            &id_b,
            json!({"logo_url": bad, "theme": {"banner_url": bad}}),
        )
        .await;
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["logo_url", "theme.banner_url"], "{bad}");
    }
    // HTTPS still works, and null removes.
    let https = platform
        .patch_with(
            &token_b,
            &format!("/v1/tenants/{id_b}"),
            &json!({"logo_url": "https://cdn.example.cn/logo.png", "theme": {"banner_url": "https://cdn.example.cn/banner.jpg"}}),
        )
        .await;
    assert_eq!(https.status(), 200);
    let cleared: Value = platform
        .patch_with(
            &token_b,
            &format!("/v1/tenants/{id_b}"),
            &json!({"logo_url": null, "theme": {"banner_url": null}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["logo_url"], Value::Null);
    assert_eq!(cleared["theme"]["banner_url"], Value::Null);
}

#[tokio::test]
async fn another_shops_owner_cannot_change_this_shops_theme() {
    let platform = spawn_platform().await;
    let (id_a, slug_a, _owner_a, token_a) = platform.live_shop("own-a").await;
    let (_id_b, _slug_b, _owner_b, token_b) = platform.live_shop("own-b").await;
    let write = platform
        .patch_with(
            &token_b,
            &format!("/v1/tenants/{id_a}"),
            &json!({"theme": {"brand_color": "#000000", "sections": ["story"]}}),
        )
        .await;
    assert_eq!(problem(write, 404).await["code"], "not_found");
    assert_eq!(
        theme_of(&platform, &token_a, &id_a, &slug_a).await,
        (default_theme(), default_theme())
    );
    // Operators may.
    let operator = platform
        .patch_with(
            &platform.operator,
            &format!("/v1/tenants/{id_a}"),
            &json!({"theme": {"brand_color": "#000000"}}),
        )
        .await;
    assert_eq!(operator.status(), 200);
}

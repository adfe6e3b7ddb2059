use crate::helpers::{PASSWORD, problem, spawn_platform, unique, unique_email};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn operators_steer_the_lifecycle_and_others_may_not() {
    let platform = spawn_platform().await;
    let (id, slug, owner, owner_token) = platform.live_shop("aksu").await;

    // Not an operator: refused.
    let refused = platform
        .post_with(
            Some(&owner_token),
            &format!("/v1/tenants/{id}/suspend"),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let no_reason = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(no_reason, 422).await["errors"][0]["field"],
        "reason"
    );

    let suspended = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/suspend"),
            &json!({"reason": "origin labels under review"}),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(
        suspended.json::<Value>().await.unwrap()["status"],
        "suspended"
    );

    // The shop disappears for buyers, its staff are refused, and the auth service
    // stops issuing tokens for it.
    assert_eq!(
        platform.get(&format!("/v1/shops/{slug}")).await.status(),
        404
    );
    let own = platform
        .get_with(Some(&owner_token), &format!("/v1/tenants/{id}"))
        .await;
    assert_eq!(problem(own, 403).await["code"], "tenant_suspended");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let login = platform
            .auth
            .client
            .post(platform.auth.url("/v1/auth/login"))
            .json(&json!({"email": owner, "password": PASSWORD, "tenant": slug}))
            .send()
            .await
            .unwrap();
        if login.status() == 403 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "auth still issues tokens for a suspended shop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let twice = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/suspend"),
            &json!({"reason": "again"}),
        )
        .await;
    assert_eq!(problem(twice, 409).await["code"], "invalid_status_change");
    let reinstated = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/reinstate"),
            &json!({}),
        )
        .await;
    assert_eq!(reinstated.status(), 200);
    assert_eq!(
        platform.get(&format!("/v1/shops/{slug}")).await.status(),
        200
    );

    let closed = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/close"),
            &json!({"reason": "cooperative dissolved"}),
        )
        .await;
    assert_eq!(closed.status(), 200);
    let reopen = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/reinstate"),
            &json!({}),
        )
        .await;
    assert_eq!(reopen.status(), 409);

    let audit: Value = platform
        .get_with(Some(&platform.operator), &format!("/v1/tenants/{id}/audit"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["approve", "suspend", "reinstate", "close"]);
    assert_eq!(audit["items"][1]["reason"], "origin labels under review");
}

#[tokio::test]
async fn a_plan_change_reaches_other_services() {
    let platform = spawn_platform().await;
    let (id, slug, _owner, _token) = platform.live_shop("korla").await;
    let plans: Value = platform
        .get("/v1/plans")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(plans[0]["code"], "free");
    assert_eq!(
        plans[1]["monthly_price"],
        json!({"amount": 29900, "currency": "CNY"})
    );

    let unknown = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/plan"),
            &json!({"plan": "platinum"}),
        )
        .await;
    assert_eq!(problem(unknown, 422).await["errors"][0]["field"], "plan");
    let changed = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/plan"),
            &json!({"plan": "pro"}),
        )
        .await;
    assert_eq!(changed.status(), 200);

    // The auth service keeps the shops' plans and quotas from the events (read as the
    // owner, past row-level security).
    let auth_db = caravan_shared::db::connect(&platform.auth.database.owner_url, 1)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let state = caravan_shared::tenant_status::shop_by_slug(&auth_db, &slug)
            .await
            .unwrap();
        if let Some(state) = state
            && state.plan == "pro"
        {
            assert_eq!(state.quotas.max_products, None, "pro has no product limit");
            assert_eq!(state.quotas.max_staff, Some(50));
            break;
        }
        assert!(Instant::now() < deadline, "the plan change never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn staff_change_their_settings_but_cannot_see_or_touch_another_shop() {
    let platform = spawn_platform().await;
    let (id_a, slug_a, _owner_a, token_a) = platform.live_shop("shop-a").await;
    let (id_b, _slug_b, _owner_b, token_b) = platform.live_shop("shop-b").await;

    let patch = json!({
        "description": {"zh-CN": "宁夏枸杞", "en": "Ningxia goji berries", "ug": "نىڭشيا لەڭزە"},
        "currencies": ["CNY", "USD", "KZT"], "locales": ["zh-CN", "en", "ug"],
        "timezone": "Asia/Urumqi", "ship_to": ["CN", "KZ"]
    });
    let changed = platform
        .patch_with(&token_a, &format!("/v1/tenants/{id_a}"), &patch)
        .await;
    assert_eq!(changed.status(), 200);
    let profile: Value = platform
        .get(&format!("/v1/shops/{slug_a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["currencies"], json!(["CNY", "USD", "KZT"]));
    assert_eq!(profile["description"]["ug"], "نىڭشيا لەڭزە");

    let invalid = platform
        .patch_with(
            &token_a,
            &format!("/v1/tenants/{id_a}"),
            &json!({"currencies": ["USD"], "ship_to": ["CN", "XK"], "logo_url": "http://x"}),
        )
        .await;
    let invalid = problem(invalid, 422).await;
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"currencies")
            && fields.contains(&"ship_to[1]")
            && fields.contains(&"logo_url"),
        "{invalid}"
    );
    let bad_currency = platform
        .patch_with(
            &token_a,
            &format!("/v1/tenants/{id_a}"),
            &json!({"base_currency": "XYZ"}),
        )
        .await;
    assert_eq!(
        problem(bad_currency, 422).await["errors"][0]["field"],
        "base_currency"
    );

    // Shop B's owner: 404 on A, whether reading or writing, and A is unchanged.
    let read = platform
        .get_with(Some(&token_b), &format!("/v1/tenants/{id_a}"))
        .await;
    assert_eq!(problem(read, 404).await["code"], "not_found");
    let write = platform
        .patch_with(
            &token_b,
            &format!("/v1/tenants/{id_a}"),
            &json!({"name": "Taken over"}),
        )
        .await;
    assert_eq!(write.status(), 404);
    let unknown = platform
        .get_with(
            Some(&token_b),
            &format!("/v1/tenants/{}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(unknown.status(), 404, "existence is not disclosed");
    let a: Value = platform
        .get_with(Some(&token_a), &format!("/v1/tenants/{id_a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["name"], "Zhongning Goji Cooperative");
    assert_eq!(
        platform
            .get_with(Some(&token_b), &format!("/v1/tenants/{id_b}"))
            .await
            .status(),
        200
    );

    // Operator-only reads.
    assert_eq!(
        platform
            .get_with(Some(&token_a), "/v1/tenants")
            .await
            .status(),
        403
    );
    assert_eq!(
        platform
            .get_with(Some(&token_a), "/v1/tenants/applications")
            .await
            .status(),
        403
    );
    let listed: Value = platform
        .get_with(
            Some(&platform.operator),
            &format!("/v1/tenants?q={}", &slug_a),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_operator_creates_a_shop_directly() {
    let platform = spawn_platform().await;
    let owner = unique_email("aysha");
    let slug = unique("turpan");
    let created = platform
        .post_with(
            Some(&platform.operator),
            "/v1/tenants",
            &json!({"name": "Turpan Raisins", "slug": slug, "owner_email": owner, "plan": "standard", "region": "Xinjiang"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let invitation = caravan_shared::testing::wait_for_mail(&owner, 1)
        .await
        .unwrap();
    assert!(invitation[0].token().is_some());
    let taken = platform
        .post_with(
            Some(&platform.operator),
            "/v1/tenants",
            &json!({"name": "Again", "slug": slug, "owner_email": owner}),
        )
        .await;
    assert_eq!(problem(taken, 409).await["code"], "slug_taken");
}

#[tokio::test]
async fn the_auth_service_enforces_the_plans_staff_quota() {
    let platform = spawn_platform().await;
    // The free plan allows 2 staff accounts: the owner and one more.
    let slug = unique("quota");
    let owner = unique_email("owner");
    let shop: Value = platform
        .post_with(
            Some(&platform.operator),
            "/v1/tenants",
            &json!({"name": "Quota Co-op", "slug": slug, "owner_email": owner, "plan": "free"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let invitation = caravan_shared::testing::wait_for_mail(&owner, 1)
        .await
        .unwrap();
    let accepted: Value = platform
        .auth
        .client
        .post(platform.auth.url("/v1/auth/invitations/accept"))
        .json(&json!({"token": invitation[0].token().unwrap(), "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = accepted["access_token"].as_str().unwrap();
    let invite = |email: String| {
        let client = platform.auth.client.clone();
        let url = platform.auth.url("/v1/auth/invitations");
        let token = token.to_owned();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"email": email}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(invite(unique_email("first")).await.status(), 201);
    let over = invite(unique_email("second")).await;
    let body = problem(over, 403).await;
    assert_eq!(body["code"], "quota_exceeded");
    assert!(body["detail"].as_str().unwrap().contains("max_staff"));

    // On a bigger plan, more staff may be invited.
    let id = shop["id"].as_str().unwrap();
    platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/plan"),
            &json!({"plan": "standard"}),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while invite(unique_email("third")).await.status() != 201 {
        assert!(
            Instant::now() < deadline,
            "the plan change never reached auth"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn operators_list_shops_by_plan_status_and_text_together() {
    let platform = spawn_platform().await;
    let tag = unique("plans");
    let mut ids = std::collections::HashMap::new();
    for (name, plan) in [
        ("a", "free"),
        ("b", "standard"),
        ("c", "pro"),
        ("d", "standard"),
    ] {
        let created: Value = platform
            .post_with(
                Some(&platform.operator),
                "/v1/tenants",
                &json!({"name": "Plan Co-op", "slug": format!("{tag}-{name}"), "owner_email": unique_email(name), "plan": plan}),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.insert(name, created["id"].as_str().unwrap().to_owned());
    }
    let d = &ids["d"];
    platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{d}/suspend"),
            &json!({"reason": "unpaid invoice"}),
        )
        .await;
    let slugs = |query: String| {
        let platform = &platform;
        async move {
            let page: Value = platform
                .get_with(Some(&platform.operator), &format!("/v1/tenants?{query}"))
                .await
                .json()
                .await
                .unwrap();
            let mut slugs: Vec<String> = page["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{page}"))
                .iter()
                .map(|shop| shop["slug"].as_str().unwrap().to_owned())
                .collect();
            slugs.sort();
            slugs
        }
    };
    assert_eq!(
        slugs(format!("plan=standard&q={tag}")).await,
        [format!("{tag}-b"), format!("{tag}-d")]
    );
    assert_eq!(
        slugs(format!("plan=standard&status=active&q={tag}")).await,
        [format!("{tag}-b")]
    );
    assert_eq!(
        slugs(format!("plan=pro&q={tag}")).await,
        [format!("{tag}-c")]
    );
    assert_eq!(
        slugs(format!("plan=free&status=suspended&q={tag}")).await,
        Vec::<String>::new()
    );

    let refused = platform
        .get_with(
            Some(&platform.operator),
            "/v1/tenants?plan=platinum&status=gone",
        )
        .await;
    let refused = problem(refused, 422).await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "plan"], "{refused}");

    // Documented as the status filter is: the plans to choose from.
    let document: Value = platform.get("/openapi.json").await.json().await.unwrap();
    let parameters = document["paths"]["/v1/tenants"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let plan = parameters.iter().find(|p| p["name"] == "plan").unwrap();
    assert_eq!(plan["schema"]["enum"], json!(["free", "standard", "pro"]));
}

#[tokio::test]
async fn staff_name_their_shop_in_other_languages_and_buyers_see_it() {
    let platform = spawn_platform().await;
    let (id, slug, _owner, token) = platform.live_shop("names").await;
    let names = json!({"ug": "جۇڭنىڭ لەڭزە", "ru": "Годжи Чжуннин", "zh-cn": "中宁枸杞"});
    let changed = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"names": names}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    let expected = json!({"ru": "Годжи Чжуннин", "ug": "جۇڭنىڭ لەڭزە", "zh-CN": "中宁枸杞"});
    assert_eq!(changed["names"], expected);
    assert_eq!(
        changed["name"], "Zhongning Goji Cooperative",
        "the default stays"
    );

    let profile: Value = platform
        .get(&format!("/v1/shops/{slug}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["names"], expected);
    let directory: Value = platform
        .get("/v1/shops?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let listed = directory["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|shop| shop["slug"] == slug.as_str())
        .unwrap();
    assert_eq!(listed["names"], expected);

    // A bad name is refused with the other bad fields, and nothing changes.
    let refused = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"names": {"en": "x".repeat(101), "ug": "ok"}, "timezone": "Mars"}),
        )
        .await;
    let refused = problem(refused, 422).await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["names.en", "timezone"], "{refused}");
    let unchanged: Value = platform
        .get_with(Some(&token), &format!("/v1/tenants/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["names"], expected);

    // The map is replaced whole; `{}` clears it.
    let replaced: Value = platform
        .patch_with(
            &token,
            &format!("/v1/tenants/{id}"),
            &json!({"names": {"en": "Zhongning Goji"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["names"], json!({"en": "Zhongning Goji"}));
    let cleared: Value = platform
        .patch_with(&token, &format!("/v1/tenants/{id}"), &json!({"names": {}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["names"], json!({}));
    let profile: Value = platform
        .get(&format!("/v1/shops/{slug}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["names"], json!({}));
}

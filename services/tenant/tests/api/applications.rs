use crate::helpers::{
    PASSWORD, application, invitation_token, problem, spawn_platform, unique, unique_email,
};
use base64::Engine;
use caravan_shared::testing::wait_for_mail;
use serde_json::{Value, json};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn an_approved_application_becomes_a_shop_whose_owner_logs_in() {
    let platform = spawn_platform().await;
    let slug = unique("zhongning");
    let owner = unique_email("majun");
    let applied = platform
        .post("/v1/tenants/applications", &application(&slug, &owner))
        .await;
    assert_eq!(applied.status(), 201);
    let applied: Value = applied.json().await.unwrap();
    assert_eq!(applied["status"], "pending");

    let pending: Value = platform
        .get_with(
            Some(&platform.operator),
            "/v1/tenants/applications?status=pending",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == applied["id"])
    );

    let id = applied["id"].as_str().unwrap();
    let approved = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status(), 201);
    let shop: Value = approved.json().await.unwrap();
    assert_eq!(shop["status"], "active");
    assert_eq!(shop["slug"], slug);
    assert_eq!(shop["plan"], "free");

    // The auth service heard of the shop, made the owner's account and invited them.
    let token = invitation_token(&owner).await;
    let accepted = platform
        .auth
        .client
        .post(platform.auth.url("/v1/auth/invitations/accept"))
        .json(&json!({"token": token, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let login: Value = platform
        .auth
        .client
        .post(platform.auth.url("/v1/auth/login"))
        .json(&json!({"email": owner, "password": PASSWORD, "tenant": slug}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["tid"], shop["id"]);
    assert_eq!(claims(access)["role"], "owner");

    // The owner reads their shop with that token; the public profile is live.
    let own = platform
        .get_with(
            Some(access),
            &format!("/v1/tenants/{}", shop["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(own.status(), 200);
    let profile = platform.get(&format!("/v1/shops/{slug}")).await;
    assert_eq!(profile.status(), 200);

    // Deciding twice is an illegal move.
    let again = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(problem(again, 409).await["code"], "invalid_status_change");
    let audit: Value = platform
        .get_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{}/audit", shop["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["action"], "approve");
    assert!(
        audit["items"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("operator:")
    );
}

#[tokio::test]
async fn a_rejection_is_emailed_with_its_reason() {
    let platform = spawn_platform().await;
    let email = unique_email("applicant");
    let applied: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("gansu"), &email),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = applied["id"].as_str().unwrap();
    let no_reason = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/reject"),
            &json!({"reason": " "}),
        )
        .await;
    assert_eq!(
        problem(no_reason, 422).await["errors"][0]["field"],
        "reason"
    );
    let rejected = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/reject"),
            &json!({"reason": "Please add the cooperative's registration number."}),
        )
        .await;
    assert_eq!(rejected.status(), 200);
    assert_eq!(
        rejected.json::<Value>().await.unwrap()["status"],
        "rejected"
    );
    // The confirmation of the application, then the rejection with its reason.
    let mail = wait_for_mail(&email, 2).await.unwrap();
    assert!(mail[1].text.contains("registration number"));
    let approve = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approve.status(), 409);
}

#[tokio::test]
async fn a_broken_approval_body_is_refused_and_the_application_stays_pending() {
    let platform = spawn_platform().await;
    let slug = unique("hotan");
    let applied: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&slug, &unique_email("ayse")),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = applied["id"].as_str().unwrap();
    let path = format!("/v1/tenants/applications/{id}/approve");
    for (body, field) in [
        (json!({"plan": 5}), "plan"),
        (json!({"plan": "pro", "bogus": true}), "bogus"),
        (json!(["pro"]), "body"),
    ] {
        let refused = platform
            .post_with(Some(&platform.operator), &path, &body)
            .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    let shown: Value = platform
        .get_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "pending");
}

#[tokio::test]
async fn slugs_are_checked_and_a_taken_one_comes_with_suggestions() {
    let platform = spawn_platform().await;
    let slug = unique("hami");
    let first = platform
        .post(
            "/v1/tenants/applications",
            &application(&slug, &unique_email("a")),
        )
        .await;
    assert_eq!(first.status(), 201);
    let taken = platform
        .post(
            "/v1/tenants/applications",
            &application(&slug, &unique_email("b")),
        )
        .await;
    let body = problem(taken, 409).await;
    assert_eq!(body["errors"][0]["field"], "slug");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{slug}-coop")),
        "{body}"
    );
    // The free ones also come as a list, to offer without reading the sentence.
    assert_eq!(body["choices"][0], format!("{slug}-coop"), "{body}");
    assert_eq!(body["choices"].as_array().unwrap().len(), 3);

    // Asked as it is typed: taken with the same free ones, or free.
    let check = |slug: String| {
        let platform = &platform;
        async move {
            platform
                .get(&format!("/v1/tenants/slug-availability?slug={slug}"))
                .await
        }
    };
    let answer: serde_json::Value = check(slug.clone()).await.json().await.unwrap();
    assert_eq!(answer["available"], false);
    assert_eq!(answer["choices"], body["choices"]);
    let free: serde_json::Value = check(unique("turfan")).await.json().await.unwrap();
    assert_eq!(free["available"], true);
    assert_eq!(free["choices"], json!([]));
    let not_a_slug = check("Admin".to_owned()).await;
    assert_eq!(problem(not_a_slug, 422).await["errors"][0]["field"], "slug");

    for bad in ["ab", "Admin", "admin", "has space", "-dash"] {
        let refused = platform
            .post(
                "/v1/tenants/applications",
                &application(bad, &unique_email("c")),
            )
            .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "slug",
            "{bad}"
        );
    }
    let mut body = application(&unique("kashgar"), "not-an-email");
    body["phone"] = json!("call me");
    let invalid = platform.post("/v1/tenants/applications", &body).await;
    let invalid = problem(invalid, 422).await;
    let fields: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"phone"),
        "{invalid}"
    );
}

#[tokio::test]
async fn applications_are_rate_limited_per_address() {
    let platform = spawn_platform().await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = platform
            .post(
                "/v1/tenants/applications",
                &application(&unique("spam"), &unique_email("s")),
            )
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429));
}

#[tokio::test]
async fn refused_applications_do_not_use_up_the_hours_allowance() {
    let platform = spawn_platform().await;
    let taken = unique("taken");
    let first = platform
        .post(
            "/v1/tenants/applications",
            &application(&taken, &unique_email("t")),
        )
        .await;
    assert_eq!(first.status(), 201);
    // A cooperative tries taken names a dozen times: each is refused for the name,
    // never for the throttle.
    for _ in 0..12 {
        let again = platform
            .post(
                "/v1/tenants/applications",
                &application(&taken, &unique_email("t")),
            )
            .await;
        assert_eq!(again.status(), 409);
    }
    // Nine more applications made fill the hour's ten; the eleventh is throttled.
    for _ in 0..9 {
        let made = platform
            .post(
                "/v1/tenants/applications",
                &application(&unique("ok"), &unique_email("o")),
            )
            .await;
        assert_eq!(made.status(), 201);
    }
    let over = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("over"), &unique_email("o")),
        )
        .await;
    assert_eq!(over.status(), 429);
}

#[tokio::test]
async fn an_application_keeps_its_names_plan_and_language_and_is_confirmed_in_that_language() {
    let platform = spawn_platform().await;
    let slug = unique("uyghur");
    let email = unique_email("aysha");
    let mut body = application(&slug, &email);
    body["names"] = json!({"ug": "جۇڭنىڭ لەڭزە كوپىراتىپى", "EN": " Zhongning Goji "});
    body["plan"] = json!("standard");
    body["locale"] = json!("ug");
    let applied = platform.post("/v1/tenants/applications", &body).await;
    assert_eq!(applied.status(), 201);
    let applied: Value = applied.json().await.unwrap();
    // Tags come back as the platform spells them, names trimmed.
    assert_eq!(
        applied["names"],
        json!({"en": "Zhongning Goji", "ug": "جۇڭنىڭ لەڭزە كوپىراتىپى"})
    );
    assert_eq!(applied["plan"], "standard");
    assert_eq!(applied["locale"], "ug");
    let shown: Value = platform
        .get_with(
            Some(&platform.operator),
            &format!(
                "/v1/tenants/applications/{}",
                applied["id"].as_str().unwrap()
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["names"], applied["names"]);
    assert_eq!(shown["plan"], "standard");
    assert_eq!(shown["locale"], "ug");

    // The applicant hears at once, in Uyghur, naming the shop and its address.
    let mail = wait_for_mail(&email, 1).await.unwrap();
    assert!(
        mail[0].subject.contains("جۇڭنىڭ لەڭزە كوپىراتىپى"),
        "{}",
        mail[0].subject
    );
    assert!(mail[0].text.contains("تاپشۇرۇۋالدۇق"), "{}", mail[0].text);
    assert!(mail[0].text.contains(&slug), "{}", mail[0].text);
    assert!(
        mail[0].text.contains("ئېلخەت"),
        "the decision comes by email"
    );

    // Without them: no names, no wish, and Chinese.
    let plain_email = unique_email("majun");
    let plain: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("plain"), &plain_email),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["names"], json!({}));
    assert_eq!(plain["plan"], Value::Null);
    assert_eq!(plain["locale"], "zh-CN");
    let mail = wait_for_mail(&plain_email, 1).await.unwrap();
    assert!(mail[0].subject.contains("已收到"), "{}", mail[0].subject);
    assert!(
        mail[0].text.contains("Zhongning Goji Cooperative"),
        "{}",
        mail[0].text
    );

    // Each language the form offers writes its own.
    for (locale, words) in [("en", "We received"), ("ru", "Мы получили")] {
        let email = unique_email(locale);
        let mut body = application(&unique(locale), &email);
        body["locale"] = json!(locale);
        let made = platform.post("/v1/tenants/applications", &body).await;
        assert_eq!(made.status(), 201);
        let mail = wait_for_mail(&email, 1).await.unwrap();
        assert!(mail[0].subject.starts_with(words), "{}", mail[0].subject);
    }
}

#[tokio::test]
async fn bad_names_plan_and_language_are_named_together_and_nothing_is_kept() {
    let platform = spawn_platform().await;
    let slug = unique("badform");
    let email = unique_email("bad");
    let mut body = application(&slug, &email);
    body["names"] = json!({"zh_CN": "枸杞", "en": "  ", "ru": "я".repeat(101)});
    body["plan"] = json!("platinum");
    body["locale"] = json!("fr");
    body["phone"] = json!("call me");
    let refused = platform.post("/v1/tenants/applications", &body).await;
    let refused = problem(refused, 422).await;
    let mut fields: Vec<(&str, &str)> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("locale", "must be zh-CN, ug, en or ru"),
            ("names.en", "is required"),
            ("names.ru", "must be at most 100 characters"),
            (
                "names.zh_CN",
                "is not a language tag such as zh-CN, ug, en or ru"
            ),
            (
                "phone",
                "must be a phone number of 5 to 20 digits, e.g. +86 951 555 0100"
            ),
            ("plan", "no such plan"),
        ],
        "{refused}"
    );

    // Names are an object of texts.
    let mut listed = application(&slug, &email);
    listed["names"] = json!(["Zhongning Goji"]);
    let refused = platform.post("/v1/tenants/applications", &listed).await;
    assert_eq!(problem(refused, 422).await["errors"][0]["field"], "names");

    // Nothing was kept: the address is free, no operator sees it, nobody was mailed.
    let free: Value = platform
        .get(&format!("/v1/tenants/slug-availability?slug={slug}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(free["available"], true);
    let pending: Value = platform
        .get_with(
            Some(&platform.operator),
            "/v1/tenants/applications?status=pending&limit=100",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(pending["items"].as_array().unwrap().is_empty(), "{pending}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(
        caravan_shared::testing::mail_to(&email)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_approval_without_a_plan_takes_the_wished_one_and_the_names() {
    let platform = spawn_platform().await;
    let slug = unique("wished");
    let mut body = application(&slug, &unique_email("owner"));
    body["names"] = json!({"ug": "جۇڭنىڭ لەڭزە", "en": "Zhongning Goji"});
    body["plan"] = json!("pro");
    let applied: Value = platform
        .post("/v1/tenants/applications", &body)
        .await
        .json()
        .await
        .unwrap();
    let approved = platform
        .post_with(
            Some(&platform.operator),
            &format!(
                "/v1/tenants/applications/{}/approve",
                applied["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status(), 201);
    let shop: Value = approved.json().await.unwrap();
    assert_eq!(shop["plan"], "pro");
    assert_eq!(
        shop["names"],
        json!({"en": "Zhongning Goji", "ug": "جۇڭنىڭ لەڭزە"})
    );
    assert_eq!(shop["name"], "Zhongning Goji Cooperative");
    // Buyers see the names too.
    let profile: Value = platform
        .get(&format!("/v1/shops/{slug}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["names"], shop["names"]);

    // The operator's choice wins over the wish.
    let mut body = application(&unique("overruled"), &unique_email("owner"));
    body["plan"] = json!("pro");
    let applied: Value = platform
        .post("/v1/tenants/applications", &body)
        .await
        .json()
        .await
        .unwrap();
    let shop: Value = platform
        .post_with(
            Some(&platform.operator),
            &format!(
                "/v1/tenants/applications/{}/approve",
                applied["id"].as_str().unwrap()
            ),
            &json!({"plan": "standard"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shop["plan"], "standard");
    assert_eq!(shop["names"], json!({}));
}

#[tokio::test]
async fn a_rejection_is_written_in_the_applicants_language() {
    let platform = spawn_platform().await;
    let email = unique_email("ivan");
    let mut body = application(&unique("almaty"), &email);
    body["locale"] = json!("ru");
    body["names"] = json!({"ru": "Кооператив годжи"});
    let applied: Value = platform
        .post("/v1/tenants/applications", &body)
        .await
        .json()
        .await
        .unwrap();
    let reason = "Укажите, пожалуйста, регистрационный номер кооператива.";
    let rejected = platform
        .post_with(
            Some(&platform.operator),
            &format!(
                "/v1/tenants/applications/{}/reject",
                applied["id"].as_str().unwrap()
            ),
            &json!({"reason": reason}),
        )
        .await;
    assert_eq!(rejected.status(), 200);
    let mail = wait_for_mail(&email, 2).await.unwrap();
    assert!(
        mail[1].subject.contains("Кооператив годжи"),
        "{}",
        mail[1].subject
    );
    assert!(mail[1].text.contains(reason), "{}", mail[1].text);
    assert!(mail[1].text.contains("не можем"), "{}", mail[1].text);
}

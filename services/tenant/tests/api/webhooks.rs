use crate::helpers::{problem, spawn_platform, spawn_platform_with};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aws_lc_rs::hmac;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answered: u16,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }
}

/// A webhook receiver on a local port that fails its first `failures` requests.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

fn start_receiver(failures: usize) -> Receiver {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = received.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new().route(
            "/hook",
            web::post().to(move |request: HttpRequest, body: web::Bytes| {
                let log = log.clone();
                async move {
                    let mut log = log.lock().unwrap();
                    let answered = if log.len() < failures { 500 } else { 200 };
                    log.push(Received {
                        headers: request
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (k.to_string(), v.to_str().unwrap_or_default().to_owned())
                            })
                            .collect(),
                        body: body.to_vec(),
                        answered,
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap())
                        .finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        received,
    }
}

fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut message = timestamp.as_bytes().to_vec();
    message.push(b'.');
    message.extend_from_slice(body);
    let tag = hmac::sign(&key, &message);
    format!(
        "v1={}",
        tag.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[tokio::test]
async fn a_signed_delivery_is_retried_until_it_succeeds_once() {
    let platform = spawn_platform_with(&[
        ("WEBHOOKS_ALLOW_INTERNAL", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await;
    let (id, slug, _owner, owner) = platform.live_shop("webhook").await;
    let receiver = start_receiver(2);

    let created = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": receiver.url, "events": ["tenant.updated"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let endpoint: Value = created.json().await.unwrap();
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();

    let changed = platform
        .patch_with(
            &owner,
            &format!("/v1/tenants/{id}"),
            &json!({"name": "Zhongning Goji Co-op"}),
        )
        .await;
    assert_eq!(changed.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.received.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the webhook never succeeded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 3, "two failures, one success, nothing more");
    assert_eq!(received.iter().filter(|r| r.answered == 200).count(), 1);
    let delivery_id = received[0].header("caravan-delivery-id");
    for request in &received {
        assert_eq!(request.header("caravan-delivery-id"), delivery_id);
        assert_eq!(request.header("caravan-event-type"), "tenant.updated");
        let timestamp = request.header("caravan-timestamp");
        assert_eq!(
            request.header("caravan-signature"),
            expected_signature(&secret, &timestamp, &request.body),
            "the signature verifies"
        );
        let event: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(event["type"], "tenant.updated");
        assert_eq!(event["tenant_id"], id);
        assert_eq!(event["data"]["slug"], slug);
    }

    let log: Value = platform
        .get_with(
            Some(&owner),
            &format!("/v1/webhooks/{endpoint_id}/deliveries"),
        )
        .await
        .json()
        .await
        .unwrap();
    let delivery = &log["items"][0];
    assert_eq!(delivery["status"], "delivered");
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);

    // A delivery can be sent again by hand.
    let retried = platform
        .post_with(
            Some(&owner),
            &format!("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(retried.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.received.lock().unwrap().len() < 4 {
        assert!(Instant::now() < deadline, "the manual retry was never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn internal_and_plain_http_urls_are_refused() {
    let platform = spawn_platform().await;
    let (_id, _slug, _owner, owner) = platform.live_shop("ssrf").await;
    for url in [
        "http://example.cn/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost:8443/hook",
        "not a url",
    ] {
        let refused = platform
            .post_with(
                Some(&owner),
                "/v1/webhooks",
                &json!({"url": url, "events": ["order.paid"]}),
            )
            .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "url",
            "{url}"
        );
    }
    let unknown_event = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": "https://8.8.8.8/hook", "events": ["order.teleported"]}),
        )
        .await;
    assert_eq!(
        problem(unknown_event, 422).await["errors"][0]["field"],
        "events[0]"
    );
}

#[tokio::test]
async fn every_spelling_of_an_internal_address_is_refused_at_registration() {
    let platform = spawn_platform().await;
    let (_id, _slug, _owner, owner) = platform.live_shop("ssrf-corpus").await;
    let corpus = [
        // Loopback, in every spelling an URL parser takes.
        "https://127.0.0.1/hook",
        "https://127.1/hook",
        "https://127.255.255.254/hook",
        "https://2130706433/hook",
        "https://0x7f.1/hook",
        "https://0x7f000001/hook",
        "https://017700000001/hook",
        "https://0177.0.0.1/hook",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "https://localhost/hook",
        "https://LOCALHOST:8443/hook",
        // Private, shared, link-local (cloud metadata), unspecified.
        "https://10.0.0.8/hook",
        "https://172.16.0.1/hook",
        "https://172.31.255.255/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/hook",
        "https://0/hook",
        // Multicast, reserved, broadcast, benchmarking, protocol assignments.
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
        "https://255.255.255.255/hook",
        "https://198.18.0.1/hook",
        "https://192.0.0.170/hook",
        // IPv6: loopback, unspecified, unique-local, link-local, site-local, multicast.
        "https://[::1]/hook",
        "https://[::]/hook",
        "https://[fc00::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fec0::1]/hook",
        "https://[ff02::1]/hook",
        // IPv4 inside IPv6: mapped, compatible, translated, NAT64 (well-known and
        // local-use), 6to4, Teredo.
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a9fe:a9fe]/hook",
        "https://[::127.0.0.1]/hook",
        "https://[::ffff:0:127.0.0.1]/hook",
        "https://[64:ff9b::127.0.0.1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[2002:7f00:1::1]/hook",
        "https://[2001:0:7f00:1::1]/hook",
    ];
    for url in corpus {
        let refused = platform
            .post_with(
                Some(&owner),
                "/v1/webhooks",
                &json!({"url": url, "events": ["order.paid"]}),
            )
            .await;
        let body = problem(refused, 422).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
    }
    // A change of URL is checked the same way, and changes nothing.
    let endpoint: Value = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": "https://8.8.8.8/hook", "events": ["order.paid"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = endpoint["id"].as_str().unwrap();
    for url in corpus {
        let refused = platform
            .patch_with(&owner, &format!("/v1/webhooks/{id}"), &json!({"url": url}))
            .await;
        assert_eq!(
            problem(refused, 422).await["errors"][0]["field"],
            "url",
            "{url}"
        );
    }
    let listed: Value = platform
        .get_with(Some(&owner), "/v1/webhooks")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "nothing else registered"
    );
    assert_eq!(listed[0]["url"], "https://8.8.8.8/hook");
}

#[tokio::test]
async fn a_delivery_to_a_name_resolving_to_loopback_is_not_made_and_fails() {
    // Internal addresses are not allowed (production), and retries are the default
    // thirty seconds apart: a refusal that were retried would stay pending here.
    let platform = spawn_platform().await;
    let (id, _slug, _owner, owner) = platform.live_shop("rebind").await;
    // What an attacker's receiver would be: a local port counting connections.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    // The endpoint was registered while its name resolved to a public address; now
    // the name resolves to 127.0.0.1 (DNS rebinding, played here by `localhost`).
    let endpoint: Value = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": "https://8.8.8.8/hook", "events": ["tenant.updated"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let owner_db = caravan_shared::db::connect(&platform.tenant.database.owner_url, 1)
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &owner_db,
        &format!(
            "UPDATE webhook_endpoints SET url = 'https://localhost:{port}/hook' WHERE id = '{endpoint_id}'"
        ),
    )
    .await
    .unwrap();

    let changed = platform
        .patch_with(
            &owner,
            &format!("/v1/tenants/{id}"),
            &json!({"name": "Hotan Walnut Co-op"}),
        )
        .await;
    assert_eq!(changed.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let log: Value = platform
            .get_with(
                Some(&owner),
                &format!("/v1/webhooks/{endpoint_id}/deliveries"),
            )
            .await
            .json()
            .await
            .unwrap();
        let delivery = log["items"][0].clone();
        if delivery["status"] == "failed" {
            break delivery;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery never failed: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "not retried: {delivery}");
    assert_eq!(attempts[0]["status_code"], Value::Null);
    let reason = attempts[0]["error"].as_str().unwrap();
    assert!(
        reason.contains("localhost") && reason.contains("127.0.0.1") && reason.contains("internal"),
        "{reason}"
    );
    assert!(
        matches!(listener.accept(), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "no connection was made"
    );
}

#[tokio::test]
async fn another_shop_cannot_see_or_change_a_shops_webhooks() {
    let platform = spawn_platform_with(&[("WEBHOOKS_ALLOW_INTERNAL", "true")]).await;
    let (_a, _slug_a, _owner_a, owner_a) = platform.live_shop("hooks-a").await;
    let (_b, _slug_b, _owner_b, owner_b) = platform.live_shop("hooks-b").await;
    let endpoint: Value = platform
        .post_with(
            Some(&owner_a),
            "/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = endpoint["id"].as_str().unwrap();

    let listed: Value = platform
        .get_with(Some(&owner_b), "/v1/webhooks")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(listed, json!([]));
    assert_eq!(
        platform
            .get_with(Some(&owner_b), &format!("/v1/webhooks/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        platform
            .patch_with(
                &owner_b,
                &format!("/v1/webhooks/{id}"),
                &json!({"enabled": false})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        platform
            .get_with(Some(&owner_b), &format!("/v1/webhooks/{id}/deliveries"))
            .await
            .status(),
        404
    );
    assert_eq!(
        platform
            .post_with(
                Some(&owner_b),
                &format!("/v1/webhooks/{id}/rotate-secret"),
                &json!({})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        platform
            .delete_with(&owner_b, &format!("/v1/webhooks/{id}"))
            .await
            .status(),
        404
    );
    let still: Value = platform
        .get_with(Some(&owner_a), &format!("/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["enabled"], true);

    let rotated: Value = platform
        .post_with(
            Some(&owner_a),
            &format!("/v1/webhooks/{id}/rotate-secret"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["secret"], endpoint["secret"]);
    assert_eq!(
        platform
            .delete_with(&owner_a, &format!("/v1/webhooks/{id}"))
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_the_owner_told() {
    let platform = spawn_platform_with(&[
        ("WEBHOOKS_ALLOW_INTERNAL", "true"),
        ("WEBHOOK_RETRY_BASE_MS", "100"),
    ])
    .await;
    let (id, _slug, owner_email, owner) = platform.live_shop("failing").await;
    let receiver = start_receiver(usize::MAX);
    let endpoint: Value = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": receiver.url, "events": ["tenant.updated"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let endpoint_id = endpoint["id"].as_str().unwrap();
    // It has been failing since yesterday.
    let owner_db = caravan_shared::db::connect(&platform.tenant.database.owner_url, 1)
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &owner_db,
        &format!("UPDATE webhook_endpoints SET failing_since = now() - interval '25 hours' WHERE id = '{endpoint_id}'"),
    )
    .await
    .unwrap();

    platform
        .patch_with(
            &owner,
            &format!("/v1/tenants/{id}"),
            &json!({"timezone": "Asia/Urumqi"}),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state: Value = platform
            .get_with(Some(&owner), &format!("/v1/webhooks/{endpoint_id}"))
            .await
            .json()
            .await
            .unwrap();
        if state["enabled"] == false {
            assert_eq!(state["disabled_reason"], "every delivery failed for a day");
            break;
        }
        assert!(Instant::now() < deadline, "the endpoint was never disabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The application's confirmation, the invitation, then the notice.
    let mail = caravan_shared::testing::wait_for_mail(&owner_email, 3)
        .await
        .unwrap();
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("webhook") && m.text.contains(&receiver.url))
    );
}

/// A delivery whose stored status this version does not know (a newer version's, or
/// damage), written as the database's owner past the column's check: the delivery
/// log and a retry answer 500 problem+json without the value, never reading it as
/// some status, and nothing changes.
#[tokio::test]
async fn a_delivery_with_an_unknown_stored_status_answers_500() {
    // Nothing listens on the discard port, so the first try fails; retries are the
    // default thirty seconds apart, so the delivery then waits, pending.
    let platform = spawn_platform_with(&[("WEBHOOKS_ALLOW_INTERNAL", "true")]).await;
    let (id, _slug, _owner, owner) = platform.live_shop("corrupt").await;
    let endpoint: Value = platform
        .post_with(
            Some(&owner),
            "/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["tenant.updated"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let changed = platform
        .patch_with(
            &owner,
            &format!("/v1/tenants/{id}"),
            &json!({"name": "Turpan Raisin Co-op"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let log_path = format!("/v1/webhooks/{endpoint_id}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let log: Value = platform
            .get_with(Some(&owner), &log_path)
            .await
            .json()
            .await
            .unwrap();
        let delivery = log["items"][0].clone();
        if delivery["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break delivery;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery was never tried: {log}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivery["status"], "pending", "{delivery}");
    let delivery_id = delivery["id"].as_str().unwrap();

    let owner_db = caravan_shared::db::connect(&platform.tenant.database.owner_url, 1)
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &owner_db,
        &format!(
            "ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check; \
             UPDATE webhook_deliveries SET status = 'bounced' WHERE id = '{delivery_id}'"
        ),
    )
    .await
    .unwrap();

    let answers = [
        platform.get_with(Some(&owner), &log_path).await,
        platform
            .post_with(
                Some(&owner),
                &format!("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry"),
                &json!({}),
            )
            .await,
    ];
    for answer in answers {
        let url = answer.url().path().to_owned();
        let body = problem(answer, 500).await;
        assert_eq!(body["code"], "internal_error", "{url}: {body}");
        assert!(!body.to_string().contains("bounced"), "{url}: {body}");
    }
    // The endpoint itself still reads; the delivery is as it was left, and the
    // refused retry queued nothing for now.
    let shown = platform
        .get_with(Some(&owner), &format!("/v1/webhooks/{endpoint_id}"))
        .await;
    assert_eq!(shown.status(), 200);
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &owner_db,
        caravan_shared::db::statement(
            "SELECT d.status, d.attempts, \
             (SELECT count(*) FROM webhook_jobs j \
              WHERE j.delivery_id = d.id AND j.due_at <= now()) AS due \
             FROM webhook_deliveries d WHERE d.id = $1",
            vec![uuid::Uuid::parse_str(delivery_id).unwrap().into()],
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(row.try_get::<String>("", "status").unwrap(), "bounced");
    assert_eq!(row.try_get::<i32>("", "attempts").unwrap(), 1);
    assert_eq!(row.try_get::<i64>("", "due").unwrap(), 0);
}

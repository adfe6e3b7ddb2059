//! The two status machines as operators meet them: a refused move answers 409
//! `invalid_status_change` with a sentence that says what was refused, and a status
//! the service does not know is an internal error, never read as another.

use crate::helpers::{Platform, application, problem, spawn_platform, unique, unique_email};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// Posts to `path` as an operator, expects the refusal, and answers its `detail`.
async fn refused(platform: &Platform, path: &str, body: Value) -> String {
    let answer = platform
        .post_with(Some(&platform.operator), path, &body)
        .await;
    let problem = problem(answer, 409).await;
    assert_eq!(problem["code"], "invalid_status_change", "{problem}");
    problem["detail"].as_str().unwrap().to_owned()
}

async fn shop(platform: &Platform) -> String {
    let created = platform
        .post_with(
            Some(&platform.operator),
            "/v1/tenants",
            &json!({"name": "Hami Melons", "slug": unique("hami"), "owner_email": unique_email("hami")}),
        )
        .await;
    assert_eq!(created.status(), 201);
    created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_refused_shop_status_change_says_why_in_a_sentence() {
    let platform = spawn_platform().await;
    let id = shop(&platform).await;
    let reason = json!({"reason": "origin labels under review"});

    assert_eq!(
        refused(&platform, &format!("/v1/tenants/{id}/reinstate"), json!({})).await,
        "an active shop cannot be reinstated"
    );
    let suspended = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/suspend"),
            &reason,
        )
        .await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(
        refused(
            &platform,
            &format!("/v1/tenants/{id}/suspend"),
            reason.clone()
        )
        .await,
        "a suspended shop cannot be suspended again"
    );
    let closed = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/close"),
            &reason,
        )
        .await;
    assert_eq!(closed.status(), 200);
    assert_eq!(
        refused(
            &platform,
            &format!("/v1/tenants/{id}/suspend"),
            reason.clone()
        )
        .await,
        "a closed shop cannot be suspended"
    );
    assert_eq!(
        refused(&platform, &format!("/v1/tenants/{id}/reinstate"), json!({})).await,
        "a closed shop cannot be reinstated"
    );
    assert_eq!(
        refused(&platform, &format!("/v1/tenants/{id}/close"), reason).await,
        "a closed shop cannot be closed again"
    );
}

#[tokio::test]
async fn a_decided_application_refuses_another_decision_in_a_sentence() {
    let platform = spawn_platform().await;
    let applied: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("gansu"), &unique_email("gansu")),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = applied["id"].as_str().unwrap();
    let reason = json!({"reason": "Please add the cooperative's registration number."});
    let rejected = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}/reject"),
            &reason,
        )
        .await;
    assert_eq!(rejected.status(), 200);
    assert_eq!(
        refused(
            &platform,
            &format!("/v1/tenants/applications/{id}/approve"),
            json!({})
        )
        .await,
        "a rejected application cannot be approved"
    );
    assert_eq!(
        refused(
            &platform,
            &format!("/v1/tenants/applications/{id}/reject"),
            reason
        )
        .await,
        "a rejected application cannot be rejected again"
    );
    // Still rejected: a refused move changes nothing.
    let shown: Value = platform
        .get_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "rejected");
}

#[tokio::test]
async fn a_status_the_service_does_not_know_is_an_internal_error_not_a_default() {
    let platform = spawn_platform().await;
    let id = shop(&platform).await;
    let applied: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("korla"), &unique_email("korla")),
        )
        .await
        .json()
        .await
        .unwrap();
    let application_id = applied["id"].as_str().unwrap();
    // Statuses a newer version (or a hand) might write; the checks would refuse them,
    // so they go first.
    let owner = caravan_shared::db::connect(&platform.tenant.database.owner_url, 1)
        .await
        .unwrap();
    owner
        .execute_unprepared(&format!(
            "ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
             ALTER TABLE applications DROP CONSTRAINT applications_status_check;
             UPDATE tenants SET status = 'approved' WHERE id = '{id}';
             UPDATE applications SET status = 'withdrawn' WHERE id = '{application_id}';"
        ))
        .await
        .unwrap();

    // "approved" is an application's status: a shop holding it is not taken as active.
    let suspend = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{id}/suspend"),
            &json!({"reason": "fraud review"}),
        )
        .await;
    let body = problem(suspend, 500).await;
    assert_eq!(body["code"], "internal_error");
    assert!(
        !body.to_string().contains("approved"),
        "internals stay inside: {body}"
    );
    let approve = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/applications/{application_id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(problem(approve, 500).await["code"], "internal_error");
    // Nothing moved.
    let statuses = owner
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT (SELECT status FROM tenants WHERE id = '{id}') AS shop, \
                 (SELECT status FROM applications WHERE id = '{application_id}') AS application"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(statuses.try_get::<String>("", "shop").unwrap(), "approved");
    assert_eq!(
        statuses.try_get::<String>("", "application").unwrap(),
        "withdrawn"
    );
}

//! A shop's staff as its owner manages them, and what another shop's owner cannot see.

use crate::helpers::{
    AuthApp, PASSWORD, account_id, me_within_a_second, problem, spawn_app, unique_email,
    unique_slug,
};
use caravan_shared::TenantId;
use caravan_shared::tenancy::TenantTx;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

async fn staff_list(auth: &AuthApp, owner: &Value) -> Vec<Value> {
    let response = auth.get_with(access(owner), "/v1/auth/staff").await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn remove(auth: &AuthApp, owner: &Value, account: &str) -> reqwest::Response {
    auth.delete_with(access(owner), &format!("/v1/auth/staff/{account}"))
        .await
}

#[tokio::test]
async fn an_owner_lists_staff_and_removes_one_whose_sessions_in_the_shop_end() {
    let auth = spawn_app().await;
    let slug = unique_slug("hotan");
    let (_, owner_email, owner) = auth.shop_with_owner(&slug).await;
    let staff_email = unique_email("staff");
    let staff = auth.join(access(&owner), &staff_email, "staff").await;
    let staff_id = account_id(&staff);
    // The staff member also works in another shop: that session must go on.
    let (_, _, elsewhere_owner) = auth.shop_with_owner(&unique_slug("yarkand")).await;
    let elsewhere = auth
        .join(access(&elsewhere_owner), &staff_email, "staff")
        .await;
    // A second session of theirs in this shop, renewed once.
    let laptop = auth.tokens(&staff_email, PASSWORD, Some(&slug)).await;
    let laptop: Value = auth
        .refresh(&laptop["refresh_token"])
        .await
        .json()
        .await
        .unwrap();

    let items = staff_list(&auth, &owner).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["account_id"], account_id(&owner));
    assert_eq!(items[0]["email"], owner_email);
    assert_eq!(items[0]["role"], "owner");
    // The owner's account was made at activation, named after the email.
    let owner_name = owner_email.split('@').next().unwrap();
    assert_eq!(items[0]["display_name"], owner_name);
    assert_eq!(items[1]["account_id"], staff_id);
    assert_eq!(items[1]["email"], staff_email);
    assert_eq!(items[1]["role"], "staff");
    assert_eq!(items[1]["display_name"], "Aziz Rahman");
    assert!(items[1]["joined_at"].as_str().unwrap().ends_with('Z'));

    let removed = remove(&auth, &owner, &staff_id).await;
    assert_eq!(removed.status(), 204);
    // Every session of theirs in this shop ends, access and refresh...
    for session in [&staff, &laptop] {
        me_within_a_second(&auth, access(session), 401).await;
        assert_eq!(auth.refresh(&session["refresh_token"]).await.status(), 401);
    }
    let login = problem(auth.login(&staff_email, PASSWORD, Some(&slug)).await, 403).await;
    assert_eq!(login["code"], "not_a_member");
    // ...while their session in the other shop goes on.
    assert_eq!(
        auth.get_with(access(&elsewhere), "/v1/auth/me")
            .await
            .status(),
        200
    );
    assert_eq!(
        auth.refresh(&elsewhere["refresh_token"]).await.status(),
        200
    );

    let items = staff_list(&auth, &owner).await;
    assert_eq!(items.len(), 1);
    // Removed twice, or never there: the same 404.
    let again = problem(remove(&auth, &owner, &staff_id).await, 404).await;
    let unknown = problem(
        remove(&auth, &owner, &uuid::Uuid::now_v7().to_string()).await,
        404,
    )
    .await;
    let garbage = problem(remove(&auth, &owner, "not-an-id").await, 404).await;
    assert_eq!(again, unknown);
    assert_eq!(garbage, unknown);
}

#[tokio::test]
async fn an_owner_cannot_remove_themself_and_a_shop_keeps_its_last_owner() {
    let auth = spawn_app().await;
    let (tenant, _, owner) = auth.shop_with_owner(&unique_slug("turpan")).await;
    let owner_id = account_id(&owner);
    let itself = problem(remove(&auth, &owner, &owner_id).await, 409).await;
    assert_eq!(itself["code"], "cannot_remove_self");
    assert!(itself["detail"].as_str().unwrap().contains("yourself"));

    // A second owner can be removed by the first...
    let second = auth
        .join(access(&owner), &unique_email("co-owner"), "owner")
        .await;
    let second_id = account_id(&second);
    assert_eq!(remove(&auth, &owner, &second_id).await.status(), 204);

    // ...but never the last one. Here the first owner's token still says owner while
    // their membership was made staff meanwhile (as by a change racing the request):
    // the last owner stays, and a non-owner removes nobody.
    let third = auth
        .join(access(&owner), &unique_email("co-owner"), "owner")
        .await;
    let staff = auth
        .join(access(&owner), &unique_email("staff"), "staff")
        .await;
    let pool = caravan_shared::db::connect(&auth.app.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(tenant))
        .await
        .unwrap();
    tx.conn()
        .execute_unprepared(&format!(
            "UPDATE memberships SET role = 'staff' WHERE user_id = '{owner_id}'"
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let last = problem(remove(&auth, &owner, &account_id(&third)).await, 409).await;
    assert_eq!(last["code"], "last_owner");
    let demoted = problem(remove(&auth, &owner, &account_id(&staff)).await, 403).await;
    assert_eq!(demoted["code"], "forbidden");
    let items = staff_list(&auth, &third).await;
    assert_eq!(items.len(), 3, "nobody was removed: {items:?}");
}

#[tokio::test]
async fn two_owners_removing_each_other_at_once_leave_the_shop_one_owner() {
    let auth = spawn_app().await;
    let (_, _, mut keeper) = auth.shop_with_owner(&unique_slug("ghulja")).await;
    for round in 0..3 {
        let other = auth
            .join(access(&keeper), &unique_email("co-owner"), "owner")
            .await;
        let (keeper_id, other_id) = (account_id(&keeper), account_id(&other));
        let (by_keeper, by_other) = tokio::join!(
            remove(&auth, &keeper, &other_id),
            remove(&auth, &other, &keeper_id)
        );
        let outcomes = [by_keeper.status().as_u16(), by_other.status().as_u16()];
        // The loser is refused: its session ended (401) or it found the winner the
        // last owner (409).
        assert!(
            matches!(outcomes, [204, 401 | 409] | [401 | 409, 204]),
            "round {round}: {outcomes:?}"
        );
        if outcomes[1] == 204 {
            keeper = other;
        }
        let owners: Vec<Value> = staff_list(&auth, &keeper)
            .await
            .into_iter()
            .filter(|member| member["role"] == "owner")
            .collect();
        assert_eq!(owners.len(), 1, "round {round}: {owners:?}");
    }
}

#[tokio::test]
async fn staff_are_refused_every_owner_endpoint() {
    let auth = spawn_app().await;
    let (_, _, owner) = auth.shop_with_owner(&unique_slug("aral")).await;
    let staff = auth
        .join(access(&owner), &unique_email("staff"), "staff")
        .await;
    let (invitation, _) = auth
        .invite(access(&owner), &unique_email("invitee"), "staff")
        .await;
    let staff_access = access(&staff);
    for response in [
        auth.get_with(staff_access, "/v1/auth/staff").await,
        auth.delete_with(
            staff_access,
            &format!("/v1/auth/staff/{}", account_id(&owner)),
        )
        .await,
        auth.get_with(staff_access, "/v1/auth/invitations").await,
        auth.delete_with(staff_access, &format!("/v1/auth/invitations/{invitation}"))
            .await,
    ] {
        assert_eq!(problem(response, 403).await["code"], "forbidden");
    }
    // Nothing changed.
    assert_eq!(staff_list(&auth, &owner).await.len(), 2);
    let pending: Value = auth
        .get_with(access(&owner), "/v1/auth/invitations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"][0]["id"], invitation);
    // Without a token at all: 401.
    let anonymous = auth
        .app
        .client
        .get(auth.app.url("/v1/auth/staff"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn another_shops_owner_cannot_list_remove_or_detect_staff_or_invitations() {
    let auth = spawn_app().await;
    let (_, _, a_owner) = auth.shop_with_owner(&unique_slug("aksu")).await;
    let a_staff = auth
        .join(access(&a_owner), &unique_email("a-staff"), "staff")
        .await;
    let invitee = unique_email("a-invitee");
    let (a_invitation, _) = auth.invite(access(&a_owner), &invitee, "staff").await;
    let (_, _, b_owner) = auth.shop_with_owner(&unique_slug("korla")).await;

    // B's lists hold B's people only.
    let b_staff = staff_list(&auth, &b_owner).await;
    assert_eq!(b_staff.len(), 1);
    assert_eq!(b_staff[0]["account_id"], account_id(&b_owner));
    let b_pending: Value = auth
        .get_with(access(&b_owner), "/v1/auth/invitations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b_pending["items"], json!([]), "{b_pending}");

    // A's staff, A's owner, A's invitation: the very answer an unknown id gets.
    let unknown_member = problem(
        remove(&auth, &b_owner, &uuid::Uuid::now_v7().to_string()).await,
        404,
    )
    .await;
    for a_member in [account_id(&a_staff), account_id(&a_owner)] {
        let answer = problem(remove(&auth, &b_owner, &a_member).await, 404).await;
        assert_eq!(answer, unknown_member);
    }
    let unknown_invitation = problem(
        auth.delete_with(
            access(&b_owner),
            &format!("/v1/auth/invitations/{}", uuid::Uuid::now_v7()),
        )
        .await,
        404,
    )
    .await;
    let a_invitation_from_b = problem(
        auth.delete_with(
            access(&b_owner),
            &format!("/v1/auth/invitations/{a_invitation}"),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(a_invitation_from_b, unknown_invitation);

    // And A is untouched.
    assert_eq!(staff_list(&auth, &a_owner).await.len(), 2);
    assert_eq!(
        auth.get_with(access(&a_staff), "/v1/auth/me")
            .await
            .status(),
        200
    );
    assert_eq!(auth.refresh(&a_staff["refresh_token"]).await.status(), 200);
    let a_pending: Value = auth
        .get_with(access(&a_owner), "/v1/auth/invitations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a_pending["items"][0]["id"], a_invitation);
    assert_eq!(a_pending["items"][0]["email"], invitee);
}

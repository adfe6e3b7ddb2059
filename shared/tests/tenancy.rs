#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Row-level security: inside tenant A's transaction, a query that forgets its
//! `tenant_id` filter still cannot see, change or delete tenant B's rows.

mod common;

use caravan_shared::TenantId;
use caravan_shared::db;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::testing::TestDatabase;
use common::NotesMigrations;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

async fn runtime_pool() -> (TestDatabase, DatabaseConnection) {
    let database = TestDatabase::create::<NotesMigrations>("shared")
        .await
        .unwrap();
    let pool = db::connect(&database.runtime_url, 4).await.unwrap();
    db::check_runtime_role(&pool).await.unwrap();
    (database, pool)
}

async fn add_note(pool: &DatabaseConnection, tenant: TenantId, body: &str) {
    let tx = TenantTx::begin(pool, tenant).await.unwrap();
    tx.conn()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO notes (id, tenant_id, body) VALUES ($1, $2, $3)",
            [
                uuid::Uuid::now_v7().into(),
                tenant.into_uuid().into(),
                body.into(),
            ],
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn count(conn: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn a_tenant_transaction_sees_and_changes_only_its_own_rows() {
    let (_database, pool) = runtime_pool().await;
    let a = TenantId::from(uuid::Uuid::now_v7());
    let b = TenantId::from(uuid::Uuid::now_v7());
    add_note(&pool, a, "Ningxia goji, 2 kg").await;
    add_note(&pool, a, "Ningxia goji, 5 kg").await;
    add_note(&pool, b, "Hotan jujubes").await;

    let tx = TenantTx::begin(&pool, a).await.unwrap();
    // No tenant filter anywhere below.
    assert_eq!(count(tx.conn(), "SELECT count(*) AS n FROM notes").await, 2);
    let updated = tx
        .conn()
        .execute_unprepared("UPDATE notes SET body = 'overwritten'")
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 2);
    let deleted = tx
        .conn()
        .execute_unprepared("DELETE FROM notes")
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 2);
    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    let smuggled = tx
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO notes (id, tenant_id, body) VALUES ($1, $2, 'planted')",
            [uuid::Uuid::now_v7().into(), b.into_uuid().into()],
        ))
        .await;
    assert!(smuggled.is_err());
    tx.rollback().await.unwrap();

    // B's row is untouched, and A's rolled-back changes are gone.
    let tx = TenantTx::begin(&pool, b).await.unwrap();
    assert_eq!(
        count(
            tx.conn(),
            "SELECT count(*) AS n FROM notes WHERE body = 'Hotan jujubes'"
        )
        .await,
        1
    );
    tx.commit().await.unwrap();
    let tx = TenantTx::begin(&pool, a).await.unwrap();
    assert_eq!(
        count(
            tx.conn(),
            "SELECT count(*) AS n FROM notes WHERE body LIKE 'Ningxia%'"
        )
        .await,
        2
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn outside_a_tenant_transaction_nothing_is_visible() {
    let (_database, pool) = runtime_pool().await;
    add_note(
        &pool,
        TenantId::from(uuid::Uuid::now_v7()),
        "Turpan raisins",
    )
    .await;
    // The same pooled connections, after tenant transactions ended.
    for _ in 0..4 {
        assert_eq!(count(&pool, "SELECT count(*) AS n FROM notes").await, 0);
    }
}

#[tokio::test]
async fn the_table_owner_is_bound_too() {
    // FORCE ROW LEVEL SECURITY: even the owning role sees nothing without a tenant,
    // unless it is a superuser (which the runtime role never is).
    let (database, _pool) = runtime_pool().await;
    let owner = db::connect(&database.owner_url, 1).await.unwrap();
    let forced: bool = owner
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT relforcerowsecurity AS forced FROM pg_class WHERE relname = 'notes'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "forced")
        .unwrap();
    assert!(forced);
}

#[tokio::test]
async fn a_superuser_runtime_connection_is_refused() {
    let (database, _pool) = runtime_pool().await;
    let owner = db::connect(&database.owner_url, 1).await.unwrap();
    let error = db::check_runtime_role(&owner).await.unwrap_err();
    assert!(error.to_string().contains("row-level security"), "{error}");
}

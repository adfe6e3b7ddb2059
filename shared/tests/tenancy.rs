#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Row-level security: inside tenant A's transaction, a query that forgets its
//! `tenant_id` filter still cannot see, change or delete tenant B's rows.

mod common;

use caravan_shared::TenantId;
use caravan_shared::db;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::testing::{TestDatabase, count};
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

async fn count_in(conn: &impl ConnectionTrait, table: &str) -> i64 {
    count(conn, &format!("SELECT count(*) AS n FROM {table}")).await
}

#[tokio::test]
async fn every_shared_table_with_a_tenant_id_forces_row_level_security() {
    let (database, _pool) = runtime_pool().await;
    let tables = caravan_shared::testing::assert_every_tenant_table_forces_rls(&database).await;
    for table in ["notes", "outbox", "tenant_status"] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    let producer = TestDatabase::create::<caravan_shared::testing::ProducerMigrations>("producer")
        .await
        .unwrap();
    let tables = caravan_shared::testing::assert_every_tenant_table_forces_rls(&producer).await;
    assert_eq!(tables, ["outbox", "tenant_status"]);
}

#[tokio::test]
async fn a_table_without_forced_rls_is_named() {
    let (database, _pool) = runtime_pool().await;
    let owner = db::connect(&database.owner_url, 1).await.unwrap();
    owner
        .execute_unprepared(
            "CREATE TABLE leaky (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
             CREATE TABLE half (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
             ALTER TABLE half ENABLE ROW LEVEL SECURITY;",
        )
        .await
        .unwrap();
    let check = tokio::spawn(async move {
        caravan_shared::testing::assert_every_tenant_table_forces_rls(&database).await
    });
    let message = match check.await {
        Ok(tables) => panic!("passed with unprotected tables: {tables:?}"),
        Err(error) => {
            let panic = error.into_panic();
            panic.downcast_ref::<String>().cloned().unwrap_or_default()
        }
    };
    assert!(message.contains("leaky (enabled: false"), "{message}");
    assert!(
        message.contains("half (enabled: true, forced: false"),
        "{message}"
    );
    assert!(!message.contains("notes"), "{message}");
}

#[tokio::test]
async fn platform_scope_reaches_every_shop_of_the_shared_tables_and_a_tenant_scope_ends_it() {
    use caravan_shared::events::outbox;
    use caravan_shared::tenancy::{PlatformScope, PlatformTx, TenantScope};
    use caravan_shared::tenant_status;
    let (_database, pool) = runtime_pool().await;
    let a = TenantId::from(uuid::Uuid::now_v7());
    let b = TenantId::from(uuid::Uuid::now_v7());
    for (tenant, slug) in [(a, "aksu-apples"), (b, "korla-pears")] {
        let tx = TenantTx::begin(&pool, tenant).await.unwrap();
        outbox::append(
            tx.conn(),
            "shop.noted",
            Some(tenant),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        tenant_status::record(tx.conn(), tenant.into_uuid(), slug, None, None, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    add_note(&pool, a, "Aksu apples, 10 kg").await;
    // An event of no shop, from a transaction that is not a shop's.
    let unscoped = sea_orm::TransactionTrait::begin(&pool).await.unwrap();
    outbox::append(&unscoped, "user.registered", None, &serde_json::json!({}))
        .await
        .unwrap();
    unscoped.commit().await.unwrap();

    // A shop's transaction: its own rows only, and it cannot write another's.
    let tx = TenantTx::begin(&pool, a).await.unwrap();
    assert_eq!(count_in(tx.conn(), "outbox").await, 1);
    assert_eq!(count_in(tx.conn(), "tenant_status").await, 1);
    assert!(
        outbox::append(tx.conn(), "shop.noted", Some(b), &serde_json::json!({}))
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
    let tx = TenantTx::begin(&pool, a).await.unwrap();
    assert!(
        outbox::append(tx.conn(), "user.registered", None, &serde_json::json!({}))
            .await
            .is_err(),
        "a shop's transaction writes no event of no shop"
    );
    tx.rollback().await.unwrap();

    // Outside any scope: nothing.
    assert_eq!(count_in(&pool, "outbox").await, 0);
    assert_eq!(count_in(&pool, "tenant_status").await, 0);

    // Platform scope: every shop's rows and the platform's, but not the tables only a
    // shop's own transaction may see.
    let platform = PlatformTx::begin(&pool, "a test reads every shop")
        .await
        .unwrap();
    assert_eq!(count_in(platform.conn(), "outbox").await, 3);
    assert_eq!(count_in(platform.conn(), "tenant_status").await, 2);
    assert_eq!(count_in(platform.conn(), "notes").await, 0);
    // Entering a shop ends platform scope ...
    TenantScope::enter(platform.conn(), b).await.unwrap();
    assert_eq!(count_in(platform.conn(), "outbox").await, 1);
    assert_eq!(count_in(platform.conn(), "notes").await, 0);
    // ... and entering platform scope ends the shop's.
    PlatformScope::enter(platform.conn(), "a test reads every shop again")
        .await
        .unwrap();
    assert_eq!(count_in(platform.conn(), "tenant_status").await, 2);
    platform.commit().await.unwrap();

    // The shop's own transaction, after platform work on the same pooled connections.
    for _ in 0..4 {
        let tx = TenantTx::begin(&pool, a).await.unwrap();
        assert_eq!(count_in(tx.conn(), "outbox").await, 1);
        tx.commit().await.unwrap();
        assert_eq!(count_in(&pool, "outbox").await, 0);
    }
}

#[tokio::test]
async fn a_storefront_sees_the_shop_it_names_and_the_guard_its_own() {
    use caravan_shared::tenancy::PlatformTx;
    use caravan_shared::tenant_status;
    let (_database, pool) = runtime_pool().await;
    let open = uuid::Uuid::now_v7();
    let suspended = uuid::Uuid::now_v7();
    let platform = PlatformTx::begin(&pool, "a test records shops")
        .await
        .unwrap();
    tenant_status::record(platform.conn(), open, "hami-melons", None, None, None)
        .await
        .unwrap();
    tenant_status::record(
        platform.conn(),
        suspended,
        "turpan-raisins",
        Some("suspended"),
        None,
        None,
    )
    .await
    .unwrap();
    platform.commit().await.unwrap();

    let shop = tenant_status::storefront(&pool, "hami-melons")
        .await
        .unwrap();
    assert_eq!(shop.tenant, TenantId::from(open));
    assert!(
        tenant_status::storefront(&pool, "turpan-raisins")
            .await
            .is_err()
    );
    assert!(
        tenant_status::storefront(&pool, "no-such-shop")
            .await
            .is_err()
    );
    tenant_status::ensure_active(&pool, TenantId::from(open))
        .await
        .unwrap();
    assert!(
        tenant_status::ensure_active(&pool, TenantId::from(suspended))
            .await
            .is_err()
    );

    // Naming a slug shows that row only, for reading only.
    let tx = sea_orm::TransactionTrait::begin(&pool).await.unwrap();
    tx.execute_unprepared("SELECT set_config('app.shop_slug', 'hami-melons', true)")
        .await
        .unwrap();
    assert_eq!(count_in(&tx, "tenant_status").await, 1);
    let changed = tx
        .execute_unprepared("UPDATE tenant_status SET status = 'closed'")
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0);
    tx.rollback().await.unwrap();
}

//! `caravan backup` and `caravan restore`: a platform with shops, products, orders
//! and accounts is backed up while it runs, restored into fresh databases, and a
//! second platform started on them finds every one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use caravan_cli::api::Api;
use caravan_cli::backup;
use caravan_cli::platform::{Options, Platform, Relaxed};
use caravan_cli::secrets::InstallSecrets;
use caravan_shared::db;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

const PASSWORD: &str = "Qilian-barley-harvest-2026";

fn admin_url() -> String {
    "postgres://postgres@127.0.0.1:5432/postgres".to_owned()
}

fn options(prefix: &str, operator_email: &str, secrets: &InstallSecrets) -> Options {
    Options {
        gateway_port: caravan_shared::testing::reserve_ports(6),
        database_prefix: prefix.to_owned(),
        redis_prefix: format!("caravan-{prefix}"),
        operator_email: operator_email.to_owned(),
        operator_password: PASSWORD.to_owned(),
        secrets: secrets.clone(),
        relaxed: Relaxed {
            test_payments: true,
            internal_webhooks: false,
        },
        extra: vec![
            ("DATABASE_MAX_CONNECTIONS".into(), "3".into()),
            // The test command checks the budget of the whole run.
            ("DATABASE_CAPACITY_CHECK".into(), "false".into()),
        ],
        check_connections: false,
    }
}

/// Drops the databases of both installations however the test ends.
struct Databases(Vec<String>);

impl Drop for Databases {
    fn drop(&mut self) {
        caravan_shared::testing::drop_databases(std::mem::take(&mut self.0));
    }
}

/// The ids (or emails) `sql` answers in `database`, sorted.
async fn ids(database: &str, sql: &str) -> Vec<String> {
    let url = db::PgUrl::parse(&admin_url())
        .unwrap()
        .with_database(database);
    let conn = db::connect(&url, 1).await.unwrap();
    let mut found: Vec<String> = conn
        .query_all_raw(db::statement(sql, vec![]))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "id").unwrap())
        .collect();
    conn.close().await.unwrap();
    found.sort();
    found
}

/// What a platform holds: every order, product and account.
async fn holdings(prefix: &str) -> [Vec<String>; 3] {
    [
        ids(
            &format!("{prefix}_order"),
            "SELECT id::text || ' ' || status || ' ' || total AS id FROM orders",
        )
        .await,
        ids(
            &format!("{prefix}_catalog"),
            "SELECT id::text || ' ' || handle AS id FROM products",
        )
        .await,
        ids(&format!("{prefix}_auth"), "SELECT email AS id FROM users").await,
    ]
}

#[tokio::test]
async fn a_restored_backup_holds_every_order_product_and_account() {
    let id = Uuid::now_v7().simple().to_string();
    let (original, restored) = (format!("bk_{}a", &id[20..]), format!("bk_{}b", &id[20..]));
    let _databases = Databases(
        [&original, &restored]
            .iter()
            .flat_map(|prefix| {
                ["auth", "tenant", "catalog", "order", "install"]
                    .map(|name| format!("{prefix}_{name}"))
            })
            .collect(),
    );
    let operator_email = format!("operator-{id}@example.cn");
    let secrets = InstallSecrets::generate();
    let first = Platform::start(&options(&original, &operator_email, &secrets))
        .await
        .unwrap();
    let api = Api::new(&first.url).unwrap();
    let operator = api.login(&operator_email, PASSWORD, None).await.unwrap();
    caravan_cli::demo::seed(
        &api,
        &caravan_shared::testing::maildev_url(),
        &operator,
        PASSWORD,
    )
    .await
    .unwrap();
    let before = holdings(&original).await;
    assert!(before.iter().all(|rows| !rows.is_empty()), "{before:?}");

    // Backed up while it runs; the folder must be new.
    let folder = std::env::temp_dir().join(format!("caravan-backup-{id}"));
    let manifest = backup::backup(&admin_url(), &original, &folder)
        .await
        .unwrap();
    assert_eq!(
        manifest
            .databases
            .iter()
            .map(|database| database.name.as_str())
            .collect::<Vec<_>>(),
        ["auth", "tenant", "catalog", "order"]
    );
    assert!(
        manifest.databases.iter().all(|database| database
            .migrations
            .contains(&"m0000_caravan_base".to_owned())),
        "{manifest:?}"
    );
    let again = backup::backup(&admin_url(), &original, &folder).await;
    assert!(again.unwrap_err().to_string().contains("not empty"));

    // Restored into new databases only: never over a running installation.
    let over = backup::restore(&admin_url(), &original, &folder).await;
    assert!(over.unwrap_err().to_string().contains("exists"));
    backup::restore(&admin_url(), &restored, &folder)
        .await
        .unwrap();
    assert_eq!(holdings(&restored).await, before);

    // A platform on the restored databases serves them: the operator and every
    // shop's owner log in, and each owner sees the shop's orders and products.
    let second = Platform::start(&options(&restored, &operator_email, &secrets))
        .await
        .unwrap();
    let api = Api::new(&second.url).unwrap();
    let operator = api.login(&operator_email, PASSWORD, None).await.unwrap();
    let shops = api
        .get("/v1/tenants?limit=100", Some(&operator))
        .await
        .unwrap();
    let mut orders = 0;
    for shop in shops["items"].as_array().unwrap() {
        let slug = shop["slug"].as_str().unwrap();
        let owner = api
            .login(&format!("owner@{slug}.example.cn"), PASSWORD, Some(slug))
            .await
            .unwrap();
        let listed = api.get("/v1/orders?limit=100", Some(&owner)).await.unwrap();
        orders += listed["items"].as_array().unwrap().len();
        let products = api
            .get("/v1/products?limit=100", Some(&owner))
            .await
            .unwrap();
        assert!(!products["items"].as_array().unwrap().is_empty(), "{slug}");
    }
    assert_eq!(orders, before[0].len());

    // A damaged file is found before anything is restored.
    let dump = folder.join("order.dump");
    let mut bytes = std::fs::read(&dump).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&dump, bytes).unwrap();
    let damaged = backup::check(&folder).unwrap_err().to_string();
    assert!(damaged.contains("damaged"), "{damaged}");
    std::fs::remove_dir_all(&folder).unwrap();
    drop((first, second));
}

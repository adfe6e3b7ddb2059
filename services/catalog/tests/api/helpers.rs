use caravan_shared::config::ServiceName;
use caravan_shared::testing::TestApp;

/// The catalog service on a random port with a fresh database of its own.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<caravan_catalog::migrations::Migrations, _, _>(
        ServiceName::Catalog,
        caravan_catalog::startup::build,
        &[],
    )
    .await
    .expect("the catalog service starts")
}

use caravan_shared::config::ServiceName;
use caravan_shared::testing::TestApp;

/// The tenant service on a random port with a fresh database of its own.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<caravan_tenant::migrations::Migrations, _, _>(
        ServiceName::Tenant,
        caravan_tenant::startup::build,
        &[],
    )
    .await
    .expect("the tenant service starts")
}

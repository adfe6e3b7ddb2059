use caravan_shared::config::ServiceName;
use caravan_shared::testing::TestApp;

/// The order service on a random port with a fresh database of its own.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<caravan_order::migrations::Migrations, _, _>(
        ServiceName::Order,
        caravan_order::startup::build,
        &[],
    )
    .await
    .expect("the order service starts")
}

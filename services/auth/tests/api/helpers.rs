use caravan_shared::config::ServiceName;
use caravan_shared::testing::TestApp;

/// The auth service on a random port with a fresh database of its own.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn::<caravan_auth::migrations::Migrations, _, _>(
        ServiceName::Auth,
        caravan_auth::startup::build,
        &[],
    )
    .await
    .expect("the auth service starts")
}

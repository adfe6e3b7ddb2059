use crate::helpers::spawn_app;

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let auth = spawn_app().await;
    auth.app.assert_operational_endpoints("auth").await;
}

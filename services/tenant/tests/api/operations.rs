use crate::helpers::spawn_app;

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let app = spawn_app().await;
    app.assert_operational_endpoints("tenant").await;
}

use crate::helpers::spawn_platform;

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let platform = spawn_platform().await;
    platform.tenant.assert_operational_endpoints("tenant").await;
}

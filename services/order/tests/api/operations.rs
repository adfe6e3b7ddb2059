use crate::helpers::spawn_stack;

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let stack = spawn_stack().await;
    stack.order.assert_operational_endpoints("order").await;
}

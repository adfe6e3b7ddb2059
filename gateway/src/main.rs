#[actix_web::main]
async fn main() -> std::process::ExitCode {
    caravan_gateway::run().await
}

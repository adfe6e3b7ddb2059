#[tokio::main]
async fn main() -> std::process::ExitCode {
    caravan_web::startup::run().await
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    caravan_shared::service::main::<caravan_order::migrations::Migrations, _, _>(
        caravan_shared::config::ServiceName::Order,
        caravan_order::startup::build,
    )
    .await
}

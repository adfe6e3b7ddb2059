#[actix_web::main]
async fn main() -> std::process::ExitCode {
    caravan_shared::service::main::<caravan_catalog::migrations::Migrations, _, _>(
        caravan_shared::config::ServiceName::Catalog,
        caravan_catalog::startup::build,
    )
    .await
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    caravan_shared::service::main::<caravan_tenant::migrations::Migrations, _, _>(
        caravan_shared::config::ServiceName::Tenant,
        caravan_tenant::startup::build,
    )
    .await
}

//! `caravan backup DIR` and `caravan restore DIR`: every service database dumped
//! with `pg_dump` (custom format) beside a manifest of what was dumped — Caravan's
//! version, PostgreSQL's, each database's applied migrations and each file's
//! checksum — and restored from them into fresh databases with `pg_restore`.

use anyhow::{Context, bail};
use caravan_shared::config::ServiceName;
use caravan_shared::db::{self, PgUrl, ServiceMigrations};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokio::process::Command;

/// The manifest's name in a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest's own format.
    pub format: u32,
    /// When the dumps were started (UTC, RFC 3339).
    pub created_at: String,
    /// The Caravan that wrote it.
    pub caravan_version: String,
    /// The server the databases were dumped from (`server_version`).
    pub postgres_version: String,
    /// The `pg_dump` that dumped them.
    pub pg_dump_version: String,
    /// The databases' prefix at the time (`CARAVAN_DATABASE_PREFIX`).
    pub database_prefix: String,
    /// One entry per database.
    pub databases: Vec<DumpedDatabase>,
}

/// One database of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DumpedDatabase {
    /// The service (`auth`, `tenant`, `catalog`, `order`) or `install`.
    pub name: String,
    /// The database dumped.
    pub database: String,
    /// The dump's file, in the backup's folder.
    pub file: String,
    /// The dump's size.
    pub bytes: u64,
    /// The dump's SHA-256, hex.
    pub sha256: String,
    /// The migrations applied to it, by name.
    pub migrations: Vec<String>,
}

const FORMAT: u32 = 1;

/// The migrations this build knows, per service.
fn known_migrations(name: &str) -> Option<Vec<&'static str>> {
    fn names<S: ServiceMigrations>() -> Vec<&'static str> {
        S::LIST.iter().map(|migration| migration.name).collect()
    }
    match name {
        "auth" => Some(names::<caravan_auth::migrations::Migrations>()),
        "tenant" => Some(names::<caravan_tenant::migrations::Migrations>()),
        "catalog" => Some(names::<caravan_catalog::migrations::Migrations>()),
        "order" => Some(names::<caravan_order::migrations::Migrations>()),
        _ => None,
    }
}

/// The databases of an installation: every service's, and the install database of
/// `caravan up` (its generated secrets) where there is one.
fn databases(prefix: &str) -> Vec<(String, String)> {
    ServiceName::ALL
        .iter()
        .map(|service| service.as_str())
        .chain(["install"])
        .map(|name| (name.to_owned(), format!("{prefix}_{name}")))
        .collect()
}

async fn exists(admin: &DatabaseConnection, database: &str) -> anyhow::Result<bool> {
    Ok(admin
        .query_one_raw(db::statement(
            "SELECT 1 AS found FROM pg_database WHERE datname = $1",
            vec![database.into()],
        ))
        .await?
        .is_some())
}

async fn text(conn: &DatabaseConnection, sql: &str) -> anyhow::Result<String> {
    Ok(conn
        .query_one_raw(db::statement(sql, vec![]))
        .await?
        .context("no answer")?
        .try_get("", "value")?)
}

async fn run(command: &mut Command, what: &str) -> anyhow::Result<String> {
    let output = command.output().await.with_context(|| {
        format!("{what}: could not run it (is the PostgreSQL client installed?)")
    })?;
    if !output.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn sha256_of(path: &Path) -> anyhow::Result<(u64, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((
        u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        hex(&Sha256::digest(&bytes)),
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Dumps every database of the installation `prefix` on the server `admin_url`
/// (a superuser's URL) into `dir`, which must be new or empty, and writes the
/// manifest last: a folder without one is not a backup.
pub async fn backup(admin_url: &str, prefix: &str, dir: &Path) -> anyhow::Result<Manifest> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} is not empty: back up into a new folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // The dumps hold every account's password hash and the install's secrets.
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let admin_url = PgUrl::parse(admin_url)?;
    let admin = db::connect(&admin_url.with_database("postgres"), 1).await?;
    let postgres_version =
        text(&admin, "SELECT current_setting('server_version') AS value").await?;
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pg_dump_version = run(Command::new("pg_dump").arg("--version"), "pg_dump").await?;
    let mut dumped = Vec::new();
    for (name, database) in databases(prefix) {
        if !exists(&admin, &database).await? {
            if name == "install" {
                continue;
            }
            bail!("there is no database {database}: is CARAVAN_DATABASE_PREFIX right?");
        }
        let url = admin_url.with_database(&database);
        let conn = db::connect(&url, 1).await?;
        let migrations = if name == "install" {
            Vec::new()
        } else {
            conn.query_all_raw(db::statement(
                "SELECT version FROM seaql_migrations ORDER BY version",
                vec![],
            ))
            .await?
            .iter()
            .map(|row| row.try_get::<String>("", "version"))
            .collect::<Result<_, _>>()?
        };
        conn.close().await?;
        let file = format!("{name}.dump");
        let path = dir.join(&file);
        run(
            Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--file")
                .arg(&path)
                .arg("--dbname")
                .arg(&url),
            &format!("pg_dump of {database}"),
        )
        .await?;
        let (bytes, sha256) = sha256_of(&path)?;
        dumped.push(DumpedDatabase {
            name,
            database,
            file,
            bytes,
            sha256,
            migrations,
        });
    }
    admin.close().await?;
    let manifest = Manifest {
        format: FORMAT,
        created_at,
        caravan_version: env!("CARGO_PKG_VERSION").to_owned(),
        postgres_version,
        pg_dump_version,
        database_prefix: prefix.to_owned(),
        databases: dumped,
    };
    let mut written = serde_json::to_vec_pretty(&manifest)?;
    written.push(b'\n');
    std::fs::write(dir.join(MANIFEST), written)?;
    Ok(manifest)
}

/// Reads and checks a backup: its manifest, every file's checksum, and that this
/// build knows every migration it holds (a backup of a newer Caravan is refused).
pub fn check(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&path)
            .with_context(|| format!("{} has no {MANIFEST}: not a backup", dir.display()))?,
    )
    .with_context(|| format!("{} is not a backup manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "the backup's manifest format {} is not {FORMAT}",
            manifest.format
        );
    }
    for database in &manifest.databases {
        let (_, sha256) = sha256_of(&dir.join(&database.file))?;
        if sha256 != database.sha256 {
            bail!(
                "{} does not match its checksum in the manifest: the backup is damaged",
                database.file
            );
        }
        if let Some(known) = known_migrations(&database.name)
            && let Some(unknown) = database
                .migrations
                .iter()
                .find(|name| !known.contains(&name.as_str()))
        {
            bail!(
                "the {} database holds migration {unknown}, which this Caravan ({}) does not know: restore it with Caravan {} or later",
                database.name,
                env!("CARGO_PKG_VERSION"),
                manifest.caravan_version
            );
        }
    }
    Ok(manifest)
}

/// Restores the backup in `dir` into new databases of the installation `prefix`
/// (none of which may exist), then lets every consumer catch up with what its
/// producers hold: an offset past a producer's last event (the consumer's database
/// was dumped after the producer's) is set back to it, so no later event is
/// skipped. Answers the manifest.
pub async fn restore(admin_url: &str, prefix: &str, dir: &Path) -> anyhow::Result<Manifest> {
    let manifest = check(dir)?;
    let admin_url = PgUrl::parse(admin_url)?;
    let admin = db::connect(&admin_url.with_database("postgres"), 1).await?;
    let targets: Vec<(String, &DumpedDatabase)> = manifest
        .databases
        .iter()
        .map(|database| (format!("{prefix}_{}", database.name), database))
        .collect();
    for (target, _) in &targets {
        if exists(&admin, target).await? {
            bail!(
                "database {target} exists: restore into new databases (another CARAVAN_DATABASE_PREFIX) or drop it first"
            );
        }
    }
    for (target, database) in &targets {
        db::ensure_database(&admin, target).await?;
        let restored = run(
            Command::new("pg_restore")
                .arg("--no-owner")
                .arg("--no-acl")
                .arg("--exit-on-error")
                .arg("--single-transaction")
                .arg("--dbname")
                .arg(admin_url.with_database(target))
                .arg(dir.join(&database.file)),
            &format!("pg_restore of {}", database.file),
        )
        .await;
        if let Err(error) = restored {
            // Nothing half-restored stays behind.
            for (target, _) in &targets {
                admin
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{target}\" WITH (FORCE)"
                    ))
                    .await?;
            }
            return Err(error);
        }
    }
    admin.close().await?;
    catch_up_consumers(&admin_url, &targets).await?;
    Ok(manifest)
}

/// Sets back every consumer's offset that is past its producer's last event.
async fn catch_up_consumers(
    admin_url: &PgUrl,
    targets: &[(String, &DumpedDatabase)],
) -> anyhow::Result<()> {
    let mut last = Vec::new();
    for (target, database) in targets {
        if known_migrations(&database.name).is_none() {
            continue;
        }
        let conn = db::connect(&admin_url.with_database(target), 1).await?;
        let seq: i64 = conn
            .query_one_raw(db::statement(
                "SELECT coalesce(max(seq), 0) AS seq FROM outbox",
                vec![],
            ))
            .await?
            .context("no answer")?
            .try_get("", "seq")?;
        conn.close().await?;
        last.push((database.name.clone(), seq));
    }
    for (target, database) in targets {
        if known_migrations(&database.name).is_none() {
            continue;
        }
        let conn = db::connect(&admin_url.with_database(target), 1).await?;
        for (producer, seq) in &last {
            conn.execute_raw(db::statement(
                "UPDATE event_offsets SET last_seq = $2, updated_at = now() \
                 WHERE producer = $1 AND last_seq > $2",
                vec![producer.as_str().into(), (*seq).into()],
            ))
            .await?;
        }
        conn.close().await?;
    }
    Ok(())
}

//! Where uploaded product photos are kept: a directory (`file:///abs/dir`) or an
//! S3-compatible bucket (`s3://bucket`), chosen by `MEDIA_STORE`.
//!
//! Settings:
//! - `MEDIA_STORE`: `file:///absolute/dir` or `s3://bucket`; default
//!   `file://<working directory>/media` (created when missing).
//! - `MEDIA_S3_ENDPOINT`: the S3 endpoint (MinIO, moto, OSS…); unset means AWS.
//! - `MEDIA_S3_REGION`: default `us-east-1`.
//! - `MEDIA_S3_ACCESS_KEY_ID`, `MEDIA_S3_SECRET_ACCESS_KEY`: the credentials.
//! - `MEDIA_S3_ALLOW_HTTP`: `true` to allow a plain `http://` endpoint (local test
//!   servers only; warned about at start).
//!
//! Requests name the bucket in the path (`endpoint/bucket/key`), not in the host
//! name, so MinIO, moto and similar servers work without wildcard DNS.

use anyhow::Context;
use caravan_shared::config::{ConfigError, Source, setting};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the photos go, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSettings {
    /// A directory of this machine (or a mounted volume).
    Directory(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Settings),
}

/// An S3-compatible bucket and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// `MEDIA_STORE=s3://bucket`.
    pub bucket: String,
    /// `MEDIA_S3_ENDPOINT`.
    pub endpoint: Option<String>,
    /// `MEDIA_S3_REGION`.
    pub region: String,
    /// `MEDIA_S3_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `MEDIA_S3_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `MEDIA_S3_ALLOW_HTTP`.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

fn refuse(variable: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        reason: reason.into(),
    }
}

impl MediaSettings {
    /// Reads the media settings; `working_dir` anchors the default directory.
    pub fn from_source(
        source: &dyn Source,
        working_dir: &std::path::Path,
    ) -> Result<Self, ConfigError> {
        let raw = source
            .get("MEDIA_STORE")
            .map(|value| value.trim().to_owned());
        let Some(raw) = raw else {
            return Ok(Self::Directory(working_dir.join("media")));
        };
        if let Some(path) = raw.strip_prefix("file://") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                return Err(refuse(
                    "MEDIA_STORE",
                    format!("a file store needs an absolute path, file:///dir (got {raw:?})"),
                ));
            }
            return Ok(Self::Directory(path));
        }
        if let Some(bucket) = raw.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            let valid = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !valid {
                return Err(refuse(
                    "MEDIA_STORE",
                    format!(
                        "expected s3://bucket with a bucket name of 3 to 63 of a-z, 0-9, - and . (got {raw:?})"
                    ),
                ));
            }
            let allow_http = setting(source, "MEDIA_S3_ALLOW_HTTP", false)?;
            let endpoint = source
                .get("MEDIA_S3_ENDPOINT")
                .map(|value| value.trim().trim_end_matches('/').to_owned());
            if let Some(endpoint) = &endpoint {
                let http = endpoint.starts_with("http://");
                if !http && !endpoint.starts_with("https://") {
                    return Err(refuse(
                        "MEDIA_S3_ENDPOINT",
                        format!("expected an https:// URL (got {endpoint:?})"),
                    ));
                }
                if http && !allow_http {
                    return Err(refuse(
                        "MEDIA_S3_ENDPOINT",
                        "is plain http://; use https://, or set MEDIA_S3_ALLOW_HTTP=true for a local test server",
                    ));
                }
            }
            return Ok(Self::S3(S3Settings {
                bucket: bucket.to_owned(),
                endpoint,
                region: setting(source, "MEDIA_S3_REGION", "us-east-1".to_owned())?,
                access_key_id: source.get("MEDIA_S3_ACCESS_KEY_ID"),
                secret_access_key: source.get("MEDIA_S3_SECRET_ACCESS_KEY"),
                allow_http,
            }));
        }
        Err(refuse(
            "MEDIA_STORE",
            format!("expected file:///absolute/dir or s3://bucket (got {raw:?})"),
        ))
    }

    /// Opens the store (creating the directory of a file store when missing).
    pub fn open(&self) -> anyhow::Result<Arc<dyn ObjectStore>> {
        match self {
            Self::Directory(path) => {
                std::fs::create_dir_all(path)
                    .with_context(|| format!("MEDIA_STORE: cannot create {}", path.display()))?;
                let store = LocalFileSystem::new_with_prefix(path)
                    .with_context(|| format!("MEDIA_STORE: cannot use {}", path.display()))?;
                tracing::info!(directory = %path.display(), "media stored in a directory");
                Ok(Arc::new(store))
            }
            Self::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                if s3.allow_http {
                    tracing::warn!(
                        endpoint = s3.endpoint.as_deref().unwrap_or("(AWS)"),
                        "MEDIA_S3_ALLOW_HTTP=true: photos travel to the bucket unencrypted; for local test servers only"
                    );
                }
                let store = builder.build().context("MEDIA_STORE: the S3 settings")?;
                tracing::info!(bucket = %s3.bucket, endpoint = ?s3.endpoint, "media stored in a bucket");
                Ok(Arc::new(store))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<MediaSettings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        MediaSettings::from_source(&map, std::path::Path::new("/srv/caravan"))
    }

    #[test]
    fn the_default_is_a_media_directory_under_the_working_directory() {
        assert_eq!(
            read(&[]).unwrap(),
            MediaSettings::Directory(PathBuf::from("/srv/caravan/media"))
        );
        assert_eq!(
            read(&[("MEDIA_STORE", "file:///var/lib/caravan/media")]).unwrap(),
            MediaSettings::Directory(PathBuf::from("/var/lib/caravan/media"))
        );
        assert_eq!(
            read(&[("MEDIA_STORE", "file://relative")])
                .unwrap_err()
                .variable,
            "MEDIA_STORE"
        );
        assert_eq!(
            read(&[("MEDIA_STORE", "ftp://x")]).unwrap_err().variable,
            "MEDIA_STORE"
        );
    }

    #[test]
    fn plain_http_endpoints_need_an_explicit_yes() {
        let refused = read(&[
            ("MEDIA_STORE", "s3://photos"),
            ("MEDIA_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .unwrap_err();
        assert_eq!(refused.variable, "MEDIA_S3_ENDPOINT");
        let MediaSettings::S3(s3) = read(&[
            ("MEDIA_STORE", "s3://photos"),
            ("MEDIA_S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("MEDIA_S3_ALLOW_HTTP", "true"),
            ("MEDIA_S3_SECRET_ACCESS_KEY", "hidden-value"),
        ])
        .unwrap() else {
            panic!("an S3 store");
        };
        assert_eq!(s3.bucket, "photos");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region, "us-east-1");
        assert!(!format!("{s3:?}").contains("hidden-value"));
        assert_eq!(
            read(&[("MEDIA_STORE", "s3://A_B")]).unwrap_err().variable,
            "MEDIA_STORE"
        );
    }
}

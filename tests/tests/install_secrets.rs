#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! An installation's secrets, as `caravan up` keeps them: generated on the first
//! start, the same on every later one, different from any other installation's, and
//! out of the services' reach.

use caravan_cli::secrets::InstallSecrets;
use caravan_shared::testing::{admin_url, drop_databases};
use uuid::Uuid;

#[tokio::test]
async fn an_installation_keeps_the_secrets_it_generated_first_and_shares_them_with_nobody() {
    let prefix = format!("secrets_{}", &Uuid::now_v7().simple().to_string()[20..]);
    let other = format!("{prefix}_b");
    let first = InstallSecrets::load_or_create(&admin_url(), &prefix)
        .await
        .unwrap();
    let again = InstallSecrets::load_or_create(&admin_url(), &prefix)
        .await
        .unwrap();
    let elsewhere = InstallSecrets::load_or_create(&admin_url(), &other)
        .await
        .unwrap();
    let read = InstallSecrets::load(&admin_url(), &prefix)
        .await
        .unwrap()
        .unwrap();
    let nowhere = format!("{prefix}_none");
    assert!(
        InstallSecrets::load(&admin_url(), &nowhere)
            .await
            .unwrap()
            .is_none()
    );
    drop_databases(vec![
        format!("{prefix}_install"),
        format!("{other}_install"),
    ]);
    assert_eq!(
        read.env_lines(),
        first.env_lines(),
        "reading finds what was kept"
    );
    // Reading never creates an installation.
    assert!(
        InstallSecrets::load(&admin_url(), &nowhere)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(
        first.env_lines(),
        again.env_lines(),
        "a restart keeps the secrets"
    );
    assert_eq!(first.demo_password, again.demo_password);
    assert_ne!(first.env_lines(), elsewhere.env_lines());
    assert_ne!(first.demo_password, elsewhere.demo_password);
    for line in first.env_lines().lines() {
        let (name, value) = line.split_once('=').unwrap();
        caravan_shared::config::check_secret(name, value).unwrap();
    }
    for published in caravan_shared::config::PUBLISHED_SECRETS {
        assert!(!first.env_lines().contains(published));
        assert_ne!(first.demo_password, *published);
    }
}

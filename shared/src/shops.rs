//! Each process's directory of shops: the replica's rows ([`crate::tenant_status`])
//! held in memory by slug and by id, so the shop check of a request costs no query.
//!
//! Kept correct by the replica's own announcements ([`SHOP_CHANGES`], at commit):
//! a change of a shop drops what is held of it, by id and by both its slugs, so the
//! next request reads it again. Unknown slugs and ids are held too (a buyer typing a
//! wrong address costs one query) and dropped when that shop appears. See
//! [`crate::cache`] for the rules that keep a read from outliving a change.

use crate::cache::{self, EVERYTHING, Freshness, Invalidated, Notifications};
use crate::tenancy::TenantId;
use crate::tenant_status::{SHOP_CHANGES, ShopChange, ShopLookup, ShopState};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Shops held at most; beyond, the directory starts afresh (a few thousand shops
/// take well under a megabyte).
const CAPACITY: usize = 8192;

/// What a change invalidates: a shop by id, or whatever a slug named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Tenant(TenantId),
    Slug(String),
}

#[derive(Default)]
struct Directory {
    /// A slug's shop id, or `None` for a slug no shop has.
    by_slug: HashMap<String, Option<TenantId>>,
    /// A shop by id, or `None` for an id this service has not heard of.
    by_tenant: HashMap<TenantId, Option<ShopState>>,
    freshness: Freshness<Key>,
}

impl Directory {
    fn slug(&self, slug: &str) -> Option<Option<ShopState>> {
        if !self.freshness.listening() {
            return None;
        }
        match self.by_slug.get(slug)? {
            None => Some(None),
            Some(tenant) => match self.by_tenant.get(tenant)? {
                Some(state) if state.slug == slug => Some(Some(state.clone())),
                _ => None,
            },
        }
    }

    fn tenant(&self, tenant: TenantId) -> Option<Option<ShopState>> {
        if !self.freshness.listening() {
            return None;
        }
        self.by_tenant.get(&tenant).cloned()
    }

    fn make_room(&mut self) {
        if self.by_slug.len() >= CAPACITY || self.by_tenant.len() >= CAPACITY {
            self.by_slug.clear();
            self.by_tenant.clear();
        }
    }

    fn keep_slug(&mut self, ticket: u64, slug: &str, state: Option<&ShopState>) {
        let mut keys = vec![Key::Slug(slug.to_owned())];
        keys.extend(state.map(|state| Key::Tenant(state.tenant)));
        if !self.freshness.is_fresh(ticket, &keys) {
            return;
        }
        self.make_room();
        self.by_slug
            .insert(slug.to_owned(), state.map(|state| state.tenant));
        if let Some(state) = state {
            self.by_tenant.insert(state.tenant, Some(state.clone()));
        }
    }

    fn keep_tenant(&mut self, ticket: u64, tenant: TenantId, state: Option<&ShopState>) {
        let mut keys = vec![Key::Tenant(tenant)];
        keys.extend(state.map(|state| Key::Slug(state.slug.clone())));
        if !self.freshness.is_fresh(ticket, &keys) {
            return;
        }
        self.make_room();
        self.by_tenant.insert(tenant, state.cloned());
    }

    fn forget(&mut self, change: ShopChange) {
        let tenant = TenantId::from(change.tenant);
        self.by_tenant.remove(&tenant);
        self.by_slug.remove(&change.slug);
        self.freshness.invalidate(Key::Tenant(tenant));
        self.freshness.invalidate(Key::Slug(change.slug));
    }

    fn forget_everything(&mut self, listening: bool) {
        self.by_slug.clear();
        self.by_tenant.clear();
        self.freshness.reset(listening);
    }
}

#[derive(Default)]
struct Shared(Mutex<Directory>);

impl Invalidated for Shared {
    fn invalidate(&self, _channel: &str, payload: &str) {
        let mut directory = cache::lock(&self.0);
        match ShopChange::parse(payload) {
            Some(change) => directory.forget(change),
            None => {
                if payload != EVERYTHING {
                    tracing::warn!(payload, "unreadable shop change: every shop dropped");
                }
                let listening = directory.freshness.listening();
                directory.forget_everything(listening);
            }
        }
    }

    fn reset(&self, listening: bool) {
        cache::lock(&self.0).forget_everything(listening);
    }
}

/// The service's shops, from memory when it can answer and from the database
/// (as [`ShopLookup`] for [`DatabaseConnection`] reads them) when it cannot. Cheap
/// to clone: clones share one directory.
#[derive(Clone)]
pub struct Shops {
    db: DatabaseConnection,
    directory: Arc<Shared>,
}

impl Shops {
    /// A directory over `db`, bypassed until [`Shops::listen`] hears the changes.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            directory: Arc::default(),
        }
    }

    /// Follows the replica's changes, in the background.
    pub fn listen(&self, notifications: &Notifications) {
        notifications.follow(&[SHOP_CHANGES], self.directory.clone());
    }
}

impl ShopLookup for Shops {
    async fn by_tenant(&self, tenant: TenantId) -> Result<Option<ShopState>, sea_orm::DbErr> {
        let ticket = {
            let directory = cache::lock(&self.directory.0);
            if let Some(known) = directory.tenant(tenant) {
                return Ok(known);
            }
            directory.freshness.ticket()
        };
        let state = self.db.by_tenant(tenant).await?;
        if let Some(ticket) = ticket {
            cache::lock(&self.directory.0).keep_tenant(ticket, tenant, state.as_ref());
        }
        Ok(state)
    }

    async fn by_slug(&self, slug: &str) -> Result<Option<ShopState>, sea_orm::DbErr> {
        let ticket = {
            let directory = cache::lock(&self.directory.0);
            if let Some(known) = directory.slug(slug) {
                return Ok(known);
            }
            directory.freshness.ticket()
        };
        let state = self.db.by_slug(slug).await?;
        if let Some(ticket) = ticket {
            cache::lock(&self.directory.0).keep_slug(ticket, slug, state.as_ref());
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant_status::{Quotas, ShopProfile};
    use uuid::Uuid;

    fn state(slug: &str) -> ShopState {
        ShopState {
            tenant: TenantId::from(Uuid::now_v7()),
            slug: slug.to_owned(),
            status: "active".to_owned(),
            plan: "free".to_owned(),
            quotas: Quotas::default(),
            profile: ShopProfile {
                name: String::new(),
                owner_email: None,
                contact_email: None,
                base_currency: "CNY".to_owned(),
                currencies: vec!["CNY".to_owned()],
                default_locale: "zh-CN".to_owned(),
                locales: vec!["zh-CN".to_owned()],
            },
        }
    }

    fn listening() -> (Directory, u64) {
        let mut directory = Directory::default();
        directory.forget_everything(true);
        let ticket = directory.freshness.ticket().unwrap_or(u64::MAX);
        (directory, ticket)
    }

    #[test]
    fn a_shop_read_by_slug_answers_by_slug_and_by_id_until_it_changes() {
        let (mut directory, ticket) = listening();
        let goji = state("ningxia-goji");
        directory.keep_slug(ticket, "ningxia-goji", Some(&goji));
        assert_eq!(directory.slug("ningxia-goji"), Some(Some(goji.clone())));
        assert_eq!(directory.tenant(goji.tenant), Some(Some(goji.clone())));
        directory.forget(ShopChange {
            tenant: goji.tenant.into_uuid(),
            slug: "ningxia-goji".to_owned(),
        });
        assert_eq!(directory.slug("ningxia-goji"), None);
        assert_eq!(directory.tenant(goji.tenant), None);
    }

    #[test]
    fn an_unknown_slug_is_held_until_that_shop_appears() {
        let (mut directory, ticket) = listening();
        directory.keep_slug(ticket, "turpan-raisins", None);
        assert_eq!(directory.slug("turpan-raisins"), Some(None));
        directory.forget(ShopChange {
            tenant: Uuid::now_v7(),
            slug: "turpan-raisins".to_owned(),
        });
        assert_eq!(directory.slug("turpan-raisins"), None);
    }

    #[test]
    fn a_read_overtaken_by_a_change_is_not_kept() {
        let (mut directory, ticket) = listening();
        let goji = state("ningxia-goji");
        directory.forget(ShopChange {
            tenant: goji.tenant.into_uuid(),
            slug: "ningxia-goji".to_owned(),
        });
        directory.keep_slug(ticket, "ningxia-goji", Some(&goji));
        assert_eq!(directory.slug("ningxia-goji"), None);
        directory.keep_tenant(ticket, goji.tenant, Some(&goji));
        assert_eq!(directory.tenant(goji.tenant), None);
    }

    #[test]
    fn nothing_answers_while_the_changes_are_not_heard() {
        let (mut directory, ticket) = listening();
        let goji = state("ningxia-goji");
        directory.keep_slug(ticket, "ningxia-goji", Some(&goji));
        directory.forget_everything(false);
        let after = directory.freshness.ticket();
        assert_eq!(after, None);
        directory.keep_slug(ticket, "ningxia-goji", Some(&goji));
        assert_eq!(directory.slug("ningxia-goji"), None);
    }

    #[test]
    fn a_slug_taken_over_by_another_shop_does_not_answer_with_the_old_one() {
        let (mut directory, ticket) = listening();
        let goji = state("ningxia-goji");
        directory.keep_slug(ticket, "ningxia-goji", Some(&goji));
        let renamed = ShopState {
            slug: "zhongning-goji".to_owned(),
            ..goji.clone()
        };
        // Its id read again after a rename, but the old slug not yet dropped.
        directory.by_tenant.insert(goji.tenant, Some(renamed));
        assert_eq!(directory.slug("ningxia-goji"), None);
    }
}

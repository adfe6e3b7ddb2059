//! The storefront's finished answers (product lists, product pages, categories),
//! held in memory per shop so a buyer's request costs no query when nothing changed.
//!
//! Kept correct by the database's own announcements at commit: every change of a
//! product, variant (its prices; its stock only when it goes in or out of stock,
//! which is all the storefront shows), category or photo names its shop on
//! [`STOREFRONT_CHANGES`], and every change of a shop on [`SHOP_CHANGES`]; either
//! drops all of that shop's answers. The rules of [`caravan_shared::cache`] keep a
//! read from outliving a change. Bounded to [`BYTES`] of answers.

use actix_web::web::Bytes;
use caravan_shared::TenantId;
use caravan_shared::cache::{self, EVERYTHING, Freshness, Invalidated, Notifications};
use caravan_shared::domain::Locale;
use caravan_shared::secrets;
use caravan_shared::tenant_status::{SHOP_CHANGES, ShopChange};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The `NOTIFY` channel of changes the storefront shows: each payload a shop's id,
/// or [`EVERYTHING`].
pub const STOREFRONT_CHANGES: &str = "caravan_storefront";

/// What the held answers may take, bodies and keys together.
pub const BYTES: usize = 4 * 1024 * 1024;

/// The largest answer held; a larger one is served but not kept.
const LARGEST: usize = BYTES / 16;

/// What an entry costs beyond its body and key (maps, the tag, the `Arc`).
const OVERHEAD: usize = 160;

/// A storefront answer's identity: the shop, and everything that shapes the
/// answer — the route, the parsed query (so the order of parameters does not
/// matter) and the languages wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    shop: Uuid,
    what: String,
}

impl Key {
    /// The key of `route` (e.g. `products/{handle}` with the handle filled in) for
    /// `shop`, asked with `query` in `locales`.
    pub fn new(shop: TenantId, route: &str, query: &impl Debug, locales: &[Locale]) -> Self {
        Self {
            shop: shop.into_uuid(),
            what: format!("{route} {query:?} {locales:?}"),
        }
    }

    fn cost(&self, answer: &Answer) -> usize {
        cost(&self.what, answer)
    }
}

/// What holding `answer` under `what` takes.
fn cost(what: &str, answer: &Answer) -> usize {
    what.len() + answer.body.len() + answer.etag.len() + OVERHEAD
}

/// A finished `200` answer: its JSON body and strong `ETag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The JSON body.
    pub body: Bytes,
    /// The `ETag`, quoted.
    pub etag: String,
}

impl Answer {
    /// `value` as JSON, tagged with a digest of the bytes.
    pub fn json<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        let digest = Sha256::digest(&body);
        Ok(Self {
            etag: format!("\"{}\"", secrets::hex(&digest[..16])),
            body: Bytes::from(body),
        })
    }

    /// Whether an `If-None-Match` header's value names this answer.
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match
            .split(',')
            .any(|candidate| candidate.trim() == self.etag)
    }
}

#[derive(Default)]
struct Held {
    shops: HashMap<Uuid, HashMap<String, Arc<Answer>>>,
    bytes: usize,
    freshness: Freshness<Uuid>,
}

impl Held {
    fn get(&self, key: &Key) -> Option<Arc<Answer>> {
        if !self.freshness.listening() {
            return None;
        }
        self.shops.get(&key.shop)?.get(&key.what).cloned()
    }

    fn keep(&mut self, ticket: u64, key: Key, answer: Arc<Answer>) {
        let cost = key.cost(&answer);
        if cost > LARGEST || !self.freshness.is_fresh(ticket, [&key.shop]) {
            return;
        }
        // Whole shops make room, whichever come first: cheap, and a shop's answers
        // are read again together anyway.
        while self.bytes + cost > BYTES {
            let Some(shop) = self.shops.keys().next().copied() else {
                break;
            };
            self.drop_shop(shop);
        }
        let answers = self.shops.entry(key.shop).or_default();
        if let Some(previous) = answers.insert(key.what.clone(), answer) {
            self.bytes = self.bytes.saturating_sub(key.cost(&previous));
        }
        self.bytes += cost;
    }

    fn drop_shop(&mut self, shop: Uuid) {
        if let Some(answers) = self.shops.remove(&shop) {
            let freed: usize = answers
                .iter()
                .map(|(what, answer)| cost(what, answer))
                .sum();
            self.bytes = self.bytes.saturating_sub(freed);
        }
    }

    fn changed(&mut self, shop: Uuid) {
        self.drop_shop(shop);
        self.freshness.invalidate(shop);
    }

    fn reset(&mut self, listening: bool) {
        self.shops.clear();
        self.bytes = 0;
        self.freshness.reset(listening);
    }
}

#[derive(Default)]
struct Shared(Mutex<Held>);

impl Invalidated for Shared {
    fn invalidate(&self, channel: &str, payload: &str) {
        let shop = if channel == SHOP_CHANGES {
            ShopChange::parse(payload).map(|change| change.tenant)
        } else {
            payload.parse::<Uuid>().ok()
        };
        let mut held = cache::lock(&self.0);
        match shop {
            Some(shop) => held.changed(shop),
            None => {
                if payload != EVERYTHING {
                    tracing::warn!(channel, payload, "unreadable change: every answer dropped");
                }
                let listening = held.freshness.listening();
                held.reset(listening);
            }
        }
    }

    fn reset(&self, listening: bool) {
        cache::lock(&self.0).reset(listening);
    }
}

/// The storefront answers of this instance. Cheap to clone: clones share them.
#[derive(Clone, Default)]
pub struct StorefrontCache(Arc<Shared>);

impl StorefrontCache {
    /// An empty cache, bypassed until [`StorefrontCache::listen`] hears the changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Follows the changes, in the background.
    pub fn listen(&self, notifications: &Notifications) {
        notifications.follow(&[STOREFRONT_CHANGES, SHOP_CHANGES], self.0.clone());
    }

    /// The answer for `key`: the one held, or the one `fill` makes (kept when
    /// nothing changed in the shop meanwhile). A failure of `fill` is never kept.
    pub async fn answer<F, Fut, E>(&self, key: Key, fill: F) -> Result<Arc<Answer>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Answer, E>>,
    {
        let ticket = {
            let held = cache::lock(&self.0.0);
            if let Some(answer) = held.get(&key) {
                return Ok(answer);
            }
            held.freshness.ticket()
        };
        let answer = Arc::new(fill().await?);
        if let Some(ticket) = ticket {
            cache::lock(&self.0.0).keep(ticket, key, answer.clone());
        }
        Ok(answer)
    }

    /// What the held answers take, in bytes.
    pub fn bytes(&self) -> usize {
        cache::lock(&self.0.0).bytes
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn shop() -> TenantId {
        TenantId::from(Uuid::now_v7())
    }

    fn listening() -> (Held, u64) {
        let mut held = Held::default();
        held.reset(true);
        let ticket = held.freshness.ticket().unwrap();
        (held, ticket)
    }

    fn answer(body: &str) -> Arc<Answer> {
        Arc::new(Answer::json(&body).unwrap())
    }

    #[test]
    fn the_key_holds_the_shop_the_route_the_query_and_the_languages() {
        let a = shop();
        let zh = Locale::parse("zh-CN").unwrap();
        let en = Locale::parse("en").unwrap();
        let key = Key::new(
            a,
            "products",
            &(Some(20), "price"),
            std::slice::from_ref(&zh),
        );
        assert_eq!(
            key,
            Key::new(
                a,
                "products",
                &(Some(20), "price"),
                std::slice::from_ref(&zh)
            )
        );
        assert_ne!(key, Key::new(a, "products", &(Some(20), "price"), &[en]));
        assert_ne!(
            key,
            Key::new(
                a,
                "products",
                &(Some(10), "price"),
                std::slice::from_ref(&zh)
            )
        );
        assert_ne!(
            key,
            Key::new(
                a,
                "categories",
                &(Some(20), "price"),
                std::slice::from_ref(&zh)
            )
        );
        assert_ne!(
            key,
            Key::new(shop(), "products", &(Some(20), "price"), &[zh])
        );
    }

    #[test]
    fn an_etag_is_matched_in_a_list_of_them() {
        let answer = Answer::json(&serde_json::json!({"items": []})).unwrap();
        assert!(answer.matches(&answer.etag));
        assert!(answer.matches(&format!("\"other\", {}", answer.etag)));
        assert!(!answer.matches("\"other\""));
    }

    #[test]
    fn a_shops_answers_never_answer_another_shop() {
        let (mut held, ticket) = listening();
        let (a, b) = (shop(), shop());
        held.keep(ticket, Key::new(a, "products/goji", &(), &[]), answer("a"));
        assert_eq!(
            held.get(&Key::new(a, "products/goji", &(), &[])),
            Some(answer("a"))
        );
        assert_eq!(held.get(&Key::new(b, "products/goji", &(), &[])), None);
    }

    #[test]
    fn a_change_drops_only_that_shops_answers() {
        let (mut held, ticket) = listening();
        let (a, b) = (shop(), shop());
        let key_a = Key::new(a, "products", &(), &[]);
        let key_b = Key::new(b, "products", &(), &[]);
        held.keep(ticket, key_a.clone(), answer("a"));
        held.keep(ticket, key_b.clone(), answer("b"));
        held.changed(a.into_uuid());
        assert_eq!(held.get(&key_a), None);
        assert_eq!(held.get(&key_b), Some(answer("b")));
        // A read that began before the change is not kept; one after it is.
        held.keep(ticket, key_a.clone(), answer("stale"));
        assert_eq!(held.get(&key_a), None);
        let later = held.freshness.ticket().unwrap();
        held.keep(later, key_a.clone(), answer("fresh"));
        assert_eq!(held.get(&key_a), Some(answer("fresh")));
    }

    #[test]
    fn nothing_is_held_while_changes_are_not_heard() {
        let (mut held, ticket) = listening();
        let key = Key::new(shop(), "products", &(), &[]);
        held.keep(ticket, key.clone(), answer("a"));
        held.reset(false);
        assert_eq!(held.get(&key), None);
        assert_eq!(held.freshness.ticket(), None);
        held.keep(ticket, key.clone(), answer("a"));
        assert_eq!(held.bytes, 0);
    }

    #[test]
    fn the_answers_stay_within_their_bound() {
        let (mut held, ticket) = listening();
        let body = "x".repeat(LARGEST / 2);
        for _ in 0..64 {
            held.keep(
                ticket,
                Key::new(shop(), "products", &(), &[]),
                answer(&body),
            );
            assert!(held.bytes <= BYTES);
        }
        assert!(held.shops.len() > 1);
        let huge = "x".repeat(LARGEST);
        let key = Key::new(shop(), "products", &(), &[]);
        held.keep(ticket, key.clone(), answer(&huge));
        assert_eq!(held.get(&key), None);
    }

    #[test]
    fn an_unreadable_change_drops_everything() {
        let shared = Shared::default();
        shared.reset(true);
        let key = Key::new(shop(), "products", &(), &[]);
        {
            let mut held = cache::lock(&shared.0);
            let ticket = held.freshness.ticket().unwrap();
            held.keep(ticket, key.clone(), answer("a"));
        }
        shared.invalidate(STOREFRONT_CHANGES, EVERYTHING);
        assert_eq!(cache::lock(&shared.0).get(&key), None);
        assert!(cache::lock(&shared.0).freshness.listening());
    }
}

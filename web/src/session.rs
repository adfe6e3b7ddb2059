//! Sessions: one opaque cookie (`caravan_session`: HttpOnly, SameSite=Lax, Secure
//! when the platform is served over HTTPS) naming a session body kept in Redis —
//! the signed-in account's tokens, a cart per shop, the links to orders placed,
//! the chosen currency per shop and the CSRF secret. Redis holds the body under the
//! SHA-256 of the cookie's value, so what Redis holds opens nothing by itself.
//! A session starts at the first add-to-cart or sign-in, never on a catalogue page.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use caravan_client::{Api, Caller, Failure, Tokens};
use caravan_shared::config::generate_secret;
use caravan_shared::redis_conn::Redis;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// The session cookie's name.
pub const COOKIE: &str = "caravan_session";
/// How long a session lasts without being used.
const IDLE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long one refresh may hold the session's refresh lock.
const REFRESH_LOCK: Duration = Duration::from_secs(10);
/// An access token this close to its end is refreshed first.
const REFRESH_MARGIN_SECS: i64 = 30;

/// A cart the session holds in one shop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CartRef {
    pub id: Uuid,
    pub token: String,
    pub currency: String,
    /// Units in it, for the shop's bar.
    #[serde(default)]
    pub count: i64,
}

/// A group deal's checkout in progress: a cart of its own (one line, the deal's
/// variant), kept apart from the shop's cart so neither disturbs the other.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupCart {
    pub cart: CartRef,
    pub deal_id: Uuid,
    /// The product the deal is of (its live deals are listed by product), and
    /// its handle (its page).
    pub product_id: Uuid,
    pub handle: String,
    /// The forming group it joins; `None` opens a new group.
    #[serde(default)]
    pub group_id: Option<Uuid>,
}

/// A harvest pre-order's checkout in progress: a cart of its own (one unit of the
/// campaign's variant), kept apart from the shop's cart like a group's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PreorderCart {
    pub cart: CartRef,
    pub campaign_id: Uuid,
    /// The product the campaign is of (its open campaigns are listed by product),
    /// and its handle (its page).
    pub product_id: Uuid,
    pub handle: String,
}

/// The signed-in account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub name: String,
    pub access_token: String,
    pub refresh_token: String,
    /// Unix time at which the access token ends.
    pub expires_at: i64,
}

impl Account {
    fn fresh(&self) -> bool {
        self.expires_at - REFRESH_MARGIN_SECS > chrono::Utc::now().timestamp()
    }

    /// Takes a new token pair.
    pub fn renew(&mut self, tokens: Tokens) {
        self.expires_at = chrono::Utc::now().timestamp() + tokens.expires_in;
        self.access_token = tokens.access_token;
        self.refresh_token = tokens.refresh_token;
    }
}

/// A shop's staff member signed in to the admin: their account, the shop their
/// tokens act in, and their role there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Staff {
    pub account: Account,
    /// The shop's id.
    pub shop_id: Uuid,
    /// The shop's slug.
    pub shop: String,
    /// The shop's name.
    pub shop_name: String,
    /// `owner` or `staff`.
    pub role: String,
    /// The language the admin is shown in.
    pub lang: String,
}

/// A platform operator signed in to the console.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operator {
    pub account: Account,
    /// The language the console is shown in.
    pub lang: String,
}

/// Who in a session a token is for: the buyer signed in to a storefront, the
/// staff member signed in to the admin, or the operator signed in to the console.
/// Each has its own tokens and refreshes them on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    Buyer,
    Staff,
    Operator,
}

impl Seat {
    fn account(self, data: &SessionData) -> Option<&Account> {
        match self {
            Self::Buyer => data.account.as_ref(),
            Self::Staff => data.staff.as_ref().map(|staff| &staff.account),
            Self::Operator => data.operator.as_ref().map(|operator| &operator.account),
        }
    }

    fn account_mut(self, data: &mut SessionData) -> Option<&mut Account> {
        match self {
            Self::Buyer => data.account.as_mut(),
            Self::Staff => data.staff.as_mut().map(|staff| &mut staff.account),
            Self::Operator => data.operator.as_mut().map(|operator| &mut operator.account),
        }
    }

    /// The refresh token of the account in this seat.
    pub fn refresh_token(self, data: &SessionData) -> Option<String> {
        self.account(data)
            .map(|account| account.refresh_token.clone())
    }

    /// Signs this seat out.
    pub fn clear(self, data: &mut SessionData) {
        match self {
            Self::Buyer => data.account = None,
            Self::Staff => data.staff = None,
            Self::Operator => data.operator = None,
        }
    }

    /// Takes this seat from `stored` (another request's newer copy).
    fn adopt(self, data: &mut SessionData, stored: SessionData) {
        match self {
            Self::Buyer => data.account = stored.account,
            Self::Staff => data.staff = stored.staff,
            Self::Operator => data.operator = stored.operator,
        }
    }

    fn lock_name(self) -> &'static str {
        match self {
            Self::Buyer => "refresh",
            Self::Staff => "refresh-staff",
            Self::Operator => "refresh-operator",
        }
    }
}

/// What a session remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionData {
    /// The secret every form of this session carries.
    pub csrf: String,
    #[serde(default)]
    pub account: Option<Account>,
    /// The admin's signed-in staff member.
    #[serde(default)]
    pub staff: Option<Staff>,
    /// The console's signed-in platform operator.
    #[serde(default)]
    pub operator: Option<Operator>,
    /// A cart per shop (by slug).
    #[serde(default)]
    pub carts: BTreeMap<String, CartRef>,
    /// A group deal's checkout per shop (by slug), apart from `carts`.
    #[serde(default)]
    pub group_carts: BTreeMap<String, GroupCart>,
    /// A harvest pre-order's checkout per shop (by slug), apart from `carts`.
    #[serde(default)]
    pub preorder_carts: BTreeMap<String, PreorderCart>,
    /// The orders placed in this session, with their access tokens.
    #[serde(default)]
    pub orders: BTreeMap<Uuid, String>,
    /// The last checkouts placed, by the `Idempotency-Key` of their form: a form
    /// sent again shows its order instead of an empty cart.
    #[serde(default)]
    pub placed: Vec<(String, Uuid)>,
}

impl SessionData {
    /// How many placed checkouts are remembered.
    const PLACED_KEPT: usize = 5;

    /// Remembers that the form `key` placed `order`.
    pub fn record_placed(&mut self, key: &str, order: Uuid) {
        self.placed.retain(|(kept, _)| kept != key);
        self.placed.push((key.to_owned(), order));
        let excess = self.placed.len().saturating_sub(Self::PLACED_KEPT);
        self.placed.drain(..excess);
    }

    /// The order the form `key` placed, if it did.
    pub fn placed_by(&self, key: &str) -> Option<Uuid> {
        self.placed
            .iter()
            .find(|(kept, _)| kept == key)
            .map(|(_, order)| *order)
    }
}

/// One visitor's session.
#[derive(Debug, Clone)]
pub struct Session {
    id: String,
    pub data: SessionData,
}

impl Session {
    /// Whether `presented` is this session's CSRF secret (compared in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.data.csrf.as_bytes();
        let presented = presented.as_bytes();
        expected.len() == presented.len()
            && !expected.is_empty()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The session store.
#[derive(Clone)]
pub struct Sessions {
    redis: Redis,
    secure: bool,
}

fn storage_name(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("web:session:{hex}")
}

impl Sessions {
    /// Sessions in `redis`; cookies marked `Secure` when `secure`.
    pub fn new(redis: Redis, secure: bool) -> Self {
        Self { redis, secure }
    }

    async fn read(&self, id: &str) -> anyhow::Result<Option<SessionData>> {
        let mut conn = self.redis.conn();
        let raw: Option<String> = conn.get(self.redis.key(&storage_name(id))).await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    /// The request's session, when its cookie names one that exists.
    pub async fn load(&self, request: &HttpRequest) -> anyhow::Result<Option<Session>> {
        let Some(cookie) = request.cookie(COOKIE) else {
            return Ok(None);
        };
        let id = cookie.value();
        if id.len() != 43
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Ok(None);
        }
        Ok(self.read(id).await?.map(|data| Session {
            id: id.to_owned(),
            data,
        }))
    }

    /// A new, empty session (saved by [`Sessions::save`]).
    pub fn start() -> Session {
        Session {
            id: generate_secret(),
            data: SessionData {
                csrf: generate_secret(),
                ..SessionData::default()
            },
        }
    }

    /// Stores the session's body and renews its lifetime.
    pub async fn save(&self, session: &Session) -> anyhow::Result<()> {
        let mut conn = self.redis.conn();
        let body = serde_json::to_string(&session.data)?;
        let _: () = conn
            .set_ex(
                self.redis.key(&storage_name(&session.id)),
                body,
                IDLE.as_secs(),
            )
            .await?;
        Ok(())
    }

    /// Forgets the session.
    pub async fn end(&self, session: &Session) -> anyhow::Result<()> {
        let mut conn = self.redis.conn();
        let _: () = conn.del(self.redis.key(&storage_name(&session.id))).await?;
        Ok(())
    }

    /// The cookie that names `session`.
    pub fn cookie(&self, session: &Session) -> Cookie<'static> {
        Cookie::build(COOKIE, session.id.clone())
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::seconds(IDLE.as_secs() as i64))
            .finish()
    }

    /// The cookie that removes the session's cookie from the browser.
    pub fn removal(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build(COOKIE, "")
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        cookie.make_removal();
        cookie
    }

    /// The access token of the account in `seat`, refreshed first when it is about to
    /// end. Refreshes are single-flight per session: the auth service revokes a
    /// whole token family when a refresh token is used twice, so of two requests
    /// that find the token stale, one refreshes (holding a Redis lock) and the
    /// other waits for and adopts its result. A refused refresh signs the session
    /// out; an unreachable auth service leaves it as it was.
    pub async fn access_token(
        &self,
        session: &mut Session,
        seat: Seat,
        api: &Api,
        caller: Caller<'_>,
    ) -> Option<String> {
        let account = seat.account(&session.data)?;
        if account.fresh() {
            return Some(account.access_token.clone());
        }
        let lock = self.redis.key(&format!(
            "{}:{}",
            storage_name(&session.id),
            seat.lock_name()
        ));
        let holder = generate_secret();
        let deadline = tokio::time::Instant::now() + REFRESH_LOCK;
        while tokio::time::Instant::now() < deadline {
            let mut conn = self.redis.conn();
            let taken: Option<String> = redis::cmd("SET")
                .arg(&lock)
                .arg(&holder)
                .arg("NX")
                .arg("PX")
                .arg(REFRESH_LOCK.as_millis() as u64)
                .query_async(&mut conn)
                .await
                .ok()?;
            // Whoever held the lock may have refreshed already: adopt their pair.
            let stored = self.read(&session.id).await.ok().flatten();
            if let Some(stored) = stored {
                seat.adopt(&mut session.data, stored);
            }
            let account = seat.account(&session.data)?;
            if account.fresh() {
                if taken.is_some() {
                    self.release(&lock, &holder).await;
                }
                return Some(account.access_token.clone());
            }
            if taken.is_some() {
                let refresh_token = account.refresh_token.clone();
                let outcome = api.refresh(caller, &refresh_token).await;
                let token = match outcome {
                    Ok(tokens) => {
                        let account = seat.account_mut(&mut session.data);
                        account.map(|account| {
                            account.renew(tokens);
                            account.access_token.clone()
                        })
                    }
                    Err(Failure::Refused { .. }) => {
                        seat.clear(&mut session.data);
                        None
                    }
                    Err(Failure::Unavailable(error)) => {
                        tracing::warn!(%error, "token refresh failed");
                        self.release(&lock, &holder).await;
                        return None;
                    }
                };
                if let Err(error) = self.save(session).await {
                    tracing::warn!(%error, "session not saved after refresh");
                }
                self.release(&lock, &holder).await;
                return token;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    async fn release(&self, lock: &str, holder: &str) {
        // Delete the lock only if it is still ours.
        let mut conn = self.redis.conn();
        let released: Result<i64, _> = redis::cmd("EVAL")
            .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end")
            .arg(1)
            .arg(lock)
            .arg(holder)
            .query_async(&mut conn)
            .await;
        if let Err(error) = released {
            tracing::warn!(%error, "refresh lock not released; it lapses by itself");
        }
    }
}

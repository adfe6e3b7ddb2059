//! Where a webhook may connect.
//!
//! A host name is resolved once per connection, by the delivery client's own resolver
//! ([`GuardedResolver`]): it drops every internal address and fails when none is left,
//! and the client connects only to what it returned. There is no earlier lookup whose
//! answer a second one could contradict (DNS rebinding). Addresses written in the URL
//! itself never reach a resolver; [`super::check_url`] refuses the internal ones.

use super::is_internal;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How long a host name may take to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// A host's addresses, on their way.
pub type Addresses = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses: the system's resolver, or a test's.
pub trait NameLookup: Send + Sync + 'static {
    /// Every address `host` has now.
    fn lookup(&self, host: &str) -> Addresses;
}

/// The operating system's resolver (`getaddrinfo`, on the blocking pool).
pub struct SystemLookup;

impl NameLookup for SystemLookup {
    fn lookup(&self, host: &str) -> Addresses {
        let host = host.to_owned();
        Box::pin(async move {
            let found =
                tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host.as_str(), 0)))
                    .await
                    .map_err(|_| {
                        std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")
                    })??;
            Ok(found.map(|address| address.ip()).collect())
        })
    }
}

/// Why a webhook may not connect to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name does not resolve (perhaps for now).
    Unresolvable {
        /// The host name.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The name resolves to internal addresses: only those when delivering, any
    /// when registering.
    Internal {
        /// The host name.
        host: String,
        /// The internal addresses it resolved to.
        addresses: Vec<IpAddr>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unresolvable { host, reason } => write!(f, "{host} does not resolve ({reason})"),
            Self::Internal { host, addresses } => {
                let listed: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                write!(
                    f,
                    "{host} resolves to an internal address ({}); webhooks reach public addresses only",
                    listed.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// The resolver of webhook deliveries: resolves a host once and answers only its
/// public addresses (all of them when internal ones are allowed, in development).
#[derive(Clone)]
pub struct GuardedResolver {
    lookup: Arc<dyn NameLookup>,
    allow_internal: bool,
}

impl GuardedResolver {
    /// Over `lookup`; `allow_internal` keeps internal addresses (development only).
    pub fn new(lookup: Arc<dyn NameLookup>, allow_internal: bool) -> Self {
        Self {
            lookup,
            allow_internal,
        }
    }

    /// Over the operating system's resolver.
    pub fn system(allow_internal: bool) -> Self {
        Self::new(Arc::new(SystemLookup), allow_internal)
    }

    /// Whether internal addresses are allowed (development).
    pub fn allows_internal(&self) -> bool {
        self.allow_internal
    }

    async fn resolve_all(&self, host: &str) -> Result<Vec<IpAddr>, Refusal> {
        let unresolvable = |reason: String| Refusal::Unresolvable {
            host: host.to_owned(),
            reason,
        };
        let addresses = self
            .lookup
            .lookup(host)
            .await
            .map_err(|error| unresolvable(error.to_string()))?;
        if addresses.is_empty() {
            return Err(unresolvable("no addresses".to_owned()));
        }
        Ok(addresses)
    }

    /// The addresses a connection to `host` may use: its public ones, or every one
    /// when internal addresses are allowed. Refused when none is left.
    pub async fn connectable(&self, host: &str) -> Result<Vec<IpAddr>, Refusal> {
        let addresses = self.resolve_all(host).await?;
        if self.allow_internal {
            return Ok(addresses);
        }
        let (internal, public): (Vec<IpAddr>, Vec<IpAddr>) = addresses
            .into_iter()
            .partition(|address| is_internal(*address));
        if public.is_empty() {
            return Err(Refusal::Internal {
                host: host.to_owned(),
                addresses: internal,
            });
        }
        Ok(public)
    }

    /// Whether `host` may be registered: it resolves to no internal address at all
    /// (stricter than delivery, which skips the internal ones). A name that does not
    /// resolve yet is accepted — a shop may register its endpoint before its DNS is
    /// live — since every delivery resolves and checks it again. Not looked up when
    /// internal addresses are allowed.
    pub async fn check_registration(&self, host: &str) -> Result<(), Refusal> {
        if self.allow_internal {
            return Ok(());
        }
        let addresses = match self.resolve_all(host).await {
            Ok(addresses) => addresses,
            Err(Refusal::Unresolvable { .. }) => return Ok(()),
            Err(refusal) => return Err(refusal),
        };
        let internal: Vec<IpAddr> = addresses
            .into_iter()
            .filter(|address| is_internal(*address))
            .collect();
        if internal.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Internal {
                host: host.to_owned(),
                addresses: internal,
            })
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolver.connectable(&host).await?;
            // Port 0: the client puts in the URL's port.
            let addrs: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|address| SocketAddr::new(address, 0)),
            );
            Ok(addrs)
        })
    }
}

/// The HTTP client deliveries are posted with: host names resolved by `resolver`
/// only, no proxy (a proxy would resolve the name itself), redirects not followed,
/// every try bounded by `timeout`.
pub fn delivery_client(
    resolver: GuardedResolver,
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(resolver)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent("Caravan-Webhooks/1")
        .build()
}

/// The refusal behind a failed request, when the resolver refused its host.
pub fn refusal_of<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(refusal) = current.downcast_ref::<Refusal>() {
            return Some(refusal);
        }
        cause = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A resolver that answers the same addresses for every name.
    struct Fixed(Vec<IpAddr>);

    impl NameLookup for Fixed {
        fn lookup(&self, _host: &str) -> Addresses {
            let addresses = self.0.clone();
            Box::pin(async move { Ok(addresses) })
        }
    }

    fn fixed(addresses: &[&str], allow_internal: bool) -> GuardedResolver {
        GuardedResolver::new(
            Arc::new(Fixed(
                addresses.iter().map(|a| a.parse().unwrap()).collect(),
            )),
            allow_internal,
        )
    }

    /// A local HTTP server answering every request with `answer`; counts the
    /// connections it accepts.
    async fn local_server(answer: &'static str) -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = socket.read(&mut buffer).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (port, accepted)
    }

    #[tokio::test]
    async fn the_resolver_drops_internal_addresses_and_fails_when_none_is_left() {
        let mixed = fixed(
            &["127.0.0.1", "8.8.8.8", "::1", "10.0.0.1", "2001:4860::8888"],
            false,
        );
        assert_eq!(
            mixed.connectable("hook.example.cn").await.unwrap(),
            [
                "8.8.8.8".parse::<IpAddr>().unwrap(),
                "2001:4860::8888".parse().unwrap()
            ]
        );
        let only_internal = fixed(&["127.0.0.1", "::ffff:169.254.169.254"], false);
        let refusal = only_internal
            .connectable("rebind.example.cn")
            .await
            .unwrap_err();
        assert!(matches!(&refusal, Refusal::Internal { addresses, .. } if addresses.len() == 2));
        assert!(
            refusal.to_string().contains("rebind.example.cn"),
            "{refusal}"
        );
        assert!(refusal.to_string().contains("127.0.0.1"), "{refusal}");
        // Registration refuses a name with any internal address; development allows all.
        assert!(mixed.check_registration("hook.example.cn").await.is_err());
        assert!(
            fixed(&["8.8.8.8"], false)
                .check_registration("a.cn")
                .await
                .is_ok()
        );
        // A name without addresses yet may be registered; deliveries check it again.
        assert!(
            fixed(&[], false)
                .check_registration("soon.example.cn")
                .await
                .is_ok()
        );
        let development = fixed(&["127.0.0.1"], true);
        assert_eq!(development.connectable("localhost").await.unwrap().len(), 1);
        assert!(
            fixed(&[], false).connectable("nowhere.cn").await.is_err(),
            "a name without addresses is refused"
        );
    }

    #[tokio::test]
    async fn deliveries_connect_only_to_what_the_filtering_resolver_answers() {
        let (port, accepted) = local_server("HTTP/1.1 204 No Content\r\n\r\n").await;
        // A name only the test's resolver knows: a connection to it can only have
        // come from that resolver's answer.
        let url = format!("http://rebind.caravan.test:{port}/hook");

        // Only an internal address: no connection, and the refusal says why.
        let client = delivery_client(fixed(&["127.0.0.1"], false), Duration::from_secs(2)).unwrap();
        let error = client.post(&url).send().await.unwrap_err();
        let refusal = refusal_of(&error).expect("the resolver's refusal is the cause");
        assert!(matches!(refusal, Refusal::Internal { .. }), "{refusal}");
        assert_eq!(accepted.load(Ordering::SeqCst), 0);

        // A public and an internal address (the internal one first, so a client that
        // ignored the filter would reach it at once): only the public one is tried.
        let client = delivery_client(
            fixed(&["127.0.0.1", "8.8.8.8"], false),
            Duration::from_millis(800),
        )
        .unwrap();
        assert!(client.post(&url).send().await.is_err());
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            0,
            "127.0.0.1 was never tried"
        );

        // The same client with internal addresses allowed (development) does connect:
        // the connection follows this resolver, not the system's.
        let client = delivery_client(fixed(&["127.0.0.1"], true), Duration::from_secs(2)).unwrap();
        let answered = client.post(&url).send().await.unwrap();
        assert_eq!(answered.status(), 204);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (target, followed) = local_server("HTTP/1.1 204 No Content\r\n\r\n").await;
        let redirect: &'static str = Box::leak(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{target}/\r\ncontent-length: 0\r\n\r\n"
            )
            .into_boxed_str(),
        );
        let (port, _) = local_server(redirect).await;
        let client = delivery_client(fixed(&["127.0.0.1"], true), Duration::from_secs(2)).unwrap();
        let answered = client
            .post(format!("http://hook.caravan.test:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status(), 307);
        assert_eq!(followed.load(Ordering::SeqCst), 0);
    }
}

//! Page grants: the calls the web tier makes to render one page are not counted
//! against the visitor a second time. When the gateway passes a page request to
//! the web tier (and has counted it), it attaches a grant — the visitor's address
//! and a deadline, signed with a key of this gateway process — which the web tier
//! hands back on the API calls behind that page. A call that comes from a trusted
//! proxy, names the same visitor and carries a valid, unexpired grant is not
//! counted again. Anything else (no grant, another address, an expired or forged
//! grant, a grant signed by another replica) is counted as usual. Grants never
//! reach the browser.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The header that carries a grant, to the web tier and back.
pub const GRANT_HEADER: &str = "caravan-page-grant";

/// How long the calls behind one page may take.
const LIFETIME_SECS: u64 = 30;

/// Signs and checks page grants with a key of this process.
pub struct Grants {
    key: hmac::Key,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

impl Grants {
    /// Grants signed with a new random key.
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        }
    }

    fn tag(&self, deadline: u64, client: IpAddr) -> String {
        let signed = hmac::sign(&self.key, format!("{deadline}|{client}").as_bytes());
        URL_SAFE_NO_PAD.encode(signed.as_ref())
    }

    /// A grant for the page `client` asked for.
    pub fn issue(&self, client: IpAddr) -> String {
        let deadline = now() + LIFETIME_SECS;
        format!("{deadline}.{}", self.tag(deadline, client))
    }

    /// Whether `grant` was issued by this gateway for `client` and is still valid.
    pub fn valid(&self, grant: &str, client: IpAddr) -> bool {
        let Some((deadline, tag)) = grant.split_once('.') else {
            return false;
        };
        let Ok(deadline) = deadline.parse::<u64>() else {
            return false;
        };
        if deadline < now() || deadline > now() + LIFETIME_SECS {
            return false;
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        hmac::verify(&self.key, format!("{deadline}|{client}").as_bytes(), &tag).is_ok()
    }
}

impl Default for Grants {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_for_one_visitor_and_one_gateway() {
        let grants = Grants::new();
        let buyer: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        let grant = grants.issue(buyer);
        assert!(grants.valid(&grant, buyer));
        assert!(!grants.valid(&grant, other));
        assert!(!Grants::new().valid(&grant, buyer));
        let (deadline, tag) = grant.split_once('.').unwrap();
        let later = deadline.parse::<u64>().unwrap() + 1;
        assert!(!grants.valid(&format!("{later}.{tag}"), buyer));
        assert!(!grants.valid("garbage", buyer));
        assert!(!grants.valid(&format!("{}.{tag}", now() - 1), buyer));
    }
}

//! Webhooks: a shop's endpoints receive the events it subscribed to, signed with the
//! endpoint's secret, retried with backoff, disabled after a day of failures.

pub mod delivery;
pub mod sender;
pub mod store;

use aws_lc_rs::hmac;
use caravan_shared::FieldError;
use std::net::{IpAddr, ToSocketAddrs};

/// Event types a webhook may subscribe to (`*` for all).
pub const EVENT_TYPES: &[&str] = &[
    "*",
    "tenant.updated",
    "tenant.plan_changed",
    "tenant.suspended",
    "tenant.reinstated",
    "tenant.closed",
    "user.invited",
    "membership.added",
    "product.created",
    "product.updated",
    "product.archived",
    "stock.changed",
    "stock.low",
    "order.created",
    "order.paid",
    "order.cancelled",
    "order.fulfilled",
    "order.refunded",
    "order.expired",
];

/// Whether an address is one a webhook must never reach: loopback, private,
/// link-local, unspecified, multicast, or unique-local.
pub fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
                || v4.octets()[0] == 0
                || v4.octets()[0] >= 240
                || v4.octets()[..3] == [192, 0, 0]
                || v4.octets()[0] == 198 && (18..20).contains(&v4.octets()[1])
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
                // NAT64 and 6to4 carry an IPv4 address inside.
                || v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || v6.segments()[0] == 0x2002
        }
    }
}

/// Checks a webhook URL: HTTPS, and a host that does not resolve to an internal
/// address (SSRF). `allow_internal` (a development setting) admits plain HTTP and
/// internal addresses, for local receivers.
pub fn check_url(raw: &str, allow_internal: bool) -> Result<reqwest::Url, FieldError> {
    let refuse = |message: &str| FieldError::new("url", message);
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| refuse("is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_internal => {}
        _ => return Err(refuse("must be an https:// URL")),
    }
    if raw.len() > 2000 || !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must be at most 2000 characters, without credentials",
        ));
    }
    let host = url.host_str().ok_or_else(|| refuse("has no host"))?;
    let is_address = host.starts_with('[') || host.parse::<IpAddr>().is_ok();
    if !is_address && !caravan_shared::domain::web_address::is_host_name(host) {
        return Err(refuse(
            "must name a host of letters, digits, hyphens and dots",
        ));
    }
    if allow_internal {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|_| refuse("does not resolve"))?
        .map(|address| address.ip())
        .collect();
    if addresses.is_empty() || addresses.iter().any(|address| is_internal(*address)) {
        return Err(refuse(
            "resolves to a private, loopback or link-local address",
        ));
    }
    Ok(url)
}

/// The signature header's value: `v1=` and the hex HMAC-SHA256 of
/// `"{timestamp}.{body}"` keyed with the endpoint's secret.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    let tag = context.sign();
    let hex: String = tag
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("v1={hex}")
}

/// A new endpoint secret.
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Waits before each retry, in multiples of the base delay (30 s by default):
/// 30 s, 1 min, 5 min, 15 min, 30 min, 1 h, 2 h — eight tries over about four hours.
pub const RETRY_MULTIPLES: &[u32] = &[1, 2, 10, 30, 60, 120, 240];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "198.18.0.1",
            "240.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("http://example.cn/hook", false).is_err());
        assert!(check_url("https://127.0.0.1/hook", false).is_err());
        assert!(check_url("https://[::1]/hook", false).is_err());
        assert!(check_url("https://localhost/hook", false).is_err());
        assert!(check_url("https://user:pw@8.8.8.8/hook", false).is_err());
        assert!(check_url("https://8.8.8.8/hook", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("https://erp.kashgar-logistics.cn/hook", true).is_ok());
        for odd_host in [
            "https://erp.kashgar*.cn/hook",
            "https://e(r)p.kashgar.cn/hook",
            "https://-erp.kashgar.cn/hook",
            "https://erp..kashgar.cn/hook",
        ] {
            assert!(check_url(odd_host, true).is_err(), "{odd_host}");
        }
    }

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let a = signature("whsec_x", 1_700_000_000, b"{}");
        assert!(a.starts_with("v1=") && a.len() == 67);
        assert_ne!(a, signature("whsec_x", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("whsec_y", 1_700_000_000, b"{}"));
    }
}

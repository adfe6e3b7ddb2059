//! Webhooks: a shop's endpoints receive the events it subscribed to, signed with the
//! endpoint's secret, retried with backoff, disabled after a day of failures. Their
//! rows are reached through `store::webhooks`.

pub mod delivery;
pub mod destination;
pub mod sender;

use aws_lc_rs::hmac;
use caravan_shared::FieldError;
use caravan_shared::secrets;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    "group.opened",
    "group.joined",
    "group.formed",
    "group.failed",
    "order.preordered",
    "preorder.harvested",
    "preorder.called_off",
];

/// Whether an address is one a webhook must never reach: anything not globally
/// routable. IPv4: this network (0/8), private (10/8, 172.16/12, 192.168/16), shared
/// (100.64/10), loopback (127/8), link-local (169.254/16, cloud metadata included),
/// protocol assignments (192.0.0/24), documentation, 6to4 relays (192.88.99/24),
/// benchmarking (198.18/15), multicast, reserved and broadcast (224/3). IPv6:
/// everything outside global unicast (2000::/3), such as ::1, ::, fc00::/7, fe80::/10,
/// fec0::/10 and ff00::/8, except that IPv4-mapped, -compatible, -translated and
/// NAT64 (64:ff9b::/96) addresses are judged by the IPv4 address inside; within
/// 2000::/3, 6to4 (2002::/16), Teredo (2001::/32), benchmarking, ORCHID and
/// documentation.
pub fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            a == 0
                || a == 10
                || a == 127
                || a >= 224
                || (a == 100 && (64..128).contains(&b))
                || (a == 169 && b == 254)
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168)
                || (a == 198 && (18..20).contains(&b))
                || [a, b, c] == [192, 0, 0]
                || [a, b, c] == [192, 0, 2]
                || [a, b, c] == [192, 88, 99]
                || [a, b, c] == [198, 51, 100]
                || [a, b, c] == [203, 0, 113]
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            (s[0] & 0xe000) != 0x2000
                || s[0] == 0x2002
                || s[..2] == [0x2001, 0]
                || s[..3] == [0x2001, 2, 0]
                || (s[0] == 0x2001 && matches!(s[1] & 0xfff0, 0x10 | 0x20))
                || s[..2] == [0x2001, 0xdb8]
        }
    }
}

/// The IPv4 address an IPv6 address stands for: mapped (::ffff:a.b.c.d), compatible
/// (::a.b.c.d, but not :: or ::1), translated (::ffff:0:a.b.c.d) or NAT64
/// (64:ff9b::a.b.c.d).
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    match s[..6] {
        [0, 0, 0, 0, 0, 0] if u32::from(tail) > 1 => Some(tail),
        [0, 0, 0, 0, 0xffff, 0] | [0, 0, 0, 0, 0, 0xffff] | [0x64, 0xff9b, 0, 0, 0, 0] => {
            Some(tail)
        }
        _ => None,
    }
}

/// Checks a webhook URL as written: HTTPS, no credentials, a host name or an
/// address, and no internal address written out (in any spelling: `2130706433`,
/// `0x7f.1` and `017700000001` are all 127.0.0.1 once parsed). Host names are
/// judged by their addresses: see [`check_destination`] and [`destination`].
/// `allow_internal` (a development setting) admits plain HTTP and internal addresses,
/// for local receivers.
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
    // The parser has already turned every spelling of an IPv4 address into dotted
    // decimal, and IPv6 addresses come in brackets: anything else is a name.
    let Ok(address) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        if caravan_shared::domain::web_address::is_host_name(host) {
            return Ok(url);
        }
        return Err(refuse(
            "must name a host of letters, digits, hyphens and dots",
        ));
    };
    if !allow_internal && is_internal(address) {
        return Err(FieldError::new(
            "url",
            format!("names the internal address {address}; webhooks reach public addresses only"),
        ));
    }
    Ok(url)
}

/// Checks a webhook URL for registration: [`check_url`], then its host name must not
/// resolve to an internal address (one that does not resolve yet passes). Each
/// delivery checks again, as it connects.
pub async fn check_destination(
    raw: &str,
    resolver: &destination::GuardedResolver,
) -> Result<reqwest::Url, FieldError> {
    let url = check_url(raw, resolver.allows_internal())?;
    let host = url.host_str().unwrap_or_default();
    if !host.starts_with('[') && host.parse::<IpAddr>().is_err() {
        resolver
            .check_registration(host)
            .await
            .map_err(|refusal| FieldError::new("url", refusal.to_string()))?;
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
    format!("v1={}", secrets::hex(context.sign().as_ref()))
}

/// A new endpoint secret.
pub fn new_secret() -> String {
    format!("whsec_{}", secrets::random_token(24))
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
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd00::1",
            "ff02::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::127.0.0.1",
            "64:ff9b:1::a00:1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "2001:10::1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2001:4860:4860::8888",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("http://example.cn/hook", false).is_err());
        assert!(check_url("https://127.0.0.1/hook", false).is_err());
        assert!(check_url("https://[::1]/hook", false).is_err());
        assert!(check_url("https://user:pw@8.8.8.8/hook", false).is_err());
        assert!(check_url("https://8.8.8.8/hook", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("https://erp.kashgar-logistics.cn/hook", true).is_ok());
        // Every spelling of an address is the address.
        for spelt in [
            "https://2130706433/",
            "https://0x7f.1/",
            "https://017700000001/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://0/",
            "https://[::ffff:7f00:1]/",
            "https://[0:0:0:0:0:ffff:127.0.0.1]/",
        ] {
            let refused = check_url(spelt, false).unwrap_err();
            assert!(
                refused.message.contains("internal address"),
                "{spelt}: {refused:?}"
            );
        }
        for odd_host in [
            "https://erp.kashgar*.cn/hook",
            "https://e(r)p.kashgar.cn/hook",
            "https://-erp.kashgar.cn/hook",
            "https://erp..kashgar.cn/hook",
        ] {
            assert!(check_url(odd_host, true).is_err(), "{odd_host}");
        }
    }

    #[tokio::test]
    async fn registration_resolves_host_names() {
        let resolver = destination::GuardedResolver::system(false);
        let refused = check_destination("https://localhost/hook", &resolver)
            .await
            .unwrap_err();
        assert_eq!(refused.field, "url");
        assert!(refused.message.contains("127.0.0.1"), "{refused:?}");
        assert!(
            check_destination("https://8.8.8.8/hook", &resolver)
                .await
                .is_ok()
        );
        let development = destination::GuardedResolver::system(true);
        assert!(
            check_destination("http://localhost:9000/hook", &development)
                .await
                .is_ok()
        );
    }

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let a = signature("whsec_x", 1_700_000_000, b"{}");
        assert!(a.starts_with("v1=") && a.len() == 67);
        assert_ne!(a, signature("whsec_x", 1_700_000_001, b"{}"));
        assert_ne!(a, signature("whsec_y", 1_700_000_000, b"{}"));
    }
}

//! Public web addresses a shop gives (a logo, a product photo): HTTPS, a host name of
//! letters, digits and hyphens, and printable ASCII after it. The request schemas
//! state the same with the pattern
//! `^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?$`.

/// Whether `raw` is an `https://` address with a host name (dotted labels of letters,
/// digits and inner hyphens, ending in a label of letters), an optional port, and
/// printable ASCII without spaces after it.
pub fn is_https_url(raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix("https://") else {
        return false;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    let labels_ok = host.contains('.')
        && is_host_name(host)
        && host
            .rsplit('.')
            .next()
            .is_some_and(|top| top.len() >= 2 && top.bytes().all(|b| b.is_ascii_alphabetic()));
    let tail_ok = tail.bytes().all(|b| (b'!'..=b'~').contains(&b));
    port_ok && labels_ok && tail_ok
}

/// Whether `host` is a host name: dotted labels of ASCII letters, digits and inner
/// hyphens.
pub fn is_host_name(host: &str) -> bool {
    host.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::is_https_url;

    #[test]
    fn https_addresses_with_a_host_name_are_taken() {
        for good in [
            "https://cdn.zhongning-goji.cn/goji-500g.jpg",
            "https://img.example.com:8443/a/b?c=d#e",
            "https://xn--fiqs8s.cn",
        ] {
            assert!(is_https_url(good), "{good}");
        }
        for bad in [
            "http://cdn.example.cn/a.jpg",
            "https://",
            "https://localhost/a.jpg",
            "https://[::1]/a.jpg",
            "https://10.0.0.1/a.jpg",
            "https://cdn.exa mple.cn/a.jpg",
            "https://cdn.example.cn/a b.jpg",
            "https://-cdn.example.cn/",
            "https://cdn..example.cn/",
            "https://cdn.example.cn:port/",
            "https://cdn.example.c0/",
        ] {
            assert!(!is_https_url(bad), "{bad}");
        }
    }
}

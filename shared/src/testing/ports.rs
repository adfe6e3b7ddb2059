//! Ports bound before the servers that serve on them start.

use std::net::TcpListener;

/// Listeners bound ahead of the services that will serve on them, by address.
static RESERVED: std::sync::Mutex<Vec<TcpListener>> = std::sync::Mutex::new(Vec::new());

/// A port bound now and held for a service of this test process that must know its
/// address before it starts (an auth service issuing the tokens it verifies, two
/// services that call each other): started with `BIND=127.0.0.1:<port>`, the
/// service serves on this very listener, so no other process can take the port in
/// between.
pub fn reserve_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|error| panic!("no port to bind on 127.0.0.1: {error}"));
    let port = listener.local_addr().map_or(0, |address| address.port());
    RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(listener);
    port
}

/// `count` consecutive ports, all bound now and held like [`reserve_port`]'s, for
/// servers whose addresses follow from the first (the platform: the gateway on it,
/// the services and the web faces on the next five); answers the first. Each
/// server started with `BIND=127.0.0.1:<port>` serves on its reserved listener, so
/// no other process can take a port between choosing the range and serving on it.
pub fn reserve_ports(count: u16) -> u16 {
    const ATTEMPTS: usize = 1_000;
    for _ in 0..ATTEMPTS {
        // The first port from the system, the others next to it if they are free;
        // otherwise all are released and another first port is tried.
        let Ok(first) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(base) = first.local_addr().map(|address| address.port()) else {
            continue;
        };
        let rest: std::io::Result<Vec<TcpListener>> = (1..count)
            .map(|offset| {
                let port = base.checked_add(offset).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "past 65535")
                })?;
                TcpListener::bind(("127.0.0.1", port))
            })
            .collect();
        if let Ok(rest) = rest {
            let mut reserved = RESERVED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            reserved.push(first);
            reserved.extend(rest);
            return base;
        }
    }
    panic!("no {count} consecutive free ports on 127.0.0.1 in {ATTEMPTS} attempts")
}

/// The listener [`reserve_port`] or [`reserve_ports`] holds for `address`, handed to
/// the server that binds it.
pub(crate) fn take_reserved(address: std::net::SocketAddr) -> Option<TcpListener> {
    let mut reserved = RESERVED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let found = reserved
        .iter()
        .position(|listener| listener.local_addr().is_ok_and(|bound| bound == address))?;
    Some(reserved.swap_remove(found))
}

/// A port that was free a moment ago, for a server in another process (a Redis or
/// S3 server of a test's own), which binds it itself.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_consecutive_held_and_handed_out_once() {
        let base = reserve_ports(6);
        for offset in 0..6 {
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], base + offset));
            assert!(TcpListener::bind(address).is_err(), "{address} is held");
            let listener = take_reserved(address).expect("reserved");
            assert_eq!(listener.local_addr().unwrap(), address);
            assert!(
                take_reserved(address).is_none(),
                "{address} handed out twice"
            );
        }
    }

    #[test]
    fn a_server_binding_its_own_address_takes_the_reserved_listener() {
        let base = reserve_ports(2);
        let bind = format!("127.0.0.1:{}", base + 1);
        let listener = crate::service::reserved_listener(&bind).expect("reserved");
        assert_eq!(listener.local_addr().unwrap().port(), base + 1);
        assert!(crate::service::reserved_listener("localhost:1").is_none());
        drop(take_reserved(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            base,
        ))));
    }
}

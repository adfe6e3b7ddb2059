#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
#![allow(dead_code)] // each test binary uses part of the harness
//! A gateway in front of a recording upstream, over real HTTP, with rate limits in
//! the real Redis and bearer tokens verified against a real JWKS.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use caravan_gateway::limits::{Limits, WINDOW_SECS};
use caravan_gateway::{GatewaySettings, Upstreams, build};
use caravan_shared::http::TrustedProxies;
use caravan_shared::testing::{TEST_AUDIENCE, TEST_ISSUER, TestKeys};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Setup {
    pub base: String,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub keys: TestKeys,
}

impl Setup {
    pub fn reached(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn last(&self) -> Seen {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
}

/// Starts a recording upstream (every path answers 200 `{}`) and a gateway in front of
/// it, early enough in a one-minute window that a test's requests fall in one window.
pub async fn start(limits: Limits, redis_url: String, trusted_proxies: &str) -> Setup {
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % WINDOW_SECS;
    if into_window > WINDOW_SECS - 5 {
        tokio::time::sleep(std::time::Duration::from_secs(
            WINDOW_SECS - into_window + 1,
        ))
        .await;
    }
    let keys = TestKeys::start().await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let record = record.clone();
        App::new().default_service(web::to(move |request: HttpRequest| {
            record.lock().unwrap().push(Seen {
                path: request.uri().path().to_owned(),
                headers: request
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect(),
            });
            async { HttpResponse::Ok().json(serde_json::json!({})) }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let gateway = build(GatewaySettings {
        bind: "127.0.0.1:0".to_owned(),
        upstreams: Upstreams {
            // Tokens are checked against the test keys' JWKS, as against the auth
            // service's; every path still lands on the recording upstream.
            auth: keys.auth_url.clone(),
            tenant: upstream.clone(),
            catalog: upstream.clone(),
            web: upstream.clone(),
            order: upstream,
        },
        redis_url,
        redis_prefix: format!("gateway-test-{}", uuid::Uuid::now_v7()),
        trusted_proxies: trusted_proxies.parse::<TrustedProxies>().unwrap(),
        jwt_issuer: TEST_ISSUER.to_owned(),
        jwt_audience: TEST_AUDIENCE.to_owned(),
        limits,
        upstream_timeout: caravan_gateway::DEFAULT_UPSTREAM_TIMEOUT,
    })
    .unwrap();
    let base = format!("http://127.0.0.1:{}", gateway.port);
    let port = gateway.port;
    tokio::spawn(gateway.server);
    Setup {
        base,
        port,
        seen,
        keys,
    }
}

/// Sends a request line exactly as written (HTTP clients normalise paths, which is
/// the very thing under test) and answers the status code.
pub async fn raw_status(port: u16, method: &str, target: &str, headers: &[(&str, &str)]) -> u16 {
    let method = method.to_owned();
    let target = target.to_owned();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut request =
            format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        text.split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    })
    .await
    .unwrap()
}

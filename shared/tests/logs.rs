#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Logs are JSON lines, and every line written while handling a request names its
//! request id, and once the caller is known, the tenant and the principal.

mod common;

use caravan_shared::identity::Role;
use common::spawn_notes;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines_of(&self, request_id: &str) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("every line is JSON"))
            .filter(|line| {
                line["spans"]
                    .as_array()
                    .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == request_id))
            })
            .collect()
    }
}

#[tokio::test]
async fn every_line_of_a_request_names_request_tenant_and_principal() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(caravan_shared::telemetry::json_layer(captured.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = spawn_notes(&[]).await;
    let shop = uuid::Uuid::now_v7();
    let token = app.keys.member(shop, Role::Staff, &[]);
    let response = app
        .client
        .get(app.url("/v1/notes/staff"))
        .header("x-request-id", "log-check-1")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let failed = app
        .client
        .get(app.url("/v1/notes/broken"))
        .header("x-request-id", "log-check-2")
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);
    // The access line is written as the response leaves; give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let lines = captured.lines_of("log-check-1");
    // Lines from before the token was checked cannot name the caller; from then on,
    // every line does.
    let from_caller = lines
        .iter()
        .skip_while(|line| line["message"] != "request answered")
        .collect::<Vec<_>>();
    assert!(
        !from_caller.is_empty(),
        "no access line for the request: {lines:?}"
    );
    for line in from_caller {
        let request = line["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|span| span["name"] == "request")
            .unwrap();
        assert_eq!(request["tenant_id"], shop.to_string(), "{line}");
        assert!(
            request["principal"].as_str().unwrap().starts_with("staff:"),
            "{line}"
        );
    }

    let error_lines = captured.lines_of("log-check-2");
    assert!(
        error_lines.iter().any(|line| line["level"] == "ERROR"
            && line["error.message"]
                .as_str()
                .unwrap_or("")
                .contains("secret_internal_table")),
        "the cause of a 500 is logged with the request id: {error_lines:?}"
    );
}

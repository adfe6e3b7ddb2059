//! The SMTP sink's messages (MailDev's REST API), for reading invitation links.

use anyhow::{Context, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The newest `token=` in a message to `recipient`, waiting up to 30 s for it.
pub async fn token_for(maildev: &str, recipient: &str, after: usize) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mine = messages_to(maildev, recipient).await?;
        if mine.len() > after
            && let Some(token) = mine.last().and_then(|text| token_in(text))
        {
            return Ok(token);
        }
        if Instant::now() > deadline {
            bail!("no email with a link reached {recipient} at the SMTP sink ({maildev})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The bodies of messages to `recipient`, oldest first.
pub async fn messages_to(maildev: &str, recipient: &str) -> anyhow::Result<Vec<String>> {
    let all: Vec<Value> = reqwest::get(format!("{maildev}/api/email"))
        .await
        .with_context(|| format!("the SMTP sink's API is not reachable at {maildev}"))?
        .json()
        .await?;
    Ok(all
        .iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|to| to["address"].as_str() == Some(recipient))
        })
        .map(|mail| mail["text"].as_str().unwrap_or_default().to_owned())
        .collect())
}

fn token_in(text: &str) -> Option<String> {
    let start = text.find("token=")? + "token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

//! The mail tests read back from the SMTP sink.

/// The SMTP sink's REST API (`TEST_MAILDEV_URL`, default MailDev on port 1080).
pub fn maildev_url() -> String {
    std::env::var("TEST_MAILDEV_URL").unwrap_or_else(|_| "http://127.0.0.1:1080".to_owned())
}

/// A message as the SMTP sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

impl ReceivedMail {
    /// The first `token=` value in the body (links in verification, reset and
    /// invitation mail carry one).
    pub fn token(&self) -> Option<String> {
        let start = self.text.find("token=")? + "token=".len();
        let token: String = self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

/// The messages to `recipient` the SMTP sink has received so far, oldest first.
pub async fn mail_to(recipient: &str) -> anyhow::Result<Vec<ReceivedMail>> {
    let all: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!("{}/api/email", maildev_url()))
        .send()
        .await?
        .json()
        .await?;
    Ok(all
        .iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(mail["envelope"]["to"].as_array().into_iter().flatten())
                .any(|to| to["address"].as_str() == Some(recipient))
        })
        .map(|mail| ReceivedMail {
            subject: mail["subject"].as_str().unwrap_or_default().to_owned(),
            text: mail["text"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Waits (up to 15 s) for `count` messages to `recipient` at the SMTP sink and
/// answers them, oldest first.
pub async fn wait_for_mail(recipient: &str, count: usize) -> anyhow::Result<Vec<ReceivedMail>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mine = mail_to(recipient).await?;
        if mine.len() >= count {
            return Ok(mine);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("{} of {count} messages to {recipient} arrived", mine.len());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

//! Background workers that drain a queue table: woken by a PostgreSQL `NOTIFY` when
//! work is queued, and by a timer for work that falls due later (retries). Replicas
//! share the queue through `FOR UPDATE SKIP LOCKED` in the work itself.

use std::future::Future;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Where a worker listens and how long it sleeps when nothing wakes it.
#[derive(Debug, Clone)]
pub struct Wakeup {
    /// What the worker does, for its log lines (`mail sender`, `webhook sender`).
    pub name: &'static str,
    /// The database whose notifications wake it.
    pub database_url: String,
    /// The `NOTIFY` channel.
    pub channel: &'static str,
    /// The longest it sleeps between rounds.
    pub idle: Duration,
}

/// Runs `work` in the background until it answers that it found nothing to do,
/// then waits for a notification or `idle`, and again, for ever. `work` answers
/// whether it did something. A lost connection or a failed round is logged and the
/// worker starts over a second later.
pub fn spawn<W, F>(wakeup: Wakeup, work: W) -> JoinHandle<()>
where
    W: Fn() -> F + Send + Sync + 'static,
    F: Future<Output = anyhow::Result<bool>> + Send,
{
    tokio::spawn(async move {
        loop {
            if let Err(error) = rounds(&wakeup, &work).await {
                tracing::warn!(worker = wakeup.name, error = %format!("{error:#}"), "worker interrupted");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

async fn rounds<W, F>(wakeup: &Wakeup, work: &W) -> anyhow::Result<()>
where
    W: Fn() -> F,
    F: Future<Output = anyhow::Result<bool>>,
{
    let mut listener = crate::db::listener(&wakeup.database_url).await?;
    listener.listen(wakeup.channel).await?;
    loop {
        while work().await? {}
        tokio::select! {
            notification = listener.recv() => { notification?; }
            () = tokio::time::sleep(wakeup.idle) => {}
        }
    }
}

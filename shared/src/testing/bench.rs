//! Helpers for the benchmark programs.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The value after `--name` on the command line, or `default`.
pub fn argument(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Runs `call` from `concurrency` tasks for `seconds`; prints rate and latencies.
pub async fn load<F, Fut>(
    label: &str,
    seconds: u64,
    concurrency: u64,
    call: F,
) -> anyhow::Result<()>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < until {
                let at = Instant::now();
                call().await?;
                mine.push(at.elapsed());
            }
            latencies.lock().await.extend(mine);
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = latencies.lock().await.clone();
    sorted.sort();
    println!(
        "{label:<44} {:>9.0} /s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} in {elapsed:.1} s, concurrency {concurrency})",
        sorted.len() as f64 / elapsed,
        percentile_ms(&sorted, 0.5),
        percentile_ms(&sorted, 0.99),
        sorted.len()
    );
    Ok(())
}

/// The `p` quantile (0 to 1) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

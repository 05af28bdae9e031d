//! Notifications: a bounded queue and one sender task posting to a Discord webhook.
//!
//! [`Notifier::send`] never blocks and never fails a job: when the queue is full the message is
//! dropped and logged. Without a webhook the messages are only logged. The last messages are
//! kept in memory (tests and the demo read them).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How many recent messages are kept in memory.
const HISTORY: usize = 500;

/// Sends notifications; cheap to clone.
#[derive(Clone, Debug)]
pub struct Notifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: Option<mpsc::Sender<String>>,
    dropped: AtomicU64,
    history: Mutex<VecDeque<String>>,
    echo: bool,
}

impl Notifier {
    /// A notifier with a sender task when `webhook` is set (and non-empty).
    pub fn start(
        webhook: Option<SecretString>,
        queue_size: usize,
        user_agent: &str,
    ) -> (Notifier, Option<JoinHandle<()>>) {
        let webhook = webhook.filter(|w| !w.expose_secret().trim().is_empty());
        let (tx, task) = match webhook {
            Some(url) => {
                let (tx, rx) = mpsc::channel(queue_size.max(1));
                let client = reqwest::Client::builder()
                    .user_agent(user_agent.to_string())
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap_or_default();
                (Some(tx), Some(tokio::spawn(sender(rx, client, url))))
            }
            None => (None, None),
        };
        (
            Notifier {
                inner: Arc::new(Inner {
                    tx,
                    dropped: AtomicU64::new(0),
                    history: Mutex::new(VecDeque::new()),
                    echo: false,
                }),
            },
            task,
        )
    }

    /// Logs (and records) only; no webhook.
    pub fn disabled() -> Notifier {
        Self::start(None, 1, "skim").0
    }

    /// Records and prints every message to stdout as it is sent (the demo).
    pub fn echoing() -> Notifier {
        Notifier {
            inner: Arc::new(Inner {
                tx: None,
                dropped: AtomicU64::new(0),
                history: Mutex::new(VecDeque::new()),
                echo: true,
            }),
        }
    }

    /// Queues a message; never blocks.
    pub fn send(&self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!(target: "skimd::notify", "notify: {}", text.replace('\n', " | "));
        if self.inner.echo {
            println!("  📣 {}", text.replace('\n', "\n     "));
        }
        if let Ok(mut h) = self.inner.history.lock() {
            if h.len() >= HISTORY {
                h.pop_front();
            }
            h.push_back(text.clone());
        }
        if let Some(tx) = &self.inner.tx {
            if let Err(e) = tx.try_send(text) {
                let n = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    dropped_total = n,
                    "notification dropped: {}",
                    match e {
                        mpsc::error::TrySendError::Full(_) => "queue full",
                        mpsc::error::TrySendError::Closed(_) => "sender stopped",
                    }
                );
            }
        }
    }

    /// Messages sent so far (most recent last, at most 500).
    pub fn history(&self) -> Vec<String> {
        self.inner
            .history
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

/// The one task that posts to Discord, in order. Errors are logged without the URL.
async fn sender(mut rx: mpsc::Receiver<String>, client: reqwest::Client, url: SecretString) {
    while let Some(text) = rx.recv().await {
        // Discord caps content at 2000 characters.
        let content: String = text.chars().take(1900).collect();
        for attempt in 0..3u32 {
            let res = client
                .post(url.expose_secret())
                .json(&serde_json::json!({ "content": content }))
                .send()
                .await;
            match res {
                Ok(r) if r.status().is_success() => break,
                Ok(r) if r.status().as_u16() == 429 => {
                    let wait = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<f64>().ok())
                        .unwrap_or(2.0)
                        .clamp(0.5, 30.0);
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
                Ok(r) => {
                    tracing::warn!(
                        status = r.status().as_u16(),
                        attempt,
                        "discord webhook refused a notification"
                    );
                    break;
                }
                Err(e) => {
                    // reqwest errors can carry the URL: strip it.
                    tracing::warn!(attempt, "discord webhook unreachable: {}", e.without_url());
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_drops_instead_of_blocking() {
        // A webhook nobody answers (port 9 discard, or refused): the queue fills, send never blocks.
        let (n, task) = Notifier::start(
            Some(SecretString::from("http://127.0.0.1:9/hook")),
            2,
            "skim-test",
        );
        for i in 0..50 {
            n.send(format!("message {i}"));
        }
        assert!(n.dropped() > 0);
        assert_eq!(n.history().len(), 50);
        if let Some(t) = task {
            t.abort();
        }
    }
}

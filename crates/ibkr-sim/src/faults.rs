//! [`Faults`]: failures injected on purpose, one at a time, and session events.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::lock;
use crate::server::Shared;

/// One injected failure, used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status and body instead of handling the request.
    Status(u16, String),
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection without an answer; the request is not handled.
    DropConnection,
    /// Handle the request (an order POST reaches the broker), then close without an answer.
    DropAfterProcessing,
    /// Handle the request (an order POST reaches the broker), then wait this long before
    /// answering: a test can kill the client while the answer is on its way.
    DelayAfterProcessing(Duration),
}

/// Queues of faults per path prefix.
#[derive(Debug, Default)]
pub(crate) struct FaultQueues {
    queues: Vec<(String, VecDeque<Fault>)>,
}

impl FaultQueues {
    fn push(&mut self, prefix: &str, fault: Fault, n: usize) {
        let prefix = normalise_prefix(prefix);
        let idx = match self.queues.iter().position(|(p, _)| *p == prefix) {
            Some(i) => i,
            None => {
                self.queues.push((prefix, VecDeque::new()));
                self.queues.len() - 1
            }
        };
        if let Some((_, q)) = self.queues.get_mut(idx) {
            q.extend(std::iter::repeat_n(fault, n));
        }
    }

    /// Takes the next fault of the longest prefix of `api_path` with one queued.
    pub fn take(&mut self, api_path: &str) -> Option<Fault> {
        self.queues
            .iter_mut()
            .filter(|(p, q)| api_path.starts_with(p.as_str()) && !q.is_empty())
            .max_by_key(|(p, _)| p.len())
            .and_then(|(_, q)| q.pop_front())
    }
}

/// Prefixes may be given with or without the `/v1/api` base.
fn normalise_prefix(prefix: &str) -> String {
    let p = prefix.strip_prefix("/v1/api").unwrap_or(prefix);
    if p.starts_with('/') {
        p.to_owned()
    } else {
        format!("/{p}")
    }
}

/// Handle for injecting failures; cheap to clone.
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    /// Queues one fault for the next request whose path (after `/v1/api`) starts with
    /// `path_prefix`. The longest matching prefix wins.
    pub fn push(&self, path_prefix: &str, fault: Fault) {
        self.push_n(path_prefix, fault, 1);
    }

    /// Queues the same fault for the next `n` matching requests.
    pub fn push_n(&self, path_prefix: &str, fault: Fault, n: usize) {
        lock(&self.shared.faults).push(path_prefix, fault, n);
    }

    /// Every live session token issued so far becomes invalid: 401 until a new handshake.
    pub fn revoke_token(&self) {
        lock(&self.shared.auth).revoke_all();
    }

    /// Every live session token issued so far expires now.
    pub fn expire_token_now(&self) {
        lock(&self.shared.auth).expire_all();
    }

    /// Another platform logs in with the same user (status reports `competing: true`, and
    /// `/iserver` answers "no bridge"), until `ssodh/init` with `compete: true`.
    pub fn set_competing(&self, competing: bool) {
        lock(&self.shared.session).competing = competing;
    }

    /// The brokerage session is lost: `/iserver` answers 400 "no bridge" until `ssodh/init`.
    pub fn drop_bridge(&self) {
        lock(&self.shared.session).drop_bridge();
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

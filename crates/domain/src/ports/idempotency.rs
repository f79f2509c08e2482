use super::Actor;
use crate::{NewAuditEntry, RepoError};

/// What [`IdempotencyRepo::begin`] found for a key.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyBegin {
    /// First use of the key: go ahead, then [`IdempotencyRepo::complete`].
    Started,
    /// The key was used with the same request and finished: answer this again.
    Completed {
        /// The stored HTTP status.
        status: u16,
        /// The stored JSON body.
        body: serde_json::Value,
    },
    /// The key's first request is still running.
    InProgress,
    /// The key's first request stopped midway (it claimed the key longer ago than the stale
    /// time and never finished): this request takes the key over, and places the stored plan
    /// again, if there is one.
    Resumed {
        /// The orders the first request was about to place, when it got that far.
        plan: Option<serde_json::Value>,
    },
    /// The key was used with a different request body.
    Mismatch,
}

/// Idempotency keys of trading actions, per tenant and route.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdempotencyRepo: Send + Sync {
    /// Claims `key` for `scope` with the request's hash, or reports its earlier use. An
    /// unfinished claim older than `stale_after` is taken over ([`IdempotencyBegin::Resumed`]).
    fn begin(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        request_hash: &str,
        stale_after: std::time::Duration,
    ) -> Result<IdempotencyBegin, RepoError>;
    /// Stores the orders the claimed request is about to place.
    fn record_plan(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        plan: &serde_json::Value,
    ) -> Result<(), RepoError>;

    /// Stores the answer and appends the audit row, in one transaction.
    fn complete(
        &self,
        actor: &Actor,
        scope: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
        audit: &NewAuditEntry,
    ) -> Result<(), RepoError>;

    /// Releases a claimed key whose request failed before anything was placed.
    fn release(&self, actor: &Actor, scope: &str, key: &str) -> Result<(), RepoError>;
}

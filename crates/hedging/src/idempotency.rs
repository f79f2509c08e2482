//! Idempotency of trading actions, as a protocol of its own (after zero-to-production's
//! `idempotency` module): **claim** the key with the request's hash, **run** the action,
//! **save** the answer with the audit row in one transaction, or **replay** the saved answer
//! when the same key comes again with the same request.
//!
//! - same key, same request, finished: the first answer again, nothing placed;
//! - same key, another request: a conflict;
//! - same key while the first request still runs: a conflict;
//! - the action failed before placing anything: the key is released for a retry.

use alphapulse_domain::{
    ports::{Actor, IdempotencyBegin, IdempotencyRepo},
    NewAuditEntry, OrderRequest, RepoError, ValidationError,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A client's `Idempotency-Key`: 1 to 200 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Most characters in a key.
    pub const MAX_LEN: usize = 200;

    /// Parses a key (surrounding spaces trimmed).
    ///
    /// # Errors
    /// Empty, too long, or characters other than visible ASCII.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let key = text.trim();
        if key.is_empty() || key.len() > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ValidationError::new(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 (hex) of a canonical request, stored with the key.
pub fn request_hash(canonical: &Value) -> String {
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// No key was sent: run without the protocol.
    None,
    /// The key is ours now: run, then [`save`].
    Claimed(IdempotencyKey),
    /// The key's first attempt stopped midway and is ours now: place its stored plan again
    /// (when it got that far), then [`save`].
    Resumed {
        /// The key.
        key: IdempotencyKey,
        /// The stored orders.
        plan: Option<Value>,
    },
    /// The key finished before with this request: answer this.
    Replay {
        /// The saved status.
        status: u16,
        /// The saved body.
        body: Value,
    },
}

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key's first request is still running.
    #[error("A request with this Idempotency-Key is still in progress")]
    InProgress,
    /// The key was used with another request body.
    #[error("Idempotency-Key was already used with a different request body")]
    Mismatch,
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl Claim {
    /// The key this request holds, if any.
    fn key(&self) -> Option<&IdempotencyKey> {
        match self {
            Claim::Claimed(key) | Claim::Resumed { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The orders a resumed attempt must place again.
    ///
    /// # Errors
    /// A stored plan that does not read back (written by another version).
    pub fn stored_plan(&self) -> Result<Option<Vec<OrderRequest>>, RepoError> {
        match self {
            Claim::Resumed {
                plan: Some(plan), ..
            } => serde_json::from_value(plan.clone())
                .map(Some)
                .map_err(|e| RepoError::Internal(format!("stored plan unreadable: {e}"))),
            _ => Ok(None),
        }
    }
}

/// Claims `key` for `scope` and the request `hash`; an unfinished claim older than
/// `stale_after` is taken over.
///
/// # Errors
/// [`KeyError::InProgress`], [`KeyError::Mismatch`], storage failures.
pub fn claim(
    repo: &dyn IdempotencyRepo,
    actor: &Actor,
    scope: &str,
    key: Option<IdempotencyKey>,
    hash: &str,
    stale_after: std::time::Duration,
) -> Result<Claim, KeyError> {
    let Some(key) = key else {
        return Ok(Claim::None);
    };
    match repo.begin(actor, scope, key.as_str(), hash, stale_after)? {
        IdempotencyBegin::Started => Ok(Claim::Claimed(key)),
        IdempotencyBegin::Resumed { plan } => Ok(Claim::Resumed { key, plan }),
        IdempotencyBegin::Completed { status, body } => Ok(Claim::Replay { status, body }),
        IdempotencyBegin::InProgress => Err(KeyError::InProgress),
        IdempotencyBegin::Mismatch => Err(KeyError::Mismatch),
    }
}

/// Saves the answer of a claimed key with its audit row (one transaction), or appends the
/// audit row alone when no key was sent.
///
/// # Errors
/// Storage failures.
pub fn save(
    repo: &dyn IdempotencyRepo,
    audit: &dyn alphapulse_domain::ports::AuditRepo,
    actor: &Actor,
    scope: &str,
    claim: &Claim,
    body: &Value,
    entry: NewAuditEntry,
) -> Result<(), RepoError> {
    match claim.key() {
        Some(key) => repo.complete(actor, scope, key.as_str(), 200, body, &entry),
        None => audit.append(entry).map(drop),
    }
}

/// Stores the orders a claimed request is about to place (nothing without a key).
///
/// # Errors
/// Storage failures.
pub fn record_plan(
    repo: &dyn IdempotencyRepo,
    actor: &Actor,
    scope: &str,
    claim: &Claim,
    orders: &[OrderRequest],
) -> Result<(), RepoError> {
    let Some(key) = claim.key() else {
        return Ok(());
    };
    let plan = serde_json::to_value(orders)
        .map_err(|e| RepoError::Internal(format!("serialising the plan: {e}")))?;
    repo.record_plan(actor, scope, key.as_str(), &plan)
}

/// Releases a claimed key whose action failed before anything was placed (best effort: a
/// key left behind only makes the retry answer "in progress").
pub fn release(repo: &dyn IdempotencyRepo, actor: &Actor, scope: &str, claim: &Claim) {
    // A fresh claim only: a resumed one keeps its row (and plan) for the next retry.
    if let Claim::Claimed(key) = claim {
        if let Err(err) = repo.release(actor, scope, key.as_str()) {
            tracing::warn!(scope, error = %err, "idempotency key not released");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(IdempotencyKey::parse(" abc-1 ").unwrap().as_str(), "abc-1");
        for bad in ["", "   ", "with space", "é", &"k".repeat(201)] {
            assert_eq!(
                IdempotencyKey::parse(bad).unwrap_err().field,
                "Idempotency-Key",
                "{bad:?}"
            );
        }
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_canonical_text() {
        // sha256("{}") = 44136fa3...
        assert_eq!(
            request_hash(&serde_json::json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}

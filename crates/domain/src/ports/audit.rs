use super::Actor;
use crate::{AuditEntry, AuditId, NewAuditEntry, Page, PageRequest, RepoError};

/// The append-only audit log.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait AuditRepo: Send + Sync {
    /// Appends an entry in its own transaction, scoped to `entry.tenant_id`.
    fn append(&self, entry: NewAuditEntry) -> Result<AuditId, RepoError>;

    /// A page of the tenant's entries, newest first.
    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<AuditEntry>, RepoError>;
}

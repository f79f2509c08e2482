use chrono::NaiveDate;

use crate::{RepoError, TenantId};

/// API calls per tenant and UTC day, shared by every server process (the daily quota).
/// Platform operations: one call covers many tenants.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait UsageRepo: Send + Sync {
    /// Adds each tenant's calls of `day` and returns each tenant's total of that day, every
    /// process's calls included.
    ///
    /// # Errors
    /// Storage failures.
    fn add_calls(
        &self,
        day: NaiveDate,
        calls: &[(TenantId, u64)],
    ) -> Result<Vec<(TenantId, u64)>, RepoError>;

    /// The tenant's total of `day` (0 when none).
    ///
    /// # Errors
    /// Storage failures.
    fn total(&self, day: NaiveDate, tenant: TenantId) -> Result<u64, RepoError>;
}

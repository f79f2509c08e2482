use super::{Actor, BoxFuture};
use crate::{
    AuditNote, NewTenant, Page, PageRequest, RepoError, Slug, Tenant, TenantId, TenantPatch,
    TenantStatus, UserId,
};

/// [`TenantRepo::own_nonblocking`]'s answer.
pub type OwnTenantFuture = BoxFuture<'static, Result<Tenant, RepoError>>;

/// Filters of the tenant list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantFilter {
    /// Only tenants in this state.
    pub status: Option<TenantStatus>,
    /// Only these tenants (staff see their assigned tenants); `None` = all.
    pub ids: Option<Vec<TenantId>>,
    /// Leave out the platform's own tenant ([`PLATFORM_SLUG`](crate::tenant::PLATFORM_SLUG),
    /// the home of the owner and staff): it is no trading firm, so firm lists (the console,
    /// the per-firm jobs) skip it, while tenant administration still lists it.
    pub firms_only: bool,
}

/// Platform administration of tenants. These calls bypass row-level security (they run as
/// the platform role): only platform code paths (owner/staff routes, the CLI) may use them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TenantRepo: Send + Sync {
    /// Creates a tenant and appends `audit` (target `tenant:<id>`, under the new tenant) in the
    /// same transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the slug is taken.
    fn create(&self, new: NewTenant, audit: &AuditNote) -> Result<Tenant, RepoError>;

    /// The tenant with this id.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when it does not exist.
    fn get(&self, id: TenantId) -> Result<Tenant, RepoError>;

    /// The actor's own tenant, read in the tenant's scope (its self-read policy, not the
    /// platform role) without blocking a thread, when this repository can serve it so (an
    /// async connection on the request path); `None`: call [`TenantRepo::get`] on a blocking
    /// thread.
    fn own_nonblocking(&self, _actor: &Actor) -> Option<OwnTenantFuture> {
        None
    }

    /// The tenant with this slug, if any.
    fn find_by_slug(&self, slug: &Slug) -> Result<Option<Tenant>, RepoError>;

    /// A page of tenants ordered by creation (then id).
    fn list(&self, filter: &TenantFilter, page: &PageRequest) -> Result<Page<Tenant>, RepoError>;

    /// Applies a partial update (and bumps `updated_at`), appending `audit` (target
    /// `tenant:<id>`, under that tenant) in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when it does not exist.
    fn update(
        &self,
        id: TenantId,
        patch: TenantPatch,
        audit: &AuditNote,
    ) -> Result<Tenant, RepoError>;

    /// The tenants a platform `staff` user is assigned to.
    fn assigned_tenants(&self, staff: UserId) -> Result<Vec<TenantId>, RepoError>;

    /// Assigns a platform `staff` user to a tenant (idempotent).
    fn assign_staff(&self, staff: UserId, tenant: TenantId) -> Result<(), RepoError>;
}

/// Calls `each` with every active firm (the platform's own tenant left out), page by page
/// (the background jobs' walk over all firms). Stops at the first listing failure; what `each` does with a tenant is its own
/// business.
///
/// # Errors
/// Listing a page failed.
pub fn for_each_active_tenant(
    tenants: &dyn TenantRepo,
    mut each: impl FnMut(&Tenant),
) -> Result<(), RepoError> {
    let filter = TenantFilter {
        status: Some(TenantStatus::Active),
        ids: None,
        firms_only: true,
    };
    let mut cursor = None;
    loop {
        let page = PageRequest::new(Some(crate::page::MAX_LIMIT), cursor)
            .map_err(|e| RepoError::Internal(e.to_string()))?;
        let listed = tenants.list(&filter, &page)?;
        listed.items.iter().for_each(&mut each);
        match listed.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

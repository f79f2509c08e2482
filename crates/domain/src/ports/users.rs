use super::Actor;
use crate::{AuditNote, Email, NewUser, Page, PageRequest, RepoError, User, UserId, UserPatch};

/// What login needs: the user and their stored password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    /// The user.
    pub user: User,
    /// PHC-format password hash.
    pub password_hash: String,
}

/// Users of tenants. Tenant-scoped calls run under row-level security for `actor.tenant_id`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait UserRepo: Send + Sync {
    /// Creates a user in `actor.tenant_id` unless the tenant already has `max_users` users
    /// (checked and inserted in one transaction, so concurrent creates cannot overshoot), and
    /// appends `audit` (target `user:<id>`) in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the e-mail is taken; [`RepoError::LimitReached`] at the limit.
    fn create(
        &self,
        actor: &Actor,
        new: NewUser,
        max_users: i32,
        audit: &AuditNote,
    ) -> Result<User, RepoError>;

    /// A user of `actor.tenant_id`.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent or in another tenant.
    fn get(&self, actor: &Actor, id: UserId) -> Result<User, RepoError>;

    /// A page of the tenant's users, ordered by creation (then id).
    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>, RepoError>;

    /// Applies a partial update, appending `audit` (target `user:<id>`) in the same
    /// transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] when absent or in another tenant.
    fn update(
        &self,
        actor: &Actor,
        id: UserId,
        patch: UserPatch,
        audit: &AuditNote,
    ) -> Result<User, RepoError>;

    /// Platform lookup for login: the user with this e-mail in any tenant, with the hash.
    fn find_credentials(&self, email: &Email) -> Result<Option<Credentials>, RepoError>;

    /// Platform lookup for token checks: the user with this id in any tenant.
    fn find_any_tenant(&self, id: UserId) -> Result<Option<User>, RepoError>;
}

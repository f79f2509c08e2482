use super::Actor;
use crate::RepoError;

/// Held while a trading action runs; dropping it releases the lock.
pub trait TradingGuard: Send {}

/// One trading action per tenant at a time (hedge execute/close), across every server
/// process: so two simultaneous executes cannot both place the full hedge. The second waits
/// for the first (bounded) and then re-reads the positions it changed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TradingLocks: Send + Sync {
    /// Takes the tenant's trading lock for `scope`, waiting a bounded time for another
    /// action to finish.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when another action still holds it after the wait; storage
    /// failures.
    fn acquire(&self, actor: &Actor, scope: &str) -> Result<Box<dyn TradingGuard>, RepoError>;
}

use crate::RepoError;

/// Whether the backing store answers (`GET /ready`).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Readiness: Send + Sync {
    /// A cheap round trip to the store.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] (or another error) when it does not answer.
    fn ping(&self) -> Result<(), RepoError>;
}

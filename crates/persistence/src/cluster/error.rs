//! [`ClusterError`], the failures of the local cluster, and the helpers that build it.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Failures of the local cluster.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// No `initdb`/`pg_ctl`/`postgres` was found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in {searched}; install \
         them (Debian/Ubuntu: `apt-get install postgresql`) or set ALPHAPULSE_DATABASE_URL to \
         use an existing server"
    )]
    BinariesNotFound {
        /// Where we looked.
        searched: String,
    },
    /// Running as root but there is no `postgres` system user to run the server as.
    #[error("running as root needs a `postgres` system user to run PostgreSQL as (install the postgresql package)")]
    NoPostgresUser,
    /// A file-system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A directory the cluster would live in is not safe to use (another owner, a symlink,
    /// writable by others): refused rather than taken over.
    #[error("refusing to use {path} for the cluster: {why}")]
    UnsafeDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A PostgreSQL tool exited with an error.
    #[error("`{command}` failed: {output}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed (tail).
        output: String,
    },
    /// The Citus extension is not installed into the PostgreSQL the binaries belong to.
    #[error(
        "Citus is not installed ({path} is missing): build and install it with \
         `bash ../shared/vendor/citus/build.sh` (as root)"
    )]
    CitusMissing {
        /// Where `citus.so` was looked for.
        path: PathBuf,
    },
    /// Creating the application database failed.
    #[error("could not prepare database {database}: {message}")]
    Database {
        /// The database name.
        database: String,
        /// The cause.
        message: String,
    },
}

pub(super) type Result<T, E = ClusterError> = std::result::Result<T, E>;

/// Maps an I/O error of `what` on `path` to [`ClusterError::Io`].
pub(super) fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ClusterError + 'a {
    move |source| ClusterError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

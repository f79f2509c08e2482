//! A local PostgreSQL cluster run from the machine's own PostgreSQL binaries, for when no
//! database URL is configured (development, demos, tests).
//!
//! Layout under the data dir (`ALPHAPULSE_DATA_DIR`):
//! - `db-password`: the generated superuser password (mode 600);
//! - `cluster.lock`: serialises start-up between processes sharing the data dir;
//! - `pg/`: the cluster root, owned by the user PostgreSQL runs as: `data/` (PGDATA),
//!   `postgres.log`, and the Unix socket.
//!
//! As root, PostgreSQL refuses to run, so every binary runs as the `postgres` system user
//! (through `runuser`). That user must be able to reach the cluster root; when it cannot (a
//! checkout under root's mode-700 home, say), the root moves to
//! `<tmp>/alphapulse-<hash of the data dir>/` (owned by `postgres`, mode 700) and a warning
//! says where.
//!
//! A process that finds the cluster already running connects to it; only the process that
//! started it stops it (on [`LocalCluster::stop`] or drop).
//!
//! Modules, one per step:
//! - `config`: [`ClusterConfig`], what to run;
//! - `binaries`: [`PgBinaries`], finding `initdb`, `pg_ctl` and `postgres`;
//! - `run_as`: running those as the PostgreSQL user when we are root;
//! - `lock`: the start-up lock of the data dir;
//! - `password`: the generated superuser password and other private files;
//! - `root`: the cluster root, and its relocation when the PostgreSQL user cannot reach it;
//! - `local`: [`LocalCluster`], the handle: start, URLs, stop;
//! - `citus`: [`CitusCluster`], a coordinator and workers, each a [`LocalCluster`];
//! - `server`: `initdb`, starting the postmaster, finding a running one;
//! - `database`: creating the application database;
//! - `error`: [`ClusterError`].

mod binaries;
mod citus;
mod config;
mod database;
mod error;
mod local;
mod lock;
mod password;
mod root;
mod run_as;
mod server;

pub use binaries::PgBinaries;
pub use citus::{CitusCluster, CitusConfig, NodeStatus};
pub use config::ClusterConfig;
pub use error::ClusterError;
pub use local::LocalCluster;

/// The superuser PostgreSQL is initialised with.
pub const SUPERUSER: &str = "postgres";

//! [`ClusterConfig`]: where the cluster lives and how it runs.

use std::path::PathBuf;

/// How to find and run the cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The data dir (created if missing).
    pub data_dir: PathBuf,
    /// The application database to create.
    pub database: String,
    /// Where the PostgreSQL binaries are (`None` = search the usual places).
    pub bin_dir: Option<PathBuf>,
    /// Trade durability for speed (`fsync=off`, no sync at initdb): for tests only.
    pub ephemeral: bool,
    /// Extra server settings (`name=value`, passed as `-c`), e.g.
    /// `shared_preload_libraries=citus` for the nodes of a Citus cluster.
    pub settings: Vec<String>,
    /// A libpq password file for the connections the server itself opens (Citus opens
    /// connections to the other nodes): written mode 600 into the cluster root and passed to
    /// the postmaster as `PGPASSFILE`. `None` = none.
    pub pgpass: Option<String>,
    /// The port to start on when it is free (else any free port).
    pub port: Option<u16>,
}

impl ClusterConfig {
    /// A durable cluster in `data_dir` with database `alphapulse`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database: "alphapulse".to_owned(),
            bin_dir: None,
            ephemeral: false,
            settings: Vec::new(),
            pgpass: None,
            port: None,
        }
    }
}

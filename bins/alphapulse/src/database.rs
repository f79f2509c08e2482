//! Where the database is: the configured URL, or the local cluster of the data dir.

use std::path::{Path, PathBuf};

use alphapulse_persistence::{ClusterConfig, Db, LocalCluster, PoolConfig};
use anyhow::{Context, Result};

use crate::cli::GlobalArgs;

/// The owner URL in use, and the local cluster behind it (stopped on drop if we started it).
#[derive(Debug)]
pub struct Database {
    pub url: String,
    cluster: Option<LocalCluster>,
    data_dir: PathBuf,
}

impl Database {
    /// Resolves the database: `ALPHAPULSE_DATABASE_URL`, or starts/reuses the local cluster.
    pub fn open(args: &GlobalArgs) -> Result<Self> {
        if let Some(url) = &args.database_url {
            return Ok(Self {
                url: url.clone(),
                cluster: None,
                data_dir: args.data_dir.clone(),
            });
        }
        let mut config = ClusterConfig::new(&args.data_dir);
        config.bin_dir.clone_from(&args.pg_bin_dir);
        let cluster = LocalCluster::start(&config).with_context(|| {
            format!(
                "starting the local PostgreSQL cluster in {}",
                args.data_dir.display()
            )
        })?;
        Ok(Self {
            url: cluster.url(),
            cluster: Some(cluster),
            data_dir: args.data_dir.clone(),
        })
    }

    /// The data dir when the local cluster is in use (where dev secrets may be generated);
    /// `None` with a configured database URL.
    pub fn local_data_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(|_| self.data_dir.as_path())
    }

    /// A pool over the owner URL, sized for the server.
    pub fn pool(&self, args: &GlobalArgs) -> Result<Db> {
        let mut config = PoolConfig::default();
        if let Some(size) = args.db_pool_size {
            anyhow::ensure!(size > 0, "ALPHAPULSE_DB_POOL_SIZE must be at least 1");
            config.max_size = size;
        }
        Db::connect(&self.url, &config).context("connecting to the database")
    }

    /// A small pool for one-shot commands, so a command run next to `serve` takes few of the
    /// cluster's connections. Connections are opened on demand only (`min_idle` 0): a pool
    /// that keeps idle connections opens replacements on a background thread, and one still
    /// authenticating when the process exits races libpq/OpenSSL's exit-time cleanup (seen
    /// as "could not calculate client proof: OpenSSL failure" and a segfault).
    pub fn command_pool(&self) -> Result<Db> {
        let config = PoolConfig {
            max_size: 2,
            min_idle: Some(0),
            ..PoolConfig::default()
        };
        Db::connect(&self.url, &config).context("connecting to the database")
    }

    /// Stops the local cluster if this process started it.
    pub fn shutdown(mut self) -> Result<()> {
        if let Some(cluster) = self.cluster.as_mut() {
            cluster
                .stop()
                .context("stopping the local PostgreSQL cluster")?;
        }
        Ok(())
    }
}

//! Where the database is: the configured URL, or the local cluster of the data dir.

use anyhow::{Context, Result};
use alphapulse_persistence::{ClusterConfig, Db, LocalCluster, PoolConfig};

use crate::cli::GlobalArgs;

/// The owner URL in use, and the local cluster behind it (stopped on drop if we started it).
#[derive(Debug)]
pub struct Database {
    pub url: String,
    cluster: Option<LocalCluster>,
}

impl Database {
    /// Resolves the database: `ALPHAPULSE_DATABASE_URL`, or starts/reuses the local cluster.
    pub fn open(args: &GlobalArgs) -> Result<Self> {
        if let Some(url) = &args.database_url {
            return Ok(Self {
                url: url.clone(),
                cluster: None,
            });
        }
        let mut config = ClusterConfig::new(&args.data_dir);
        config.bin_dir.clone_from(&args.pg_bin_dir);
        let cluster = LocalCluster::start(&config).with_context(|| {
            format!("starting the local PostgreSQL cluster in {}", args.data_dir.display())
        })?;
        Ok(Self {
            url: cluster.url(),
            cluster: Some(cluster),
        })
    }

    /// A pool over the owner URL.
    pub fn pool(&self, args: &GlobalArgs) -> Result<Db> {
        let mut config = PoolConfig::default();
        if let Some(size) = args.db_pool_size {
            anyhow::ensure!(size > 0, "ALPHAPULSE_DB_POOL_SIZE must be at least 1");
            config.max_size = size;
        }
        Db::connect(&self.url, &config).context("connecting to the database")
    }

    /// Stops the local cluster if this process started it.
    pub fn shutdown(mut self) -> Result<()> {
        if let Some(cluster) = self.cluster.as_mut() {
            cluster.stop().context("stopping the local PostgreSQL cluster")?;
        }
        Ok(())
    }
}

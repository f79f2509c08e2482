//! `alphapulse cluster citus up|down|status`: a local Citus cluster (coordinator + workers on
//! free loopback ports) in `<data dir>/citus`, for development and benchmarks. Point the
//! server at it with `ALPHAPULSE_DATABASE_URL=<the printed URL> alphapulse serve`.

use alphapulse_persistence::{CitusCluster, CitusConfig};
use anyhow::{Context, Result};

use crate::cli::{CitusAction, ClusterAction, GlobalArgs};

pub fn run(global: &GlobalArgs, action: &ClusterAction) -> Result<()> {
    let ClusterAction::Citus { action } = action;
    let mut config = CitusConfig::new(global.data_dir.join("citus"));
    config.bin_dir.clone_from(&global.pg_bin_dir);
    match action {
        CitusAction::Up { workers } => {
            config.workers = usize::from(*workers);
            let cluster = CitusCluster::start(&config).with_context(|| {
                format!(
                    "starting the Citus cluster in {}",
                    config.data_dir.display()
                )
            })?;
            println!("coordinator 127.0.0.1:{}", cluster.coordinator().port());
            for (i, worker) in cluster.workers().iter().enumerate() {
                println!("worker-{} 127.0.0.1:{}", i + 1, worker.port());
            }
            println!("ALPHAPULSE_DATABASE_URL={}", cluster.url());
            cluster.detach();
        }
        CitusAction::Down { workers } => {
            config.workers = usize::from(*workers);
            if !config.data_dir.is_dir() {
                println!("no Citus cluster in {}", config.data_dir.display());
                return Ok(());
            }
            let stopped =
                CitusCluster::stop_running(&config).context("stopping the Citus cluster")?;
            if stopped.is_empty() {
                println!("no node was running");
            }
            for name in stopped {
                println!("stopped {name}");
            }
        }
        CitusAction::Status { workers } => {
            config.workers = usize::from(*workers);
            if !config.data_dir.is_dir() {
                println!("no Citus cluster in {}", config.data_dir.display());
                return Ok(());
            }
            for node in CitusCluster::status(&config).context("reading the Citus cluster")? {
                match node.port {
                    Some(port) => println!("{} running on 127.0.0.1:{port}", node.name),
                    None => println!("{} stopped", node.name),
                }
            }
        }
    }
    Ok(())
}

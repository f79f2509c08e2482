//! The start-up lock: `cluster.lock` in the data dir, held exclusively while a process
//! initialises, finds or starts the cluster, so processes sharing the data dir take turns.

use std::{fs, path::Path};

use fs4::fs_std::FileExt;

use super::error::{io_err, Result};

/// `cluster.lock`, locked until dropped.
#[derive(Debug)]
pub(super) struct StartupLock {
    _file: fs::File,
}

impl StartupLock {
    /// Opens (creating it if needed) `<data_dir>/cluster.lock` and waits for its exclusive lock.
    pub(super) fn acquire(data_dir: &Path) -> Result<Self> {
        let lock_path = data_dir.join("cluster.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("opening", &lock_path))?;
        file.lock_exclusive()
            .map_err(io_err("locking", &lock_path))?;
        Ok(Self { _file: file })
    }
}

//! [`PgBinaries`]: finding the PostgreSQL server binaries on the machine.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use super::error::{ClusterError, Result};

/// The PostgreSQL server binaries to use.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    dir: PathBuf,
}

impl PgBinaries {
    /// Finds `initdb`, `pg_ctl` and `postgres`: `bin_dir` if given, else `pg_config --bindir`,
    /// the newest `/usr/lib/postgresql/*/bin`, `/usr/local/pgsql/bin`, then `PATH`.
    ///
    /// # Errors
    /// [`ClusterError::BinariesNotFound`] naming the places searched.
    pub fn find(bin_dir: Option<&Path>) -> Result<Self> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(dir) = bin_dir {
            candidates.push(dir.to_path_buf());
        } else {
            if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
                if out.status.success() {
                    candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
                }
            }
            let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter_map(|e| {
                            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                            Some((v, e.path().join("bin")))
                        })
                        .collect()
                })
                .unwrap_or_default();
            versions.sort();
            candidates.extend(versions.into_iter().rev().map(|(_, p)| p));
            candidates.push(PathBuf::from("/usr/local/pgsql/bin"));
            if let Some(path) = std::env::var_os("PATH") {
                candidates.extend(std::env::split_paths(&path));
            }
        }
        let found = candidates.iter().find(|dir| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| dir.join(b).is_file())
        });
        match found {
            Some(dir) => Ok(Self { dir: dir.clone() }),
            None => Err(ClusterError::BinariesNotFound {
                searched: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The directory holding the binaries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the tool `name` (`initdb`, `pg_ctl`).
    pub(super) fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

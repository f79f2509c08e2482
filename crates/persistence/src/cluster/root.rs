//! The cluster root: `<data dir>/pg`, owned by the PostgreSQL user, or a relocated root under
//! the temp dir when that user cannot reach the data dir.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use sha2::{Digest, Sha256};

use super::{
    error::{io_err, Result},
    run_as::RunAs,
};

/// Creates `dir` (mode 700) owned by the PostgreSQL user.
fn prepare_owned_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<()> {
    fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
            .map_err(io_err("chown", dir))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err("chmod", dir))?;
    Ok(())
}

/// Whether the PostgreSQL user can enter and write `dir` (every parent must be searchable).
fn reachable_by(user: &RunAs, dir: &Path) -> bool {
    Command::new("runuser")
        .arg("-u")
        .arg(&user.name)
        .args(["--", "test", "-w"])
        .arg(dir)
        .args(["-a", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `<data dir>/pg`, or a relocated root under the temp dir when the PostgreSQL user cannot
/// reach the data dir.
pub(super) fn cluster_root(data_dir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf> {
    let preferred = data_dir.join("pg");
    prepare_owned_dir(&preferred, run_as)?;
    let Some(user) = run_as else {
        return Ok(preferred);
    };
    if reachable_by(user, &preferred) {
        return Ok(preferred);
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let relocated = std::env::temp_dir().join(format!("alphapulse-{hash}"));
    prepare_owned_dir(&relocated, run_as)?;
    tracing::warn!(
        data_dir = %data_dir.display(),
        cluster = %relocated.display(),
        "the postgres user cannot reach the data dir; the cluster lives in the temp dir instead"
    );
    Ok(relocated)
}

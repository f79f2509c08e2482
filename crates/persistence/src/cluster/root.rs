//! The cluster root: `<data dir>/pg`, owned by the PostgreSQL user, or a relocated root under
//! the temp dir when that user cannot reach the data dir.

use std::{
    fs,
    io::ErrorKind,
    os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use sha2::{Digest, Sha256};

use super::{
    error::{io_err, ClusterError, Result},
    run_as::RunAs,
};

/// Creates `dir` (mode 700) for the PostgreSQL user, or checks the one that is there.
///
/// The relocated root lives in the shared temp dir, where anyone may create a path first: so
/// the directory is created with `mkdir` (never through a symlink, failing if the path
/// exists; the temp dir's sticky bit keeps others from replacing it afterwards), and an
/// existing path is used only if it is a real directory (not a symlink), owned by the user
/// the cluster runs as, and not writable by group or others. Anything else is refused.
fn prepare_owned_dir(dir: &Path, run_as: Option<&RunAs>) -> Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
    }
    let owner = run_as.map_or_else(|| nix::unistd::geteuid().as_raw(), |u| u.uid);
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            if let Some(user) = run_as {
                std::os::unix::fs::lchown(dir, Some(user.uid), Some(user.gid))
                    .map_err(io_err("chown", dir))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => check_existing(dir, owner),
        Err(e) => Err(io_err("creating", dir)(e)),
    }
}

fn check_existing(dir: &Path, owner: u32) -> Result<()> {
    let unsafe_dir = |why: String| ClusterError::UnsafeDir {
        path: dir.to_owned(),
        why,
    };
    let meta = fs::symlink_metadata(dir).map_err(io_err("inspecting", dir))?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_dir("it is a symbolic link".to_owned()));
    }
    if !meta.is_dir() {
        return Err(unsafe_dir("it is not a directory".to_owned()));
    }
    if meta.uid() != owner {
        return Err(unsafe_dir(format!(
            "it belongs to uid {}, not to uid {owner} the cluster runs as",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(unsafe_dir(format!(
            "it is writable by group or others (mode {:o})",
            meta.mode() & 0o777
        )));
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
    let hash = hex::encode(&digest[..8]);
    let relocated = std::env::temp_dir().join(format!("alphapulse-{hash}"));
    prepare_owned_dir(&relocated, run_as)?;
    tracing::warn!(
        data_dir = %data_dir.display(),
        cluster = %relocated.display(),
        "the postgres user cannot reach the data dir; the cluster lives in the temp dir instead"
    );
    Ok(relocated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    #[test]
    fn a_fresh_dir_is_created_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("root");
        prepare_owned_dir(&dir, None).unwrap();
        let meta = fs::symlink_metadata(&dir).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o700);
        // Reused as it is on the next start.
        prepare_owned_dir(&dir, None).unwrap();
    }

    #[test]
    fn symlinks_and_shared_dirs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        let link = tmp.path().join("root");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = prepare_owned_dir(&link, None).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");

        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let err = prepare_owned_dir(&shared, None).unwrap_err();
        assert!(
            err.to_string().contains("writable by group or others"),
            "{err}"
        );

        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(prepare_owned_dir(&file, None)
            .unwrap_err()
            .to_string()
            .contains("not a directory"));
    }

    #[test]
    fn a_dir_of_another_owner_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("root");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        let err = check_existing(&dir, me() + 1).unwrap_err();
        assert!(err.to_string().contains("belongs to uid"), "{err}");
        check_existing(&dir, me()).unwrap();
    }
}

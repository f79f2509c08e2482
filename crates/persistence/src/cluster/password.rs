//! The generated superuser password (`<data dir>/db-password`) and the mode-600 files it and
//! `initdb`'s password file are written to.

use std::{fs, io::Write as _, os::unix::fs::OpenOptionsExt, path::Path};

use rand::{distributions::Alphanumeric, Rng};

use super::{
    error::{io_err, Result},
    run_as::RunAs,
};

/// The password stored at `path`, or a new random one written there.
pub(super) fn load_or_create_password(path: &Path) -> Result<String> {
    if let Ok(text) = fs::read_to_string(path) {
        let text = text.trim().to_owned();
        if !text.is_empty() {
            return Ok(text);
        }
    }
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    write_private(path, &password, None)?;
    Ok(password)
}

/// Writes a mode-600 file, owned by `owner` when given.
pub(super) fn write_private(path: &Path, contents: &str, owner: Option<&RunAs>) -> Result<()> {
    let _ = fs::remove_file(path);
    let mut file = fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err("writing", path))?;
    file.write_all(contents.as_bytes())
        .map_err(io_err("writing", path))?;
    if let Some(user) = owner {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .map_err(io_err("chown", path))?;
    }
    Ok(())
}

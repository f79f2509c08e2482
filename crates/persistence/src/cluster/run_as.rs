//! Running the PostgreSQL tools: as the `postgres` system user when we are root (PostgreSQL
//! refuses to run as root), and checking their exit status.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use nix::unistd::{Uid, User};

use super::{
    error::{ClusterError, Result},
    SUPERUSER,
};

/// The system user PostgreSQL runs as when we are root.
#[derive(Debug, Clone)]
pub(super) struct RunAs {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

impl RunAs {
    /// `None` unless we are root; then the `postgres` user.
    pub(super) fn detect() -> Result<Option<Self>> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        let user = User::from_name(SUPERUSER)
            .ok()
            .flatten()
            .ok_or(ClusterError::NoPostgresUser)?;
        Ok(Some(Self {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }))
    }
}

/// A command that runs as the PostgreSQL user when we are root.
pub(super) fn pg_command(run_as: Option<&RunAs>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.arg("-u").arg(&user.name).arg("--").arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Runs `cmd` to completion: its output on success, else [`ClusterError::Command`] with the
/// tail of what it printed.
pub(super) fn run_checked(mut cmd: Command) -> Result<String> {
    let rendered = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ClusterError::Io {
            what: "running",
            path: PathBuf::from(rendered.clone()),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        let tail: String = text
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        Err(ClusterError::Command {
            command: rendered,
            output: tail,
        })
    }
}

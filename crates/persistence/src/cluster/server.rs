//! The postmaster's life: `initdb` on first use, finding a running postmaster of the cluster,
//! and starting one on a free port.

use std::{
    fmt::Write as _,
    fs,
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::Path,
    time::Duration,
};

use super::{
    error::{io_err, ClusterError, Result},
    local::LocalCluster,
    password::write_private,
    run_as::{pg_command, run_checked},
    SUPERUSER,
};

impl LocalCluster {
    /// Creates the cluster in PGDATA with the superuser password.
    pub(super) fn initdb(&self, ephemeral: bool) -> Result<()> {
        // initdb reads the password from a file the PostgreSQL user can read.
        let pwfile = self.root.join("initdb-pwfile");
        write_private(&pwfile, &self.password, self.run_as.as_ref())?;
        let mut cmd = pg_command(self.run_as.as_ref(), &self.binaries.tool("initdb"));
        cmd.arg("-D")
            .arg(self.pgdata())
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C"])
            .args(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        if ephemeral {
            cmd.arg("--no-sync");
        }
        let result = run_checked(cmd);
        let _ = fs::remove_file(&pwfile);
        result?;
        tracing::info!(root = %self.root.display(), "initialised local PostgreSQL cluster");
        Ok(())
    }

    /// The port of a live postmaster of this cluster, from `postmaster.pid`.
    pub(super) fn running_port(&self) -> Option<u16> {
        let text = fs::read_to_string(self.pgdata().join("postmaster.pid")).ok()?;
        let mut lines = text.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let port: u16 = lines.nth(2)?.trim().parse().ok()?;
        let alive = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
            Ok(()) | Err(nix::errno::Errno::EPERM) => true,
            Err(_) => false,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        (alive && TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()).then_some(port)
    }

    /// Starts the postmaster on `self.port` (`pg_ctl start -w`); on failure the error holds
    /// the tail of `postgres.log`.
    pub(super) fn pg_start(&self, ephemeral: bool) -> Result<()> {
        let root = self.root.display().to_string();
        // Unix socket paths are limited to ~107 bytes; skip the socket for deep paths.
        let socket_dir = if root.len() < 80 { root.as_str() } else { "" };
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{socket_dir}' \
             -c max_connections=200 -c shared_buffers=128MB",
            self.port
        );
        if ephemeral {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        for setting in &self.settings {
            // Settings are ours (no quotes or spaces in them); quoted for the postmaster's
            // option parser all the same.
            let _ = write!(options, " -c '{}'", setting.replace('\'', ""));
        }
        let mut cmd = pg_command(self.run_as.as_ref(), &self.binaries.tool("pg_ctl"));
        if let Some(pgpass) = &self.pgpass {
            // libpq ignores a password file that others can read: mode 600, owned by the user
            // the server runs as. `runuser` keeps the environment.
            let path = self.root.join("pgpass");
            write_private(&path, pgpass, self.run_as.as_ref())?;
            cmd.env("PGPASSFILE", &path);
        }
        cmd.arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(self.root.join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            // Own process group: a Ctrl-C in the terminal reaches us, not the postmaster, so
            // we decide when it stops.
            .process_group(0);
        run_checked(cmd).map(|_| ()).map_err(|err| match err {
            ClusterError::Command { command, output } => {
                let log = fs::read_to_string(self.root.join("postgres.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                ClusterError::Command {
                    command,
                    output: format!(
                        "{output}\n--- postgres.log ---\n{}",
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    ),
                }
            }
            other => other,
        })
    }
}

/// A TCP port free on 127.0.0.1 right now.
pub(super) fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(io_err("binding", Path::new("127.0.0.1:0")))?;
    let port = listener
        .local_addr()
        .map_err(io_err("binding", Path::new("127.0.0.1:0")))?
        .port();
    Ok(port)
}

/// Whether `port` can be bound on 127.0.0.1 right now.
pub(super) fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

//! [`LocalCluster`]: the handle of a running cluster (started by us or found running): start,
//! connection URLs, stop.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::{
    binaries::PgBinaries,
    config::ClusterConfig,
    error::{io_err, Result},
    lock::StartupLock,
    password::load_or_create_password,
    root::cluster_root,
    run_as::{pg_command, run_checked, RunAs},
    server::{free_port, port_is_free},
    SUPERUSER,
};

/// A running local cluster (started by us or found running).
#[derive(Debug)]
pub struct LocalCluster {
    pub(super) binaries: PgBinaries,
    pub(super) run_as: Option<RunAs>,
    pub(super) root: PathBuf,
    pub(super) port: u16,
    pub(super) password: String,
    pub(super) database: String,
    pub(super) started_here: bool,
    pub(super) ephemeral: bool,
    pub(super) settings: Vec<String>,
    pub(super) pgpass: Option<String>,
}

impl LocalCluster {
    /// Starts the cluster of `config.data_dir` (running `initdb` on first use), or connects to
    /// it if another process already runs it; then creates the application database.
    ///
    /// # Errors
    /// Missing binaries, file-system or permission problems, or a PostgreSQL tool failing
    /// (its output is in the error).
    pub fn start(config: &ClusterConfig) -> Result<Self> {
        let binaries = PgBinaries::find(config.bin_dir.as_deref())?;
        let run_as = RunAs::detect()?;
        fs::create_dir_all(&config.data_dir).map_err(io_err("creating", &config.data_dir))?;
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(io_err("resolving", &config.data_dir))?;

        let lock = StartupLock::acquire(&data_dir)?;

        let password = load_or_create_password(&data_dir.join("db-password"))?;
        let root = cluster_root(&data_dir, run_as.as_ref())?;
        let mut cluster = Self {
            binaries,
            run_as,
            root,
            port: 0,
            password,
            database: config.database.clone(),
            started_here: false,
            ephemeral: config.ephemeral,
            settings: config.settings.clone(),
            pgpass: config.pgpass.clone(),
        };
        if !cluster.pgdata().join("PG_VERSION").is_file() {
            cluster.initdb(config.ephemeral)?;
        }
        match cluster.running_port() {
            Some(port) => {
                tracing::info!(port, root = %cluster.root.display(), "reusing running local PostgreSQL");
                cluster.port = port;
            }
            None => {
                cluster.port = match config.port {
                    Some(port) if port_is_free(port) => port,
                    _ => free_port()?,
                };
                cluster.pg_start(config.ephemeral)?;
                cluster.started_here = true;
                tracing::info!(port = cluster.port, root = %cluster.root.display(), "started local PostgreSQL");
            }
        }
        drop(lock);
        cluster.ensure_database(&config.database)?;
        Ok(cluster)
    }

    /// The cluster of `config.data_dir` if a postmaster of it is running (a handle that does
    /// not stop it), without initialising or starting anything.
    ///
    /// # Errors
    /// Missing binaries or an unusable data dir.
    pub fn find_running(config: &ClusterConfig) -> Result<Option<Self>> {
        let binaries = PgBinaries::find(config.bin_dir.as_deref())?;
        let run_as = RunAs::detect()?;
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(io_err("resolving", &config.data_dir))?;
        let password = load_or_create_password(&data_dir.join("db-password"))?;
        let root = cluster_root(&data_dir, run_as.as_ref())?;
        let mut cluster = Self {
            binaries,
            run_as,
            root,
            port: 0,
            password,
            database: config.database.clone(),
            started_here: false,
            ephemeral: config.ephemeral,
            settings: config.settings.clone(),
            pgpass: config.pgpass.clone(),
        };
        Ok(cluster.running_port().map(|port| {
            cluster.port = port;
            cluster
        }))
    }

    /// Makes this handle responsible for stopping the cluster (`alphapulse cluster citus
    /// down` stops nodes another process started).
    pub fn take_ownership(&mut self) {
        self.started_here = true;
    }

    /// The owner (superuser) URL of the application database.
    pub fn url(&self) -> String {
        self.database_url(&self.database)
    }

    /// The owner URL of another database of this cluster.
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// The TCP port the cluster listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the cluster lives (differs from `<data dir>/pg` when it had to be relocated).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this process started the cluster (and so will stop it).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Stops the cluster if this process started it; otherwise does nothing.
    ///
    /// # Errors
    /// `pg_ctl stop` failing.
    pub fn stop(&mut self) -> Result<()> {
        if !self.started_here {
            return Ok(());
        }
        self.started_here = false;
        let mut cmd = pg_command(self.run_as.as_ref(), &self.binaries.tool("pg_ctl"));
        cmd.arg("-D")
            .arg(self.pgdata())
            .args(["-m", "fast", "-w", "stop"]);
        run_checked(cmd)?;
        tracing::info!(root = %self.root.display(), "stopped local PostgreSQL");
        Ok(())
    }

    /// Starts the cluster again, on the same port, after [`Self::stop`]: what an operator's
    /// database restart looks like to servers holding the old URL (the resilience tests
    /// stop and restart the database under a running server with it). Does nothing when the
    /// cluster is running because of this handle.
    ///
    /// # Errors
    /// `pg_ctl start` failing (the port taken meanwhile, for instance).
    pub fn start_again(&mut self) -> Result<()> {
        if self.started_here {
            return Ok(());
        }
        self.pg_start(self.ephemeral)?;
        self.started_here = true;
        tracing::info!(port = self.port, root = %self.root.display(), "restarted local PostgreSQL");
        Ok(())
    }

    /// This handle will not stop the cluster (the caller arranges its stop).
    pub fn disown(&mut self) {
        self.started_here = false;
    }

    /// Leaves the cluster running after this handle is dropped (the caller arranges its stop).
    pub fn detach(mut self) {
        self.started_here = false;
    }

    /// The command that stops this cluster, as a shell word list (for watchdogs).
    pub fn stop_command(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(user) = &self.run_as {
            words.extend([
                "runuser".to_owned(),
                "-u".to_owned(),
                user.name.clone(),
                "--".to_owned(),
            ]);
        }
        words.push(self.binaries.tool("pg_ctl").display().to_string());
        words.extend(["-D".to_owned(), self.pgdata().display().to_string()]);
        words.extend(["-m", "fast", "-w", "stop"].map(String::from));
        words
    }

    /// PGDATA: `<root>/data`.
    pub(super) fn pgdata(&self) -> PathBuf {
        self.root.join("data")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            tracing::error!(error = %err, "could not stop local PostgreSQL");
        }
    }
}

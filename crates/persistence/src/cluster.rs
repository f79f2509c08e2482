//! A local PostgreSQL cluster run from the machine's own PostgreSQL binaries, for when no
//! database URL is configured (development, demos, tests).
//!
//! Layout under the data dir (`ALPHAPULSE_DATA_DIR`):
//! - `db-password`: the generated superuser password (mode 600);
//! - `cluster.lock`: serialises start-up between processes sharing the data dir;
//! - `pg/`: the cluster root, owned by the user PostgreSQL runs as: `data/` (PGDATA),
//!   `postgres.log`, and the Unix socket.
//!
//! As root, PostgreSQL refuses to run, so every binary runs as the `postgres` system user
//! (through `runuser`). That user must be able to reach the cluster root; when it cannot (a
//! checkout under root's mode-700 home, say), the root moves to
//! `<tmp>/alphapulse-<hash of the data dir>/` (owned by `postgres`, mode 700) and a warning
//! says where.
//!
//! A process that finds the cluster already running connects to it; only the process that
//! started it stops it (on [`LocalCluster::stop`] or drop).

use std::{
    fs,
    io::Write as _,
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::{
        fs::{OpenOptionsExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use fs4::fs_std::FileExt;
use nix::unistd::{Uid, User};
use rand::{distributions::Alphanumeric, Rng};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The superuser PostgreSQL is initialised with.
pub const SUPERUSER: &str = "postgres";

/// Failures of the local cluster.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// No `initdb`/`pg_ctl`/`postgres` was found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in {searched}; install \
         them (Debian/Ubuntu: `apt-get install postgresql`) or set ALPHAPULSE_DATABASE_URL to \
         use an existing server"
    )]
    BinariesNotFound {
        /// Where we looked.
        searched: String,
    },
    /// Running as root but there is no `postgres` system user to run the server as.
    #[error("running as root needs a `postgres` system user to run PostgreSQL as (install the postgresql package)")]
    NoPostgresUser,
    /// A file-system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A PostgreSQL tool exited with an error.
    #[error("`{command}` failed: {output}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed (tail).
        output: String,
    },
    /// Creating the application database failed.
    #[error("could not prepare database {database}: {message}")]
    Database {
        /// The database name.
        database: String,
        /// The cause.
        message: String,
    },
}

type Result<T, E = ClusterError> = std::result::Result<T, E>;

fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ClusterError + 'a {
    move |source| ClusterError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// How to find and run the cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The data dir (created if missing).
    pub data_dir: PathBuf,
    /// The application database to create.
    pub database: String,
    /// Where the PostgreSQL binaries are (`None` = search the usual places).
    pub bin_dir: Option<PathBuf>,
    /// Trade durability for speed (`fsync=off`, no sync at initdb): for tests only.
    pub ephemeral: bool,
}

impl ClusterConfig {
    /// A durable cluster in `data_dir` with database `alphapulse`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database: "alphapulse".to_owned(),
            bin_dir: None,
            ephemeral: false,
        }
    }
}

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

    fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The system user PostgreSQL runs as when we are root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

impl RunAs {
    fn detect() -> Result<Option<Self>> {
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
fn pg_command(run_as: Option<&RunAs>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.arg("-u").arg(&user.name).arg("--").arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn run_checked(mut cmd: Command) -> Result<String> {
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

/// A running local cluster (started by us or found running).
#[derive(Debug)]
pub struct LocalCluster {
    binaries: PgBinaries,
    run_as: Option<RunAs>,
    root: PathBuf,
    port: u16,
    password: String,
    database: String,
    started_here: bool,
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

        let lock_path = data_dir.join("cluster.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("opening", &lock_path))?;
        lock.lock_exclusive()
            .map_err(io_err("locking", &lock_path))?;

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
                cluster.port = free_port()?;
                cluster.pg_start(config.ephemeral)?;
                cluster.started_here = true;
                tracing::info!(port = cluster.port, root = %cluster.root.display(), "started local PostgreSQL");
            }
        }
        drop(lock);
        cluster.ensure_database(&config.database)?;
        Ok(cluster)
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

    fn pgdata(&self) -> PathBuf {
        self.root.join("data")
    }

    fn initdb(&self, ephemeral: bool) -> Result<()> {
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
    fn running_port(&self) -> Option<u16> {
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

    fn pg_start(&self, ephemeral: bool) -> Result<()> {
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
        let mut cmd = pg_command(self.run_as.as_ref(), &self.binaries.tool("pg_ctl"));
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

    fn ensure_database(&self, database: &str) -> Result<()> {
        use diesel::{Connection, PgConnection, RunQueryDsl};

        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }

        let db_err = |message: String| ClusterError::Database {
            database: database.to_owned(),
            message,
        };
        let mut conn = PgConnection::establish(&self.database_url("postgres"))
            .map_err(|e| db_err(e.to_string()))?;
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(database)
        .get_result(&mut conn)
        .map_err(|e| db_err(e.to_string()))?;
        if !found.exists {
            let ident = database.replace('"', "\"\"");
            match diesel::sql_query(format!("CREATE DATABASE \"{ident}\"")).execute(&mut conn) {
                Ok(_) => {}
                // Another process created it between our check and our create.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("already exists")
                        || info.message().contains("pg_database_datname_index") => {}
                Err(e) => return Err(db_err(e.to_string())),
            }
        }
        Ok(())
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            tracing::error!(error = %err, "could not stop local PostgreSQL");
        }
    }
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(io_err("binding", Path::new("127.0.0.1:0")))?;
    let port = listener
        .local_addr()
        .map_err(io_err("binding", Path::new("127.0.0.1:0")))?
        .port();
    Ok(port)
}

fn load_or_create_password(path: &Path) -> Result<String> {
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
fn write_private(path: &Path, contents: &str, owner: Option<&RunAs>) -> Result<()> {
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
fn cluster_root(data_dir: &Path, run_as: Option<&RunAs>) -> Result<PathBuf> {
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

//! [`CitusCluster`]: a local Citus cluster, a coordinator and N workers, each one a
//! [`LocalCluster`] in its own directory under the data dir (`coordinator/`, `worker-1/`, ...),
//! started with `shared_preload_libraries=citus` on a free loopback port.
//!
//! Authentication between nodes is the same as for clients: scram-sha-256 with passwords. The
//! nodes share the superuser password (`<data dir>/db-password`); the application roles
//! (`alphapulse_tenant`, `alphapulse_platform`) get `LOGIN` and one generated password
//! (`<data dir>/role-password`) on every node, because Citus opens its connections to the
//! workers *as the current role* (after `SET LOCAL ROLE`). Each postmaster gets a libpq
//! password file (`PGPASSFILE`) with those passwords, so the connections Citus opens between
//! nodes authenticate the way a real deployment's would (`.pgpass`), not by `trust`.
//!
//! Citus metadata lives per database: [`CitusCluster::prepare_database`] creates the
//! extension in a database on every node and registers the workers with the coordinator
//! (`citus_set_coordinator_host`, `citus_add_node`; `citus_update_node` when a restarted
//! worker came back on another port).

use std::{
    fs,
    path::{Path, PathBuf},
};

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::{
    config::ClusterConfig,
    error::{io_err, ClusterError, Result},
    local::LocalCluster,
    lock::StartupLock,
    password::load_or_create_password,
    PgBinaries, SUPERUSER,
};
use crate::scope::{PLATFORM_ROLE, TENANT_ROLE};

/// How to run a local Citus cluster.
#[derive(Debug, Clone)]
pub struct CitusConfig {
    /// Where the nodes live (`coordinator/`, `worker-<n>/`); created if missing.
    pub data_dir: PathBuf,
    /// How many workers (at least 1).
    pub workers: usize,
    /// The application database, prepared for Citus on every node.
    pub database: String,
    /// Where the PostgreSQL binaries are (`None` = search the usual places).
    pub bin_dir: Option<PathBuf>,
    /// Trade durability for speed: for tests only.
    pub ephemeral: bool,
}

impl CitusConfig {
    /// A durable cluster of a coordinator and two workers in `data_dir`, database
    /// `alphapulse`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            workers: 2,
            database: "alphapulse".to_owned(),
            bin_dir: None,
            ephemeral: false,
        }
    }
}

/// One node as `status` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// `coordinator` or `worker-<n>`.
    pub name: String,
    /// The port it listens on, when running.
    pub port: Option<u16>,
}

/// A running local Citus cluster (started by us or found running).
#[derive(Debug)]
pub struct CitusCluster {
    coordinator: LocalCluster,
    workers: Vec<LocalCluster>,
    role_password: String,
    database: String,
}

fn node_names(workers: usize) -> Vec<String> {
    std::iter::once("coordinator".to_owned())
        .chain((1..=workers).map(|i| format!("worker-{i}")))
        .collect()
}

fn db_err(database: &str) -> impl Fn(diesel::result::Error) -> ClusterError + '_ {
    move |e| ClusterError::Database {
        database: database.to_owned(),
        message: e.to_string(),
    }
}

impl CitusCluster {
    /// Starts (or finds running) the coordinator and the workers, then prepares the
    /// application database on them.
    ///
    /// # Errors
    /// Citus not installed ([`ClusterError::CitusMissing`]), or any failure of
    /// [`LocalCluster::start`] or of the Citus set-up statements.
    pub fn start(config: &CitusConfig) -> Result<Self> {
        let binaries = PgBinaries::find(config.bin_dir.as_deref())?;
        check_citus_installed(&binaries)?;
        fs::create_dir_all(&config.data_dir).map_err(io_err("creating", &config.data_dir))?;
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(io_err("resolving", &config.data_dir))?;
        let lock = StartupLock::acquire(&data_dir)?;
        let password = load_or_create_password(&data_dir.join("db-password"))?;
        let role_password = load_or_create_password(&data_dir.join("role-password"))?;
        let mut nodes = Vec::new();
        for name in node_names(config.workers.max(1)) {
            let node_config = node_config(config, &data_dir, &name, &password, &role_password)?;
            let node = LocalCluster::start(&node_config)?;
            // The coordinator's metadata names the workers by port: keep each node's port
            // across restarts when it is free.
            let port_file = data_dir.join(&name).join("port");
            fs::write(&port_file, node.port().to_string())
                .map_err(io_err("writing", &port_file))?;
            nodes.push(node);
        }
        drop(lock);
        let coordinator = nodes.remove(0);
        let cluster = Self {
            coordinator,
            workers: nodes,
            role_password,
            database: config.database.clone(),
        };
        cluster.ensure_roles()?;
        cluster.create_database(&config.database)?;
        Ok(cluster)
    }

    /// Which nodes of the cluster in `config.data_dir` run, without starting anything.
    ///
    /// # Errors
    /// Missing binaries or an unusable data dir.
    pub fn status(config: &CitusConfig) -> Result<Vec<NodeStatus>> {
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(io_err("resolving", &config.data_dir))?;
        let mut out = Vec::new();
        for name in node_names(config.workers.max(1)) {
            let mut node = ClusterConfig::new(data_dir.join(&name));
            node.bin_dir.clone_from(&config.bin_dir);
            let port = if data_dir.join(&name).is_dir() {
                LocalCluster::find_running(&node)?.map(|c| {
                    let port = c.port();
                    c.detach();
                    port
                })
            } else {
                None
            };
            out.push(NodeStatus { name, port });
        }
        Ok(out)
    }

    /// Stops every running node of the cluster in `config.data_dir` (workers first),
    /// whichever process started it: what `alphapulse cluster citus down` does.
    ///
    /// # Errors
    /// `pg_ctl stop` failing.
    pub fn stop_running(config: &CitusConfig) -> Result<Vec<String>> {
        let data_dir = config
            .data_dir
            .canonicalize()
            .map_err(io_err("resolving", &config.data_dir))?;
        let mut stopped = Vec::new();
        let mut names = node_names(config.workers.max(1));
        names.rotate_left(1);
        for name in names {
            if !data_dir.join(&name).is_dir() {
                continue;
            }
            let mut node = ClusterConfig::new(data_dir.join(&name));
            node.bin_dir.clone_from(&config.bin_dir);
            if let Some(mut running) = LocalCluster::find_running(&node)? {
                running.take_ownership();
                running.stop()?;
                stopped.push(name);
            }
        }
        Ok(stopped)
    }

    /// Creates `database` on every node and prepares it for Citus (see
    /// [`Self::prepare_database`]).
    ///
    /// # Errors
    /// The database cannot be created or prepared.
    pub fn create_database(&self, database: &str) -> Result<()> {
        for node in self.nodes() {
            node.ensure_database(database)?;
        }
        self.prepare_database(database)
    }

    /// Drops `database` on every node (ignoring nodes where it does not exist).
    ///
    /// # Errors
    /// A node refuses the drop.
    pub fn drop_database(&self, database: &str) -> Result<()> {
        let ident = database.replace('"', "\"\"");
        for node in self.nodes() {
            let mut conn =
                PgConnection::establish(&node.database_url("postgres")).map_err(|e| {
                    ClusterError::Database {
                        database: database.to_owned(),
                        message: e.to_string(),
                    }
                })?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{ident}\" WITH (FORCE)"))
                .execute(&mut conn)
                .map_err(db_err(database))?;
        }
        Ok(())
    }

    /// The `citus` extension in `database` on every node, the coordinator's host set, and
    /// every worker registered with the coordinator (or its port updated).
    ///
    /// # Errors
    /// A set-up statement failing (its message is in the error).
    pub fn prepare_database(&self, database: &str) -> Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Node {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            nodeid: i32,
            #[diesel(sql_type = diesel::sql_types::Integer)]
            nodeport: i32,
        }
        let err = db_err(database);
        for node in self.nodes() {
            let mut conn = self.connect(node, database)?;
            diesel::sql_query("CREATE EXTENSION IF NOT EXISTS citus")
                .execute(&mut conn)
                .map_err(&err)?;
        }
        let mut conn = self.connect(&self.coordinator, database)?;
        let registered: Vec<Node> = diesel::sql_query(
            "SELECT nodeid, nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid",
        )
        .load(&mut conn)
        .map_err(&err)?;
        for (i, worker) in self.workers.iter().enumerate() {
            let port = i32::from(worker.port());
            let sql = match registered.get(i) {
                Some(node) if node.nodeport == port => continue,
                Some(node) => format!(
                    "SELECT citus_update_node({}, '127.0.0.1', {port})",
                    node.nodeid
                ),
                None => format!("SELECT citus_add_node('127.0.0.1', {port})"),
            };
            diesel::sql_query(sql).execute(&mut conn).map_err(&err)?;
        }
        diesel::sql_query(format!(
            "SELECT citus_set_coordinator_host('127.0.0.1', {})",
            self.coordinator.port()
        ))
        .execute(&mut conn)
        .map_err(&err)?;
        Ok(())
    }

    /// The application roles with `LOGIN` and the generated password on every node (created
    /// here when the migrations have not created them yet; the migrations then keep them).
    fn ensure_roles(&self) -> Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        // The password is alphanumeric (generated), so inlining it is safe.
        let password = &self.role_password;
        for node in self.nodes() {
            let mut conn = self.connect(node, "postgres")?;
            let err = db_err("postgres");
            for (role, extra) in [(TENANT_ROLE, ""), (PLATFORM_ROLE, " BYPASSRLS")] {
                let found: Exists = diesel::sql_query(
                    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists",
                )
                .bind::<diesel::sql_types::Text, _>(role)
                .get_result(&mut conn)
                .map_err(&err)?;
                let verb = if found.exists { "ALTER" } else { "CREATE" };
                diesel::sql_query(format!(
                    "{verb} ROLE {role} LOGIN{extra} PASSWORD '{password}'"
                ))
                .execute(&mut conn)
                .map_err(&err)?;
            }
            // What the Citus migration sets too (see its comment), set here on every node
            // once, so that migrations of several databases at a time need not change roles.
            diesel::sql_query(format!(
                "ALTER ROLE {TENANT_ROLE} SET citus.skip_advisory_lock_permission_checks = on"
            ))
            .execute(&mut conn)
            .map_err(&err)?;
        }
        Ok(())
    }

    fn connect(&self, node: &LocalCluster, database: &str) -> Result<PgConnection> {
        PgConnection::establish(&node.database_url(database)).map_err(|e| ClusterError::Database {
            database: database.to_owned(),
            message: e.to_string(),
        })
    }

    fn nodes(&self) -> impl Iterator<Item = &LocalCluster> {
        std::iter::once(&self.coordinator).chain(self.workers.iter())
    }

    /// The owner (superuser) URL of the application database on the coordinator.
    pub fn url(&self) -> String {
        self.coordinator.database_url(&self.database)
    }

    /// The owner URL of another database on the coordinator.
    pub fn database_url(&self, database: &str) -> String {
        self.coordinator.database_url(database)
    }

    /// The coordinator.
    pub fn coordinator(&self) -> &LocalCluster {
        &self.coordinator
    }

    /// The workers, in registration order.
    pub fn workers(&self) -> &[LocalCluster] {
        &self.workers
    }

    /// Whether this process started any node (and so will stop it).
    pub fn started_here(&self) -> bool {
        self.nodes().any(LocalCluster::started_here)
    }

    /// Stops the nodes this process started, workers first.
    ///
    /// # Errors
    /// `pg_ctl stop` failing.
    pub fn stop(&mut self) -> Result<()> {
        for worker in &mut self.workers {
            worker.stop()?;
        }
        self.coordinator.stop()
    }

    /// Keeps the handle (to create and drop databases) but leaves stopping the nodes to
    /// someone else (a watchdog): dropping the handle then stops nothing.
    pub fn disown(&mut self) {
        for node in std::iter::once(&mut self.coordinator).chain(self.workers.iter_mut()) {
            node.disown();
        }
    }

    /// Leaves the nodes running after this handle is dropped.
    pub fn detach(self) {
        let Self {
            coordinator,
            workers,
            ..
        } = self;
        coordinator.detach();
        for worker in workers {
            worker.detach();
        }
    }

    /// The commands that stop every node, workers first (for watchdogs).
    pub fn stop_commands(&self) -> Vec<Vec<String>> {
        self.workers
            .iter()
            .chain(std::iter::once(&self.coordinator))
            .map(LocalCluster::stop_command)
            .collect()
    }
}

fn node_config(
    config: &CitusConfig,
    data_dir: &Path,
    name: &str,
    password: &str,
    role_password: &str,
) -> Result<ClusterConfig> {
    let dir = data_dir.join(name);
    fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
    // Every node gets the cluster's superuser password (initdb reads it from here).
    let node_password = dir.join("db-password");
    let current = fs::read_to_string(&node_password).unwrap_or_default();
    if current.trim() != password {
        super::password::write_private(&node_password, password, None)?;
    }
    let port = fs::read_to_string(dir.join("port"))
        .ok()
        .and_then(|p| p.trim().parse().ok());
    let mut node = ClusterConfig::new(dir);
    node.port = port;
    node.database = "postgres".to_owned();
    node.bin_dir.clone_from(&config.bin_dir);
    node.ephemeral = config.ephemeral;
    node.settings = vec![
        "shared_preload_libraries=citus".to_owned(),
        // Writes to reference tables and multi-node writes commit with two-phase commit.
        "max_prepared_transactions=200".to_owned(),
        // Shard moves (citus_rebalance_start) use logical replication.
        "wal_level=logical".to_owned(),
    ];
    node.pgpass = Some(format!(
        "*:*:*:{SUPERUSER}:{password}\n*:*:*:{TENANT_ROLE}:{role_password}\n\
         *:*:*:{PLATFORM_ROLE}:{role_password}\n"
    ));
    Ok(node)
}

/// Fails with how to install Citus when `citus.so` is not next to the server's libraries.
fn check_citus_installed(binaries: &PgBinaries) -> Result<()> {
    let lib = binaries
        .dir()
        .parent()
        .map(|p| p.join("lib").join("citus.so"))
        .unwrap_or_else(|| PathBuf::from("citus.so"));
    if lib.is_file() {
        Ok(())
    } else {
        Err(ClusterError::CitusMissing { path: lib })
    }
}

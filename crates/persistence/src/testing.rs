//! Test support: one local cluster shared by every test process of a run, and a fresh
//! database per test cloned from a migrated template.
//!
//! - `ALPHAPULSE_TEST_DATABASE_URL` (an owner URL with `CREATEDB`) uses an existing server.
//! - Otherwise the first test process starts a cluster in `<tmp>/alphapulse-test-cluster` and
//!   a detached watchdog. Every test process leaves its pid in `leases/`; once no leased
//!   process has been alive for a few seconds, the watchdog stops the cluster (under the same
//!   file lock that start-up takes, so a process starting meanwhile is never cut off). So a
//!   cluster started by tests never outlives the test run, with `cargo test` and with
//!   `cargo nextest` (a process per test) alike.
//! - `ALPHAPULSE_TEST_CITUS=1`: the tests run against a local Citus cluster (a coordinator
//!   and two workers, [`crate::CitusCluster`]) in `<tmp>/alphapulse-test-citus`, leased and
//!   stopped by a watchdog the same way; without Citus installed the tests fail (they do not
//!   fall back to plain PostgreSQL). A Citus database cannot be cloned from a template (its
//!   shards live on the workers), so each test's database is created on every node, gets the
//!   extension and the workers, and is migrated (with 4 shards per table, to keep it quick).
//! - The template is named after a hash of the migrations, so a changed migration gets a
//!   fresh template; `CREATE DATABASE t_<uuid> TEMPLATE ...` gives each test its own copy, so
//!   tests run in parallel without seeing each other's rows.

use std::{
    fs,
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use diesel::{Connection, PgConnection, RunQueryDsl};
use fs4::fs_std::FileExt;

use crate::{
    cluster::{CitusCluster, CitusConfig, ClusterConfig},
    migrations, Db, LocalCluster, PoolConfig,
};

/// How long the watchdog waits with no live test process before stopping the cluster.
const WATCHDOG_IDLE_SECS: u32 = 5;

struct Server {
    /// URL of the maintenance database (`postgres`), with the same credentials.
    admin_url: String,
    /// Builds the URL of a database by name.
    url_of: Box<dyn Fn(&str) -> String + Send + Sync>,
    /// The Citus cluster, with `ALPHAPULSE_TEST_CITUS=1`.
    citus: Option<CitusCluster>,
}

/// Whether this test run is against Citus (`ALPHAPULSE_TEST_CITUS=1`).
pub fn citus_requested() -> bool {
    std::env::var("ALPHAPULSE_TEST_CITUS").is_ok_and(|v| v == "1")
}

/// The directory of the shared Citus test cluster.
pub fn test_citus_dir() -> PathBuf {
    std::env::temp_dir().join("alphapulse-test-citus")
}

fn lease(dir: &std::path::Path) {
    let leases = dir.join("leases");
    fs::create_dir_all(&leases).unwrap_or_else(|e| panic!("creating {}: {e}", leases.display()));
    fs::write(leases.join(std::process::id().to_string()), b"")
        .unwrap_or_else(|e| panic!("leasing the test cluster: {e}"));
}

fn citus_server() -> Server {
    let dir = test_citus_dir();
    lease(&dir);
    let mut config = CitusConfig::new(&dir);
    config.database = "alphapulse_test".to_owned();
    config.ephemeral = true;
    let mut cluster = CitusCluster::start(&config)
        .unwrap_or_else(|e| panic!("ALPHAPULSE_TEST_CITUS=1 but no Citus test cluster: {e}"));
    if cluster.started_here() {
        spawn_watchdog(&dir, &cluster.stop_commands());
    }
    cluster.disown();
    let admin_url = cluster.database_url("postgres");
    let password_url = cluster.database_url("postgres");
    Server {
        admin_url,
        url_of: Box::new(move |db| replace_database(&password_url, db)),
        citus: Some(cluster),
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static TEMPLATE: OnceLock<String> = OnceLock::new();

fn replace_database(url: &str, database: &str) -> String {
    // postgres://user:pw@host:port/db?params -> swap the path segment.
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// The directory of the shared test cluster.
pub fn test_cluster_dir() -> PathBuf {
    std::env::temp_dir().join("alphapulse-test-cluster")
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("ALPHAPULSE_TEST_DATABASE_URL") {
            let owned = url.clone();
            return Server {
                admin_url: replace_database(&url, "postgres"),
                url_of: Box::new(move |db| replace_database(&owned, db)),
                citus: None,
            };
        }
        if citus_requested() {
            return citus_server();
        }
        let dir = test_cluster_dir();
        let mut config = ClusterConfig::new(&dir);
        config.database = "postgres".to_owned();
        config.ephemeral = true;
        // Lease before starting, so the watchdog cannot stop the cluster between our start
        // and our lease.
        lease(&dir);
        let cluster = LocalCluster::start(&config).unwrap_or_else(|e| panic!("test cluster: {e}"));
        if cluster.started_here() {
            spawn_watchdog(&dir, &[cluster.stop_command()]);
        }
        let admin_url = cluster.database_url("postgres");
        let password_url = cluster.database_url("postgres");
        cluster.detach();
        Server {
            admin_url,
            url_of: Box::new(move |db| replace_database(&password_url, db)),
            citus: None,
        }
    })
}

fn spawn_watchdog(dir: &std::path::Path, stops: &[Vec<String>]) {
    let stop: Vec<String> = stops
        .iter()
        .map(|stop| {
            let words: Vec<String> = stop
                .iter()
                .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
                .collect();
            format!("{} >/dev/null 2>&1", words.join(" "))
        })
        .collect();
    let script = format!(
        r#"cd '{dir}' || exit 1
idle=0
while :; do
  alive=0
  for f in leases/*; do
    [ -e "$f" ] || continue
    if kill -0 "${{f#leases/}}" 2>/dev/null; then alive=1; else rm -f "$f"; fi
  done
  if [ "$alive" = 1 ]; then idle=0; else idle=$((idle+1)); fi
  if [ "$idle" -ge {idle} ]; then
    exec 9>>cluster.lock
    flock 9
    live=0
    for f in leases/*; do [ -e "$f" ] && kill -0 "${{f#leases/}}" 2>/dev/null && live=1; done
    if [ "$live" = 0 ]; then {stop}; exit 0; fi
    flock -u 9
    exec 9>&-
    idle=0
  fi
  sleep 1
done
"#,
        dir = dir.display(),
        idle = WATCHDOG_IDLE_SECS,
        stop = stop.join("; "),
    );
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    if let Err(e) = spawned {
        panic!("could not start the test-cluster watchdog: {e}");
    }
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

fn admin() -> PgConnection {
    PgConnection::establish(&server().admin_url).unwrap_or_else(|e| panic!("test server: {e}"))
}

fn template() -> &'static str {
    TEMPLATE.get_or_init(|| {
        let name = format!("alphapulse_tpl_{}", migrations::MIGRATIONS_HASH);
        let mut conn = admin();
        // Serialise template creation across test processes.
        diesel::sql_query("SELECT pg_advisory_lock(74201)")
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("template lock: {e}"));
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(&name)
        .get_result(&mut conn)
        .unwrap_or_else(|e| panic!("template lookup: {e}"));
        if !found.exists {
            let building = format!("{name}_building");
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut conn);
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("creating template: {e}"));
            {
                let mut tpl = PgConnection::establish(&(server().url_of)(&building))
                    .unwrap_or_else(|e| panic!("template connection: {e}"));
                migrations::run_pending(&mut tpl)
                    .unwrap_or_else(|e| panic!("migrating template: {e}"));
            }
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("renaming template: {e}"));
            diesel::sql_query(format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"))
                .execute(&mut conn)
                .unwrap_or_else(|e| panic!("marking template: {e}"));
        }
        diesel::sql_query("SELECT pg_advisory_unlock(74201)")
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("template unlock: {e}"));
        name
    })
}

/// A fresh, migrated database for one test, dropped when the value is dropped.
pub struct TestDb {
    name: String,
    url: String,
    db: Option<Db>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl TestDb {
    /// A migrated database of its own (from the template).
    ///
    /// # Panics
    /// When no test server can be had: tests cannot run without one.
    pub fn new() -> Self {
        Self::create(true)
    }

    /// An empty database (no migrations applied), for migration tests.
    ///
    /// # Panics
    /// When no test server can be had.
    pub fn empty() -> Self {
        Self::create(false)
    }

    fn create(migrated: bool) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        if let Some(citus) = &server().citus {
            return Self::create_on_citus(citus, name, migrated);
        }
        let sql = if migrated {
            format!("CREATE DATABASE {name} TEMPLATE {}", template())
        } else {
            format!("CREATE DATABASE {name}")
        };
        let mut conn = admin();
        let mut attempt = 0;
        // CREATE DATABASE ... TEMPLATE fails while another session copies the same template;
        // retry briefly rather than serialising every test.
        loop {
            match diesel::sql_query(&sql).execute(&mut conn) {
                Ok(_) => break,
                Err(e) if attempt < 50 && e.to_string().contains("is being accessed") => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("creating test database: {e}"),
            }
        }
        let url = (server().url_of)(&name);
        Self {
            name,
            url,
            db: None,
        }
    }

    fn create_on_citus(citus: &CitusCluster, name: String, migrated: bool) -> Self {
        // One database at a time is created, registered and distributed across the cluster
        // (concurrent metadata syncs and role changes of several databases collide).
        with_file_lock(&test_citus_dir().join("create.lock"), || {
            Self::create_on_citus_locked(citus, name, migrated)
        })
    }

    fn create_on_citus_locked(citus: &CitusCluster, name: String, migrated: bool) -> Self {
        citus
            .create_database(&name)
            .unwrap_or_else(|e| panic!("creating Citus test database: {e}"));
        let url = (server().url_of)(&name);
        let mut conn =
            PgConnection::establish(&url).unwrap_or_else(|e| panic!("test connection: {e}"));
        diesel::sql_query(format!("ALTER DATABASE {name} SET citus.shard_count = 4"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("shard count: {e}"));
        drop(conn);
        if migrated {
            let mut conn =
                PgConnection::establish(&url).unwrap_or_else(|e| panic!("test connection: {e}"));
            migrations::run_pending(&mut conn)
                .unwrap_or_else(|e| panic!("migrating Citus test database: {e}"));
        }
        Self {
            name,
            url,
            db: None,
        }
    }

    /// Whether this database is on a Citus cluster.
    pub fn is_citus(&self) -> bool {
        server().citus.is_some()
    }

    /// The owner URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A small pool over this database (created on first use).
    ///
    /// # Panics
    /// When the pool cannot connect.
    pub fn db(&mut self) -> Db {
        if self.db.is_none() {
            let config = PoolConfig {
                max_size: 4,
                min_idle: Some(1),
                ..PoolConfig::default()
            };
            self.db =
                Some(Db::connect(&self.url, &config).unwrap_or_else(|e| panic!("test pool: {e}")));
        }
        self.db
            .clone()
            .unwrap_or_else(|| unreachable!("pool just created"))
    }

    /// A pool of exactly `max_size` connections over this database.
    ///
    /// # Panics
    /// When the pool cannot connect.
    pub fn pool_of(&self, max_size: u32) -> Db {
        let config = PoolConfig {
            max_size,
            min_idle: Some(max_size),
            ..PoolConfig::default()
        };
        Db::connect(&self.url, &config).unwrap_or_else(|e| panic!("test pool: {e}"))
    }

    /// A direct connection as the owner.
    ///
    /// # Panics
    /// When it cannot connect.
    pub fn connection(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap_or_else(|e| panic!("test connection: {e}"))
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.db = None;
        if let Some(citus) = &server().citus {
            let _ = citus.drop_database(&self.name);
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&server().admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Takes an exclusive lock on a file for the duration of a closure (helper for tests that
/// must not overlap, such as those that start their own clusters).
///
/// # Panics
/// When the lock file cannot be opened.
pub fn with_file_lock<T>(path: &std::path::Path, f: impl FnOnce() -> T) -> T {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    file.lock_exclusive()
        .unwrap_or_else(|e| panic!("lock {}: {e}", path.display()));
    let out = f();
    drop(file);
    out
}

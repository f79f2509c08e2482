//! Spawning and stopping the real binary.

use std::{
    fs,
    net::SocketAddr,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use alphapulse_persistence::cluster::{ClusterConfig, LocalCluster};
use nix::{sys::signal, unistd::Pid};

pub const BIN: &str = env!("CARGO_BIN_EXE_alphapulse");

/// The principal-cache TTL of the servers the tests start (seconds): small, so a suspension
/// shows within about a second instead of the default 30 s.
pub const PRINCIPAL_TTL_SECONDS: u64 = 1;

/// A temporary directory with the given mode (e.g. 0o700 to keep the `postgres` user out).
pub fn temp_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ap-e2e-")
        .tempdir()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// The one `ALPHAPULSE_*` variable passed through: where the PostgreSQL binaries are.
const PASSED_THROUGH: &str = "ALPHAPULSE_PG_BIN_DIR";

/// `alphapulse ARGS` with a clean environment for this data dir: every other `ALPHAPULSE_*`
/// variable of the environment running the tests is removed (configured keys, a database
/// URL, a bind address ... would otherwise change what the binary does, and let a check be
/// skipped), then the data dir and the log level are set.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    command_of(BIN, data_dir, args)
}

/// `<bin> ARGS` (e.g. a release build for benchmarks) with the clean environment of
/// [`command`].
pub fn command_of(bin: &str, data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("ALPHAPULSE_") && text != PASSED_THROUGH {
            cmd.env_remove(&name);
        }
    }
    cmd.env("ALPHAPULSE_DATA_DIR", data_dir)
        .env("ALPHAPULSE_LOG", "info")
        // Several servers run at once: each lets the OS pick its metrics port.
        .env("ALPHAPULSE_METRICS_BIND", "127.0.0.1:0")
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to completion and returns its output (asserting success).
pub fn run_ok(data_dir: &Path, args: &[&str]) -> Output {
    let out = command(data_dir, args).output().unwrap();
    assert!(
        out.status.success(),
        "alphapulse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The stdout of a successful `alphapulse ARGS`.
pub fn stdout(data_dir: &Path, args: &[&str]) -> String {
    String::from_utf8(run_ok(data_dir, args).stdout).unwrap()
}

/// An owner connection to the data dir's database, opened the way the binary opens it
/// (through `alphapulse_persistence`'s local cluster, started for the test if no process of
/// the binary is running it), for reading what the binary wrote. No `psql` needed.
pub struct DataDirDb {
    /// The connection (dropped before the cluster).
    pub conn: diesel::PgConnection,
    /// Stops the cluster on drop if this process started it.
    _cluster: LocalCluster,
}

impl DataDirDb {
    pub fn open(data_dir: &Path) -> Self {
        use diesel::Connection as _;
        let mut config = ClusterConfig::new(data_dir);
        config.bin_dir = std::env::var_os(PASSED_THROUGH).map(PathBuf::from);
        let cluster = LocalCluster::start(&config)
            .unwrap_or_else(|e| panic!("the data dir's cluster does not start: {e}"));
        let conn = diesel::PgConnection::establish(&cluster.url())
            .unwrap_or_else(|e| panic!("connecting to the data dir's database: {e}"));
        Self {
            conn,
            _cluster: cluster,
        }
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The first address of the `AlphaPulse listening addrs=[ADDR, ...]` log line, if logged.
pub fn listening_addr(log: &str) -> Option<SocketAddr> {
    let log = strip_ansi(log);
    let line = log.lines().find(|l| l.contains("AlphaPulse listening"))?;
    let list = line.split("addrs=[").nth(1)?.split(']').next()?;
    let first = list.split(", ").next()?;
    Some(
        first
            .parse()
            .unwrap_or_else(|e| panic!("unparseable listening address {first:?} ({e}): {line}")),
    )
}

/// The address of the `metrics listening addr=ADDR` log line, if logged.
pub fn metrics_addr(log: &str) -> Option<SocketAddr> {
    let log = strip_ansi(log);
    let line = log.lines().find(|l| l.contains("metrics listening"))?;
    let addr = line.split("addr=").nth(1)?.split_whitespace().next()?;
    addr.parse().ok()
}

/// A running `alphapulse serve`, stopped with SIGINT (then SIGKILL) on drop. It binds
/// `127.0.0.1:0` (the OS picks a free port, no release-and-reuse race) and the tests read the
/// bound address from its log.
pub struct Server {
    pub child: Option<Child>,
    pub base: String,
    pub log: PathBuf,
    pub started_in: Duration,
}

impl Server {
    /// `serve EXTRA` with the test principal TTL and the default log level.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[])
    }

    /// `serve EXTRA` with more environment variables (set after the defaults, so they win).
    /// Standard output and standard error both go to the log.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_bin(BIN, data_dir, extra, env)
    }

    /// `serve EXTRA` of a build of the binary (e.g. a release build for benchmarks) with
    /// more environment variables (set after the defaults, so they win; the log level must
    /// stay at `info` or below: the bound address is read from the log).
    pub fn start_bin(bin: &str, data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let log = data_dir.with_extension(format!("serve-{n}.log"));
        let log_file = fs::File::create(&log).unwrap();
        let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let mut cmd = command_of(bin, data_dir, &args);
        cmd.env(
            "ALPHAPULSE_PRINCIPAL_TTL_SECONDS",
            PRINCIPAL_TTL_SECONDS.to_string(),
        );
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = cmd
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let mut server = Self {
            child: Some(child),
            base: String::new(),
            log,
            started_in: Duration::ZERO,
        };
        server.wait_ready(started);
        server
    }

    fn wait_ready(&mut self, started: Instant) {
        let client = reqwest::blocking::Client::new();
        while started.elapsed() < Duration::from_secs(90) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("serve exited early ({status}): {}", self.log_text());
            }
            if self.base.is_empty() {
                if let Some(addr) = listening_addr(&self.log_text()) {
                    assert!(addr.ip().is_loopback(), "bound {addr}, asked 127.0.0.1");
                    assert_ne!(addr.port(), 0, "the logged address is not the bound one");
                    self.base = format!("http://{addr}");
                }
            }
            if !self.base.is_empty() {
                if let Ok(resp) = client.get(format!("{}/ready", self.base)).send() {
                    if resp.status().is_success() {
                        self.started_in = started.elapsed();
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve never became ready: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGINT, then wait for a clean exit.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        signal::kill(Pid::from_raw(child.id() as i32), signal::Signal::SIGINT).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve did not stop on SIGINT: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.interrupt();
        }
        let _ = fs::remove_file(&self.log);
    }
}

#[test]
fn the_listening_address_is_read_from_the_log_with_or_without_colours() {
    let plain = "2025-01-01T00:00:00Z  INFO alphapulse::commands::serve: AlphaPulse listening addrs=[127.0.0.1:41234]\n";
    let coloured = "\u{1b}[2m2025\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2malphapulse::commands::serve\u{1b}[0m\u{1b}[2m:\u{1b}[0m AlphaPulse listening \u{1b}[3maddrs\u{1b}[0m\u{1b}[2m=\u{1b}[0m[127.0.0.1:41234, [::1]:41234]\n";
    for log in [plain, coloured] {
        assert_eq!(
            listening_addr(log),
            Some(SocketAddr::from(([127, 0, 0, 1], 41234))),
            "{log:?}"
        );
    }
    assert_eq!(listening_addr("INFO token settings\n"), None);
}

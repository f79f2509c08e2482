//! Spawning and stopping the real binary.

use std::{
    fs,
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};

pub const BIN: &str = env!("CARGO_BIN_EXE_alphapulse");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temporary directory with the given mode (e.g. 0o700 to keep the `postgres` user out).
pub fn temp_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ap-e2e-")
        .tempdir()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).unwrap();
    dir
}

/// `alphapulse ARGS` with a clean environment for this data dir.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    command_of(BIN, data_dir, args)
}

/// `<bin> ARGS` with a clean environment for this data dir.
pub fn command_of(bin: &str, data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("ALPHAPULSE_DATABASE_URL")
        .env("ALPHAPULSE_DATA_DIR", data_dir)
        .env("ALPHAPULSE_LOG", "info")
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

/// A running `alphapulse serve`, stopped with SIGINT (then SIGKILL) on drop.
pub struct Server {
    pub child: Option<Child>,
    pub base: String,
    pub log: PathBuf,
    pub started_in: Duration,
}

impl Server {
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_bin(BIN, data_dir, extra, &[])
    }

    /// `serve` of a build of the binary (e.g. a release build for benchmarks) with extra
    /// environment variables.
    pub fn start_bin(bin: &str, data_dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let log = data_dir.with_extension(format!("serve-{port}.log"));
        let log_file = fs::File::create(&log).unwrap();
        let mut args = vec!["serve", "--bind", &bind];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let mut cmd = command_of(bin, data_dir, &args);
        cmd.envs(envs.iter().copied());
        let child = cmd.stdout(Stdio::null()).stderr(log_file).spawn().unwrap();
        let mut server = Self {
            child: Some(child),
            base: format!("http://{bind}"),
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
            if let Ok(resp) = client.get(format!("{}/ready", self.base)).send() {
                if resp.status().is_success() {
                    self.started_in = started.elapsed();
                    return;
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

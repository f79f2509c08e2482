//! The local cluster through the binary: starts from nothing, is reused by a second process,
//! stops cleanly on SIGINT, and copes with a data dir the `postgres` user cannot enter.

use std::{
    net::{SocketAddr, TcpStream},
    path::Path,
    time::Duration,
};

use crate::e2e::support::{run_ok, temp_dir, Server};

fn port_of(url: &str) -> u16 {
    let after_at = url.rsplit('@').next().unwrap();
    let host_port = after_at.split('/').next().unwrap();
    host_port.rsplit(':').next().unwrap().parse().unwrap()
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

fn lifecycle(data_dir: &Path) -> String {
    // 1. From nothing: initdb, start, migrate, serve.
    let mut server = Server::start(data_dir, &[]);
    eprintln!("fresh data dir: ready after {:?}", server.started_in);
    let url = String::from_utf8(run_ok(data_dir, &["db", "url"]).stdout).unwrap();
    let url = url.trim().to_owned();
    assert!(url.starts_with("postgres://postgres:"), "{url}");
    let port = port_of(&url);
    assert!(listening(port));

    // 2. A second process reuses the running cluster and leaves it running.
    let status = String::from_utf8(run_ok(data_dir, &["migrate", "status"]).stdout).unwrap();
    assert!(
        status.lines().count() >= 3 && status.lines().all(|l| l.starts_with("[x]")),
        "{status}"
    );
    let again = String::from_utf8(run_ok(data_dir, &["db", "url"]).stdout).unwrap();
    assert_eq!(again.trim(), url, "second process started another cluster");
    let ready = reqwest::blocking::get(format!("{}/ready", server.base)).unwrap();
    assert_eq!(
        ready.status(),
        200,
        "the second process stopped the cluster"
    );

    // 3. SIGINT: the server drains, stops the cluster it started, exits 0.
    let log_before = server.log_text();
    let exit = server.interrupt();
    assert!(exit.success(), "serve exit {exit}: {}", server.log_text());
    assert!(
        !listening(port),
        "cluster still listening after serve stopped"
    );
    assert!(server.log_text().contains("stopped local PostgreSQL"));

    // 4. Restart on the reused data dir.
    let server = Server::start(data_dir, &[]);
    eprintln!("reused data dir: ready after {:?}", server.started_in);
    drop(server);
    log_before
}

#[test]
fn cluster_lifecycle_in_a_reachable_data_dir() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let log = lifecycle(&data_dir);
    assert!(!log.contains("cannot reach the data dir"), "{log}");
    assert!(data_dir.join("pg/data/PG_VERSION").is_file());
}

#[test]
fn cluster_lifecycle_when_postgres_cannot_enter_the_data_dir() {
    // Mode 700, owned by us: as root, the postgres user cannot enter it.
    let parent = temp_dir(0o700);
    let data_dir = parent.path().join("data");
    let log = lifecycle(&data_dir);
    if nix::unistd::Uid::effective().is_root() {
        assert!(
            log.contains("cannot reach the data dir"),
            "no relocation logged: {log}"
        );
        assert!(!data_dir.join("pg/data/PG_VERSION").exists());
    } else {
        // Not root: PostgreSQL runs as us and the directory is ours.
        assert!(data_dir.join("pg/data/PG_VERSION").is_file());
    }
}

#[test]
fn a_clear_error_when_no_postgresql_binaries_exist() {
    let parent = temp_dir(0o755);
    let empty_bin = parent.path().join("no-bin");
    std::fs::create_dir_all(&empty_bin).unwrap();
    let out = crate::e2e::support::command(&parent.path().join("data"), &["db", "url"])
        .env("ALPHAPULSE_PG_BIN_DIR", &empty_bin)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install postgresql"), "{err}");
    assert!(err.contains("ALPHAPULSE_DATABASE_URL"), "{err}");
}

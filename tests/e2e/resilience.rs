//! Resilience: the database goes away under a running server and comes back; the server
//! answers 503 with `Retry-After` meanwhile, serves again without a restart, and an idempotent
//! hedge retry after the outage places its orders once. Graceful shutdown lets an in-flight
//! request finish.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use alphapulse_persistence::cluster::{ClusterConfig, LocalCluster};
use nix::{sys::signal, unistd::Pid};
use reqwest::{blocking::Client, StatusCode};
use serde_json::{json, Value};

use crate::e2e::{
    demo::{login, tenant, user},
    support::{command, temp_dir, Server},
};

const SECRET: &str = "resilience-test-secret-0123456789abcdef";

/// The server's own throw-away cluster: started by the test, so the test can stop it.
fn own_cluster(dir: &std::path::Path) -> LocalCluster {
    LocalCluster::start(&ClusterConfig {
        data_dir: dir.to_owned(),
        database: "alphapulse".to_owned(),
        bin_dir: std::env::var_os("ALPHAPULSE_PG_BIN_DIR").map(Into::into),
        ephemeral: true,
        ..ClusterConfig::new(dir)
    })
    .unwrap()
}

struct Call {
    status: StatusCode,
    retry_after: Option<String>,
    replayed: bool,
    body: Value,
    took: Duration,
}

fn call(client: &Client, req: reqwest::blocking::RequestBuilder) -> Call {
    let started = Instant::now();
    let resp = client
        .execute(req.build().unwrap())
        .expect("the server did not answer (hung or closed)");
    let took = started.elapsed();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Call {
        status: resp.status(),
        retry_after: header("retry-after"),
        replayed: header("idempotent-replayed").as_deref() == Some("true"),
        took,
        body: resp.json().unwrap_or(Value::Null),
    }
}

#[test]
fn a_database_restart_under_a_running_server() {
    let dir = temp_dir(0o755);
    let mut cluster = own_cluster(&dir.path().join("db"));
    let url = cluster.url();
    let env = [
        ("ALPHAPULSE_DATABASE_URL", url.as_str()),
        ("ALPHAPULSE_JWT_SECRET", SECRET),
    ];
    let data_dir = dir.path().join("server");
    let mut server = Server::start_with_env(&data_dir, &[], &env);
    let pid = server.child.as_ref().unwrap().id();
    let seeded = command(&data_dir, &["seed-demo", "--json"])
        .env("ALPHAPULSE_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let demo: Value = serde_json::from_slice(&seeded.stdout).unwrap();
    let acme = tenant(&demo, "acme-capital");

    // A client that would show a hang as an error instead of waiting forever.
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let base = server.base.clone();
    let trader = login(&client, &base, user(acme, "trader"));
    let get = |path: &str| client.get(format!("{base}{path}")).bearer_auth(&trader);
    let execute = |key: &str| {
        client
            .post(format!("{base}/api/v1/hedging/execute"))
            .bearer_auth(&trader)
            .header("Idempotency-Key", key)
            .json(&json!({}))
    };
    assert_eq!(call(&client, get("/api/v1/positions/spot")).status, 200);
    let futures_before = call(&client, get("/api/v1/positions/futures")).body;

    // The database goes away.
    cluster.stop().unwrap();
    let mut outage_times = Vec::new();
    let ready = call(&client, client.get(format!("{base}/ready")));
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        ready.body
    );
    assert!(ready.retry_after.is_some());
    for (what, req) in [
        ("ensembles", get("/api/v1/ensemble")),
        ("spot", get("/api/v1/positions/spot")),
        ("hedge", execute("after-the-outage")),
    ]
    .into_iter()
    .chain((0..30).map(|_| ("spot again", get("/api/v1/positions/spot"))))
    {
        let res = call(&client, req);
        outage_times.push(res.took);
        assert_eq!(
            res.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{what}: {:?}",
            res.body
        );
        assert!(res.retry_after.is_some(), "{what}: no Retry-After");
        let detail = res.body["detail"].as_str().unwrap_or_default();
        assert!(
            !detail.is_empty() && !detail.contains("127.0.0.1"),
            "{what}: {detail}"
        );
    }

    outage_times.sort_unstable();
    eprintln!(
        "{} requests during the outage: median {:?}, max {:?}",
        outage_times.len(),
        outage_times[outage_times.len() / 2],
        outage_times.last().unwrap()
    );
    // Checkouts fail fast instead of each waiting out the pool's timeout (figures above).
    assert!(
        server
            .log_text()
            .contains("database unreachable: failing fast"),
        "{}",
        server.log_text()
    );

    // It comes back on the same address: the same process serves again.
    let restarted = Instant::now();
    cluster.start_again().unwrap();
    let mut ready = call(&client, client.get(format!("{base}/ready")));
    while ready.status != StatusCode::OK && restarted.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        ready = call(&client, client.get(format!("{base}/ready")));
    }
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "not ready again: {:?}",
        ready.body
    );
    eprintln!("ready {:?} after the restart", restarted.elapsed());
    assert_eq!(server.child.as_ref().unwrap().id(), pid);
    assert!(server.log_text().contains("database reachable again"));
    // Every request after readiness succeeds: no stale pooled connection reaches a caller.
    for _ in 0..20 {
        let res = call(&client, get("/api/v1/positions/spot"));
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    }

    // The hedge refused during the outage, retried with its key: placed once, then replayed.
    let first = call(&client, execute("after-the-outage"));
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "executed", "{:?}", first.body);
    assert!(!first.replayed);
    let orders = first.body["orders"].as_array().unwrap().len();
    assert!(orders > 0, "{:?}", first.body);
    let futures_after = call(&client, get("/api/v1/positions/futures")).body;
    assert_ne!(futures_after, futures_before, "the hedge placed nothing");
    let again = call(&client, execute("after-the-outage"));
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.replayed,
        "the retry was not a replay: {:?}",
        again.body
    );
    assert_eq!(again.body, first.body);
    assert_eq!(
        call(&client, get("/api/v1/positions/futures")).body,
        futures_after,
        "the retry placed orders again"
    );

    // Graceful shutdown: a request in flight when SIGTERM arrives still gets its answer. The
    // request is sent in two parts: once the server logs that it started (authorised, its
    // handler waiting for the rest of the body), SIGTERM, then the rest.
    drop(client);
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = json!({"name": "drained", "method": "weighted_average"}).to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    write!(
        stream,
        "POST /api/v1/ensemble/create HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {trader}\r\nx-request-id: in-flight-1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    let waiting = Instant::now();
    while !server
        .log_text()
        .lines()
        .any(|l| l.contains("in-flight-1") && l.contains("started"))
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal::kill(Pid::from_raw(pid as i32), signal::Signal::SIGTERM).unwrap();
    // The rest of the body only once the server has taken the signal and is draining.
    let waiting = Instant::now();
    while !server
        .log_text()
        .contains("stopping: finishing the requests in flight")
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stream.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    if let Err(e) = stream.read_to_string(&mut answer) {
        panic!("in-flight request lost ({e}): {}", server.log_text());
    }
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "{answer:?}: {}",
        server.log_text()
    );
    assert!(answer.contains("ensemble_id"), "{answer}");
    // Draining: the connection is closed after the answer, not kept alive.
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    let mut child = server.child.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "serve exit {status}: {}",
        server.log_text()
    );
    // New connections are refused once it has stopped.
    assert!(TcpStream::connect(addr).is_err());
}

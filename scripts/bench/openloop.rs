//! A tiny open-loop (fixed-rate) HTTP/1.1 load generator for `scripts/bench/run.sh`.
//!
//! Neither `wrk2` nor `oha` is packaged by Debian 12 and `cargo install oha` takes long on a
//! 2-core box, so the harness compiles this std-only file with `rustc -O` (a few seconds).
//!
//! Model (the same as wrk2's): request `i` is *due* at `start + i / rate`. `--connections`
//! threads, each with one keep-alive connection, take the next due request in order, sleep
//! until it is due, send it and read the answer. Latency is measured from the due time, not
//! from the send, so when the server falls behind the waiting time counts (no coordinated
//! omission). Bounded: exactly `rate * duration` requests are due; whatever is not sent by
//! `duration + grace` is reported as `unsent` and counted as an error.
//!
//! Usage:
//!   openloop --addr 127.0.0.1:8080 --path /api/v1/positions/spot --tokens FILE \
//!            --rate 1500 --duration 10 [--connections 32] [--grace 10]
//! Prints one line: `sent=.. ok=.. non2xx=.. socket_errors=.. unsent=.. rps=.. p50_ms=..
//! p99_ms=.. max_ms=..`.

use std::{
    env,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

struct Args {
    addr: String,
    path: String,
    tokens: Vec<String>,
    rate: f64,
    duration: f64,
    connections: usize,
    grace: f64,
}

fn usage(msg: &str) -> ! {
    eprintln!("openloop: {msg}");
    eprintln!(
        "usage: openloop --addr HOST:PORT --path PATH [--tokens FILE] --rate N --duration SECS \
         [--connections N] [--grace SECS]"
    );
    process::exit(2);
}

fn parse_args() -> Args {
    let mut a = Args {
        addr: String::new(),
        path: "/".into(),
        tokens: Vec::new(),
        rate: 0.0,
        duration: 0.0,
        connections: 32,
        grace: 10.0,
    };
    let mut it = env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| -> f64 { v.parse().unwrap_or_else(|_| usage(&format!("bad number {v}"))) };
        match flag.as_str() {
            "--addr" => a.addr = value,
            "--path" => a.path = value,
            "--tokens" => {
                let text = std::fs::read_to_string(&value)
                    .unwrap_or_else(|e| usage(&format!("cannot read {value}: {e}")));
                a.tokens = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
            }
            "--rate" => a.rate = num(&value),
            "--duration" => a.duration = num(&value),
            "--connections" => a.connections = num(&value) as usize,
            "--grace" => a.grace = num(&value),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    if a.addr.is_empty() || a.rate <= 0.0 || a.duration <= 0.0 || a.connections == 0 {
        usage("--addr, --rate, --duration and --connections are required and positive");
    }
    // Loopback only: this tool must never load anything but a server on this machine.
    let host = a.addr.rsplit_once(':').map_or(a.addr.as_str(), |(h, _)| h);
    if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
        usage("--addr must be a loopback address");
    }
    a
}

/// Reads one HTTP/1.1 response; returns its status code.
fn read_response(r: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(bad("connection closed"));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("eof in headers"));
        }
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "content-length" => length = value.parse().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("bad chunk size"))?;
            let mut buf = vec![0u8; size + 2];
            r.read_exact(&mut buf)?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        let mut buf = vec![0u8; n];
        r.read_exact(&mut buf)?;
    } else {
        return Err(bad("no content-length"));
    }
    if close {
        return Err(bad("server closed the connection"));
    }
    Ok(status)
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    ok: u64,
    non2xx: u64,
    socket_errors: u64,
    sent: u64,
}

fn main() {
    let args = Arc::new(parse_args());
    let tokens = if args.tokens.is_empty() { vec![String::new()] } else { args.tokens.clone() };
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        tokens
            .iter()
            .map(|t| {
                let auth = if t.is_empty() { String::new() } else { format!("Authorization: Bearer {t}\r\n") };
                format!("GET {} HTTP/1.1\r\nHost: {}\r\n{auth}\r\n", args.path, args.addr).into_bytes()
            })
            .collect(),
    );
    let total = (args.rate * args.duration).round() as u64;
    let interval_ns = 1e9 / args.rate;
    let next = Arc::new(AtomicU64::new(0));
    // Start a little in the future so every thread has connected.
    let start = Instant::now() + Duration::from_millis(200);
    let hard_stop = start + Duration::from_secs_f64(args.duration + args.grace);

    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (args, requests, next) = (args.clone(), requests.clone(), next.clone());
            thread::spawn(move || {
                let mut tally = Tally::default();
                let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let due = start + Duration::from_nanos((i as f64 * interval_ns) as u64);
                    let now = Instant::now();
                    if now >= hard_stop {
                        break;
                    }
                    if due > now {
                        thread::sleep(due - now);
                    }
                    if conn.is_none() {
                        match TcpStream::connect(&args.addr) {
                            Ok(s) => {
                                let _ = s.set_nodelay(true);
                                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                                let reader = BufReader::new(s.try_clone().expect("clone socket"));
                                conn = Some((s, reader));
                            }
                            Err(_) => {
                                tally.socket_errors += 1;
                                tally.sent += 1;
                                continue;
                            }
                        }
                    }
                    let (w, r) = conn.as_mut().expect("connected");
                    tally.sent += 1;
                    let req = &requests[(i as usize) % requests.len()];
                    let result = w.write_all(req).and_then(|()| read_response(r));
                    match result {
                        Ok(status) => {
                            tally.latencies_us.push(due.elapsed().as_micros() as u64);
                            if (200..300).contains(&status) {
                                tally.ok += 1;
                            } else {
                                tally.non2xx += 1;
                            }
                        }
                        Err(_) => {
                            tally.socket_errors += 1;
                            conn = None;
                        }
                    }
                }
                tally
            })
        })
        .collect();

    let mut all = Tally::default();
    for w in workers {
        let t = w.join().expect("worker panicked");
        all.latencies_us.extend(t.latencies_us);
        all.ok += t.ok;
        all.non2xx += t.non2xx;
        all.socket_errors += t.socket_errors;
        all.sent += t.sent;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.latencies_us.is_empty() {
            return f64::NAN;
        }
        let idx = ((p / 100.0) * (all.latencies_us.len() as f64 - 1.0)).round() as usize;
        all.latencies_us[idx] as f64 / 1000.0
    };
    let unsent = total.saturating_sub(all.sent);
    println!(
        "sent={} ok={} non2xx={} socket_errors={} unsent={} rps={:.1} p50_ms={:.3} p99_ms={:.3} max_ms={:.3}",
        all.sent,
        all.ok,
        all.non2xx,
        all.socket_errors,
        unsent,
        (all.ok + all.non2xx) as f64 / elapsed,
        pct(50.0),
        pct(99.0),
        pct(100.0),
    );
}

//! The Binance clients and the router against a local mock server replaying responses in the shapes Binance
//! documents (`tests/fixtures/*.json`).
//!
//! The clients are blocking and wiremock is async: each test starts the server on a
//! multi-threaded runtime and calls the client inside `spawn_blocking`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backoff;
mod common;
mod errors;
mod futures;
mod router;
mod signing;
mod spot;

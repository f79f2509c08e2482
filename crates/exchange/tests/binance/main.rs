//! The Binance clients against a local mock server replaying responses in the shapes Binance
//! documents (`tests/fixtures/*.json`).
//!
//! The clients are blocking and wiremock is async: each test starts the server on a
//! multi-threaded runtime and calls the client inside `spawn_blocking`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod errors;
mod futures;
mod signing;
mod spot;

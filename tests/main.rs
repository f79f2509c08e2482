//! The workspace's integration tests, one binary: `api` drives the composed application in
//! process over real PostgreSQL; `e2e` drives the real binary over real HTTP.

// Tests fail by panicking: `unwrap`/`expect` are the idiom here (as in tenant-auth's tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod e2e;

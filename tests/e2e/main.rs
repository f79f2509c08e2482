//! End-to-end tests: the real binary, a real local cluster, real HTTP.

// Tests fail by panicking: `unwrap`/`expect` are the idiom here (as in tenant-auth's tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod demo;
mod market;
mod support;

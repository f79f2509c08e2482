//! The integration tests, in one binary: `cargo test -p tenant-auth --test it`.
//!
//! The crate's dev-dependency on itself turns on `actix`, so the extractor
//! tests run with a plain `cargo test -p tenant-auth`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[cfg(feature = "actix")]
mod actix;
mod keys;
mod verify;

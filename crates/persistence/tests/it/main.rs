//! Integration tests of the persistence crate against real PostgreSQL (one test binary; each
//! test gets its own database cloned from a migrated template).

// Tests fail by panicking: `unwrap`/`expect` are the idiom here, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alerts;
mod common;
mod ensembles;
mod migrations;
mod paper;
mod portfolio;
mod regime;
mod repos;
mod risk_limits;
mod rls;
mod trading_lock;
mod usage;

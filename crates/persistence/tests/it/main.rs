//! Integration tests of the persistence crate against real PostgreSQL (one test binary; each
//! test gets its own database cloned from a migrated template).

mod alerts;
mod common;
mod ensembles;
mod migrations;
mod paper;
mod regime;
mod repos;
mod risk_limits;
mod rls;
mod trading_lock;

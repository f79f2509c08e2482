//! Integration tests of the persistence crate against real PostgreSQL (one test binary; each
//! test gets its own database cloned from a migrated template).

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

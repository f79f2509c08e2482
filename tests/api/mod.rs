//! The API served in process (actix test service) over real PostgreSQL: the application the
//! binary composes, one database per test.

mod common;

mod auth;
mod concurrency;
mod ensemble;
mod hedging;
mod liquidity_credentials;
mod operations;
mod positions_regime;
mod routes;
mod tenants;
mod users;

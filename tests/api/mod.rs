//! The API served in process (actix test service) over real PostgreSQL: the application the
//! binary composes, one database per test.

mod common;

mod auth;
mod ensemble;
mod hedging;
mod limits;
mod positions_regime;
mod routes;
mod tenants;
mod users;

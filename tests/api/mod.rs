//! The API served in process (actix test service) over real PostgreSQL: the application the
//! binary composes, one database per test.

mod common;

mod auth;
mod concurrency;
mod console_audit;
mod console_decisions;
mod console_pages;
mod console_rules;
mod console_settings;
mod ensemble;
mod hedging;
mod limits;
mod liquidity_credentials;
mod login_limits;
mod operations;
mod positions_regime;
mod quotas;
mod risk;
mod risk_budget;
mod routes;
mod tenants;
mod trading_safety;
mod users;

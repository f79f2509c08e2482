//! End-to-end tests: the real binary, a real local cluster, real HTTP.

mod cluster;
mod console_browser;
mod console_export;
mod demo;
mod market;
mod metrics;
mod resilience;
mod secrets;
mod support;

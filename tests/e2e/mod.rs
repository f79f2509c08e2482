//! End-to-end tests: the real binary, a real local cluster, real HTTP.

mod cluster;
mod demo;
mod market;
mod metrics;
mod resilience;
mod secrets;
mod support;

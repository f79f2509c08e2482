# AlphaPulse task runner. `just` lists the recipes.

default:
    @just --list

# Run the API with demo data on the local PostgreSQL cluster (./.alphapulse).
run:
    cargo run --release -p alphapulse -- serve --demo

# Every test: unit, integration (real PostgreSQL), end-to-end (real binary), doctests
# (the debug profile: a different build from `just run`'s release one).
test:
    cargo test --workspace --all-features

# The tests of one crate, e.g. `just test-crate alphapulse-persistence`.
test-crate NAME:
    cargo test -p {{NAME}} --all-features

# rustfmt check and clippy with warnings denied.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

# Format the workspace.
fmt:
    cargo fmt --all

# (Criterion benches: `cargo bench --workspace`.) Release server on a throw-away cluster with
# 50 tenants x 1000 positions; wrk closed loop, fixed-rate open loop, pgbench with and without
# RLS. Env: BENCH_SECONDS (15), BENCH_RUNS (1; 3 = medians), BENCH_PREPARED (1), BENCH_SKIP_BUILD.
# Performance harness: one table of throughput, latency and ratios -> target/bench/report.md
bench:
    bash scripts/bench/run.sh

# Any command of the binary, e.g. `just cli tenant list` (the release build `just run` made).
cli *ARGS:
    cargo run --release -q -p alphapulse -- {{ARGS}}

# Apply pending migrations (local cluster unless ALPHAPULSE_DATABASE_URL is set).
migrate *ARGS:
    cargo run --release -q -p alphapulse -- migrate {{ARGS}}

# Print the owner database URL in use.
db-url:
    cargo run --release -q -p alphapulse -- db url

# OpenAPI contract check: schemathesis (installed into CONTRACT_VENV, default
# target/contract/venv) against a demo server; CONTRACT_USER=owner for the platform owner.
contract:
    bash scripts/contract.sh

# API docs of the workspace.
doc:
    cargo doc --workspace --no-deps

# What CI runs (.ci/run).
ci:
    bash .ci/run

# A local Citus cluster (coordinator + 2 workers) in .alphapulse/citus; prints the URL to serve on.
citus-up:
    cargo run --release -q -p alphapulse -- cluster citus up

# Stop the local Citus cluster.
citus-down:
    cargo run --release -q -p alphapulse -- cluster citus down

# The RLS matrix and the distribution catalog test on a Citus cluster the tests start.
test-citus:
    ALPHAPULSE_TEST_CITUS=1 cargo test -p alphapulse-persistence --all-features --test it rls::

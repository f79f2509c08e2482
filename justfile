# AlphaPulse task runner. `just` lists the recipes.

default:
    @just --list

# Run the API with demo data on the local PostgreSQL cluster (./.alphapulse).
run:
    cargo run --release -p alphapulse -- serve --demo

# Every test: unit, integration (real PostgreSQL), end-to-end (real binary), doctests.
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

# Apply pending migrations (local cluster unless ALPHAPULSE_DATABASE_URL is set).
migrate *ARGS:
    cargo run -p alphapulse -- migrate {{ARGS}}

# Print the owner database URL in use.
db-url:
    cargo run -p alphapulse -- db url

# API docs of the workspace.
doc:
    cargo doc --workspace --no-deps

# What CI runs (.ci/run).
ci:
    bash .ci/run

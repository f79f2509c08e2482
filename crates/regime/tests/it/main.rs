//! Integration tests of `alphapulse-regime`, in one test binary (one link, one process).
//!
//! - `features`: portfolio index and feature errors on candle input;
//! - `hmm`: fitting recovers known states, forward/Viterbi against path scores, EM monotone;
//! - `hmm_reference`: the HMM against written-out densities, enumerated paths and values
//!   worked by hand, and Baum-Welch against closed-form answers;
//! - `labels`: the labelling rule on hand-made states;
//! - `model`: the model end to end on synthetic markets;
//! - `properties`: property tests of the invariants (distributions sum to 1, ...);
//! - `service`: the per-tenant service: freshness, one fit per data version, single flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod features;
mod hmm;
mod hmm_reference;
mod labels;
mod model;
mod properties;
mod service;

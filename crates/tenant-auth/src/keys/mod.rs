//! Signing/verification keys, key sets for rotation, and the key file format.
//!
//! * `algorithm`: [`KeyAlgorithm`], the four supported JOSE algorithms.
//! * `key`: one [`Key`] (PEM or secret, pair check, sign, verify).
//! * `set`: [`KeySet`], keys by `kid` with an active key.
//! * `file`: the JSON key file (`KeySet::from_json` / `from_file`).

mod algorithm;
mod file;
mod key;
mod set;

pub use algorithm::KeyAlgorithm;
pub use key::{Key, MIN_HS256_SECRET_LEN};
pub use set::KeySet;

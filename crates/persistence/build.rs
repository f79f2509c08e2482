//! Re-embeds the migrations when they change (diesel's `embed_migrations!` does not track the
//! directory by itself) and exports a content hash, which names the test template database so
//! a changed migration never reuses a stale template.

use std::{fs, path::Path};

use sha2::{Digest, Sha256};

fn hash_dir(dir: &Path, hasher: &mut Sha256) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else if let Ok(bytes) = fs::read(&path) {
            hasher.update(
                path.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default(),
            );
            hasher.update(&bytes);
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut hasher = Sha256::new();
    hash_dir(&dir, &mut hasher);
    let digest = hasher.finalize();
    let hex = hex::encode(&digest[..8]);
    println!("cargo:rustc-env=ALPHAPULSE_MIGRATIONS_HASH={hex}");
}

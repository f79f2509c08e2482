//! `alphapulse`: the server and its command-line tools (see the library for the layers).

fn main() -> anyhow::Result<()> {
    alphapulse::run()
}

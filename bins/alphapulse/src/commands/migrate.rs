use alphapulse_persistence::migrations;
use anyhow::{Context, Result};
use diesel::{Connection, PgConnection};

use crate::{cli::MigrateAction, database::Database};

pub fn run(database: &Database, action: Option<MigrateAction>) -> Result<()> {
    let mut conn = PgConnection::establish(&database.url).context("connecting to the database")?;
    match action.unwrap_or(MigrateAction::Up) {
        MigrateAction::Up => {
            let applied = migrations::run_pending(&mut conn)?;
            if applied.is_empty() {
                println!("up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
        }
        MigrateAction::Down => match migrations::revert_last(&mut conn)? {
            Some(version) => println!("reverted {version}"),
            None => println!("nothing to revert"),
        },
        MigrateAction::Redo => {
            let reverted =
                migrations::revert_last(&mut conn)?.context("no applied migration to redo")?;
            println!("reverted {reverted}");
            for version in migrations::run_pending(&mut conn)? {
                println!("applied {version}");
            }
        }
        MigrateAction::Status => {
            for m in migrations::status(&mut conn)? {
                println!("[{}] {}", if m.applied { "x" } else { " " }, m.name);
            }
        }
    }
    Ok(())
}

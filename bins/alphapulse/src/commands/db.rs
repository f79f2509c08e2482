use anyhow::Result;

use crate::{cli::DbAction, database::Database};

pub fn run(database: &Database, action: DbAction) -> Result<()> {
    match action {
        DbAction::Url => println!("{}", database.url),
    }
    Ok(())
}

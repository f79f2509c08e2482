//! Creating the application database on the running cluster (if it does not exist yet).

use super::{
    error::{ClusterError, Result},
    local::LocalCluster,
};

impl LocalCluster {
    /// Creates `database` unless it exists (another process creating it meanwhile is fine).
    pub(super) fn ensure_database(&self, database: &str) -> Result<()> {
        use diesel::{Connection, PgConnection, RunQueryDsl};

        #[derive(diesel::QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }

        let db_err = |message: String| ClusterError::Database {
            database: database.to_owned(),
            message,
        };
        let mut conn = PgConnection::establish(&self.database_url("postgres"))
            .map_err(|e| db_err(e.to_string()))?;
        let found: Exists = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<diesel::sql_types::Text, _>(database)
        .get_result(&mut conn)
        .map_err(|e| db_err(e.to_string()))?;
        if !found.exists {
            let ident = database.replace('"', "\"\"");
            match diesel::sql_query(format!("CREATE DATABASE \"{ident}\"")).execute(&mut conn) {
                Ok(_) => {}
                // Another process created it between our check and our create.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("already exists")
                        || info.message().contains("pg_database_datname_index") => {}
                Err(e) => return Err(db_err(e.to_string())),
            }
        }
        Ok(())
    }
}

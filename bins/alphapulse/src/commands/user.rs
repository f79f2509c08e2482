//! `alphapulse user create --tenant <id|slug> --email <e-mail> --role <role>`: a user made by
//! the platform operator, typically the first admin of a tenant `tenant create` just made (from
//! then on, that admin adds the others over the API). The same rules as
//! `POST /api/v1/users` through [`UserAdmin::create_by_operator`]; audited with `source: cli`.

use std::{io::BufRead, sync::Arc, time::Duration};

use alphapulse_admin::{AdminError, CreateUser, Principals, UserAdmin};
use alphapulse_domain::ports::TenantRepo;
use alphapulse_persistence::{PgTenantRepo, PgUserRepo};
use anyhow::{bail, Context, Result};
use rand::{distributions::Alphanumeric, Rng};

use crate::{
    cli::{UserAction, UserCreateArgs},
    database::Database,
};

/// Length of a generated password (alphanumeric: about 119 bits).
const GENERATED_LEN: usize = 20;

pub fn run(database: &Database, action: &UserAction) -> Result<()> {
    let db = database.command_pool()?;
    super::require_migrated(&db)?;
    match action {
        UserAction::Create(args) => create(&db, args),
    }
}

fn create(db: &alphapulse_persistence::Db, args: &UserCreateArgs) -> Result<()> {
    let tenants: Arc<dyn TenantRepo> = Arc::new(PgTenantRepo::new(db.clone()));
    let users = Arc::new(PgUserRepo::new(db.clone()));
    let tenant = super::resolve_tenant(&*tenants, &args.tenant)?;
    let (password, generated) = if args.password_stdin {
        (read_password()?, false)
    } else {
        (generate_password(), true)
    };
    // Nothing is cached by this short-lived process (TTL 0); servers see the user at once.
    let principals = Arc::new(Principals::new(
        tenants.clone(),
        users.clone(),
        Duration::ZERO,
    ));
    let admin = UserAdmin::new(tenants, users, principals);
    let input = CreateUser {
        email: args.email.clone(),
        password: password.clone(),
        role: args.role.clone(),
    };
    let user = match admin.create_by_operator(tenant.id, input) {
        Ok(user) => user,
        Err(AdminError::Invalid(errors)) => bail!(
            "cannot create the user: {}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Err(e) => return Err(e).context("creating the user"),
    };
    tracing::info!(user_id = %user.id, tenant = %tenant.slug, role = %user.role, "created user");
    if args.json {
        let mut out = serde_json::to_value(&user).context("serialising the user")?;
        if generated {
            out["password"] = serde_json::Value::from(password);
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "created {} {} ({}) in tenant {}",
        user.role.as_str(),
        user.email.as_str(),
        user.id,
        tenant.slug
    );
    if generated {
        println!("password (shown once, store it now): {password}");
    }
    Ok(())
}

/// The first line of stdin, without its line ending.
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("--password-stdin: stdin gave no password");
    }
    Ok(password)
}

fn generate_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(GENERATED_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), GENERATED_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(alphapulse_admin::password::check_policy(&a).is_ok());
    }
}

//! The database handle every store is built on.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection, Executor};

use crate::config::DatabaseConfig;
use crate::migrations::ServiceMigrations;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names a database scrm does not support.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or mysql://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A query or connection failed.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migrating the {service} tables failed: {source}")]
    Migrate {
        /// The service whose migrations failed.
        service: &'static str,
        /// The cause.
        source: sqlx::migrate::MigrateError,
    },
}

/// The SQL dialect of the connected database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35+, the embedded default.
    Sqlite,
    /// MySQL 8 or MariaDB 10.6+.
    MySql,
}

impl Dialect {
    fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            Some(Dialect::MySql)
        } else {
            None
        }
    }

    /// `INSERT` that skips rows whose unique key already exists: `INSERT OR IGNORE` / `INSERT IGNORE`.
    pub fn insert_ignore(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INSERT OR IGNORE",
            Dialect::MySql => "INSERT IGNORE",
        }
    }

    /// The clause that turns an `INSERT` on key `key_columns` into an upsert setting `columns`
    /// from the inserted row, e.g. `ON CONFLICT (id) DO UPDATE SET name = excluded.name`.
    pub fn upsert_clause(self, key_columns: &[&str], columns: &[&str]) -> String {
        match self {
            Dialect::Sqlite => {
                let sets: Vec<_> = columns.iter().map(|column| format!("{column} = excluded.{column}")).collect();
                format!("ON CONFLICT ({}) DO UPDATE SET {}", key_columns.join(", "), sets.join(", "))
            }
            Dialect::MySql => {
                let sets: Vec<_> = columns.iter().map(|column| format!("{column} = VALUES({column})")).collect();
                format!("ON DUPLICATE KEY UPDATE {}", sets.join(", "))
            }
        }
    }
}

/// How long a pooled connection may sit idle before it is pinged on its next use. Busy pools skip the ping (a
/// round trip per statement otherwise); a connection idle for longer may have been closed by the server.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// A pool of connections to the scrm database, and its dialect.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

impl Db {
    /// Connects to `url`; an SQLite file is created if missing.
    pub async fn connect(url: &str, config: &DatabaseConfig) -> Result<Db, StorageError> {
        sqlx::any::install_default_drivers();
        let url = url.replacen("mariadb:", "mysql:", 1);
        let dialect = Dialect::of_url(&url).ok_or_else(|| StorageError::UnsupportedUrl(redact(&url)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(config.acquire_timeout_secs))
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    let session_setup = match dialect {
                        Dialect::Sqlite => {
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;"
                        }
                        Dialect::MySql => {
                            "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
                        }
                    };
                    connection.execute(session_setup).await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        tracing::debug!(url = %redact(&url), ?dialect, "connected to the database");
        Ok(Db { pool, dialect })
    }

    /// The connection pool, for stores to run queries on.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The dialect of the connected database.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies a service's pending migrations.
    pub async fn migrate(&self, migrations: &ServiceMigrations) -> Result<(), StorageError> {
        migrations
            .migrator(self.dialect)
            .run(&self.pool)
            .await
            .map_err(|source| StorageError::Migrate { service: migrations.service, source })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("mysql://root:secret@db:3306/scrm"), "mysql://root:***@db:3306/scrm");
        assert_eq!(redact("mysql://root@db/scrm"), "mysql://root@db/scrm");
        assert_eq!(redact("sqlite://data/scrm.db"), "sqlite://data/scrm.db");
    }

    #[test]
    fn upserts_are_spelled_per_dialect() {
        assert_eq!(
            Dialect::Sqlite.upsert_clause(&["id"], &["name"]),
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name"
        );
        assert_eq!(Dialect::MySql.upsert_clause(&["id"], &["name"]), "ON DUPLICATE KEY UPDATE name = VALUES(name)");
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused() {
        let error = Db::connect("postgres://x/y", &DatabaseConfig::default()).await.unwrap_err();
        assert!(matches!(error, StorageError::UnsupportedUrl(_)));
    }
}

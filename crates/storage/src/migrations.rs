//! Per-service migrations, embedded in the binary.

use sqlx::migrate::Migrator;

use crate::db::Dialect;

/// One service's schema, in both dialects. Each service's migrations are tracked in its own
/// table, `_scrm_<service>_migrations`, so services never share migration history.
#[derive(Debug)]
pub struct ServiceMigrations {
    /// The owning service, e.g. `group`.
    pub service: &'static str,
    /// Migrations from `migrations/sqlite/<service>`.
    pub sqlite: Migrator,
    /// Migrations from `migrations/mysql/<service>`.
    pub mysql: Migrator,
}

impl ServiceMigrations {
    /// The migrator for `dialect`, recording into the service's own table.
    pub fn migrator(&self, dialect: Dialect) -> Migrator {
        let source = match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::MySql => &self.mysql,
        };
        let mut migrator = Migrator::with_migrations(source.iter().cloned().collect());
        migrator.dangerous_set_table_name(format!("_scrm_{}_migrations", self.service));
        migrator
    }
}

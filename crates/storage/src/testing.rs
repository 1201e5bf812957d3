//! Fresh databases for tests: an SQLite file in a temporary directory, or a new database on
//! the MariaDB/MySQL server named by `SCRM_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`). Store suites run the same tests against both.

use sqlx::Executor;

use crate::{DatabaseConfig, Db, Dialect};

/// The server used for MySQL tests unless `SCRM_TEST_MYSQL_URL` says otherwise.
pub const DEFAULT_TEST_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// A database that exists for one test.
pub struct TestDb {
    /// The handle to test with.
    pub db: Db,
    sqlite_dir: Option<tempfile::TempDir>,
    mysql_database: Option<(String, String)>,
}

impl TestDb {
    /// The URL of this database, for processes that connect on their own.
    pub fn url(&self) -> String {
        match &self.mysql_database {
            Some((server, name)) => {
                let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
                format!("{base}/{name}")
            }
            None => {
                let dir = self.sqlite_dir.as_ref().expect("an SQLite test database has a directory");
                DatabaseConfig::default().effective_url(dir.path())
            }
        }
    }

    /// A fresh database of `dialect`. Panics with a clear message when the server is down,
    /// since a missing server must fail the suite, not skip it.
    pub async fn new(dialect: Dialect) -> TestDb {
        match dialect {
            Dialect::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory for the SQLite test database");
                let url = DatabaseConfig::default().effective_url(dir.path());
                let db = Db::connect(&url, &DatabaseConfig::default()).await.expect("SQLite opens");
                TestDb { db, sqlite_dir: Some(dir), mysql_database: None }
            }
            Dialect::MySql => {
                let server = std::env::var("SCRM_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_TEST_MYSQL_URL.to_owned());
                let admin = Db::connect(&server, &small_pool()).await.unwrap_or_else(|error| {
                    panic!("MariaDB/MySQL for tests is not reachable at {server} ({error}); start it or set SCRM_TEST_MYSQL_URL")
                });
                let name = format!("scrm_test_{}", uuid::Uuid::new_v4().simple());
                admin
                    .pool()
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")))
                    .await
                    .expect("the test user may create databases");
                admin.close().await;
                let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
                let db =
                    Db::connect(&format!("{base}/{name}"), &small_pool()).await.expect("the new test database opens");
                TestDb { db, sqlite_dir: None, mysql_database: Some((server, name)) }
            }
        }
    }

    /// Drops the test database (SQLite files go with their temporary directory).
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some((server, name)) = self.mysql_database {
            let admin = Db::connect(&server, &small_pool()).await.expect("the test server is still up");
            admin
                .pool()
                .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                .await
                .expect("the test database can be dropped");
            admin.close().await;
        }
    }
}

fn small_pool() -> DatabaseConfig {
    DatabaseConfig { max_connections: 4, ..DatabaseConfig::default() }
}

/// Runs each listed `async fn(Db)` test against SQLite and against MariaDB/MySQL.
///
/// ```text
/// scrm_storage::store_test_suite!(counts_contacts, upserts_are_idempotent);
/// ```
#[macro_export]
macro_rules! store_test_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let test_db = $crate::testing::TestDb::new($crate::Dialect::Sqlite).await;
                    super::$test(test_db.db.clone()).await;
                    test_db.cleanup().await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test]
                async fn $test() {
                    let test_db = $crate::testing::TestDb::new($crate::Dialect::MySql).await;
                    super::$test(test_db.db.clone()).await;
                    test_db.cleanup().await;
                }
            )*
        }
    };
}

//! The first run: with no user in the database, a local `admin` is created so someone can sign in. Its
//! password comes from `SCRM_ADMIN_PASSWORD`, or is generated and printed once on standard error.

use anyhow::Context;
use scrm_storage::Db;

/// Environment variable giving the first admin's password.
pub const ADMIN_PASSWORD_ENV: &str = "SCRM_ADMIN_PASSWORD";

/// Creates the first admin when no user exists yet, printing a generated password once.
pub async fn ensure_admin(db: &Db) -> anyhow::Result<()> {
    let password = std::env::var(ADMIN_PASSWORD_ENV).ok().filter(|password| !password.is_empty());
    let created = scrm_identity::ensure_first_admin(db.clone(), password, now_millis())
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("cannot create the first admin")?;
    match created {
        Some(admin) => match admin.generated_password {
            Some(password) => {
                eprintln!(
                    "\n================================================================\n\
                     首次启动：已创建管理员账号 {username}\n\
                     一次性密码：{password}\n\
                     （只显示这一次；登录后请立即修改密码。也可用环境变量 {ADMIN_PASSWORD_ENV} 指定）\n\
                     ================================================================\n",
                    username = admin.username,
                );
                tracing::warn!(username = %admin.username, "first run: created the admin with a one-time password (printed on stderr)");
            }
            None => {
                tracing::info!(username = %admin.username, "first run: created the admin with the password from {ADMIN_PASSWORD_ENV}")
            }
        },
        None => tracing::debug!("users exist; no first admin needed"),
    }
    Ok(())
}

/// Unix milliseconds now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64)
}

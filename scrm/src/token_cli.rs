//! `scrm token`: creates, lists and revokes API tokens straight in the database, so the first integration
//! can be set up before anyone signs in.

use std::collections::BTreeSet;

use anyhow::Context;
use scrm_kernel::{Role, ServiceKind};
use scrm_proto::identity::v1::ApiToken;

use crate::config::Config;
use crate::first_run::now_millis;

/// Creates a token and returns its value (shown once) with its metadata.
pub async fn create(config: &Config, name: &str, role: Role, store_ids: &[i64]) -> anyhow::Result<(String, ApiToken)> {
    let db = open(config).await?;
    let issued = scrm_identity::create_api_token(db.clone(), name, role, store_ids, now_millis())
        .await
        .map_err(|error| anyhow::anyhow!("{error}"));
    db.close().await;
    let issued = issued?;
    Ok((issued.token, issued.api_token))
}

/// Lists tokens, revoked and expired ones too when `all`.
pub async fn list(config: &Config, all: bool) -> anyhow::Result<Vec<ApiToken>> {
    let db = open(config).await?;
    let tokens =
        scrm_identity::list_api_tokens(db.clone(), all, now_millis()).await.map_err(|error| anyhow::anyhow!("{error}"));
    db.close().await;
    tokens
}

/// Revokes token `id`; fails when there is no such token.
pub async fn revoke(config: &Config, id: i64) -> anyhow::Result<ApiToken> {
    let db = open(config).await?;
    let token =
        scrm_identity::revoke_api_token(db.clone(), id, now_millis()).await.map_err(|error| anyhow::anyhow!("{error}"));
    db.close().await;
    token?.with_context(|| format!("no API token with id {id}"))
}

/// One line describing a token, for `scrm token list`.
pub fn describe(token: &ApiToken) -> String {
    let role = Role::from_proto(token.role).map_or("?", Role::as_str);
    let stores = if token.store_ids.is_empty() {
        "-".to_owned()
    } else {
        token.store_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    };
    let state = if token.revoked_at.is_some() { "revoked" } else { "active" };
    let last_used = token.last_used_at.as_ref().map_or_else(|| "never".to_owned(), ToString::to_string);
    format!(
        "{:>4}  {:<10}  {:<13}  {:<10}  {:<7}  last used {last_used}  {}",
        token.id, token.prefix, role, stores, state, token.name
    )
}

async fn open(config: &Config) -> anyhow::Result<scrm_storage::Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("data_dir: cannot create {}", config.data_dir.display()))?;
    let db = crate::app::open_database(config).await?;
    crate::app::migrate(&db, &BTreeSet::from([ServiceKind::Identity])).await?;
    Ok(db)
}

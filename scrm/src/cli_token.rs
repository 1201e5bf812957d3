//! The API token a CLI command signs its calls to a running scrm with (`--token` / `SCRM_TOKEN`).

use anyhow::Context;

/// Adds `Authorization: Bearer <token>` to `request` when a token is given.
pub fn authorize<T>(request: &mut tonic::Request<T>, token: Option<&str>) -> anyhow::Result<()> {
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().context("--token holds characters a header cannot carry")?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(())
}

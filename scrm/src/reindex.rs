//! The customer search index of a scrm process, and `scrm reindex`: rebuilds the index from the database,
//! through the running server when one answers at `--server`, else directly in the data dir (a stopped
//! server).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use scrm_customer::SearchIndex;
use scrm_kernel::ServiceKind;
use scrm_proto::customer::v1::ReindexCustomersRequest;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_storage::Db;

use crate::config::Config;

/// Where the customer search index lives: `<data_dir>/search/customers`.
pub fn customer_index_dir(config: &Config) -> PathBuf {
    config.data_dir.join("search").join("customers")
}

/// Opens the customer search index for a process that runs the customer service. A new (or discarded)
/// index is rebuilt from `db` in the background; searches find customers as the rebuild commits.
pub fn open_customer_index(config: &Config, db: &Db) -> anyhow::Result<SearchIndex> {
    let dir = customer_index_dir(config);
    let (index, fresh) = SearchIndex::open(&dir)
        .with_context(|| format!("data_dir: cannot open the customer search index in {}", dir.display()))?;
    if fresh {
        let (db, rebuild) = (db.clone(), index.clone());
        tokio::spawn(async move {
            if let Err(error) = scrm_customer::reindex(db, rebuild).await {
                tracing::error!(%error, "building the customer search index failed; run `scrm reindex`");
            }
        });
    }
    Ok(index)
}

/// `scrm reindex`: rebuilds through the server at `server` (signed in with the API `token` when given) when it
/// answers, else in `config.data_dir`.
pub async fn run(config: &Config, server: &str, token: Option<&str>) -> anyhow::Result<()> {
    let mut request = tonic::Request::new(ReindexCustomersRequest {});
    crate::cli_token::authorize(&mut request, token)?;
    let connect = tokio::time::timeout(Duration::from_secs(5), CustomerServiceClient::connect(server.to_owned()));
    let (customers, elapsed) = match connect.await {
        Ok(Ok(mut client)) => {
            let response = client
                .reindex_customers(request)
                .await
                .map_err(|status| anyhow::anyhow!("the server could not rebuild the index: {}", status.message()))?
                .into_inner();
            let elapsed = response.duration.and_then(|duration| Duration::try_from(duration).ok()).unwrap_or_default();
            (response.customers_indexed.max(0) as u64, elapsed)
        }
        _ => {
            tracing::info!(%server, "no scrm answers: rebuilding the index in the data dir");
            let db = crate::app::open_database(config).await?;
            crate::app::migrate(&db, &[ServiceKind::Customer].into_iter().collect()).await?;
            let dir = customer_index_dir(config);
            let (index, _) = SearchIndex::open(&dir).with_context(|| {
                format!("cannot open {} (is a scrm that does not answer at --server holding it?)", dir.display())
            })?;
            let summary = scrm_customer::reindex(db.clone(), index)
                .await
                .map_err(|status| anyhow::anyhow!("rebuilding the index failed: {}", status.message()))?;
            db.close().await;
            (summary.customers, summary.duration)
        }
    };
    println!("客户搜索索引已重建：{customers} 位客户，用时 {:.1} 秒", elapsed.as_secs_f64());
    Ok(())
}

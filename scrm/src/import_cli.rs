//! `scrm import orders FILE`: reads an order CSV (columns in `scrm_customer::order_csv`), streams its rows
//! to a running scrm's ImportOrders with a progress bar, and prints the per-row error report.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use scrm_customer::order_csv;
use scrm_proto::customer::v1::ImportOrdersResponse;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;

/// Imports `file` into the scrm at `server`, signed in with the API `token` when given, and returns the report
/// (already printed). Fails when the file cannot be read or the server cannot be reached; bad rows do not fail
/// the import (see [`run_cli`]).
pub async fn import_orders(
    server: &str,
    token: Option<&str>,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<ImportOrdersResponse> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = order_csv::parse(&text).map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    let source = format!("csv:{}", file.file_name().map_or_else(|| "orders".into(), |name| name.to_string_lossy()));
    let mut client = CustomerServiceClient::connect(server.to_owned())
        .await
        .with_context(|| format!("--server: cannot reach scrm at {server}"))?;
    let bar = ProgressBar::new((parsed.rows.len() + parsed.errors.len()) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} 行 {msg}").expect("the template is valid"));
    bar.inc(parsed.errors.len() as u64);
    let progress = bar.clone();
    let messages = futures::stream::iter(order_csv::messages(parsed.rows, &source, dry_run)).inspect(move |message| {
        progress.inc(message.rows.len() as u64);
    });
    let mut request = tonic::Request::new(messages);
    crate::cli_token::authorize(&mut request, token)?;
    let response = client
        .import_orders(request)
        .await
        .map_err(|status| anyhow::anyhow!("the import failed: {}", status.message()))?
        .into_inner();
    let report = order_csv::merge_report(response, parsed.errors, dry_run);
    bar.finish_with_message(if dry_run { "检查完成（未保存）" } else { "导入完成" });
    Ok(report)
}

/// The report as text for the terminal: a summary line, then one line per bad row.
pub fn report_text(report: &ImportOrdersResponse) -> String {
    let mut text = format!(
        "{}共 {} 行：新增 {}，更新 {}，未变 {}，失败 {}；{} 个订单暂未匹配到客户\n",
        if report.dry_run { "（试运行，未保存）" } else { "" },
        report.received,
        report.created,
        report.updated,
        report.unchanged,
        report.rejected,
        report.unmatched,
    );
    for error in &report.errors {
        let field = if error.field.is_empty() { String::new() } else { format!("（{}）", error.field) };
        text.push_str(&format!("第 {} 行 订单 {}{field}：{}\n", error.row_number, error.order_no, error.reason));
    }
    if report.errors_truncated {
        text.push_str("……更多失败行未列出\n");
    }
    text
}

/// Runs the command: prints the report and fails when any row was refused, so scripts notice.
pub async fn run_cli(server: &str, token: Option<&str>, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let report = import_orders(server, token, file, dry_run).await?;
    let text = report_text(&report);
    if std::io::stdout().is_terminal() || !text.is_empty() {
        print!("{text}");
    }
    anyhow::ensure!(report.rejected == 0, "{} rows were not imported (listed above)", report.rejected);
    Ok(())
}

#[cfg(test)]
mod tests {
    use scrm_proto::customer::v1::ImportRowError;

    use super::*;

    #[test]
    fn the_report_lists_each_bad_row() {
        let report = ImportOrdersResponse {
            received: 3,
            accepted: 2,
            created: 2,
            rejected: 1,
            errors: vec![ImportRowError {
                row_number: 2,
                order_no: "NO2".into(),
                field: "refund_fen".into(),
                reason: "退款金额大于实付金额".into(),
            }],
            ..ImportOrdersResponse::default()
        };
        assert_eq!(
            report_text(&report),
            "共 3 行：新增 2，更新 0，未变 0，失败 1；0 个订单暂未匹配到客户\n第 2 行 订单 NO2（refund_fen）：退款金额大于实付金额\n"
        );
    }
}

//! The cost of one service calling another: `AnalyticsService.GetOverview` fans out to
//! `CustomerService.CountCustomers` and `GroupService.CountGroups`.
//!
//! - `all_in_one`: every service in one process; the fan-out stays in-process (no socket).
//! - `split`: analytics in one process, customer and group in another; the fan-out crosses
//!   loopback TCP with the cluster token and trace context, as in the one-service-per-process mode.
//!
//! Both are driven by a native gRPC client over loopback, so the ratio of the two is the price of
//! running services apart. Run: `cargo bench -p scrm-benches --bench rpc`.

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scrm::{Config, Server};
use scrm_kernel::ServiceKind;
use scrm_proto::analytics::v1::GetOverviewRequest;
use scrm_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use tonic::transport::Channel;

struct Process {
    server: Server,
    _data_dir: tempfile::TempDir,
}

async fn start(services: &[ServiceKind], configure: impl FnOnce(&mut Config)) -> Process {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.static_dir = data_dir.path().join("no-admin");
    config.wecom.demo = false;
    // Calls without a credential act as the configured local caller (benches measure the work, not sign-in).
    config.auth.local_caller = true;
    configure(&mut config);
    let services: BTreeSet<_> = services.iter().copied().collect();
    Process { server: Server::start(config, &services).await.unwrap(), _data_dir: data_dir }
}

async fn client(process: &Process) -> AnalyticsServiceClient<Channel> {
    let url = format!("http://{}", process.server.local_addr());
    AnalyticsServiceClient::new(Channel::from_shared(url).unwrap().connect().await.unwrap())
}

fn overview(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (all_in_one, front, back) = runtime.block_on(async {
        let all_in_one = start(&[], |_| {}).await;
        let back =
            start(&[ServiceKind::Customer, ServiceKind::Group], |config| config.cluster.token = "bench".into()).await;
        let back_url = format!("http://{}", back.server.local_addr());
        let front = start(&[ServiceKind::Analytics], |config| {
            config.cluster.token = "bench".into();
            config.cluster.customer_url = back_url.clone();
            config.cluster.group_url = back_url;
        })
        .await;
        (all_in_one, front, back)
    });
    let mut group = c.benchmark_group("get_overview");
    for (name, process) in [("all_in_one", &all_in_one), ("split", &front)] {
        let client = runtime.block_on(client(process));
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let mut client = client.clone();
                async move { black_box(client.get_overview(GetOverviewRequest {}).await.unwrap()) }
            })
        });
    }
    group.finish();
    drop((all_in_one, front, back));
}

criterion_group!(benches, overview);
criterion_main!(benches);

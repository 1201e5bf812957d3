//! Every HTTP request is counted by API and errcode and timed by API.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde_json::json;

use common::{err, ok};
use scrm_wecom::{METRIC_CALLS, METRIC_DURATION, METRIC_RETRIES, TokenCache, WeComClient};

type Values = Arc<Mutex<HashMap<String, u64>>>;

/// Records counter totals and histogram sample counts by `name{label=value,…}`.
#[derive(Default, Clone)]
struct TestRecorder {
    values: Values,
}

struct Cell {
    key: String,
    values: Values,
}

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        *self.values.lock().unwrap().entry(self.key.clone()).or_default() += value;
    }
    fn absolute(&self, value: u64) {
        self.values.lock().unwrap().insert(self.key.clone(), value);
    }
}

impl HistogramFn for Cell {
    fn record(&self, _value: f64) {
        *self.values.lock().unwrap().entry(self.key.clone()).or_default() += 1;
    }
}

fn name(key: &Key) -> String {
    let mut labels: Vec<_> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Cell { key: name(key), values: self.values.clone() }))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Cell { key: name(key), values: self.values.clone() }))
    }
}

#[test]
fn calls_are_counted_by_api_and_errcode() {
    let recorder = TestRecorder::default();
    let values = recorder.values.clone();
    // A current-thread runtime inside the local recorder's scope: every task runs on this thread.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let fake = common::Fake::new();
            let base = common::start(fake.clone()).await;
            let client = WeComClient::with_token_cache(common::config(&base), &TokenCache::new()).expect("client");
            fake.script([err(45009), ok(json!({})), err(40003)]);
            client.user_get("a").await.expect("after one retry");
            client.user_get("b").await.expect_err("40003");
        })
    });
    let values = values.lock().unwrap().clone();
    let get = |k: &str| values.get(k).copied().unwrap_or(0);
    assert_eq!(get(&format!("{METRIC_CALLS}{{api=gettoken,errcode=0}}")), 1, "{values:?}");
    assert_eq!(get(&format!("{METRIC_CALLS}{{api=user/get,errcode=45009}}")), 1, "{values:?}");
    assert_eq!(get(&format!("{METRIC_CALLS}{{api=user/get,errcode=0}}")), 1, "{values:?}");
    assert_eq!(get(&format!("{METRIC_CALLS}{{api=user/get,errcode=40003}}")), 1, "{values:?}");
    assert_eq!(get(&format!("{METRIC_DURATION}{{api=user/get}}")), 3, "{values:?}");
    assert_eq!(get(&format!("{METRIC_RETRIES}{{api=user/get}}")), 1, "{values:?}");
}

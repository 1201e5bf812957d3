//! The cache contract: every test runs against the in-process cache and against the real Redis
//! named by `SCRM_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). A Redis that is down fails
//! the Redis half with a clear message; it is never skipped. Each cache gets a random key prefix,
//! so tests run in parallel without colliding, and its keys are removed afterwards.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scrm_cache::{Cache, CacheConfig, CacheError, connect};

/// The Redis used unless `SCRM_TEST_REDIS_URL` says otherwise.
const DEFAULT_TEST_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// A TTL short enough to wait out in a test.
const TTL: Duration = Duration::from_millis(100);
/// Comfortably longer than [`TTL`].
const PAST_TTL: Duration = Duration::from_millis(300);

fn redis_url() -> String {
    std::env::var("SCRM_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_TEST_REDIS_URL.to_owned())
}

#[derive(Clone, Copy)]
enum Backend {
    InProcess,
    Redis,
}

/// Hands out caches on one backend, each under a fresh prefix, and cleans their keys up.
struct Harness {
    backend: Backend,
    prefixes: Mutex<Vec<String>>,
}

impl Harness {
    fn new(backend: Backend) -> Self {
        Harness { backend, prefixes: Mutex::new(Vec::new()) }
    }

    fn config(&self) -> CacheConfig {
        let key_prefix = format!("scrm-test-{}:", uuid::Uuid::new_v4().simple());
        self.prefixes.lock().unwrap().push(key_prefix.clone());
        let redis_url = match self.backend {
            Backend::InProcess => String::new(),
            Backend::Redis => redis_url(),
        };
        CacheConfig { redis_url, key_prefix, pool_size: 8, ..CacheConfig::default() }
    }

    /// A fresh, empty cache.
    async fn cache(&self) -> Arc<dyn Cache> {
        let config = self.config();
        let cache = connect(&config).await.unwrap_or_else(|error| match self.backend {
            Backend::InProcess => panic!("the in-process cache opens: {error}"),
            Backend::Redis => panic!(
                "Redis for tests is not reachable at {} ({error}); start it or set SCRM_TEST_REDIS_URL",
                config.redis_url
            ),
        });
        let expected = match self.backend {
            Backend::InProcess => "in_process",
            Backend::Redis => "redis",
        };
        assert_eq!(cache.backend(), expected);
        cache
    }

    /// Deletes every key under the prefixes handed out.
    async fn cleanup(self) {
        if let Backend::Redis = self.backend {
            let client = ::redis::Client::open(redis_url()).expect("the test Redis URL parses");
            let mut connection = client.get_multiplexed_async_connection().await.expect("the test Redis is still up");
            for prefix in self.prefixes.into_inner().unwrap() {
                let keys: Vec<String> =
                    ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.unwrap();
                if !keys.is_empty() {
                    ::redis::cmd("DEL").arg(keys).query_async::<()>(&mut connection).await.unwrap();
                }
            }
        }
    }
}

/// Runs each listed `async fn(&Harness)` test against both backends.
macro_rules! cache_test_suite {
    ($($test:ident),* $(,)?) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let harness = super::Harness::new(super::Backend::InProcess);
                    super::$test(&harness).await;
                    harness.cleanup().await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let harness = super::Harness::new(super::Backend::Redis);
                    super::$test(&harness).await;
                    harness.cleanup().await;
                }
            )*
        }
    };
}

cache_test_suite!(
    values_round_trip,
    ttl_expires_keys,
    set_replaces_the_expiry,
    set_if_absent_sets_only_absent_keys,
    delete_tells_whether_the_key_existed,
    incr_creates_accumulates_and_goes_negative,
    incr_gives_ttl_only_to_keys_it_creates,
    incr_rejects_non_integers_and_overflow,
    concurrent_increments_are_atomic,
    concurrent_set_if_absent_has_one_winner,
    key_prefixes_isolate_caches,
    ping_answers,
);

async fn values_round_trip(harness: &Harness) {
    let cache = harness.cache().await;
    assert_eq!(cache.get("missing").await.unwrap(), None);
    cache.set("greeting", b"hello", None).await.unwrap();
    assert_eq!(cache.get("greeting").await.unwrap(), Some(b"hello".to_vec()));
    cache.set("greeting", b"bye", None).await.unwrap();
    assert_eq!(cache.get("greeting").await.unwrap(), Some(b"bye".to_vec()));

    let binary: Vec<u8> = (0..=255).collect();
    cache.set("binary", &binary, None).await.unwrap();
    assert_eq!(cache.get("binary").await.unwrap(), Some(binary));
    cache.set("empty", b"", None).await.unwrap();
    assert_eq!(cache.get("empty").await.unwrap(), Some(Vec::new()));
    cache.set("", b"empty key", None).await.unwrap();
    assert_eq!(cache.get("").await.unwrap(), Some(b"empty key".to_vec()));
    cache.set("unicode 键 🔑", b"ok", Some(Duration::from_secs(60))).await.unwrap();
    assert_eq!(cache.get("unicode 键 🔑").await.unwrap(), Some(b"ok".to_vec()));
}

async fn ttl_expires_keys(harness: &Harness) {
    let cache = harness.cache().await;
    let start = Instant::now();
    cache.set("short", b"v", Some(TTL)).await.unwrap();
    cache.set("long", b"v", Some(Duration::from_secs(60))).await.unwrap();
    let seen = cache.get("short").await.unwrap();
    if start.elapsed() < TTL {
        assert_eq!(seen, Some(b"v".to_vec()), "a key is visible before its TTL");
    }
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(cache.get("short").await.unwrap(), None, "an expired key is invisible");
    assert_eq!(cache.get("long").await.unwrap(), Some(b"v".to_vec()));

    // Sub-millisecond and zero TTLs expire (almost) at once rather than erroring.
    cache.set("tiny", b"v", Some(Duration::ZERO)).await.unwrap();
    cache.set("huge", b"v", Some(Duration::MAX)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(cache.get("tiny").await.unwrap(), None);
    assert_eq!(cache.get("huge").await.unwrap(), Some(b"v".to_vec()));
}

async fn set_replaces_the_expiry(harness: &Harness) {
    let cache = harness.cache().await;
    cache.set("key", b"1", Some(TTL)).await.unwrap();
    cache.set("key", b"2", None).await.unwrap();
    cache.set("other", b"1", None).await.unwrap();
    cache.set("other", b"2", Some(TTL)).await.unwrap();
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(cache.get("key").await.unwrap(), Some(b"2".to_vec()), "a set without TTL clears the old one");
    assert_eq!(cache.get("other").await.unwrap(), None, "a set with TTL gives one");
}

async fn set_if_absent_sets_only_absent_keys(harness: &Harness) {
    let cache = harness.cache().await;
    assert!(cache.set_if_absent("lock", b"first", None).await.unwrap());
    assert!(!cache.set_if_absent("lock", b"second", None).await.unwrap());
    assert_eq!(cache.get("lock").await.unwrap(), Some(b"first".to_vec()), "a losing call changes nothing");

    assert!(cache.delete("lock").await.unwrap());
    assert!(cache.set_if_absent("lock", b"third", None).await.unwrap(), "a deleted key is absent");
    assert_eq!(cache.get("lock").await.unwrap(), Some(b"third".to_vec()));

    let start = Instant::now();
    assert!(cache.set_if_absent("lease", b"a", Some(TTL)).await.unwrap());
    let again = cache.set_if_absent("lease", b"b", Some(TTL)).await.unwrap();
    if start.elapsed() < TTL {
        assert!(!again, "an unexpired key is present");
    }
    tokio::time::sleep(PAST_TTL).await;
    assert!(cache.set_if_absent("lease", b"c", None).await.unwrap(), "an expired key is absent");
    assert_eq!(cache.get("lease").await.unwrap(), Some(b"c".to_vec()));
}

async fn delete_tells_whether_the_key_existed(harness: &Harness) {
    let cache = harness.cache().await;
    assert!(!cache.delete("never").await.unwrap());
    cache.set("key", b"v", None).await.unwrap();
    assert!(cache.delete("key").await.unwrap());
    assert_eq!(cache.get("key").await.unwrap(), None);
    assert!(!cache.delete("key").await.unwrap());

    cache.set("expiring", b"v", Some(TTL)).await.unwrap();
    tokio::time::sleep(PAST_TTL).await;
    assert!(!cache.delete("expiring").await.unwrap(), "an expired key did not exist");
}

async fn incr_creates_accumulates_and_goes_negative(harness: &Harness) {
    let cache = harness.cache().await;
    assert_eq!(cache.incr_by("count", 5, None).await.unwrap(), 5);
    assert_eq!(cache.incr_by("count", 3, None).await.unwrap(), 8);
    assert_eq!(cache.incr_by("count", -10, None).await.unwrap(), -2);
    assert_eq!(cache.incr_by("count", 0, None).await.unwrap(), -2);
    assert_eq!(cache.get("count").await.unwrap(), Some(b"-2".to_vec()), "counters read back as decimal text");
    assert_eq!(cache.incr_by("down", -1, None).await.unwrap(), -1);

    cache.set("preset", b"41", None).await.unwrap();
    assert_eq!(cache.incr_by("preset", 1, None).await.unwrap(), 42);
    cache.set("big", b"9223372036854775000", None).await.unwrap();
    assert_eq!(cache.incr_by("big", 7, None).await.unwrap(), 9_223_372_036_854_775_007, "large values are exact");
}

async fn incr_gives_ttl_only_to_keys_it_creates(harness: &Harness) {
    let cache = harness.cache().await;
    let start = Instant::now();
    assert_eq!(cache.incr_by("window", 1, Some(TTL)).await.unwrap(), 1);
    let second = cache.incr_by("window", 1, None).await.unwrap();
    let third = cache.incr_by("window", 1, Some(Duration::from_secs(60))).await.unwrap();
    // Only when the later increments ran before the first expiry do they test keeping it.
    let fresh = start.elapsed() < TTL;
    if fresh {
        assert_eq!((second, third), (2, 3));
    }
    tokio::time::sleep(PAST_TTL).await;
    if fresh {
        assert_eq!(cache.get("window").await.unwrap(), None, "later increments kept the first expiry");
    }
    cache.delete("window").await.unwrap();
    assert_eq!(cache.incr_by("window", 1, Some(TTL)).await.unwrap(), 1, "an expired counter starts again");

    cache.set("forever", b"10", None).await.unwrap();
    assert_eq!(cache.incr_by("forever", 1, Some(TTL)).await.unwrap(), 11);
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(cache.get("forever").await.unwrap(), Some(b"11".to_vec()), "an existing key gets no TTL");
}

async fn incr_rejects_non_integers_and_overflow(harness: &Harness) {
    let cache = harness.cache().await;
    for bad in [&b"abc"[..], b"", b"1.5", b" 1", b"1 ", b"+1", b"007", b"-0", b"99999999999999999999", b"\xff\x00"] {
        cache.set("text", bad, None).await.unwrap();
        let result = cache.incr_by("text", 1, None).await;
        assert_eq!(
            result,
            Err(CacheError::NotAnInteger { key: "text".to_owned() }),
            "{:?} is not an integer",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(cache.get("text").await.unwrap(), Some(bad.to_vec()), "a failed increment changes nothing");
    }

    cache.set("max", i64::MAX.to_string().as_bytes(), None).await.unwrap();
    assert_eq!(cache.incr_by("max", 1, None).await, Err(CacheError::Overflow { key: "max".to_owned() }));
    assert_eq!(cache.incr_by("max", -1, None).await.unwrap(), i64::MAX - 1);
    cache.set("min", i64::MIN.to_string().as_bytes(), None).await.unwrap();
    assert_eq!(cache.incr_by("min", -1, None).await, Err(CacheError::Overflow { key: "min".to_owned() }));
    assert_eq!(cache.incr_by("min", i64::MAX, None).await.unwrap(), -1);
}

async fn concurrent_increments_are_atomic(harness: &Harness) {
    let cache = harness.cache().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move {
                for _ in 0..100 {
                    cache.incr_by("hits", 1, Some(Duration::from_secs(60))).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(cache.get("hits").await.unwrap(), Some(b"800".to_vec()));
    assert_eq!(cache.incr_by("hits", 0, None).await.unwrap(), 800);
}

async fn concurrent_set_if_absent_has_one_winner(harness: &Harness) {
    let cache = harness.cache().await;
    for round in 0..10 {
        let key = format!("dedup-{round}");
        let tasks: Vec<_> = (0..16)
            .map(|task| {
                let cache = Arc::clone(&cache);
                let key = key.clone();
                tokio::spawn(
                    async move { cache.set_if_absent(&key, format!("{task}").as_bytes(), None).await.unwrap() },
                )
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "exactly one caller sets {key}");
    }
}

async fn key_prefixes_isolate_caches(harness: &Harness) {
    let first = harness.cache().await;
    let second = harness.cache().await;
    first.set("shared", b"first", None).await.unwrap();
    assert_eq!(second.get("shared").await.unwrap(), None);
    assert!(second.set_if_absent("shared", b"second", None).await.unwrap());
    assert_eq!(first.incr_by("counter", 5, None).await.unwrap(), 5);
    assert_eq!(second.incr_by("counter", 1, None).await.unwrap(), 1);
    assert!(second.delete("shared").await.unwrap());
    assert_eq!(first.get("shared").await.unwrap(), Some(b"first".to_vec()));
}

async fn ping_answers(harness: &Harness) {
    let cache = harness.cache().await;
    cache.ping().await.unwrap();
}

#[tokio::test]
async fn the_default_config_is_in_process() {
    let config = CacheConfig::default();
    assert_eq!(config.key_prefix, "scrm:");
    assert_eq!((config.max_entries, config.pool_size, config.connect_timeout_ms), (100_000, 16, 2000));
    let cache = connect(&config).await.unwrap();
    assert_eq!(cache.backend(), "in_process");
}

#[test]
fn config_deserializes_with_defaults_and_rejects_unknown_fields() {
    let config: CacheConfig = serde_json::from_str(r#"{"redis_url": "redis://cache:6379", "pool_size": 4}"#).unwrap();
    assert_eq!(
        config,
        CacheConfig { redis_url: "redis://cache:6379".to_owned(), pool_size: 4, ..CacheConfig::default() }
    );
    assert!(serde_json::from_str::<CacheConfig>(r#"{"redis": "x"}"#).is_err());
}

#[tokio::test]
async fn bad_settings_give_errors_not_panics() {
    let with = |redis_url: &str| CacheConfig { redis_url: redis_url.to_owned(), ..CacheConfig::default() };

    for url in ["not a url", "http://127.0.0.1:6379", "redis://", "redis://127.0.0.1:notaport", " "] {
        let error = connect(&with(url)).await.expect_err(url);
        assert!(matches!(error, CacheError::InvalidUrl(_)), "{url}: {error}");
    }

    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let error = connect(&with(&format!("redis://127.0.0.1:{port}"))).await.expect_err("nothing listens there");
    assert!(matches!(error, CacheError::Unavailable(_)), "{error}");
    assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "the message names the address: {error}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let error = connect(&CacheConfig { pool_size: 0, ..with(&redis_url()) }).await.expect_err("an empty pool");
    assert!(matches!(error, CacheError::InvalidConfig(_)), "{error}");
    let error =
        connect(&CacheConfig { connect_timeout_ms: 0, ..with(&redis_url()) }).await.expect_err("no time to connect");
    assert!(matches!(error, CacheError::InvalidConfig(_)), "{error}");
    let error = connect(&CacheConfig { max_entries: 0, ..CacheConfig::default() }).await.expect_err("no room");
    assert!(matches!(error, CacheError::InvalidConfig(_)), "{error}");
}

#[tokio::test]
async fn the_in_process_cache_stays_within_max_entries() {
    let cache = connect(&CacheConfig { max_entries: 100, ..CacheConfig::default() }).await.unwrap();
    for i in 0..1000 {
        cache.set(&format!("key-{i}"), b"v", None).await.unwrap();
    }
    let mut present = 0;
    for i in 0..1000 {
        present += usize::from(cache.get(&format!("key-{i}")).await.unwrap().is_some());
    }
    assert_eq!(present, 100);
    assert_eq!(cache.get("key-999").await.unwrap(), Some(b"v".to_vec()), "the newest key stays");
}

#[tokio::test]
async fn redis_keys_carry_the_prefix() {
    let harness = Harness::new(Backend::Redis);
    let config = harness.config();
    let cache = connect(&config).await.unwrap_or_else(|error| {
        panic!(
            "Redis for tests is not reachable at {} ({error}); start it or set SCRM_TEST_REDIS_URL",
            config.redis_url
        )
    });
    cache.set("visible", b"v", Some(Duration::from_secs(60))).await.unwrap();
    cache.incr_by("counter", 2, Some(Duration::from_secs(60))).await.unwrap();

    let client = ::redis::Client::open(redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let prefix = &config.key_prefix;
    let mut keys: Vec<String> =
        ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut connection).await.unwrap();
    keys.sort();
    assert_eq!(keys, [format!("{prefix}counter"), format!("{prefix}visible")]);
    let ttl: i64 = ::redis::cmd("PTTL").arg(format!("{prefix}counter")).query_async(&mut connection).await.unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "the created counter has its TTL: {ttl}");
    harness.cleanup().await;
}

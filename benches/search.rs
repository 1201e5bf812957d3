//! Customer search latency on a large index: builds an on-disk index of synthetic customers (Chinese names,
//! remarks, notes, phones, tags, stores, follow users, orders) through the same rebuild path `scrm reindex`
//! uses, then runs typical searches and prints p50/p99 per query and over all of them.
//!
//! Run: `cargo bench -p scrm-benches --bench search` (1,000,000 customers; set `SEARCH_BENCH_CUSTOMERS` for
//! another size, `SEARCH_BENCH_ROUNDS` for the searches per query, default 200).

use std::time::{Duration, Instant};

// Links scrm's allocator, so the searches allocate as they do in the product.
use scrm as _;
use scrm_search::{CustomerDoc, FollowDoc, SearchIndex, SearchRequest, Sort, TagDoc, Visibility};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "建", "文", "斌", "宇", "浩", "凯", "婷", "雪", "琳",
    "晨", "欣",
];
const LIKES: &[&str] = &[
    "喜欢红色连衣裙",
    "关注羽绒服上新",
    "偏好运动鞋",
    "常买护肤品",
    "对会员积分感兴趣",
    "团购意向强",
    "只在周末到店",
    "价格敏感，等打折",
    "老客户，介绍过朋友",
    "想要儿童玩具",
];
const CITIES: &[&str] = &["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"];
const NOTES: &[&str] =
    &["电话回访，反馈物流太慢", "到店试穿了三件外套", "生日当月发放优惠券", "咨询退换货政策", "参加了双十一直播活动"];
const TAGS: &[&str] = &[
    "高意向",
    "低意向",
    "新客",
    "老客",
    "VIP",
    "团购",
    "复购",
    "流失预警",
    "母婴",
    "美妆",
    "运动",
    "数码",
    "家居",
    "学生",
    "白领",
    "宝妈",
    "男士",
    "女士",
    "北方",
    "南方",
];

/// A small deterministic generator (xorshift64*), so every run indexes the same customers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn customer(rng: &mut Rng, n: usize) -> CustomerDoc {
    let given: String = (0..1 + rng.below(2)).map(|_| rng.pick(GIVEN)).collect();
    let name = format!("{}{given}", rng.pick(SURNAMES));
    let phone = format!("1{}{:09}", 3 + rng.below(7), rng.next() % 1_000_000_000);
    let store = 1 + rng.below(200);
    let remark = format!("{}{}，{}", rng.pick(CITIES), name, rng.pick(LIKES));
    let tags = (0..rng.below(4))
        .map(|_| {
            let index = rng.below(TAGS.len());
            TagDoc { tag_id: format!("et{index}"), tag_name: TAGS[index].into(), tag_type: 1, ..TagDoc::default() }
        })
        .collect();
    CustomerDoc {
        external_userid: format!("wm{n:08}"),
        name,
        status: 1,
        follows: vec![FollowDoc {
            userid: format!("staff{}", rng.below(500)),
            remark,
            remark_mobiles: vec![phone],
            ..FollowDoc::default()
        }],
        tags,
        store_ids: vec![store.to_string()],
        order_numbers: (0..rng.below(4)).map(|i| format!("SO2026{:08}{i}", n)).collect(),
        notes: if rng.below(10) < 3 { vec![rng.pick(NOTES).into()] } else { Vec::new() },
        level: rng.below(5) as i32,
        total_spend_fen: (rng.next() % 1_000_000) as i64,
        added_at: 1_700_000_000_000 + n as i64,
        ..CustomerDoc::default()
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// The machine's 1, 5 and 15 minute load averages, printed beside each figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let customers = env("SEARCH_BENCH_CUSTOMERS", 1_000_000);
    let rounds = env("SEARCH_BENCH_ROUNDS", 200);
    println!("load average at start: {}", load_average());
    let dir = tempfile::tempdir().expect("a temporary index directory");
    let (index, _) = SearchIndex::open(dir.path()).expect("the index opens");

    let started = Instant::now();
    let rebuild = index.rebuild().expect("a rebuild starts");
    let mut rng = Rng(0x5eed);
    for n in 0..customers {
        rebuild.add(customer(&mut rng, n)).await.expect("the writer takes the customer");
    }
    let indexed = rebuild.finish().await.expect("the rebuild commits");
    let build = started.elapsed();
    let bytes: u64 = walk(dir.path());
    println!(
        "indexed {indexed} customers in {:.1} s ({:.0}/s), {:.0} MiB on disk (load {})",
        build.as_secs_f64(),
        indexed as f64 / build.as_secs_f64(),
        bytes as f64 / 1048576.0,
        load_average()
    );

    let manager = Visibility::Stores(vec!["7".into(), "8".into()]);
    let queries: Vec<(&str, SearchRequest)> = vec![
        ("surname 王", query("王")),
        ("full name 王伟", query("王伟")),
        ("remark word 连衣裙", query("连衣裙")),
        ("note word 优惠券", query("优惠券")),
        ("two terms 上海 羽绒服", query("上海 羽绒服")),
        ("phone start 1380", query("1380")),
        ("phone tail 5678", query("5678")),
        ("order number", query("SO2026000123450")),
        ("tag filter + surname", SearchRequest { tag_ids: vec!["et4".into()], ..query("李") }),
        ("store manager scope + word", SearchRequest { visibility: manager, ..query("护肤品") }),
        ("no query, newest first", SearchRequest { sort: Sort::AddedDesc, ..query("") }),
        ("level filter, top spend", SearchRequest { levels: vec![4], sort: Sort::SpendDesc, ..query("") }),
    ];
    let mut all = Vec::new();
    println!("{:<32} {:>10} {:>9} {:>9}  load", "query", "matches", "p50 ms", "p99 ms");
    for (label, request) in &queries {
        let total = index.search(request).expect("the search runs").total;
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            std::hint::black_box(index.search(request).expect("the search runs"));
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{label:<32} {total:>10} {:>9.2} {:>9.2}  {}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            load_average()
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "all {} searches: p50 {:.2} ms, p99 {:.2} ms (load {})",
        all.len(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        load_average()
    );
}

fn query(text: &str) -> SearchRequest {
    SearchRequest { query: text.into(), page_size: 20, ..SearchRequest::default() }
}

fn walk(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().filter_map(|entry| entry.metadata().ok()).map(|meta| meta.len()).sum())
        .unwrap_or(0)
}

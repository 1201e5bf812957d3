//! The index end to end: Chinese queries, phone fragments, filters, visibility, paging, refresh and rebuild.

use std::time::{Duration, Instant};

use scrm_search::{CustomerDoc, FollowDoc, SearchIndex, SearchRequest, Sort, TagDoc, Visibility};

fn customer(id: &str, name: &str, remark: &str, phone: &str, store: &str, userid: &str) -> CustomerDoc {
    CustomerDoc {
        external_userid: id.into(),
        name: name.into(),
        status: 1,
        follows: vec![FollowDoc {
            userid: userid.into(),
            remark: remark.into(),
            remark_mobiles: if phone.is_empty() { vec![] } else { vec![phone.into()] },
            ..FollowDoc::default()
        }],
        store_ids: vec![store.into()],
        added_at: id.len() as i64,
        ..CustomerDoc::default()
    }
}

async fn sample() -> SearchIndex {
    let index = SearchIndex::in_ram().unwrap();
    let mut wang = customer("wm_wang", "王小明", "喜欢红色连衣裙的老客户", "13800138000", "101", "zhangsan");
    wang.tags = vec![TagDoc { tag_id: "et_vip".into(), tag_name: "高意向".into(), ..TagDoc::default() }];
    wang.level = 2;
    wang.order_numbers = vec!["SO20261101-0001".into()];
    wang.notes = vec!["周末来店试穿羽绒服".into()];
    index.upsert(wang).unwrap();
    index.upsert(customer("wm_wang2", "王芳", "团购意向", "13912345678", "102", "lisi")).unwrap();
    index.upsert(customer("wm_li", "李雷", "北京朝阳门店", "15011112222", "101", "lisi")).unwrap();
    index.upsert(customer("wm_alice", "Alice Zhao", "", "", "102", "zhangsan")).unwrap();
    index.flush().await.unwrap();
    index
}

fn ids(index: &SearchIndex, request: SearchRequest) -> Vec<String> {
    let mut ids: Vec<String> =
        index.search(&request).unwrap().hits.into_iter().map(|hit| hit.customer.external_userid).collect();
    ids.sort();
    ids
}

fn query(text: &str) -> SearchRequest {
    SearchRequest { query: text.into(), ..SearchRequest::default() }
}

#[tokio::test]
async fn chinese_surnames_words_and_fragments_are_found() {
    let index = sample().await;
    assert_eq!(ids(&index, query("王")), ["wm_wang", "wm_wang2"]);
    assert_eq!(ids(&index, query("小明")), ["wm_wang"]);
    assert_eq!(ids(&index, query("红色")), ["wm_wang"], "a two-character word inside a remark");
    assert_eq!(ids(&index, query("连衣裙")), ["wm_wang"]);
    assert_eq!(ids(&index, query("羽绒服")), ["wm_wang"], "a word of a note");
    assert_eq!(ids(&index, query("高意向")), ["wm_wang"], "a tag name");
    assert_eq!(ids(&index, query("意向")), ["wm_wang", "wm_wang2"]);
    assert_eq!(ids(&index, query("王 红色")), ["wm_wang"], "every term must match");
    assert_eq!(ids(&index, query("alice")), ["wm_alice"]);
    assert_eq!(ids(&index, query("ZHAO")), ["wm_alice"]);
    assert!(ids(&index, query("张")).is_empty());
}

#[tokio::test]
async fn phones_order_numbers_and_ids_are_found_by_fragment_or_whole() {
    let index = sample().await;
    assert_eq!(ids(&index, query("13800138000")), ["wm_wang"]);
    assert_eq!(ids(&index, query("138")), ["wm_wang"], "a phone's start");
    assert_eq!(ids(&index, query("5678")), ["wm_wang2"], "a phone's last digits");
    assert_eq!(ids(&index, query("1111")), ["wm_li"], "digits in the middle");
    assert_eq!(ids(&index, query("SO20261101-0001")), ["wm_wang"]);
    assert_eq!(ids(&index, query("wm_li")), ["wm_li"]);
}

#[tokio::test]
async fn filters_and_visibility_restrict_results() {
    let index = sample().await;
    let all = |request: SearchRequest| ids(&index, request);
    assert_eq!(all(SearchRequest { tag_ids: vec!["et_vip".into()], ..query("") }), ["wm_wang"]);
    assert_eq!(all(SearchRequest { store_id: Some("102".into()), ..query("") }), ["wm_alice", "wm_wang2"]);
    assert_eq!(all(SearchRequest { store_id: Some("101".into()), ..query("王") }), ["wm_wang"]);
    assert_eq!(all(SearchRequest { follow_userid: Some("lisi".into()), ..query("") }), ["wm_li", "wm_wang2"]);
    assert_eq!(all(SearchRequest { levels: vec![2, 3], ..query("") }), ["wm_wang"]);
    assert_eq!(all(SearchRequest { visibility: Visibility::Stores(vec!["102".into()]), ..query("王") }), ["wm_wang2"]);
    assert_eq!(
        all(SearchRequest { visibility: Visibility::FollowedBy("zhangsan".into()), ..query("") }),
        ["wm_alice", "wm_wang"]
    );
    assert!(all(SearchRequest { visibility: Visibility::Stores(vec![]), ..query("") }).is_empty());
}

#[tokio::test]
async fn pages_follow_their_tokens_to_the_end() {
    let index = sample().await;
    let mut request = SearchRequest { page_size: 3, sort: Sort::AddedDesc, ..query("") };
    let first = index.search(&request).unwrap();
    assert_eq!((first.hits.len(), first.total), (3, 4));
    request.page_token = first.next_page_token;
    let second = index.search(&request).unwrap();
    assert_eq!(second.hits.len(), 1);
    assert!(second.next_page_token.is_empty());
    let mut seen: Vec<_> =
        first.hits.iter().chain(&second.hits).map(|hit| hit.customer.external_userid.clone()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    assert!(index.search(&SearchRequest { page_token: "bogus".into(), ..query("") }).is_err());
}

#[tokio::test]
async fn a_change_becomes_searchable_without_a_flush() {
    let index = sample().await;
    index.upsert(customer("wm_new", "赵敏", "新客", "", "101", "zhangsan")).unwrap();
    index.delete("wm_li").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ids(&index, query("赵敏")).is_empty() {
        assert!(Instant::now() < deadline, "the change never became searchable");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ids(&index, query("李雷")).is_empty());
    let mut wang = index.search(&query("wm_wang")).unwrap().hits.remove(0).customer;
    wang.name = "王大明".into();
    index.upsert(wang).unwrap();
    index.flush().await.unwrap();
    assert_eq!(ids(&index, query("大明")), ["wm_wang"]);
    assert!(ids(&index, query("小明")).is_empty(), "the old document is replaced");
}

#[tokio::test]
async fn a_rebuild_replaces_everything_and_an_abandoned_one_changes_nothing() {
    let index = sample().await;
    let rebuild = index.rebuild().unwrap();
    rebuild.add(customer("wm_only", "孙悟空", "", "", "101", "zhangsan")).await.unwrap();
    assert_eq!(index.num_docs(), 4, "searches see the old content until the rebuild commits");
    assert_eq!(rebuild.finish().await.unwrap(), 1);
    assert_eq!(ids(&index, query("")), ["wm_only"]);

    let rebuild = index.rebuild().unwrap();
    rebuild.add(customer("wm_other", "猪八戒", "", "", "101", "zhangsan")).await.unwrap();
    rebuild.abandon("database failed").await;
    index.flush().await.unwrap();
    assert_eq!(ids(&index, query("")), ["wm_only"]);
}

#[tokio::test]
async fn an_index_on_disk_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (index, fresh) = SearchIndex::open(dir.path()).unwrap();
        assert!(fresh);
        index.upsert(customer("wm_disk", "周杰", "", "", "101", "zhangsan")).unwrap();
        index.flush().await.unwrap();
        // Queued but not flushed: dropping the index commits it.
        index.upsert(customer("wm_late", "周迅", "", "", "101", "zhangsan")).unwrap();
    }
    // Dropping the last clone released the index's lock: it opens again at once.
    let (index, fresh) = SearchIndex::open(dir.path()).expect("the dropped index released its lock");
    assert!(!fresh);
    assert_eq!(ids(&index, query("周杰")), ["wm_disk"]);
    assert_eq!(ids(&index, query("周迅")), ["wm_late"]);
}

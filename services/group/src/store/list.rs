//! Reading the group list (PR04): filtered, sorted, keyset-paged listings and one group's detail.

use std::collections::HashMap;

use scrm_kernel::StoreScope;
use scrm_storage::push_store_filter;
use sqlx::{Any, FromRow, QueryBuilder};

use super::GroupStore;
use crate::domain::MemberRecord;
use crate::listing::{Cursor, GroupFilter, Sort, SortKey, SortValue, like_pattern};

/// A group as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ListedGroup {
    /// scrm's id.
    pub id: i64,
    /// WeCom chat_id.
    pub chat_id: String,
    /// Group name.
    pub name: String,
    /// Owner's userid.
    pub owner_userid: String,
    /// Store id; `None` when the group belongs to no store.
    pub store_id: Option<String>,
    /// Current members.
    pub member_count: i32,
    /// Current customers.
    pub customer_count: i32,
    /// Current staff.
    pub staff_count: i32,
    /// WeCom create_time, Unix ms.
    pub created_at: i64,
    /// Dismissal time.
    pub dismissed_at: Option<i64>,
    /// `GroupChatStatus` 1..=4.
    pub status: i32,
    /// 群公告.
    pub notice: Option<String>,
    /// Last change of the group's own fields.
    pub updated_at: i64,
    /// Admins, comma-separated.
    pub admin_userids: String,
    /// WeCom member_version.
    pub member_version: String,
    /// Messages today.
    pub messages_1d: i64,
    /// Messages in 7 days.
    pub messages_7d: i64,
    /// Messages in 30 days.
    pub messages_30d: i64,
    /// Speakers today.
    pub speakers_1d: i64,
    /// Speakers in 7 days.
    pub speakers_7d: i64,
    /// Speakers in 30 days.
    pub speakers_30d: i64,
    /// 潜水率 in basis points.
    pub lurker_ratio_bps: i32,
    /// Last message, Unix ms.
    pub last_message_at: Option<i64>,
    /// `ActivityBand`.
    pub activity_band: i32,
    /// `GroupAlertState`.
    pub alert_state: i32,
    /// `AlertKind`s of open alerts, comma-separated.
    pub open_alert_kinds: String,
    /// Number of open alerts.
    pub open_alert_count: i32,
    /// Tags carried.
    pub tag_count: i32,
}

impl ListedGroup {
    /// The row's value in the sort column `key` (as [`SortKey::expression`] computes it).
    pub fn sort_value(&self, key: SortKey) -> SortValue {
        let int = |value: i64| SortValue::Int(value);
        match key {
            SortKey::Name => SortValue::Text(self.name.clone()),
            SortKey::Owner => SortValue::Text(self.owner_userid.clone()),
            SortKey::Store => SortValue::Text(self.store_id.clone().unwrap_or_default()),
            SortKey::MemberCount => int(self.member_count.into()),
            SortKey::CustomerCount => int(self.customer_count.into()),
            SortKey::StaffCount => int(self.staff_count.into()),
            SortKey::CreateTime => int(self.created_at),
            SortKey::Speakers1d => int(self.speakers_1d),
            SortKey::Speakers7d => int(self.speakers_7d),
            SortKey::Speakers30d => int(self.speakers_30d),
            SortKey::Messages1d => int(self.messages_1d),
            SortKey::Messages7d => int(self.messages_7d),
            SortKey::Messages30d => int(self.messages_30d),
            SortKey::LurkerRatio => int(self.lurker_ratio_bps.into()),
            SortKey::LastMessageTime => int(self.last_message_at.unwrap_or(0)),
            SortKey::AlertState => int(i64::from(self.alert_state) * 100_000 + i64::from(self.open_alert_count)),
            SortKey::TagCount => int(self.tag_count.into()),
            SortKey::WelcomeCoverage => int(0),
        }
    }

    /// The `AlertKind` values of the open alerts.
    pub fn open_alert_kinds(&self) -> Vec<i32> {
        self.open_alert_kinds.split(',').filter_map(|kind| kind.parse().ok()).collect()
    }
}

/// A group tag as a group carries it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TagRef {
    /// The tag's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
}

/// A member as the group detail shows it: as stored, with their last message.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MemberView {
    /// The member.
    #[sqlx(flatten)]
    pub member: MemberRecord,
    /// Last message, Unix ms.
    pub last_message_at: Option<i64>,
}

/// A group a member is currently in.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MemberGroupView {
    /// WeCom chat_id.
    pub chat_id: String,
    /// scrm id.
    pub id: i64,
    /// Group name.
    pub name: String,
    /// Join time, Unix ms.
    pub joined_at: i64,
}

/// How a single group is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    /// By WeCom chat_id.
    ChatId(String),
    /// By scrm id.
    Id(i64),
}

const LIST_COLUMNS: &str = "c.id, c.chat_id, c.name, c.owner_userid, c.store_id, c.member_count, c.customer_count, \
     c.staff_count, c.created_at, c.dismissed_at, c.status, c.notice, c.updated_at, c.admin_userids, \
     c.member_version, c.messages_1d, c.messages_7d, c.messages_30d, c.speakers_1d, c.speakers_7d, c.speakers_30d, \
     c.lurker_ratio_bps, c.last_message_at, c.activity_band, c.alert_state, c.open_alert_kinds, \
     c.open_alert_count, c.tag_count";

impl GroupStore {
    /// One page of the groups matching `filter`, in `sort` order, after `after`; up to `limit` rows.
    pub async fn list_groups(
        &self,
        filter: &GroupFilter,
        sort: Sort,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Vec<ListedGroup>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {LIST_COLUMNS} FROM group_chat c WHERE 1 = 1"));
        push_filter(&mut query, filter);
        let expression = sort.key.expression();
        let (compare, order) = if sort.ascending { (">", "ASC") } else { ("<", "DESC") };
        if let Some(cursor) = after {
            query.push(format!(" AND ({expression} {compare} "));
            push_value(&mut query, &cursor.value);
            query.push(format!(" OR ({expression} = "));
            push_value(&mut query, &cursor.value);
            query.push(format!(" AND c.id {compare} ")).push_bind(cursor.id).push("))");
        }
        query.push(format!(" ORDER BY {expression} {order}, c.id {order} LIMIT ")).push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// The number of groups matching `filter`.
    pub async fn count_matching(&self, filter: &GroupFilter) -> Result<i64, sqlx::Error> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM group_chat c WHERE 1 = 1");
        push_filter(&mut query, filter);
        query.build_query_scalar().fetch_one(self.db.pool()).await
    }

    /// One group, dismissed or not, when it exists within `filter`'s scope.
    pub async fn find_group(&self, key: &GroupKey, filter: &GroupFilter) -> Result<Option<ListedGroup>, sqlx::Error> {
        let mut query = QueryBuilder::new(format!("SELECT {LIST_COLUMNS} FROM group_chat c WHERE "));
        match key {
            GroupKey::ChatId(chat_id) => query.push("c.chat_id = ").push_bind(chat_id.clone()),
            GroupKey::Id(id) => query.push("c.id = ").push_bind(*id),
        };
        push_store_filter(&mut query, "c.store_id", &filter.scope);
        query.build_query_as().fetch_optional(self.db.pool()).await
    }

    /// The tags of each of `group_ids`, by category, sort order and id.
    pub async fn tags_of(&self, group_ids: &[i64]) -> Result<HashMap<i64, Vec<TagRef>>, sqlx::Error> {
        let mut tags: HashMap<i64, Vec<TagRef>> = HashMap::new();
        if group_ids.is_empty() {
            return Ok(tags);
        }
        let mut query = QueryBuilder::new(
            "SELECT ct.group_id, t.id, t.name, t.category FROM group_chat_tag ct \
             JOIN group_tag t ON t.id = ct.tag_id WHERE ct.group_id IN (",
        );
        let mut list = query.separated(", ");
        for id in group_ids {
            list.push_bind(*id);
        }
        query.push(") ORDER BY t.category, t.sort_order, t.id");
        let rows: Vec<(i64, i64, String, String)> = query.build_query_as().fetch_all(self.db.pool()).await?;
        for (group_id, id, name, category) in rows {
            tags.entry(group_id).or_default().push(TagRef { id, name, category });
        }
        Ok(tags)
    }

    /// The members of a group: current ones by join time, then departed ones when `include_left`.
    pub async fn members_of(&self, chat_id: &str, include_left: bool) -> Result<Vec<MemberView>, sqlx::Error> {
        let left = if include_left { "" } else { " AND left_at IS NULL" };
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT userid, member_type, name, group_nickname, unionid, joined_at, join_scene, inviter_userid, \
             state, left_at, quit_scene, last_message_at FROM group_member WHERE chat_id = ?{left} \
             ORDER BY CASE WHEN left_at IS NULL THEN 0 ELSE 1 END, joined_at, userid"
        )))
        .bind(chat_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// The groups in `scope`, not dismissed, that `userid` is currently a member of, latest join first; up to
    /// `limit`.
    pub async fn groups_of_member(
        &self,
        userid: &str,
        scope: &StoreScope,
        limit: u32,
    ) -> Result<Vec<MemberGroupView>, sqlx::Error> {
        let mut query = QueryBuilder::new(
            "SELECT c.chat_id, c.id, c.name, m.joined_at FROM group_member m JOIN group_chat c ON c.chat_id = m.chat_id \
             WHERE m.userid = ",
        );
        query.push_bind(userid.to_owned()).push(" AND m.left_at IS NULL AND c.dismissed_at IS NULL");
        push_store_filter(&mut query, "c.store_id", scope);
        // Both keys on the member table, in one direction: the (userid, left_at, joined_at) index gives the order
        // and every member column read, with no temporary table, no sort and no member row.
        query.push(" ORDER BY m.joined_at DESC, m.chat_id DESC LIMIT ").push_bind(i64::from(limit));
        query.build_query_as().fetch_all(self.db.pool()).await
    }
}

fn push_value(query: &mut QueryBuilder<Any>, value: &SortValue) {
    match value {
        SortValue::Int(value) => query.push_bind(*value),
        SortValue::Text(text) => query.push_bind(text.clone()),
    };
}

fn push_in<T>(query: &mut QueryBuilder<Any>, column: &str, values: &[T])
where
    T: Clone + Send + 'static + for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any>,
{
    if values.is_empty() {
        return;
    }
    query.push(format!(" AND {column} IN ("));
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value.clone());
    }
    query.push(")");
}

/// Appends `filter`'s conditions to a query over `group_chat c` that already has a WHERE clause.
pub(super) fn push_filter(query: &mut QueryBuilder<Any>, filter: &GroupFilter) {
    if filter.matches_nothing {
        query.push(" AND 1 = 0");
    }
    if !filter.include_dismissed {
        query.push(" AND c.dismissed_at IS NULL");
    }
    push_store_filter(query, "c.store_id", &filter.scope);
    push_in(query, "c.owner_userid", &filter.owners);
    push_in(query, "c.store_id", &filter.store_ids);
    push_in(query, "c.activity_band", &filter.activity_bands);
    push_in(query, "c.alert_state", &filter.alert_states);
    push_in(query, "c.chat_id", &filter.chat_ids);
    push_in(query, "c.id", &filter.ids);
    match filter.coverage_ids.as_deref() {
        None => {}
        Some([]) => {
            query.push(" AND 1 = 0");
        }
        Some(ids) => {
            // Computed ids, not input: inlined as literals, as there may be more than a statement's bind limit.
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            query.push(format!(" AND c.id IN ({})", list.join(",")));
        }
    }
    if !filter.tag_ids.is_empty() {
        if filter.match_all_tags {
            query.push(" AND (SELECT COUNT(*) FROM group_chat_tag ct WHERE ct.group_id = c.id AND ct.tag_id IN (");
        } else {
            query.push(" AND EXISTS (SELECT 1 FROM group_chat_tag ct WHERE ct.group_id = c.id AND ct.tag_id IN (");
        }
        let mut list = query.separated(", ");
        for id in &filter.tag_ids {
            list.push_bind(*id);
        }
        query.push("))");
        if filter.match_all_tags {
            query.push(" = ").push_bind(filter.tag_ids.len() as i64);
        }
    }
    if !filter.name_query.is_empty() {
        query.push(" AND LOWER(c.name) LIKE ").push_bind(like_pattern(&filter.name_query)).push(" ESCAPE '!'");
    }
}

#[cfg(test)]
mod tests {
    use scrm_kernel::StoreScope;
    use scrm_storage::Db;

    use super::*;
    use crate::domain::{ChatSnapshot, MemberInput};

    fn member(userid: &str, member_type: i32) -> MemberInput {
        MemberInput {
            userid: userid.to_owned(),
            member_type,
            joined_at: Some(1_000),
            join_scene: 3,
            inviter_userid: "zhangsan".to_owned(),
            group_nickname: String::new(),
            name: String::new(),
            unionid: String::new(),
            state: "way-1".to_owned(),
        }
    }

    /// Stores `count` groups `wr0..`: owner `owner{i % 3}`, store `s{i % 2}` (numeric 10/11), i + 1 customers.
    async fn seed(db: &Db, count: usize) -> GroupStore {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = GroupStore::new(db.clone());
        for i in 0..count {
            let mut members = vec![member(&format!("owner{}", i % 3), 1)];
            members.extend((0..=i).map(|n| member(&format!("wm{i}-{n}"), 2)));
            let snapshot = ChatSnapshot {
                chat_id: format!("wr{i}"),
                name: if i % 2 == 0 { format!("会员群{i}") } else { format!("VIP Club {i}") },
                owner_userid: format!("owner{}", i % 3),
                created_at: Some(1_000_000 + i as i64),
                notice: String::new(),
                status: 1,
                admin_userids: Vec::new(),
                members_complete: true,
                members,
                member_version: String::new(),
                observed_at: Some(5_000_000),
            };
            store.upsert_group_chat(&snapshot, 5_000_000).await.unwrap();
            sqlx::query("UPDATE group_chat SET store_id = ? WHERE chat_id = ?")
                .bind(format!("1{}", i % 2))
                .bind(format!("wr{i}"))
                .execute(db.pool())
                .await
                .unwrap();
        }
        store
    }

    async fn page_all(store: &GroupStore, filter: &GroupFilter, sort: Sort, size: u32) -> Vec<String> {
        let mut seen = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let rows = store.list_groups(filter, sort, after.as_ref(), size).await.unwrap();
            seen.extend(rows.iter().map(|row| row.chat_id.clone()));
            match rows.last() {
                Some(last) if rows.len() == size as usize => {
                    after = Some(Cursor { fingerprint: 0, value: last.sort_value(sort.key), id: last.id })
                }
                _ => return seen,
            }
        }
    }

    async fn keyset_pages_cover_every_group_once_in_order(db: Db) {
        let store = seed(&db, 7).await;
        let all = GroupFilter::all(StoreScope::All);
        let newest_first = Sort { key: SortKey::CreateTime, ascending: false };
        let expected: Vec<String> = (0..7).rev().map(|i| format!("wr{i}")).collect();
        assert_eq!(page_all(&store, &all, newest_first, 3).await, expected);
        // Ties (three groups per owner) are broken by id, and no row is lost across pages.
        let by_owner = Sort { key: SortKey::Owner, ascending: true };
        assert_eq!(page_all(&store, &all, by_owner, 2).await, ["wr0", "wr3", "wr6", "wr1", "wr4", "wr2", "wr5"]);
        let by_members = Sort { key: SortKey::MemberCount, ascending: true };
        assert_eq!(page_all(&store, &all, by_members, 4).await, ["wr0", "wr1", "wr2", "wr3", "wr4", "wr5", "wr6"]);
        assert_eq!(store.count_matching(&all).await.unwrap(), 7);
    }

    async fn filters_combine_and_respect_the_scope(db: Db) {
        let store = seed(&db, 6).await;
        let sort = Sort { key: SortKey::CreateTime, ascending: true };
        let ids = |filter: GroupFilter| {
            let store = store.clone();
            async move { page_all(&store, &filter, sort, 50).await }
        };
        let all = || GroupFilter::all(StoreScope::All);
        assert_eq!(ids(GroupFilter { owners: vec!["owner1".into()], ..all() }).await, ["wr1", "wr4"]);
        assert_eq!(ids(GroupFilter { store_ids: vec!["10".into()], ..all() }).await, ["wr0", "wr2", "wr4"]);
        assert_eq!(
            ids(GroupFilter { scope: StoreScope::Only(vec!["11".into()]), ..all() }).await,
            ["wr1", "wr3", "wr5"]
        );
        assert_eq!(ids(GroupFilter { name_query: "vip".into(), ..all() }).await, ["wr1", "wr3", "wr5"]);
        assert_eq!(
            ids(GroupFilter { name_query: "会员".into(), owners: vec!["owner0".into()], ..all() }).await,
            ["wr0"]
        );
        assert_eq!(ids(GroupFilter { chat_ids: vec!["wr2".into(), "wr9".into()], ..all() }).await, ["wr2"]);
        assert!(ids(GroupFilter { name_query: "%".into(), ..all() }).await.is_empty());
        assert!(ids(GroupFilter { matches_nothing: true, ..all() }).await.is_empty());

        let id_of = |chat_id: &'static str| {
            let store = store.clone();
            async move { store.find_group(&GroupKey::ChatId(chat_id.into()), &all()).await.unwrap().unwrap().id }
        };
        let (g1, g2) = (id_of("wr1").await, id_of("wr2").await);
        for (group_id, tag_id) in [(g1, 100), (g1, 200), (g2, 100)] {
            sqlx::query("INSERT INTO group_chat_tag (group_id, tag_id, created_at) VALUES (?, ?, 0)")
                .bind(group_id)
                .bind(tag_id as i64)
                .execute(db.pool())
                .await
                .unwrap();
        }
        assert_eq!(ids(GroupFilter { ids: vec![g2], ..all() }).await, ["wr2"]);
        assert_eq!(ids(GroupFilter { coverage_ids: Some(vec![g2]), ..all() }).await, ["wr2"]);
        assert!(ids(GroupFilter { coverage_ids: Some(Vec::new()), ..all() }).await.is_empty());
        assert_eq!(ids(GroupFilter { tag_ids: vec![100, 200], ..all() }).await, ["wr1", "wr2"]);
        assert_eq!(ids(GroupFilter { tag_ids: vec![100, 200], match_all_tags: true, ..all() }).await, ["wr1"]);

        let scoped = GroupFilter::all(StoreScope::Only(vec!["10".into()]));
        assert!(store.find_group(&GroupKey::ChatId("wr1".into()), &scoped).await.unwrap().is_none());
        let members = store.members_of("wr1", false).await.unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!((members[0].member.state.as_str(), members[0].member.join_scene), ("way-1", 3));
    }

    async fn a_members_groups_are_the_current_ones_in_scope(db: Db) {
        let store = seed(&db, 4).await;
        // Customer wm-shared joins wr0 (store 10), wr1 (store 11) and wr2 (store 10), then leaves wr2;
        // wr1 is dismissed later in the test.
        for (chat_id, joined_at) in [("wr0", 3_000), ("wr1", 2_000), ("wr2", 1_000)] {
            sqlx::query(
                "INSERT INTO group_member (chat_id, userid, member_type, joined_at, updated_at) VALUES (?, ?, 2, ?, 0)",
            )
            .bind(chat_id)
            .bind("wm-shared")
            .bind(joined_at as i64)
            .execute(db.pool())
            .await
            .unwrap();
        }
        sqlx::query("UPDATE group_member SET left_at = 4000 WHERE chat_id = 'wr2' AND userid = 'wm-shared'")
            .execute(db.pool())
            .await
            .unwrap();
        let chats = |scope: StoreScope, limit: u32| {
            let store = store.clone();
            async move {
                let rows = store.groups_of_member("wm-shared", &scope, limit).await.unwrap();
                rows.into_iter().map(|row| (row.chat_id, row.joined_at)).collect::<Vec<_>>()
            }
        };
        assert_eq!(chats(StoreScope::All, 100).await, [("wr0".to_owned(), 3_000), ("wr1".to_owned(), 2_000)]);
        assert_eq!(chats(StoreScope::All, 1).await, [("wr0".to_owned(), 3_000)]);
        assert_eq!(chats(StoreScope::Only(vec!["11".into()]), 100).await, [("wr1".to_owned(), 2_000)]);
        sqlx::query("UPDATE group_chat SET dismissed_at = 5000 WHERE chat_id = 'wr1'")
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(chats(StoreScope::All, 100).await, [("wr0".to_owned(), 3_000)]);
        assert!(store.groups_of_member("wm-nobody", &StoreScope::All, 100).await.unwrap().is_empty());
    }

    scrm_storage::store_test_suite!(
        keyset_pages_cover_every_group_once_in_order,
        filters_combine_and_respect_the_scope,
        a_members_groups_are_the_current_ones_in_scope,
    );
}

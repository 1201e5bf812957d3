//! The quick-reply tables: `customer_quick_reply_folder`, `customer_quick_reply` and
//! `customer_quick_reply_send`.

use scrm_proto::customer::v1::{QuickReplyKind, QuickReplySort};
use scrm_storage::{Db, Dialect};
use sqlx::{Any, AnyConnection, FromRow, QueryBuilder};

use super::domain::{Audience, Library, like_pattern};

/// A folder as stored, with its live reply count.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FolderRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// QuickReplyScope code.
    pub scope: i32,
    /// Owner's staff id; empty for the company library.
    pub owner: String,
    /// Sort value.
    pub sort_order: i32,
    /// Replies in it, deleted ones not counted.
    pub reply_count: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl FolderRow {
    /// The folder's library; `None` for a row with an unknown scope.
    pub fn library(&self) -> Option<Library> {
        Library::from_columns(self.scope, &self.owner)
    }
}

/// A reply as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReplyRow {
    /// Id.
    pub id: i64,
    /// Folder.
    pub folder_id: i64,
    /// QuickReplyScope code, from the folder.
    pub scope: i32,
    /// Owner's staff id, from the folder.
    pub owner: String,
    /// Title.
    pub title: String,
    /// QuickReplyKind code.
    pub kind: i32,
    /// Encoded `QuickReplyContent`.
    pub content: Vec<u8>,
    /// Newline-separated keywords.
    pub keywords: String,
    /// Times sent.
    pub usage_count: i64,
    /// Unix ms of the last send.
    pub last_used_at: Option<i64>,
    /// Staff id of its creator.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms of the deletion; `None` while live.
    pub deleted_at: Option<i64>,
}

impl ReplyRow {
    /// The reply's library; `None` for a row with an unknown scope.
    pub fn library(&self) -> Option<Library> {
        Library::from_columns(self.scope, &self.owner)
    }
}

const REPLY_COLUMNS: &str = "id, folder_id, scope, owner, title, kind, content, keywords, usage_count, last_used_at, \
     created_by, created_at, updated_at, deleted_at";

const FOLDER_SELECT: &str = "SELECT f.id, f.name, f.scope, f.owner, f.sort_order, \
     (SELECT COUNT(*) FROM customer_quick_reply r WHERE r.folder_id = f.id AND r.deleted_at IS NULL) AS reply_count, \
     f.created_at, f.updated_at FROM customer_quick_reply_folder f";

/// A reply to insert or the new state of one.
#[derive(Debug, Clone)]
pub struct ReplyFields {
    /// Folder.
    pub folder_id: i64,
    /// The folder's library.
    pub library: Library,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: QuickReplyKind,
    /// Encoded `QuickReplyContent`.
    pub content: Vec<u8>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Lower-cased text matched by search.
    pub search_text: String,
}

/// Filters of a reply list.
#[derive(Debug, Clone)]
pub struct ReplyFilter {
    /// Libraries to read (at least one).
    pub libraries: Vec<Library>,
    /// Only this folder.
    pub folder_id: Option<i64>,
    /// Only this kind.
    pub kind: Option<QuickReplyKind>,
}

/// The outcome of a recorded send, as stored with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SendRow {
    /// The reply's usage count after the send.
    pub usage_count: i64,
    /// RewardIssueStatus code.
    pub reward_status: i32,
    /// Grant id when issued.
    pub reward_grant_id: i64,
    /// Note on the coupon outcome.
    pub reward_message: String,
    /// Coupon id when issued.
    pub reward_coupon_id: i64,
    /// Coupon redemption code when issued.
    pub reward_coupon_code: String,
    /// The reply sent.
    pub quick_reply_id: i64,
    /// The customer it was sent to; empty for a group.
    pub external_userid: String,
}

/// The coupon outcome of a recorded send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendReward {
    /// RewardIssueStatus code.
    pub status: i32,
    /// Grant id when issued.
    pub grant_id: i64,
    /// Note on the outcome.
    pub message: String,
    /// Coupon id when issued.
    pub coupon_id: i64,
    /// Coupon redemption code when issued.
    pub coupon_code: String,
}

/// A send to record.
#[derive(Debug, Clone)]
pub struct NewSend<'a> {
    /// Who sent it.
    pub staff_id: &'a str,
    /// The caller's idempotency key.
    pub idempotency_key: &'a str,
    /// The reply.
    pub quick_reply_id: i64,
    /// Customer of a one-to-one chat.
    pub external_userid: &'a str,
    /// Group chat.
    pub chat_id: &'a str,
    /// Unix ms of the send.
    pub sent_at: i64,
}

/// What the folder or reply write ran into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A folder of that name exists in the library.
    #[error("a folder with this name exists in the library")]
    DuplicateName,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

fn map_unique(error: sqlx::Error) -> WriteError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => WriteError::DuplicateName,
        _ => WriteError::Storage(error),
    }
}

/// Reads and writes the quick-reply tables.
#[derive(Debug, Clone)]
pub struct QuickReplyStore {
    db: Db,
}

impl QuickReplyStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        QuickReplyStore { db }
    }

    /// Creates a folder; returns it.
    pub async fn create_folder(
        &self,
        library: &Library,
        name: &str,
        sort_order: i32,
        now: i64,
    ) -> Result<FolderRow, WriteError> {
        let mut connection = self.db.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO customer_quick_reply_folder (name, scope, owner, sort_order, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(library.scope() as i32)
        .bind(library.owner())
        .bind(sort_order)
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await
        .map_err(map_unique)?;
        let id = self.last_insert_id(&mut connection).await?;
        drop(connection);
        Ok(self.folder(id).await?.ok_or(sqlx::Error::RowNotFound)?)
    }

    /// One folder; `None` when unknown.
    pub async fn folder(&self, id: i64) -> Result<Option<FolderRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{FOLDER_SELECT} WHERE f.id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Folders of `libraries`: company first, then personal, each by sort value and id.
    pub async fn list_folders(
        &self,
        libraries: &[Library],
        offset: u64,
        limit: u32,
    ) -> Result<Vec<FolderRow>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(format!("{FOLDER_SELECT} WHERE "));
        push_libraries(&mut query, "f.", libraries);
        query.push(" ORDER BY f.scope, f.sort_order, f.id LIMIT ");
        query.push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset as i64);
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Renames or reorders a folder.
    pub async fn update_folder(
        &self,
        id: i64,
        name: Option<&str>,
        sort_order: Option<i32>,
        now: i64,
    ) -> Result<(), WriteError> {
        let mut query = QueryBuilder::<Any>::new("UPDATE customer_quick_reply_folder SET updated_at = ");
        query.push_bind(now);
        if let Some(name) = name {
            query.push(", name = ").push_bind(name.to_owned());
        }
        if let Some(sort_order) = sort_order {
            query.push(", sort_order = ").push_bind(sort_order);
        }
        query.push(" WHERE id = ").push_bind(id);
        query.build().execute(self.db.pool()).await.map_err(map_unique)?;
        Ok(())
    }

    /// Deletes a folder and marks its replies deleted; returns how many replies were.
    pub async fn delete_folder(&self, id: i64, now: i64) -> Result<i64, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let replies = sqlx::query(
            "UPDATE customer_quick_reply SET deleted_at = ?, updated_at = ? WHERE folder_id = ? AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM customer_quick_reply_folder WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(replies as i64)
    }

    /// Inserts a reply created by `created_by`; returns its id.
    pub async fn insert_reply(&self, fields: &ReplyFields, created_by: &str, now: i64) -> Result<i64, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO customer_quick_reply (folder_id, scope, owner, title, kind, content, keywords, search_text, \
             usage_count, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        )
        .bind(fields.folder_id)
        .bind(fields.library.scope() as i32)
        .bind(fields.library.owner())
        .bind(&fields.title)
        .bind(fields.kind as i32)
        .bind(fields.content.clone())
        .bind(fields.keywords.join("\n"))
        .bind(&fields.search_text)
        .bind(created_by)
        .bind(now)
        .bind(now)
        .execute(&mut *connection)
        .await?;
        self.last_insert_id(&mut connection).await
    }

    /// The id the last insert on `connection` minted (the Any driver does not report it on every backend).
    async fn last_insert_id(&self, connection: &mut AnyConnection) -> Result<i64, sqlx::Error> {
        let query = match self.db.dialect() {
            Dialect::Sqlite => "SELECT last_insert_rowid()",
            Dialect::MySql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)",
        };
        sqlx::query_scalar(query).fetch_one(connection).await
    }

    /// One live reply; `None` when unknown or deleted.
    pub async fn reply(&self, id: i64) -> Result<Option<ReplyRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {REPLY_COLUMNS} FROM customer_quick_reply WHERE id = ? AND deleted_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
    }

    /// A reply, deleted or not; `None` when it never existed.
    pub async fn reply_any(&self, id: i64) -> Result<Option<ReplyRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {REPLY_COLUMNS} FROM customer_quick_reply WHERE id = ?")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Replaces a reply's folder, title, content and keywords.
    pub async fn update_reply(&self, id: i64, fields: &ReplyFields, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_quick_reply SET folder_id = ?, scope = ?, owner = ?, title = ?, kind = ?, content = ?, \
             keywords = ?, search_text = ?, updated_at = ? WHERE id = ?",
        )
        .bind(fields.folder_id)
        .bind(fields.library.scope() as i32)
        .bind(fields.library.owner())
        .bind(&fields.title)
        .bind(fields.kind as i32)
        .bind(fields.content.clone())
        .bind(fields.keywords.join("\n"))
        .bind(&fields.search_text)
        .bind(now)
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Marks a reply deleted.
    pub async fn delete_reply(&self, id: i64, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE customer_quick_reply SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Live replies matching `filter`, in `sort` order.
    pub async fn list_replies(
        &self,
        filter: &ReplyFilter,
        sort: QuickReplySort,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<ReplyRow>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(format!("SELECT {REPLY_COLUMNS} FROM customer_quick_reply WHERE "));
        push_filter(&mut query, filter);
        query.push(match sort {
            QuickReplySort::UpdatedDesc => " ORDER BY updated_at DESC, id DESC",
            QuickReplySort::Title => " ORDER BY title, id",
            QuickReplySort::UsageDesc | QuickReplySort::Unspecified => " ORDER BY usage_count DESC, title, id",
        });
        query.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset as i64);
        query.build_query_as().fetch_all(self.db.pool()).await
    }

    /// Live replies whose title, text or keywords contain `query` (lower-cased): title matches first, then
    /// most used.
    pub async fn search_replies(
        &self,
        filter: &ReplyFilter,
        query: &str,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<ReplyRow>, sqlx::Error> {
        let pattern = like_pattern(query);
        let mut builder = QueryBuilder::<Any>::new(format!("SELECT {REPLY_COLUMNS} FROM customer_quick_reply WHERE "));
        push_filter(&mut builder, filter);
        builder.push(" AND search_text LIKE ").push_bind(pattern.clone()).push(" ESCAPE '!'");
        builder.push(" ORDER BY CASE WHEN LOWER(title) LIKE ").push_bind(pattern);
        builder.push(" ESCAPE '!' THEN 0 ELSE 1 END, usage_count DESC, title, id");
        builder.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(offset as i64);
        builder.build_query_as().fetch_all(self.db.pool()).await
    }

    /// The outcome stored for a send key; `None` when the key is new.
    pub async fn send(&self, staff_id: &str, idempotency_key: &str) -> Result<Option<SendRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT usage_count, reward_status, reward_grant_id, reward_message, reward_coupon_id, \
             reward_coupon_code, quick_reply_id, external_userid FROM customer_quick_reply_send \
             WHERE staff_id = ? AND idempotency_key = ?",
        )
        .bind(staff_id)
        .bind(idempotency_key)
        .fetch_optional(self.db.pool())
        .await
    }

    /// Records a send and counts it on the reply, in one transaction. Returns the usage count after it, or
    /// `None` when the key was recorded before (nothing is counted again).
    pub async fn record_send(&self, send: &NewSend<'_>, now: i64) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let claimed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{} INTO customer_quick_reply_send (staff_id, idempotency_key, quick_reply_id, external_userid, chat_id, \
             sent_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.db.dialect().insert_ignore()
        )))
        .bind(send.staff_id)
        .bind(send.idempotency_key)
        .bind(send.quick_reply_id)
        .bind(send.external_userid)
        .bind(send.chat_id)
        .bind(send.sent_at)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE customer_quick_reply SET usage_count = usage_count + 1, \
             last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END \
             WHERE id = ?",
        )
        .bind(send.sent_at)
        .bind(send.sent_at)
        .bind(send.quick_reply_id)
        .execute(&mut *tx)
        .await?;
        let usage_count: i64 = sqlx::query_scalar("SELECT usage_count FROM customer_quick_reply WHERE id = ?")
            .bind(send.quick_reply_id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("UPDATE customer_quick_reply_send SET usage_count = ? WHERE staff_id = ? AND idempotency_key = ?")
            .bind(usage_count)
            .bind(send.staff_id)
            .bind(send.idempotency_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(usage_count))
    }

    /// Stores the coupon outcome of a recorded send.
    pub async fn set_send_reward(
        &self,
        staff_id: &str,
        idempotency_key: &str,
        reward: &SendReward,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_quick_reply_send SET reward_status = ?, reward_grant_id = ?, reward_message = ?, \
             reward_coupon_id = ?, reward_coupon_code = ? WHERE staff_id = ? AND idempotency_key = ?",
        )
        .bind(reward.status)
        .bind(reward.grant_id)
        .bind(&reward.message)
        .bind(reward.coupon_id)
        .bind(&reward.coupon_code)
        .bind(staff_id)
        .bind(idempotency_key)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// The customer `external_userid` as `staff_id` addresses them; `None` when the customer is unknown.
    pub async fn audience(&self, external_userid: &str, staff_id: &str) -> Result<Option<Audience>, sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            name: String,
            remark: Option<String>,
        }
        let row: Option<Row> = sqlx::query_as(
            "SELECT c.name, f.remark FROM customer_contact c LEFT JOIN customer_follow_user f \
             ON f.external_userid = c.external_userid AND f.userid = ? WHERE c.external_userid = ?",
        )
        .bind(staff_id)
        .bind(external_userid)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|row| Audience::Customer { name: row.name, remark: row.remark.unwrap_or_default() }))
    }
}

/// `(scope = ? AND owner = ?) OR ...` for `libraries`, columns prefixed with `prefix`.
fn push_libraries(query: &mut QueryBuilder<Any>, prefix: &str, libraries: &[Library]) {
    query.push("(");
    for (index, library) in libraries.iter().enumerate() {
        if index > 0 {
            query.push(" OR ");
        }
        query.push(format!("({prefix}scope = ")).push_bind(library.scope() as i32);
        query.push(format!(" AND {prefix}owner = ")).push_bind(library.owner().to_owned()).push(")");
    }
    if libraries.is_empty() {
        query.push("1 = 0");
    }
    query.push(")");
}

fn push_filter(query: &mut QueryBuilder<Any>, filter: &ReplyFilter) {
    query.push("deleted_at IS NULL AND ");
    push_libraries(query, "", &filter.libraries);
    if let Some(folder_id) = filter.folder_id {
        query.push(" AND folder_id = ").push_bind(folder_id);
    }
    if let Some(kind) = filter.kind {
        query.push(" AND kind = ").push_bind(kind as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(folder: &FolderRow, title: &str, text: &str) -> ReplyFields {
        ReplyFields {
            folder_id: folder.id,
            library: folder.library().unwrap(),
            title: title.into(),
            kind: QuickReplyKind::Text,
            content: text.as_bytes().to_vec(),
            keywords: vec!["关键词".into()],
            search_text: format!("{title}\n{text}").to_lowercase(),
        }
    }

    fn all(libraries: Vec<Library>) -> ReplyFilter {
        ReplyFilter { libraries, folder_id: None, kind: None }
    }

    async fn folders_are_unique_per_library_and_ordered(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = QuickReplyStore::new(db);
        let mine = Library::Personal("kefu".into());
        let company = store.create_folder(&Library::Company, "售后话术", 2, 1).await.unwrap();
        let first = store.create_folder(&Library::Company, "开场白", 1, 1).await.unwrap();
        let personal = store.create_folder(&mine, "售后话术", 0, 1).await.unwrap();
        store.create_folder(&Library::Personal("other".into()), "别人的", 0, 1).await.unwrap();
        assert!(matches!(
            store.create_folder(&Library::Company, "售后话术", 0, 1).await,
            Err(WriteError::DuplicateName)
        ));
        let listed = store.list_folders(&[Library::Company, mine.clone()], 0, 20).await.unwrap();
        let ids: Vec<_> = listed.iter().map(|folder| folder.id).collect();
        assert_eq!(ids, vec![first.id, company.id, personal.id]);
        assert_eq!(store.list_folders(&[Library::Company, mine], 2, 20).await.unwrap().len(), 1);

        store.update_folder(first.id, Some("问候"), Some(9), 5).await.unwrap();
        let renamed = store.folder(first.id).await.unwrap().unwrap();
        assert_eq!((renamed.name.as_str(), renamed.sort_order, renamed.updated_at), ("问候", 9, 5));
        assert!(matches!(
            store.update_folder(first.id, Some("售后话术"), None, 6).await,
            Err(WriteError::DuplicateName)
        ));
    }

    async fn replies_list_by_usage_search_and_delete_with_their_folder(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let store = QuickReplyStore::new(db);
        let folder = store.create_folder(&Library::Company, "售后", 0, 1).await.unwrap();
        let mine = store.create_folder(&Library::Personal("kefu".into()), "我的", 0, 1).await.unwrap();
        let greeting = store.insert_reply(&reply(&folder, "开场白", "您好，欢迎光临"), "op", 1).await.unwrap();
        let returns = store.insert_reply(&reply(&folder, "退货流程", "7天无理由退货 100%"), "op", 2).await.unwrap();
        let own = store.insert_reply(&reply(&mine, "我的开场白", "在的"), "kefu", 3).await.unwrap();

        for key in ["k1", "k2"] {
            let send = NewSend {
                staff_id: "kefu",
                idempotency_key: key,
                quick_reply_id: returns,
                external_userid: "wmA",
                chat_id: "",
                sent_at: 10,
            };
            assert!(store.record_send(&send, 11).await.unwrap().is_some());
        }
        let again = NewSend {
            staff_id: "kefu",
            idempotency_key: "k2",
            quick_reply_id: returns,
            external_userid: "wmA",
            chat_id: "",
            sent_at: 12,
        };
        assert_eq!(store.record_send(&again, 13).await.unwrap(), None);
        assert_eq!(store.send("kefu", "k2").await.unwrap().unwrap().usage_count, 2);
        let pending = SendReward { status: 3, message: "待发放".into(), ..SendReward::default() };
        store.set_send_reward("kefu", "k2", &pending).await.unwrap();
        assert_eq!(store.send("kefu", "k2").await.unwrap().unwrap().reward_message, "待发放");
        let issued = SendReward {
            status: 1,
            grant_id: 8,
            message: String::new(),
            coupon_id: 9,
            coupon_code: "ABCDEFGHJKLM".into(),
        };
        store.set_send_reward("kefu", "k2", &issued).await.unwrap();
        let stored = store.send("kefu", "k2").await.unwrap().unwrap();
        assert_eq!((stored.reward_coupon_id, stored.reward_coupon_code.as_str()), (9, "ABCDEFGHJKLM"));
        let stored = store.reply(returns).await.unwrap().unwrap();
        assert_eq!((stored.usage_count, stored.last_used_at), (2, Some(10)));

        let both = all(vec![Library::Company, Library::Personal("kefu".into())]);
        let by_usage = store.list_replies(&both, QuickReplySort::UsageDesc, 0, 20).await.unwrap();
        assert_eq!(by_usage.iter().map(|row| row.id).collect::<Vec<_>>(), vec![returns, greeting, own]);
        let company_only = store.list_replies(&all(vec![Library::Company]), QuickReplySort::Title, 0, 1).await.unwrap();
        assert_eq!(company_only.len(), 1);

        let found = store.search_replies(&both, "开场白", 0, 20).await.unwrap();
        assert_eq!(found.iter().map(|row| row.id).collect::<Vec<_>>(), vec![greeting, own]);
        let by_text = store.search_replies(&both, "欢迎", 0, 20).await.unwrap();
        assert_eq!(by_text.iter().map(|row| row.id).collect::<Vec<_>>(), vec![greeting]);
        let literal_percent = store.search_replies(&both, "100%", 0, 20).await.unwrap();
        assert_eq!(literal_percent.iter().map(|row| row.id).collect::<Vec<_>>(), vec![returns]);
        assert!(store.search_replies(&both, "%", 0, 20).await.unwrap().len() == 1);
        let others = all(vec![Library::Personal("other".into())]);
        assert!(store.search_replies(&others, "开场白", 0, 20).await.unwrap().is_empty());

        assert_eq!(store.folder(folder.id).await.unwrap().unwrap().reply_count, 2);
        store.delete_reply(greeting, 20).await.unwrap();
        assert!(store.reply(greeting).await.unwrap().is_none());
        assert!(store.reply_any(greeting).await.unwrap().unwrap().deleted_at.is_some());
        assert_eq!(store.delete_folder(folder.id, 21).await.unwrap(), 1);
        assert!(store.folder(folder.id).await.unwrap().is_none());
        assert!(store.reply(returns).await.unwrap().is_none());
    }

    async fn audience_prefers_the_senders_remark(db: Db) {
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        sqlx::query(
            "INSERT INTO customer_contact (external_userid, name, created_at, updated_at) VALUES ('wmA', '李雷', 0, 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO customer_follow_user (external_userid, userid, remark, added_at, status, observed_at, \
             created_at, updated_at) VALUES ('wmA', 'kefu', '李总', 0, 1, 0, 0, 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let store = QuickReplyStore::new(db);
        assert_eq!(
            store.audience("wmA", "kefu").await.unwrap(),
            Some(Audience::Customer { name: "李雷".into(), remark: "李总".into() })
        );
        assert_eq!(
            store.audience("wmA", "other").await.unwrap(),
            Some(Audience::Customer { name: "李雷".into(), remark: String::new() })
        );
        assert_eq!(store.audience("wmX", "kefu").await.unwrap(), None);
    }

    scrm_storage::store_test_suite!(
        folders_are_unique_per_library_and_ordered,
        replies_list_by_usage_search_and_delete_with_their_folder,
        audience_prefers_the_senders_remark,
    );
}

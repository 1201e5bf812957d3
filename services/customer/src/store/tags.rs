//! The corp tag library (`customer_tag_group`, `customer_corp_tag`) and the corp tags on follow relations
//! (`customer_follow_tag`) as scrm changes them.

use std::collections::{BTreeSet, HashMap};

use scrm_proto::customer::v1::{FollowStatus, TagType};
use sqlx::{Any, AnyConnection, FromRow, QueryBuilder};

use super::{CustomerStore, ROWS_PER_STATEMENT, begin_write, push_in};
use crate::domain::tags::{LibraryChange, LibraryOutcome, StoredTag, StoredTagGroup, TagOnCustomer};

#[derive(FromRow)]
struct GroupRow {
    group_id: String,
    group_name: String,
    sort_order: i64,
    created_at: i64,
    deleted: i32,
}

#[derive(FromRow)]
struct TagRow {
    tag_id: String,
    group_id: String,
    name: String,
    sort_order: i64,
    created_at: i64,
    deleted: i32,
}

impl From<GroupRow> for StoredTagGroup {
    fn from(row: GroupRow) -> Self {
        StoredTagGroup {
            group_id: row.group_id,
            group_name: row.group_name,
            order: row.sort_order,
            created_at: row.created_at,
            deleted: row.deleted != 0,
            tags: Vec::new(),
        }
    }
}

impl From<TagRow> for StoredTag {
    fn from(row: TagRow) -> Self {
        StoredTag {
            tag_id: row.tag_id,
            group_id: row.group_id,
            name: row.name,
            order: row.sort_order,
            created_at: row.created_at,
            deleted: row.deleted != 0,
        }
    }
}

impl CustomerStore {
    /// The whole tag library, deleted groups and tags included, each group with its tags.
    pub async fn tag_library(&self) -> Result<Vec<StoredTagGroup>, sqlx::Error> {
        let mut connection = self.db.pool().acquire().await?;
        load_library(&mut connection).await
    }

    /// Applies `change` at time `now` in one transaction, writing only what differs; tags that were renamed
    /// or moved are renamed on customers too, and deleted tags leave every customer. Returns the counts and
    /// the customers whose tags changed.
    pub async fn apply_tag_library(&self, change: LibraryChange, now: i64) -> Result<LibraryOutcome, sqlx::Error> {
        let dialect = self.db.dialect();
        let mut connection = self.db.pool().acquire().await?;
        let mut tx = begin_write(&mut connection, dialect).await?;
        let stored = load_library(&mut tx).await?;
        let plan = change.plan(&stored);
        let group_upsert =
            dialect.upsert_clause(&["group_id"], &["group_name", "sort_order", "created_at", "deleted", "updated_at"]);
        for chunk in plan.groups.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Any>::new(
                "INSERT INTO customer_tag_group (group_id, group_name, sort_order, created_at, deleted, updated_at) ",
            );
            query.push_values(chunk, |mut row, group| {
                row.push_bind(group.group_id.clone())
                    .push_bind(group.group_name.clone())
                    .push_bind(group.order)
                    .push_bind(group.created_at)
                    .push_bind(i32::from(group.deleted))
                    .push_bind(now);
            });
            query.push(" ").push(&group_upsert);
            query.build().execute(&mut *tx).await?;
        }
        let tag_upsert = dialect
            .upsert_clause(&["tag_id"], &["group_id", "name", "sort_order", "created_at", "deleted", "updated_at"]);
        for chunk in plan.tags.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Any>::new(
                "INSERT INTO customer_corp_tag (tag_id, group_id, name, sort_order, created_at, deleted, updated_at) ",
            );
            query.push_values(chunk, |mut row, tag| {
                row.push_bind(tag.tag_id.clone())
                    .push_bind(tag.group_id.clone())
                    .push_bind(tag.name.clone())
                    .push_bind(tag.order)
                    .push_bind(tag.created_at)
                    .push_bind(i32::from(tag.deleted))
                    .push_bind(now);
            });
            query.push(" ").push(&tag_upsert);
            query.build().execute(&mut *tx).await?;
        }
        let mut customers = BTreeSet::new();
        let renamed: Vec<String> = plan.renamed.iter().map(|tag| tag.tag_id.clone()).collect();
        customers.extend(customers_with(&mut tx, &renamed).await?);
        for tag in &plan.renamed {
            sqlx::query(
                "UPDATE customer_follow_tag SET tag_name = ?, group_id = ?, group_name = ? WHERE tag_type = ? AND tag_id = ?",
            )
            .bind(&tag.name)
            .bind(&tag.group_id)
            .bind(&tag.group_name)
            .bind(TagType::Corp as i32)
            .bind(&tag.tag_id)
            .execute(&mut *tx)
            .await?;
        }
        let removed = customers_with(&mut tx, &plan.removed).await?;
        for chunk in plan.removed.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Any>::new("DELETE FROM customer_follow_tag WHERE tag_type = ");
            query.push_bind(TagType::Corp as i32).push(" AND ");
            push_in(&mut query, "tag_id", chunk);
            query.build().execute(&mut *tx).await?;
        }
        let customers_affected = removed.len() as i64;
        customers.extend(removed);
        tx.commit().await?;
        let mut outcome = plan.outcome;
        outcome.customers_affected = customers_affected;
        outcome.customers = customers.into_iter().collect();
        Ok(outcome)
    }

    /// Current customers per corp tag id, counting each customer once per tag.
    pub async fn tag_customer_counts(&self) -> Result<HashMap<String, i64>, sqlx::Error> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT t.tag_id, COUNT(DISTINCT t.external_userid) FROM customer_follow_tag t \
             JOIN customer_follow_user f ON f.external_userid = t.external_userid AND f.userid = t.userid \
             WHERE t.tag_type = ? AND f.status = ? GROUP BY t.tag_id",
        )
        .bind(TagType::Corp as i32)
        .bind(FollowStatus::Active as i32)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Adds the corp tags `add` to and removes the corp tag ids `remove` from the relation of `userid` with
    /// `external_userid`, and marks the contact changed at `now`.
    pub async fn mark_tags(
        &self,
        external_userid: &str,
        userid: &str,
        add: &[TagOnCustomer],
        remove: &[String],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool().begin().await?;
        let ids: Vec<String> = add.iter().map(|tag| tag.tag_id.clone()).chain(remove.iter().cloned()).collect();
        if !ids.is_empty() {
            let mut query = QueryBuilder::<Any>::new("DELETE FROM customer_follow_tag WHERE external_userid = ");
            query.push_bind(external_userid.to_owned()).push(" AND userid = ").push_bind(userid.to_owned());
            query.push(" AND tag_type = ").push_bind(TagType::Corp as i32).push(" AND ");
            push_in(&mut query, "tag_id", &ids);
            query.build().execute(&mut *tx).await?;
        }
        if !add.is_empty() {
            let mut query = QueryBuilder::<Any>::new(
                "INSERT INTO customer_follow_tag (external_userid, userid, tag_type, tag_id, tag_name, group_id, group_name) ",
            );
            query.push_values(add, |mut row, tag| {
                row.push_bind(external_userid.to_owned())
                    .push_bind(userid.to_owned())
                    .push_bind(TagType::Corp as i32)
                    .push_bind(tag.tag_id.clone())
                    .push_bind(tag.name.clone())
                    .push_bind(tag.group_id.clone())
                    .push_bind(tag.group_name.clone());
            });
            query.build().execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE customer_follow_user SET updated_at = ? WHERE external_userid = ? AND userid = ?")
            .bind(now)
            .bind(external_userid)
            .bind(userid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

async fn load_library(connection: &mut AnyConnection) -> Result<Vec<StoredTagGroup>, sqlx::Error> {
    let groups: Vec<GroupRow> = sqlx::query_as(
        "SELECT group_id, group_name, sort_order, created_at, deleted FROM customer_tag_group \
         ORDER BY sort_order DESC, group_id",
    )
    .fetch_all(&mut *connection)
    .await?;
    let tags: Vec<TagRow> = sqlx::query_as(
        "SELECT tag_id, group_id, name, sort_order, created_at, deleted FROM customer_corp_tag \
         ORDER BY sort_order DESC, tag_id",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut groups: Vec<StoredTagGroup> = groups.into_iter().map(StoredTagGroup::from).collect();
    let index: HashMap<String, usize> =
        groups.iter().enumerate().map(|(index, group)| (group.group_id.clone(), index)).collect();
    for tag in tags {
        if let Some(&at) = index.get(&tag.group_id) {
            groups[at].tags.push(StoredTag::from(tag));
        }
    }
    Ok(groups)
}

/// Customers carrying any of the corp tags `tag_ids`.
async fn customers_with(connection: &mut AnyConnection, tag_ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    let mut customers = BTreeSet::new();
    for chunk in tag_ids.chunks(ROWS_PER_STATEMENT) {
        let mut query =
            QueryBuilder::<Any>::new("SELECT DISTINCT external_userid FROM customer_follow_tag WHERE tag_type = ");
        query.push_bind(TagType::Corp as i32).push(" AND ");
        push_in(&mut query, "tag_id", chunk);
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&mut *connection).await?;
        customers.extend(rows);
    }
    Ok(customers.into_iter().collect())
}

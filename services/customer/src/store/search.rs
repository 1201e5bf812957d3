//! What the search index needs besides contacts and follow relations: order numbers, notes, member phones
//! and spend, read per batch of customers.

use std::collections::HashMap;

use sqlx::{Any, FromRow, QueryBuilder};

use super::orders::Spend;
use super::{CustomerStore, ROWS_PER_STATEMENT, push_in};

/// The scrm-side data of one customer that search finds them by or filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchExtras {
    /// Numbers of the customer's orders.
    pub order_numbers: Vec<String>,
    /// Texts of the customer's notes.
    pub notes: Vec<String>,
    /// Phones of the customer's member records.
    pub phones: Vec<String>,
    /// Spend as maintained by imports.
    pub spend: Spend,
}

#[derive(FromRow)]
struct SpendRow {
    external_userid: String,
    total_spend_fen: i64,
    order_count: i64,
    first_purchase_at: Option<i64>,
    last_purchase_at: Option<i64>,
}

impl CustomerStore {
    /// The search extras of the customers `ids`; customers with none are absent.
    pub async fn search_extras(&self, ids: &[String]) -> Result<HashMap<String, SearchExtras>, sqlx::Error> {
        let mut extras: HashMap<String, SearchExtras> = HashMap::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            for (id, number) in self.pairs("SELECT external_userid, order_no FROM customer_order WHERE ", chunk).await?
            {
                extras.entry(id).or_default().order_numbers.push(number);
            }
            for (id, note) in self.pairs("SELECT external_userid, content FROM customer_note WHERE ", chunk).await? {
                extras.entry(id).or_default().notes.push(note);
            }
            for (id, phone) in self.pairs("SELECT external_userid, phone FROM customer_member WHERE ", chunk).await? {
                if !phone.is_empty() {
                    extras.entry(id).or_default().phones.push(phone);
                }
            }
            let mut query = QueryBuilder::<Any>::new(
                "SELECT external_userid, total_spend_fen, order_count, first_purchase_at, last_purchase_at \
                 FROM customer_spend WHERE ",
            );
            push_in(&mut query, "external_userid", chunk);
            let rows: Vec<SpendRow> = query.build_query_as().fetch_all(self.db.pool()).await?;
            for row in rows {
                extras.entry(row.external_userid).or_default().spend = Spend {
                    total_spend_fen: row.total_spend_fen,
                    order_count: row.order_count,
                    first_purchase_at: row.first_purchase_at,
                    last_purchase_at: row.last_purchase_at,
                };
            }
        }
        Ok(extras)
    }

    /// `(external_userid, value)` rows of `select` (ending in `WHERE `) for the customers `ids`.
    async fn pairs(&self, select: &str, ids: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
        let mut query = QueryBuilder::<Any>::new(select);
        push_in(&mut query, "external_userid", ids);
        query.build_query_as().fetch_all(self.db.pool()).await
    }
}

//! Search requests and their translation into Tantivy queries.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::document::CustomerDoc;
use crate::error::SearchError;
use crate::schema::Fields;
use crate::tokenize::{MAX_PREFIX_CHARS, bigrams, query_words, runs};

/// Deepest position a page may start at; pages past it are refused (narrow the query instead).
pub const MAX_OFFSET: usize = 10_000;

/// Which customers the caller may see at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every customer.
    All,
    /// Customers of these stores.
    Stores(Vec<String>),
    /// Customers this staff member currently follows.
    FollowedBy(String),
}

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first; newest added first when the query is empty.
    #[default]
    Relevance,
    /// Most recently added first.
    AddedDesc,
    /// Highest lifetime spend first.
    SpendDesc,
    /// Most recent purchase first.
    LastPurchaseDesc,
}

/// One search. Every set filter must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Free text: whitespace-separated terms, each of which must match a name, remark, phone (or a fragment
    /// of one), tag, order number or note. Empty matches every customer.
    pub query: String,
    /// Who may be seen.
    pub visibility: Visibility,
    /// Only customers of this store.
    pub store_id: Option<String>,
    /// Only customers this staff member currently follows.
    pub follow_userid: Option<String>,
    /// Only customers at one of these level ranks; empty = any.
    pub levels: Vec<i32>,
    /// Only customers carrying all of these corp tags; empty = any.
    pub tag_ids: Vec<String>,
    /// Only customers in one of these CustomerStatus codes; empty = any.
    pub statuses: Vec<i32>,
    /// Only KOCs (true) or non-KOCs (false).
    pub is_koc: Option<bool>,
    /// Order.
    pub sort: Sort,
    /// Customers per page, at least 1.
    pub page_size: usize,
    /// Token from a previous page; empty for the first page.
    pub page_token: String,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            visibility: Visibility::All,
            store_id: None,
            follow_userid: None,
            levels: Vec::new(),
            tag_ids: Vec::new(),
            statuses: Vec::new(),
            is_koc: None,
            sort: Sort::Relevance,
            page_size: 20,
            page_token: String::new(),
        }
    }
}

/// One customer found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The customer as last indexed.
    pub customer: CustomerDoc,
    /// Relevance score; 0 when sorted by a field.
    pub score: f32,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The customers of this page.
    pub hits: Vec<SearchHit>,
    /// Token for the next page; empty on the last page.
    pub next_page_token: String,
    /// Matches over all pages.
    pub total: u64,
}

const TOKEN_PREFIX: &str = "c1.";

/// The position a page token points at.
pub(crate) fn parse_page_token(token: &str) -> Result<usize, SearchError> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|offset| offset.parse().ok())
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or(SearchError::BadPageToken)
}

/// The token of the page after one that ended at `end`, of `total` matches.
pub(crate) fn next_page_token(end: usize, total: u64) -> String {
    if (end as u64) < total && end <= MAX_OFFSET { format!("{TOKEN_PREFIX}{end}") } else { String::new() }
}

impl SearchRequest {
    /// Whether the request ranks by relevance (a query was given and no field order asked for).
    pub(crate) fn ranks_by_score(&self) -> bool {
        self.sort == Sort::Relevance && !self.query.trim().is_empty()
    }

    /// The Tantivy query: every term must match; filters restrict without changing scores.
    pub(crate) fn to_query(&self, fields: &Fields) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in self.query.split_whitespace() {
            if let Some(query) = term_query(fields, term) {
                clauses.push((Occur::Must, query));
            }
        }
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        match &self.visibility {
            Visibility::All => {}
            Visibility::Stores(stores) => filters.push(any_text(fields.store, stores)),
            Visibility::FollowedBy(userid) => filters.push(any_text(fields.follow, std::slice::from_ref(userid))),
        }
        if let Some(store) = &self.store_id {
            filters.push(any_text(fields.store, std::slice::from_ref(store)));
        }
        if let Some(userid) = &self.follow_userid {
            filters.push(any_text(fields.follow, std::slice::from_ref(userid)));
        }
        if !self.levels.is_empty() {
            let levels: Vec<i64> = self.levels.iter().copied().map(i64::from).collect();
            filters.push(any_i64(fields.level, &levels));
        }
        for tag in &self.tag_ids {
            filters.push(any_text(fields.tag, std::slice::from_ref(tag)));
        }
        if !self.statuses.is_empty() {
            let statuses: Vec<i64> = self.statuses.iter().copied().map(i64::from).collect();
            filters.push(any_i64(fields.status, &statuses));
        }
        if let Some(koc) = self.is_koc {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_u64(fields.koc, u64::from(koc)),
                IndexRecordOption::Basic,
            )));
        }
        for filter in filters {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        if clauses.is_empty() { Box::new(AllQuery) } else { Box::new(BooleanQuery::new(clauses)) }
    }
}

/// Matches documents whose `field` holds any of `values`; nothing when `values` is empty.
fn any_text(field: tantivy::schema::Field, values: &[String]) -> Box<dyn Query> {
    if values.is_empty() {
        return Box::new(EmptyQuery);
    }
    let terms = values.iter().map(|value| Term::from_field_text(field, value));
    Box::new(BooleanQuery::new_multiterms_query(terms.collect()))
}

fn any_i64(field: tantivy::schema::Field, values: &[i64]) -> Box<dyn Query> {
    let terms = values.iter().map(|value| Term::from_field_i64(field, *value));
    Box::new(BooleanQuery::new_multiterms_query(terms.collect()))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn all_of(mut queries: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match queries.len() {
        0 => None,
        1 => queries.pop(),
        _ => Some(Box::new(BooleanQuery::new(queries.into_iter().map(|query| (Occur::Must, query)).collect()))),
    }
}

/// One query term: it matches as an identifier, a prefix, a substring or as words.
fn term_query(fields: &Fields, term: &str) -> Option<Box<dyn Query>> {
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let exact = TermQuery::new(Term::from_field_text(fields.exact, &term.to_lowercase()), IndexRecordOption::Basic);
    alternatives.push((Occur::Should, boosted(Box::new(exact), 4.0)));

    let runs = runs(term);
    let joined: String = runs.concat().into_iter().collect();
    let joined_len = joined.chars().count();
    if (1..=MAX_PREFIX_CHARS).contains(&joined_len) {
        let prefix = TermQuery::new(Term::from_field_text(fields.prefixes, &joined), IndexRecordOption::Basic);
        alternatives.push((Occur::Should, boosted(Box::new(prefix), 2.0)));
    }

    if !runs.is_empty() && runs.iter().all(|run| run.len() >= 2) {
        let phrases = runs
            .iter()
            .map(|run| {
                let terms: Vec<Term> =
                    bigrams(run).iter().map(|bigram| Term::from_field_text(fields.grams, bigram)).collect();
                if terms.len() == 1 {
                    Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::WithFreqs)) as Box<dyn Query>
                } else {
                    Box::new(PhraseQuery::new(terms))
                }
            })
            .collect();
        if let Some(substring) = all_of(phrases) {
            alternatives.push((Occur::Should, substring));
        }
    }

    let words = query_words(term)
        .iter()
        .map(|word| {
            Box::new(TermQuery::new(Term::from_field_text(fields.words, word), IndexRecordOption::WithFreqs))
                as Box<dyn Query>
        })
        .collect();
    if let Some(words) = all_of(words) {
        alternatives.push((Occur::Should, boosted(words, 1.5)));
    }

    (!runs.is_empty()).then(|| Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(parse_page_token("").unwrap(), 0);
        assert_eq!(parse_page_token(&next_page_token(40, 100)).unwrap(), 40);
        assert_eq!(next_page_token(100, 100), "");
        assert!(parse_page_token("40").is_err());
        assert!(parse_page_token("c1.x").is_err());
        assert!(parse_page_token(&format!("c1.{}", MAX_OFFSET + 1)).is_err());
    }
}

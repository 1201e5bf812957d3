//! The customer search index of scrm: an embedded Tantivy index of customers with Chinese tokenization
//! (jieba, which ships its dictionary), bigrams and prefixes for substring and phone-fragment matching, and
//! filters (store, follow user, level, tag, status, KOC).
//!
//! [`SearchIndex`] owns one index, on disk under the data dir or in RAM for tests. Writes are queued to a
//! background writer thread that commits at most [`COMMIT_DELAY`] after the first pending change and then
//! reloads the reader, so a change is searchable within a second. [`SearchIndex::rebuild`] replaces the
//! whole content in one commit: searches keep answering from the old content until the new one is complete.

mod document;
mod error;
mod index;
mod query;
mod schema;
mod tokenize;

pub use document::{CustomerDoc, FollowDoc, TagDoc};
pub use error::SearchError;
pub use index::{COMMIT_DELAY, Rebuild, SearchIndex};
pub use query::{MAX_OFFSET, SearchHit, SearchPage, SearchRequest, Sort, Visibility};

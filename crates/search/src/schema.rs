//! The index schema: one Tantivy document per customer.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};

use crate::document::CustomerDoc;
use crate::tokenize::{BIGRAMS, BigramTokenizer, PREFIXES, PrefixTokenizer, WORDS, WordTokenizer};

/// Name of the lower-cased whole-value tokenizer used for identifiers.
const EXACT: &str = "scrm_exact";

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// `external_userid`, the key (raw).
    pub id: Field,
    /// The [`CustomerDoc`] as JSON, stored only.
    pub doc: Field,
    /// jieba words of the free texts.
    pub words: Field,
    /// Bigrams of names, remarks, phones, tags, order numbers and notes.
    pub grams: Field,
    /// Prefixes of names, remarks and phones.
    pub prefixes: Field,
    /// Identifiers matched whole, lower-cased: external userid, order numbers, phones.
    pub exact: Field,
    /// Store ids (filter).
    pub store: Field,
    /// Userids of the current follow users (filter).
    pub follow: Field,
    /// Corp tag ids (filter).
    pub tag: Field,
    /// Level rank (filter).
    pub level: Field,
    /// CustomerStatus code (filter).
    pub status: Field,
    /// 1 for a KOC, else 0 (filter).
    pub koc: Field,
    /// First add time, Unix ms (sort).
    pub added_at: Field,
    /// Lifetime spend in fen (sort).
    pub spend: Field,
    /// Latest purchase, Unix ms; 0 when none (sort).
    pub last_purchase: Field,
}

/// Field names of the sort keys, as the collectors name them.
pub(crate) const ADDED_AT: &str = "added_at";
/// See [`ADDED_AT`].
pub(crate) const SPEND: &str = "spend";
/// See [`ADDED_AT`].
pub(crate) const LAST_PURCHASE: &str = "last_purchase";

fn text(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record))
}

/// The schema and its fields.
pub(crate) fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        id: builder.add_text_field("id", STRING),
        doc: builder.add_text_field("doc", STORED),
        words: builder.add_text_field("words", text(WORDS, IndexRecordOption::WithFreqsAndPositions)),
        grams: builder.add_text_field("grams", text(BIGRAMS, IndexRecordOption::WithFreqsAndPositions)),
        prefixes: builder.add_text_field("prefixes", text(PREFIXES, IndexRecordOption::Basic)),
        exact: builder.add_text_field("exact", text(EXACT, IndexRecordOption::Basic)),
        store: builder.add_text_field("store", STRING),
        follow: builder.add_text_field("follow", STRING),
        tag: builder.add_text_field("tag", STRING),
        level: builder.add_i64_field("level", INDEXED),
        status: builder.add_i64_field("status", INDEXED),
        koc: builder.add_u64_field("koc", INDEXED),
        added_at: builder.add_i64_field(ADDED_AT, FAST),
        spend: builder.add_i64_field(SPEND, FAST),
        last_purchase: builder.add_i64_field(LAST_PURCHASE, FAST),
    };
    (builder.build(), fields)
}

/// Registers the custom tokenizers on `index`.
pub(crate) fn register_tokenizers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(WORDS, WordTokenizer);
    tokenizers.register(BIGRAMS, BigramTokenizer);
    tokenizers.register(PREFIXES, PrefixTokenizer);
    tokenizers.register(EXACT, TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build());
}

impl Fields {
    /// The Tantivy document of a customer.
    pub(crate) fn document(&self, customer: &CustomerDoc) -> Result<tantivy::TantivyDocument, serde_json::Error> {
        let mut document = tantivy::TantivyDocument::default();
        document.add_text(self.id, &customer.external_userid);
        document.add_text(self.doc, serde_json::to_string(customer)?);
        for text in customer.word_texts() {
            document.add_text(self.words, text);
        }
        for text in customer.substring_texts() {
            document.add_text(self.grams, text);
        }
        for text in customer.prefix_texts() {
            document.add_text(self.prefixes, text);
        }
        for text in customer.exact_texts() {
            document.add_text(self.exact, text);
        }
        for store in &customer.store_ids {
            document.add_text(self.store, store);
        }
        for follow in &customer.follows {
            document.add_text(self.follow, &follow.userid);
        }
        for tag in customer.tags.iter().filter(|tag| !tag.tag_id.is_empty()) {
            document.add_text(self.tag, &tag.tag_id);
        }
        document.add_i64(self.level, i64::from(customer.level));
        document.add_i64(self.status, i64::from(customer.status));
        document.add_u64(self.koc, u64::from(customer.is_koc));
        document.add_i64(self.added_at, customer.added_at);
        document.add_i64(self.spend, customer.total_spend_fen);
        document.add_i64(self.last_purchase, customer.last_purchase_at.unwrap_or(0));
        Ok(document)
    }
}

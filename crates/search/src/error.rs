//! Errors of the search index.

/// What can fail in the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Tantivy failed (I/O, a corrupt or locked index).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened or created.
    #[error("search index directory: {0}")]
    Directory(String),
    /// A stored document could not be read back.
    #[error("search index holds an unreadable document: {0}")]
    Document(#[from] serde_json::Error),
    /// The writer thread is gone (the index was shut down or the thread panicked).
    #[error("the search index writer has stopped")]
    WriterStopped,
    /// A rebuild was abandoned before it finished; the old content stays.
    #[error("the rebuild was abandoned: {0}")]
    RebuildAbandoned(String),
    /// The page token was not issued by this index.
    #[error("page_token is not one this server issued")]
    BadPageToken,
}

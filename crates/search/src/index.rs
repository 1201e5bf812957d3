//! The index: a reader for searches and a writer thread that applies queued changes.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::oneshot;

use crate::document::CustomerDoc;
use crate::error::SearchError;
use crate::query::{SearchHit, SearchPage, SearchRequest, Sort, next_page_token, parse_page_token};
use crate::schema::{self, ADDED_AT, Fields, LAST_PURCHASE, SPEND};

/// Longest a change waits in the writer before it is committed and searchable.
pub const COMMIT_DELAY: Duration = Duration::from_millis(200);
/// Memory the writer may buffer before it flushes a segment.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Changes committed together at most, so a long stream of writes still becomes visible.
const MAX_BATCH: usize = 10_000;
/// Customers a rebuild may have in flight between the loader and the writer.
const REBUILD_QUEUE: usize = 1024;

/// A change for the writer thread.
enum Op {
    /// Add or replace a customer.
    Upsert(Box<CustomerDoc>),
    /// Remove a customer.
    Delete(String),
    /// Commit what is pending now, then answer.
    Flush(oneshot::Sender<Result<(), SearchError>>),
    /// Replace the whole content with the customers received, in one commit.
    Rebuild(tokio::sync::mpsc::Receiver<RebuildItem>, oneshot::Sender<Result<u64, SearchError>>),
}

/// What a rebuild's loader sends.
enum RebuildItem {
    Customer(Box<CustomerDoc>),
    /// Every customer was sent: commit.
    Done,
    /// Loading failed: keep the old content.
    Abandon(String),
}

struct Shared {
    fields: Fields,
    reader: IndexReader,
    index: Index,
    /// The writer thread's queue; `None` once the index is dropped.
    ops: Mutex<Option<mpsc::Sender<Op>>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Shared {
    /// Closes the writer thread's queue and waits until it has committed what was queued and released the
    /// index's lock, so the directory can be opened again at once.
    fn drop(&mut self) {
        self.ops.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(thread) = self.writer_thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the search index writer thread panicked");
        }
    }
}

/// The customer search index. Cheap to clone; every clone shares one index and one writer thread. Dropping
/// the last clone ends the thread after it has committed every queued change.
#[derive(Clone)]
pub struct SearchIndex {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("num_docs", &self.num_docs()).finish()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and an empty index when missing. An index written
    /// with another schema (an older scrm) is discarded and replaced by an empty one: the returned flag is
    /// true when the index is new and should be rebuilt from the database. Fails when another process holds
    /// the index (a running server).
    pub fn open(dir: &Path) -> Result<(SearchIndex, bool), SearchError> {
        std::fs::create_dir_all(dir).map_err(|error| SearchError::Directory(format!("{}: {error}", dir.display())))?;
        let (schema, fields) = schema::build();
        let directory = || MmapDirectory::open(dir).map_err(|error| SearchError::Directory(error.to_string()));
        let exists = Index::exists(&directory()?).map_err(|error| SearchError::Directory(error.to_string()))?;
        let reusable = exists && Index::open(directory()?).is_ok_and(|index| index.schema() == schema);
        if exists && !reusable {
            tracing::warn!(dir = %dir.display(), "the search index has another schema: replacing it with an empty one");
            std::fs::remove_dir_all(dir)
                .and_then(|()| std::fs::create_dir_all(dir))
                .map_err(|error| SearchError::Directory(format!("{}: {error}", dir.display())))?;
        }
        let index = if reusable {
            Index::open(directory()?)?
        } else {
            Index::create(directory()?, schema, Default::default())?
        };
        let search = SearchIndex::start(index, fields)?;
        let fresh = !reusable || search.num_docs() == 0;
        Ok((search, fresh))
    }

    /// A new empty index in memory (tests, benches).
    pub fn in_ram() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = schema::build();
        SearchIndex::start(Index::create_in_ram(schema), fields)
    }

    fn start(index: Index, fields: Fields) -> Result<SearchIndex, SearchError> {
        schema::register_tokenizers(&index);
        crate::tokenize::warm_up();
        let writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let (sender, receiver) = mpsc::channel();
        let thread_reader = reader.clone();
        let writer_thread = std::thread::Builder::new()
            .name("search-writer".into())
            .spawn(move || Writer { writer, reader: thread_reader, fields, ops: receiver }.run())
            .map_err(|error| SearchError::Directory(format!("cannot start the writer thread: {error}")))?;
        let ops = Mutex::new(Some(sender));
        Ok(SearchIndex { shared: Arc::new(Shared { fields, reader, index, ops, writer_thread: Some(writer_thread) }) })
    }

    fn send(&self, op: Op) -> Result<(), SearchError> {
        let sender = self.shared.ops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sender.as_ref().ok_or(SearchError::WriterStopped)?.send(op).map_err(|_| SearchError::WriterStopped)
    }

    /// Queues adding or replacing a customer; searchable within [`COMMIT_DELAY`] plus the commit time.
    pub fn upsert(&self, customer: CustomerDoc) -> Result<(), SearchError> {
        self.send(Op::Upsert(Box::new(customer)))
    }

    /// Queues removing a customer.
    pub fn delete(&self, external_userid: &str) -> Result<(), SearchError> {
        self.send(Op::Delete(external_userid.to_owned()))
    }

    /// Commits every change queued so far and waits until searches see them.
    pub async fn flush(&self) -> Result<(), SearchError> {
        let (done, answer) = oneshot::channel();
        self.send(Op::Flush(done))?;
        answer.await.map_err(|_| SearchError::WriterStopped)?
    }

    /// Starts replacing the whole content: send every customer to the returned [`Rebuild`], then
    /// [`Rebuild::finish`]. Changes queued meanwhile are applied after the rebuild commits.
    pub fn rebuild(&self) -> Result<Rebuild, SearchError> {
        let (items, receiver) = tokio::sync::mpsc::channel(REBUILD_QUEUE);
        let (done, answer) = oneshot::channel();
        self.send(Op::Rebuild(receiver, done))?;
        Ok(Rebuild { items, answer })
    }

    /// Customers in the index as of the last commit.
    pub fn num_docs(&self) -> u64 {
        self.shared.reader.searcher().num_docs()
    }

    /// Runs a search on the last committed content. CPU-bound: call it off the async runtime's threads
    /// for large indexes.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchPage, SearchError> {
        let offset = parse_page_token(&request.page_token)?;
        let limit = request.page_size.max(1);
        let fields = &self.shared.fields;
        let query = request.to_query(fields);
        let searcher = self.shared.reader.searcher();
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let (found, total): (Vec<(f32, DocAddress)>, usize) = match (request.sort, request.ranks_by_score()) {
            (_, true) => searcher.search(&query, &(top.order_by_score(), Count))?,
            (sort, false) => {
                let key = match sort {
                    Sort::SpendDesc => SPEND,
                    Sort::LastPurchaseDesc => LAST_PURCHASE,
                    Sort::Relevance | Sort::AddedDesc => ADDED_AT,
                };
                let (found, total) =
                    searcher.search(&query, &(top.order_by_fast_field::<i64>(key, Order::Desc), Count))?;
                (found.into_iter().map(|(_, address)| (0.0, address)).collect(), total)
            }
        };
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let document: TantivyDocument = searcher.doc(address)?;
            let json = document.get_first(fields.doc).and_then(|value| value.as_str()).unwrap_or_default();
            hits.push(SearchHit { customer: serde_json::from_str(json)?, score });
        }
        let total = total as u64;
        Ok(SearchPage { next_page_token: next_page_token(offset + hits.len(), total), hits, total })
    }

    /// The underlying Tantivy index (space usage, diagnostics).
    pub fn tantivy(&self) -> &Index {
        &self.shared.index
    }
}

/// A rebuild in progress; dropping it without [`Rebuild::finish`] keeps the old content.
pub struct Rebuild {
    items: tokio::sync::mpsc::Sender<RebuildItem>,
    answer: oneshot::Receiver<Result<u64, SearchError>>,
}

impl Rebuild {
    /// Adds one customer to the new content.
    pub async fn add(&self, customer: CustomerDoc) -> Result<(), SearchError> {
        self.items.send(RebuildItem::Customer(Box::new(customer))).await.map_err(|_| SearchError::WriterStopped)
    }

    /// Abandons the rebuild: the old content stays.
    pub async fn abandon(self, reason: impl Into<String>) {
        let _ = self.items.send(RebuildItem::Abandon(reason.into())).await;
    }

    /// Commits the new content and waits until searches see it; returns the number of customers indexed.
    pub async fn finish(self) -> Result<u64, SearchError> {
        self.items.send(RebuildItem::Done).await.map_err(|_| SearchError::WriterStopped)?;
        self.answer.await.map_err(|_| SearchError::WriterStopped)?
    }
}

/// The writer thread's state.
struct Writer {
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: Fields,
    ops: mpsc::Receiver<Op>,
}

impl Writer {
    /// Applies changes until every [`SearchIndex`] is dropped. A batch is committed [`COMMIT_DELAY`] after
    /// its first change, or at once when a flush or rebuild asks.
    fn run(mut self) {
        while let Ok(first) = self.ops.recv() {
            let deadline = Instant::now() + COMMIT_DELAY;
            let mut pending = 0;
            let mut next = Some(first);
            while let Some(op) = next.take() {
                match op {
                    Op::Upsert(customer) => {
                        self.upsert(&customer);
                        pending += 1;
                    }
                    Op::Delete(id) => {
                        self.writer.delete_term(Term::from_field_text(self.fields.id, &id));
                        pending += 1;
                    }
                    Op::Flush(done) => {
                        let _ = done.send(self.commit());
                        pending = 0;
                    }
                    Op::Rebuild(items, done) => {
                        let outcome = self.commit().and_then(|()| self.rebuild(items));
                        let _ = done.send(outcome);
                        pending = 0;
                    }
                }
                if pending == 0 || pending >= MAX_BATCH {
                    break;
                }
                next = self.ops.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok();
            }
            if pending > 0
                && let Err(error) = self.commit()
            {
                tracing::error!(%error, "search index commit failed");
            }
        }
        if let Err(error) = self.commit() {
            tracing::error!(%error, "search index final commit failed");
        }
    }

    fn upsert(&mut self, customer: &CustomerDoc) {
        match self.fields.document(customer) {
            Ok(document) => {
                self.writer.delete_term(Term::from_field_text(self.fields.id, &customer.external_userid));
                if let Err(error) = self.writer.add_document(document) {
                    tracing::error!(%error, external_userid = %customer.external_userid, "search index write failed");
                }
            }
            Err(error) => tracing::error!(%error, "customer not indexable"),
        }
    }

    fn commit(&mut self) -> Result<(), SearchError> {
        self.writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    fn rebuild(&mut self, mut items: tokio::sync::mpsc::Receiver<RebuildItem>) -> Result<u64, SearchError> {
        self.writer.delete_all_documents()?;
        let mut count = 0;
        let outcome = loop {
            match items.blocking_recv() {
                Some(RebuildItem::Customer(customer)) => {
                    let added = self
                        .fields
                        .document(&customer)
                        .map_err(SearchError::from)
                        .and_then(|document| self.writer.add_document(document).map_err(SearchError::from));
                    if let Err(error) = added {
                        break Err(error);
                    }
                    count += 1;
                }
                Some(RebuildItem::Done) => break Ok(count),
                Some(RebuildItem::Abandon(reason)) => break Err(SearchError::RebuildAbandoned(reason)),
                None => break Err(SearchError::RebuildAbandoned("the loader stopped".into())),
            }
        };
        match outcome {
            Ok(count) => {
                self.commit()?;
                Ok(count)
            }
            Err(error) => {
                self.writer.rollback()?;
                Err(error)
            }
        }
    }
}

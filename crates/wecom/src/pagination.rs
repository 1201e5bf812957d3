//! Following WeCom's `cursor` / `next_cursor` pagination to the end.

use std::future::Future;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::WeComError;

/// A stream of pages: `fetch` is called with `""` first, then with each `next_cursor` it returned,
/// until it returns an empty `next_cursor`. An error ends the stream after being yielded, and so
/// does a `next_cursor` equal to the cursor just used ([`WeComError::PaginationStalled`]).
pub fn cursor_pages<'a, T, F, Fut>(api: &'static str, fetch: F) -> BoxStream<'a, Result<Vec<T>, WeComError>>
where
    F: FnMut(String) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(Vec<T>, String), WeComError>> + Send + 'a,
    T: Send + 'a,
{
    stream::unfold((Some(String::new()), fetch), move |(cursor, mut fetch)| async move {
        let cursor = cursor?;
        match fetch(cursor.clone()).await {
            Ok((items, next)) if next.is_empty() => Some((Ok(items), (None, fetch))),
            Ok((_, next)) if next == cursor => {
                Some((Err(WeComError::PaginationStalled { api, cursor: next }), (None, fetch)))
            }
            Ok((items, next)) => Some((Ok(items), (Some(next), fetch))),
            Err(e) => Some((Err(e), (None, fetch))),
        }
    })
    .boxed()
}

/// Every item of every page of `pages`, in order; the first error is returned instead.
pub async fn collect_all<T>(pages: BoxStream<'_, Result<Vec<T>, WeComError>>) -> Result<Vec<T>, WeComError> {
    pages
        .try_fold(Vec::new(), |mut all, page| async move {
            all.extend(page);
            Ok(all)
        })
        .await
}

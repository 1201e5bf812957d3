//! Cursor pagination as every contract spells it: `page_size`, `page_token`, `next_page_token`.

use crate::error::ApiError;

/// Page size used when a request asks for 0.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page a request may ask for.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The page size a request asked for: 0 means the default; negative or over the maximum is refused.
pub fn page_size(requested: i32) -> Result<u32, ApiError> {
    match u32::try_from(requested) {
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) if size <= MAX_PAGE_SIZE => Ok(size),
        _ => Err(ApiError::invalid("page_size", format!("page_size must be between 0 and {MAX_PAGE_SIZE}"))),
    }
}

/// A position in a list ordered by descending id: the next page holds ids below this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeforeId(pub i64);

impl BeforeId {
    /// Reads a page token; empty means the first page.
    pub fn parse(page_token: &str) -> Result<Option<BeforeId>, ApiError> {
        if page_token.is_empty() {
            return Ok(None);
        }
        page_token
            .strip_prefix("before:")
            .and_then(|id| id.parse().ok())
            .map(|id| Some(BeforeId(id)))
            .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))
    }

    /// The token for the page after one whose last id is `last_id`; empty when the page was not full.
    pub fn next_token(last_id: Option<i64>, page_len: usize, page_size: u32) -> String {
        match last_id {
            Some(id) if page_len == page_size as usize => format!("before:{id}"),
            _ => String::new(),
        }
    }
}

/// The total size of an offset-paged list when a page at `offset` shows it: a page shorter than `limit` that
/// holds rows, or any page at offset 0, is the last one, so the list has `offset + page_len` entries. `None`
/// when the page is full or empty past the start, and the total needs counting.
pub fn total_of_last_page(offset: i64, page_len: usize, limit: u32) -> Option<i64> {
    let last = page_len < limit as usize && (page_len > 0 || offset == 0);
    last.then(|| offset + page_len as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_page_tells_the_total() {
        assert_eq!(total_of_last_page(0, 3, 20), Some(3));
        assert_eq!(total_of_last_page(0, 0, 20), Some(0));
        assert_eq!(total_of_last_page(40, 5, 20), Some(45));
        assert_eq!(total_of_last_page(40, 0, 20), None);
        assert_eq!(total_of_last_page(0, 20, 20), None);
    }

    #[test]
    fn page_sizes_default_and_refuse_out_of_range() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(200).unwrap(), 200);
        assert_eq!(page_size(201).unwrap_err().field.as_deref(), Some("page_size"));
        assert_eq!(page_size(-1).unwrap_err().field.as_deref(), Some("page_size"));
    }

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_refused() {
        let token = BeforeId::next_token(Some(42), 20, 20);
        assert_eq!(BeforeId::parse(&token).unwrap(), Some(BeforeId(42)));
        assert_eq!(BeforeId::next_token(Some(42), 19, 20), "");
        assert_eq!(BeforeId::parse("").unwrap(), None);
        assert_eq!(BeforeId::parse("before:x").unwrap_err().field.as_deref(), Some("page_token"));
        assert_eq!(BeforeId::parse("42").unwrap_err().field.as_deref(), Some("page_token"));
    }
}

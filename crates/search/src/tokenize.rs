//! The tokenizers of the index, used both when indexing and when building queries, so the two agree.
//!
//! - `words`: jieba's search-mode segmentation (a long word also yields its sub-words), lower-cased,
//!   punctuation and spaces dropped.
//! - `bigrams`: every two consecutive letters or digits at consecutive positions, so any substring of two
//!   characters or more matches as a phrase (a word inside a remark, a phone fragment).
//! - `prefixes`: the starts of a text, one to [`MAX_PREFIX_CHARS`] letters or digits long, all at position 0,
//!   so a single character finds a surname and a few digits find a phone's start.

use std::sync::LazyLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name of the jieba word tokenizer.
pub(crate) const WORDS: &str = "scrm_words";
/// Name of the bigram tokenizer.
pub(crate) const BIGRAMS: &str = "scrm_bigrams";
/// Name of the prefix tokenizer.
pub(crate) const PREFIXES: &str = "scrm_prefixes";
/// Longest prefix indexed.
pub(crate) const MAX_PREFIX_CHARS: usize = 11;

/// jieba with its bundled dictionary, loaded once.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Loads the jieba dictionary now rather than on the first document.
pub(crate) fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// Letters and digits count; everything else separates.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// jieba words of `text` for indexing: search mode, lower-cased.
pub(crate) fn index_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    JIEBA
        .cut_for_search(&lower, true)
        .into_iter()
        .map(|token| token.word)
        .filter(|word| word.chars().any(is_word_char))
        .map(str::to_owned)
        .collect()
}

/// jieba words of a query term: default mode (the longest words), lower-cased.
pub(crate) fn query_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    JIEBA
        .cut(&lower, true)
        .into_iter()
        .map(|token| token.word)
        .filter(|word| word.chars().any(is_word_char))
        .map(str::to_owned)
        .collect()
}

/// Runs of letters and digits in `text`, lower-cased.
pub(crate) fn runs(text: &str) -> Vec<Vec<char>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for c in text.chars() {
        if is_word_char(c) {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The bigrams of one run, in order.
pub(crate) fn bigrams(run: &[char]) -> Vec<String> {
    run.windows(2).map(|pair| pair.iter().collect()).collect()
}

/// A token stream over tokens computed up front.
pub(crate) struct ListStream {
    tokens: Vec<Token>,
    next: usize,
}

impl ListStream {
    fn new(tokens: Vec<Token>) -> Self {
        ListStream { tokens, next: 0 }
    }
}

impl TokenStream for ListStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

fn token(text: String, position: usize) -> Token {
    Token { offset_from: 0, offset_to: 0, position, position_length: 1, text }
}

/// The jieba word tokenizer.
#[derive(Clone, Default)]
pub(crate) struct WordTokenizer;

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = ListStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ListStream {
        let tokens = index_words(text).into_iter().enumerate().map(|(position, word)| token(word, position)).collect();
        ListStream::new(tokens)
    }
}

/// The bigram tokenizer. Runs are one position apart, so a phrase never spans two runs.
#[derive(Clone, Default)]
pub(crate) struct BigramTokenizer;

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = ListStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ListStream {
        let mut tokens = Vec::new();
        let mut position = 0;
        for run in runs(text) {
            for bigram in bigrams(&run) {
                tokens.push(token(bigram, position));
                position += 1;
            }
            position += 1;
        }
        ListStream::new(tokens)
    }
}

/// The prefix tokenizer: prefixes of the text's letters and digits taken together (spaces and dashes in a
/// phone number are skipped).
#[derive(Clone, Default)]
pub(crate) struct PrefixTokenizer;

impl Tokenizer for PrefixTokenizer {
    type TokenStream<'a> = ListStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ListStream {
        let chars: Vec<char> = runs(text).concat();
        let tokens =
            (1..=chars.len().min(MAX_PREFIX_CHARS)).map(|len| token(chars[..len].iter().collect(), 0)).collect();
        ListStream::new(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(mut tokenizer: impl Tokenizer, text: &str) -> Vec<(String, usize)> {
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().text.clone(), stream.token().position));
        }
        out
    }

    #[test]
    fn words_split_chinese_and_drop_punctuation() {
        let words: Vec<String> = texts(WordTokenizer, "喜欢红色连衣裙，VIP客户").into_iter().map(|(w, _)| w).collect();
        assert!(words.contains(&"红色".to_owned()), "{words:?}");
        assert!(words.contains(&"连衣裙".to_owned()), "{words:?}");
        assert!(words.contains(&"vip".to_owned()), "{words:?}");
        assert!(!words.iter().any(|word| word == "，"), "{words:?}");
    }

    #[test]
    fn bigrams_keep_runs_apart() {
        assert_eq!(
            texts(BigramTokenizer, "王小明 138"),
            vec![("王小".into(), 0), ("小明".into(), 1), ("13".into(), 3), ("38".into(), 4)]
        );
    }

    #[test]
    fn prefixes_skip_separators_and_stop_at_the_limit() {
        let prefixes = texts(PrefixTokenizer, "138-0013-8000");
        assert_eq!(prefixes.len(), MAX_PREFIX_CHARS);
        assert_eq!(prefixes[0].0, "1");
        assert_eq!(prefixes[10].0, "13800138000");
        assert_eq!(texts(PrefixTokenizer, "张伟").iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["张", "张伟"]);
    }
}

//! Robot posts in WeCom's terms: the webhook key from what operators paste, its masked form, and a
//! `RobotMessageContent` as a `webhook/send` body.

use scrm_proto::messaging::v1::{RobotMessageContent, robot_message_content};
use scrm_wecom::{Article, Markdown, News, WebhookMessage, WebhookText};

/// Longest text post WeCom accepts, in bytes.
const MAX_TEXT_BYTES: usize = 2048;
/// Longest markdown post WeCom accepts, in bytes.
const MAX_MARKDOWN_BYTES: usize = 4096;
/// Most articles of a news post.
const MAX_ARTICLES: usize = 8;

/// The webhook key in `input`: the key itself, or the `key=` parameter of a webhook URL.
pub fn webhook_key(input: &str) -> Option<String> {
    let input = input.trim();
    let key = match input.split_once("key=") {
        Some((_, rest)) => rest.split('&').next().unwrap_or_default(),
        None => input,
    };
    let valid = !key.is_empty() && key.len() <= 128 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| key.to_owned())
}

/// The key with everything but its last 4 characters replaced by `*`.
pub fn masked(key: &str) -> String {
    let shown = key.len().saturating_sub(4);
    format!("{}{}", "*".repeat(shown), &key[shown..])
}

/// The `webhook/send` body of `content`, or which field is wrong.
pub fn webhook_message(content: Option<RobotMessageContent>) -> Result<WebhookMessage, (&'static str, String)> {
    let body = content.and_then(|content| content.body).ok_or(("content", "content is required".to_owned()))?;
    match body {
        robot_message_content::Body::Text(text) => {
            check_text("content.text.content", &text.content, MAX_TEXT_BYTES)?;
            Ok(WebhookMessage {
                msgtype: "text".into(),
                text: Some(WebhookText {
                    content: text.content,
                    mentioned_list: text.mentioned_list,
                    mentioned_mobile_list: text.mentioned_mobile_list,
                }),
                ..WebhookMessage::default()
            })
        }
        robot_message_content::Body::Markdown(markdown) => {
            check_text("content.markdown.content", &markdown.content, MAX_MARKDOWN_BYTES)?;
            Ok(WebhookMessage {
                msgtype: "markdown".into(),
                markdown: Some(Markdown { content: markdown.content }),
                ..WebhookMessage::default()
            })
        }
        robot_message_content::Body::News(news) => {
            if news.articles.is_empty() || news.articles.len() > MAX_ARTICLES {
                return Err(("content.news.articles", format!("1 to {MAX_ARTICLES} articles are required")));
            }
            if news.articles.iter().any(|article| article.title.is_empty() || article.url.is_empty()) {
                return Err(("content.news.articles", "every article needs a title and a url".to_owned()));
            }
            let articles = news
                .articles
                .into_iter()
                .map(|article| Article {
                    title: article.title,
                    description: Some(article.description).filter(|text| !text.is_empty()),
                    url: article.url,
                    picurl: Some(article.picurl).filter(|url| !url.is_empty()),
                })
                .collect();
            Ok(WebhookMessage { msgtype: "news".into(), news: Some(News { articles }), ..WebhookMessage::default() })
        }
        robot_message_content::Body::Image(_) => {
            Err(("content.image", "image posts are not supported yet; post a news card instead".to_owned()))
        }
    }
}

fn check_text(field: &'static str, text: &str, max_bytes: usize) -> Result<(), (&'static str, String)> {
    if text.trim().is_empty() {
        return Err((field, "the text must not be empty".to_owned()));
    }
    if text.len() > max_bytes {
        return Err((field, format!("at most {max_bytes} bytes")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use scrm_proto::messaging::v1::{RobotNews, RobotText};

    use super::*;

    #[test]
    fn keys_come_from_urls_or_alone_and_are_masked() {
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
        assert_eq!(webhook_key(url).as_deref(), Some("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"));
        assert_eq!(webhook_key(" abc-123 ").as_deref(), Some("abc-123"));
        assert_eq!(webhook_key("not a key"), None);
        assert_eq!(webhook_key(""), None);
        assert_eq!(masked("abcdefgh"), "****efgh");
        assert_eq!(masked("ab"), "ab");
    }

    #[test]
    fn contents_map_to_webhook_bodies_and_bad_ones_name_the_field() {
        let text = RobotMessageContent {
            body: Some(robot_message_content::Body::Text(RobotText {
                content: "欢迎".into(), ..RobotText::default()
            })),
        };
        let message = webhook_message(Some(text)).unwrap();
        assert_eq!(message.msgtype, "text");
        assert_eq!(message.text.unwrap().content, "欢迎");
        let empty_news = RobotMessageContent { body: Some(robot_message_content::Body::News(RobotNews::default())) };
        assert_eq!(webhook_message(Some(empty_news)).unwrap_err().0, "content.news.articles");
        assert_eq!(webhook_message(None).unwrap_err().0, "content");
    }
}

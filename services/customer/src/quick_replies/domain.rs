//! Pure rules of the quick-reply library: who may see and edit what, content checks, search text,
//! and turning a reply into the message the sidebar sends.

use scrm_kernel::{ApiError, Caller, ErrorCode, Role};
use scrm_proto::customer::v1::quick_reply_content::Content;
use scrm_proto::customer::v1::{
    ChatMessage, ChatMessageType, ChatMiniProgramMessage, ChatNewsMessage, ChatTextMessage, QuickReplyContent,
    QuickReplyKind, QuickReplyScope, chat_message,
};

/// Longest folder name, in characters.
pub const MAX_FOLDER_NAME_CHARS: usize = 30;
/// Longest reply title, in characters.
pub const MAX_TITLE_CHARS: usize = 50;
/// Longest text reply, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most keywords on a reply.
pub const MAX_KEYWORDS: usize = 10;
/// Longest keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 30;
/// Longest URL, title or description inside a card, in characters.
pub const MAX_CARD_FIELD_CHARS: usize = 1024;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// The variable filled with the customer's name (or the sender's remark for them).
pub const CUSTOMER_NAME_VARIABLE: &str = "{客户昵称}";
/// The variable filled with the sending staff member's name.
pub const STAFF_NAME_VARIABLE: &str = "{员工姓名}";
/// What `{客户昵称}` becomes in a group chat, where the message addresses every member.
pub const GROUP_AUDIENCE: &str = "各位";

/// Roles that may edit the company library.
const COMPANY_EDITORS: &[Role] = &[Role::Operator, Role::Admin];

/// A library: the company's, or one staff member's personal library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    /// The company library (企业话术).
    Company,
    /// The personal library (个人话术) of this staff id.
    Personal(String),
}

impl Library {
    /// The library stored as `scope` and `owner` columns; `None` for an unknown scope.
    pub fn from_columns(scope: i32, owner: &str) -> Option<Library> {
        match QuickReplyScope::try_from(scope).ok()? {
            QuickReplyScope::Company => Some(Library::Company),
            QuickReplyScope::Personal => Some(Library::Personal(owner.to_owned())),
            QuickReplyScope::Unspecified => None,
        }
    }

    /// The `scope` column and proto value.
    pub fn scope(&self) -> QuickReplyScope {
        match self {
            Library::Company => QuickReplyScope::Company,
            Library::Personal(_) => QuickReplyScope::Personal,
        }
    }

    /// The `owner` column: the owner's staff id, empty for the company library.
    pub fn owner(&self) -> &str {
        match self {
            Library::Company => "",
            Library::Personal(owner) => owner,
        }
    }

    /// Whether `caller` may read this library.
    pub fn visible_to(&self, caller: &Caller) -> bool {
        match self {
            Library::Company => true,
            Library::Personal(owner) => *owner == caller.staff_id,
        }
    }

    /// Rejects `caller` unless they may change this library.
    pub fn check_editor(&self, caller: &Caller) -> Result<(), ApiError> {
        match self {
            Library::Company => caller.require_any(COMPANY_EDITORS).map_err(|_| {
                ApiError::new(ErrorCode::PermissionDenied, "only operators may change the company library")
            }),
            Library::Personal(owner) if *owner == caller.staff_id => Ok(()),
            Library::Personal(_) => {
                Err(ApiError::new(ErrorCode::PermissionDenied, "a personal library is changed by its owner only"))
            }
        }
    }
}

/// Which libraries a list or search reads for `caller`, from a request's `scope` filter.
pub fn libraries_for(caller: &Caller, scope: i32) -> Result<Vec<Library>, ApiError> {
    let personal = Library::Personal(caller.staff_id.clone());
    match QuickReplyScope::try_from(scope) {
        Ok(QuickReplyScope::Unspecified) => Ok(vec![Library::Company, personal]),
        Ok(QuickReplyScope::Company) => Ok(vec![Library::Company]),
        Ok(QuickReplyScope::Personal) => Ok(vec![personal]),
        Err(_) => Err(ApiError::invalid("scope", format!("unknown scope {scope}"))),
    }
}

/// The library a new folder goes to: `scope` is required.
pub fn library_of_new_folder(caller: &Caller, scope: i32) -> Result<Library, ApiError> {
    match QuickReplyScope::try_from(scope) {
        Ok(QuickReplyScope::Company) => Ok(Library::Company),
        Ok(QuickReplyScope::Personal) => Ok(Library::Personal(caller.staff_id.clone())),
        _ => Err(ApiError::invalid("scope", "scope must be company or personal")),
    }
}

/// A kind filter: `None` for any kind.
pub fn kind_filter(kind: i32) -> Result<Option<QuickReplyKind>, ApiError> {
    match QuickReplyKind::try_from(kind) {
        Ok(QuickReplyKind::Unspecified) => Ok(None),
        Ok(kind) => Ok(Some(kind)),
        Err(_) => Err(ApiError::invalid("kind", format!("unknown kind {kind}"))),
    }
}

/// Checks a folder name: 1–30 characters after trimming. Returns the trimmed name.
pub fn folder_name(field: &str, name: &str) -> Result<String, ApiError> {
    bounded_text(field, name, MAX_FOLDER_NAME_CHARS)
}

/// Checks a reply title: 1–50 characters after trimming. Returns the trimmed title.
pub fn reply_title(field: &str, title: &str) -> Result<String, ApiError> {
    bounded_text(field, title, MAX_TITLE_CHARS)
}

fn bounded_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("{field} is longer than {max} characters")));
    }
    Ok(value.to_owned())
}

/// Checks keywords: at most 10, each 1–30 characters; blanks and repeats are dropped.
pub fn keywords(field: &str, keywords: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut kept: Vec<String> = Vec::new();
    for keyword in keywords {
        let keyword = keyword.trim();
        if keyword.is_empty() || kept.iter().any(|seen| seen == keyword) {
            continue;
        }
        if keyword.chars().count() > MAX_KEYWORD_CHARS || keyword.contains('\n') {
            return Err(ApiError::invalid(
                field,
                format!("a keyword is one line of at most {MAX_KEYWORD_CHARS} characters"),
            ));
        }
        kept.push(keyword.to_owned());
    }
    if kept.len() > MAX_KEYWORDS {
        return Err(ApiError::invalid(field, format!("at most {MAX_KEYWORDS} keywords")));
    }
    Ok(kept)
}

/// Checks a reply's content and returns its kind. `field` is the request's content field.
pub fn check_content(field: &str, content: Option<&QuickReplyContent>) -> Result<QuickReplyKind, ApiError> {
    let content = content
        .and_then(|content| content.content.as_ref())
        .ok_or_else(|| ApiError::invalid(field, format!("{field} is required")))?;
    let at = |name: &str| format!("{field}.{name}");
    match content {
        Content::Text(text) => {
            let len = text.text.trim().chars().count();
            if len == 0 || text.text.chars().count() > MAX_TEXT_CHARS {
                return Err(ApiError::invalid(at("text.text"), format!("text must be 1–{MAX_TEXT_CHARS} characters")));
            }
            Ok(QuickReplyKind::Text)
        }
        Content::Image(image) => {
            http_url(&at("image.image_url"), &image.image_url)?;
            Ok(QuickReplyKind::Image)
        }
        Content::Link(link) => {
            http_url(&at("link.url"), &link.url)?;
            card_title(&at("link.title"), &link.title)?;
            optional_card_field(&at("link.description"), &link.description)?;
            optional_card_field(&at("link.cover_url"), &link.cover_url)?;
            Ok(QuickReplyKind::Link)
        }
        Content::Miniprogram(card) => {
            if card.appid.trim().is_empty() || card.appid.chars().count() > 64 {
                return Err(ApiError::invalid(at("miniprogram.appid"), "appid is required"));
            }
            let path = card.page.split('?').next().unwrap_or_default();
            if !path.ends_with(".html") || card.page.chars().count() > MAX_CARD_FIELD_CHARS {
                return Err(ApiError::invalid(at("miniprogram.page"), "page must end in .html, e.g. pages/index.html"));
            }
            card_title(&at("miniprogram.title"), &card.title)?;
            http_url(&at("miniprogram.cover_url"), &card.cover_url)?;
            Ok(QuickReplyKind::Miniprogram)
        }
        Content::Coupon(coupon) => {
            if coupon.reward_definition_id <= 0 {
                return Err(ApiError::invalid(at("coupon.reward_definition_id"), "reward_definition_id is required"));
            }
            card_title(&at("coupon.title"), &coupon.title)?;
            optional_card_field(&at("coupon.description"), &coupon.description)?;
            optional_card_field(&at("coupon.cover_url"), &coupon.cover_url)?;
            http_url(&at("coupon.url"), &coupon.url)?;
            Ok(QuickReplyKind::Coupon)
        }
        Content::CampaignLink(link) => {
            if link.campaign_id <= 0 {
                return Err(ApiError::invalid(at("campaign_link.campaign_id"), "campaign_id is required"));
            }
            http_url(&at("campaign_link.url"), &link.url)?;
            card_title(&at("campaign_link.title"), &link.title)?;
            optional_card_field(&at("campaign_link.description"), &link.description)?;
            optional_card_field(&at("campaign_link.cover_url"), &link.cover_url)?;
            Ok(QuickReplyKind::CampaignLink)
        }
    }
}

fn http_url(field: &str, url: &str) -> Result<(), ApiError> {
    let well_formed = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(char::is_whitespace);
    if !well_formed || url.chars().count() > MAX_CARD_FIELD_CHARS {
        return Err(ApiError::invalid(field, format!("{field} must be an http(s) URL")));
    }
    Ok(())
}

fn card_title(field: &str, title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    optional_card_field(field, title)
}

fn optional_card_field(field: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_CARD_FIELD_CHARS {
        return Err(ApiError::invalid(field, format!("{field} is longer than {MAX_CARD_FIELD_CHARS} characters")));
    }
    Ok(())
}

/// The text search matches: title, the content's words and the keywords, lower-cased.
pub fn search_text(title: &str, content: &QuickReplyContent, keywords: &[String]) -> String {
    let mut parts = vec![title.to_owned()];
    match &content.content {
        Some(Content::Text(text)) => parts.push(text.text.clone()),
        Some(Content::Link(link)) => parts.extend([link.title.clone(), link.description.clone()]),
        Some(Content::Miniprogram(card)) => parts.push(card.title.clone()),
        Some(Content::Coupon(coupon)) => parts.extend([coupon.title.clone(), coupon.description.clone()]),
        Some(Content::CampaignLink(link)) => parts.extend([link.title.clone(), link.description.clone()]),
        Some(Content::Image(_)) | None => {}
    }
    parts.extend(keywords.iter().cloned());
    parts.join("\n").to_lowercase()
}

/// A search query as matched against [`search_text`]: trimmed, lower-cased, 1–100 characters.
pub fn search_query(query: &str) -> Result<String, ApiError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(ApiError::invalid("query", "query is required"));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid("query", format!("query is longer than {MAX_QUERY_CHARS} characters")));
    }
    Ok(query.to_lowercase())
}

/// A `LIKE` pattern matching values that contain `query`, with `!` as the escape character.
pub fn like_pattern(query: &str) -> String {
    let mut pattern = String::from("%");
    for character in query.chars() {
        if matches!(character, '!' | '%' | '_') {
            pattern.push('!');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// Who a message is addressed to, for filling `{客户昵称}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A one-to-one chat with a customer: the sender's remark for them, else their name.
    Customer {
        /// The customer's WeCom name.
        name: String,
        /// The sender's remark for the customer; empty when none.
        remark: String,
    },
    /// A customer group: everybody in it.
    Group,
}

/// Fills the variables of a text reply.
pub fn fill_variables(text: &str, audience: &Audience, staff_name: &str) -> String {
    let customer = match audience {
        Audience::Customer { remark, .. } if !remark.trim().is_empty() => remark.as_str(),
        Audience::Customer { name, .. } => name.as_str(),
        Audience::Group => GROUP_AUDIENCE,
    };
    text.replace(CUSTOMER_NAME_VARIABLE, customer).replace(STAFF_NAME_VARIABLE, staff_name)
}

/// The `sendChatMessage` message for a reply whose content is not an image (images need a WeCom upload).
/// Returns `None` for images.
pub fn chat_message(content: &QuickReplyContent, audience: &Audience, staff_name: &str) -> Option<ChatMessage> {
    let news = |link: &str, title: &str, desc: &str, img_url: &str| ChatMessage {
        msgtype: ChatMessageType::News as i32,
        body: Some(chat_message::Body::News(ChatNewsMessage {
            link: link.to_owned(),
            title: title.to_owned(),
            desc: desc.to_owned(),
            img_url: img_url.to_owned(),
        })),
    };
    match content.content.as_ref()? {
        Content::Text(text) => Some(ChatMessage {
            msgtype: ChatMessageType::Text as i32,
            body: Some(chat_message::Body::Text(ChatTextMessage {
                content: fill_variables(&text.text, audience, staff_name),
            })),
        }),
        Content::Image(_) => None,
        Content::Link(link) => Some(news(&link.url, &link.title, &link.description, &link.cover_url)),
        Content::Miniprogram(card) => Some(ChatMessage {
            msgtype: ChatMessageType::Miniprogram as i32,
            body: Some(chat_message::Body::Miniprogram(ChatMiniProgramMessage {
                appid: card.appid.clone(),
                title: card.title.clone(),
                img_url: card.cover_url.clone(),
                page: card.page.clone(),
            })),
        }),
        Content::Coupon(coupon) => Some(news(&coupon.url, &coupon.title, &coupon.description, &coupon.cover_url)),
        Content::CampaignLink(link) => Some(news(&link.url, &link.title, &link.description, &link.cover_url)),
    }
}

/// The reward definition a reply issues on send; `None` unless it is a coupon.
pub fn coupon_definition(content: &QuickReplyContent) -> Option<i64> {
    match &content.content {
        Some(Content::Coupon(coupon)) => Some(coupon.reward_definition_id),
        _ => None,
    }
}

/// A page position for lists and searches: how many rows to skip. Tokens are `offset:N`.
pub fn parse_offset(page_token: &str) -> Result<u64, ApiError> {
    if page_token.is_empty() {
        return Ok(0);
    }
    page_token
        .strip_prefix("offset:")
        .and_then(|offset| offset.parse().ok())
        .ok_or_else(|| ApiError::invalid("page_token", "page_token is not one this server issued"))
}

/// The token of the page after one starting at `offset` that returned `page_len` rows of `page_size`.
pub fn next_offset_token(offset: u64, page_len: usize, page_size: u32) -> String {
    if page_len == page_size as usize { format!("offset:{}", offset + page_len as u64) } else { String::new() }
}

#[cfg(test)]
mod tests {
    use scrm_proto::customer::v1::{
        CouponReplyContent, ImageReplyContent, LinkReplyContent, MiniProgramReplyContent, TextReplyContent,
    };

    use super::*;

    fn caller(staff_id: &str, role: Role) -> Caller {
        Caller { staff_id: staff_id.into(), role, store_ids: Vec::new() }
    }

    fn text(text: &str) -> QuickReplyContent {
        QuickReplyContent { content: Some(Content::Text(TextReplyContent { text: text.into() })) }
    }

    #[test]
    fn operators_edit_the_company_library_and_owners_their_own() {
        let operator = caller("op", Role::Operator);
        let support = caller("kefu", Role::Support);
        assert!(Library::Company.check_editor(&operator).is_ok());
        assert_eq!(Library::Company.check_editor(&support).unwrap_err().code, ErrorCode::PermissionDenied);
        let own = Library::Personal("kefu".into());
        assert!(own.check_editor(&support).is_ok());
        assert_eq!(own.check_editor(&operator).unwrap_err().code, ErrorCode::PermissionDenied);
        assert!(own.visible_to(&support) && !own.visible_to(&operator));
        assert!(Library::Company.visible_to(&support));
    }

    #[test]
    fn list_scopes_pick_libraries() {
        let support = caller("kefu", Role::Support);
        assert_eq!(libraries_for(&support, 0).unwrap(), vec![Library::Company, Library::Personal("kefu".into())]);
        assert_eq!(libraries_for(&support, 2).unwrap(), vec![Library::Personal("kefu".into())]);
        assert_eq!(libraries_for(&support, 9).unwrap_err().field.as_deref(), Some("scope"));
        assert_eq!(library_of_new_folder(&support, 0).unwrap_err().field.as_deref(), Some("scope"));
    }

    #[test]
    fn variables_prefer_the_remark_and_address_groups() {
        let customer = Audience::Customer { name: "李雷".into(), remark: "李总".into() };
        assert_eq!(fill_variables("{客户昵称}您好，我是{员工姓名}", &customer, "韩梅梅"), "李总您好，我是韩梅梅");
        let no_remark = Audience::Customer { name: "李雷".into(), remark: " ".into() };
        assert_eq!(fill_variables("{客户昵称}您好", &no_remark, "x"), "李雷您好");
        assert_eq!(fill_variables("{客户昵称}好，{客户昵称}", &Audience::Group, "x"), "各位好，各位");
    }

    #[test]
    fn content_is_checked_per_kind() {
        assert_eq!(check_content("content", Some(&text("你好"))).unwrap(), QuickReplyKind::Text);
        assert_eq!(check_content("content", None).unwrap_err().field.as_deref(), Some("content"));
        assert_eq!(
            check_content("content", Some(&text("  "))).unwrap_err().field.as_deref(),
            Some("content.text.text")
        );
        let bad_link = QuickReplyContent {
            content: Some(Content::Link(LinkReplyContent {
                url: "ftp://x".into(),
                title: "t".into(),
                ..Default::default()
            })),
        };
        assert_eq!(check_content("content", Some(&bad_link)).unwrap_err().field.as_deref(), Some("content.link.url"));
        let card = |page: &str| QuickReplyContent {
            content: Some(Content::Miniprogram(MiniProgramReplyContent {
                appid: "wx1".into(),
                page: page.into(),
                title: "小程序".into(),
                cover_url: "https://img.example.com/a.png".into(),
            })),
        };
        assert_eq!(check_content("c", Some(&card("pages/index.html?from=scrm"))).unwrap(), QuickReplyKind::Miniprogram);
        assert_eq!(
            check_content("c", Some(&card("pages/index"))).unwrap_err().field.as_deref(),
            Some("c.miniprogram.page")
        );
        let coupon = QuickReplyContent {
            content: Some(Content::Coupon(CouponReplyContent {
                reward_definition_id: 0,
                title: "满100减20券".into(),
                url: "https://shop.example.com/coupon".into(),
                ..Default::default()
            })),
        };
        assert_eq!(
            check_content("c", Some(&coupon)).unwrap_err().field.as_deref(),
            Some("c.coupon.reward_definition_id")
        );
    }

    #[test]
    fn messages_follow_the_js_sdk_shapes() {
        let customer = Audience::Customer { name: "李雷".into(), remark: String::new() };
        let message = chat_message(&text("{客户昵称}，{员工姓名}为您服务"), &customer, "韩梅梅").unwrap();
        assert_eq!(message.msgtype, ChatMessageType::Text as i32);
        assert_eq!(
            message.body,
            Some(chat_message::Body::Text(ChatTextMessage { content: "李雷，韩梅梅为您服务".into() }))
        );
        let coupon = QuickReplyContent {
            content: Some(Content::Coupon(CouponReplyContent {
                reward_definition_id: 7,
                title: "满100减20券".into(),
                description: "本周有效".into(),
                cover_url: String::new(),
                url: "https://shop.example.com/coupon".into(),
            })),
        };
        let message = chat_message(&coupon, &customer, "x").unwrap();
        assert_eq!(message.msgtype, ChatMessageType::News as i32);
        assert_eq!(coupon_definition(&coupon), Some(7));
        let image = QuickReplyContent {
            content: Some(Content::Image(ImageReplyContent { image_url: "https://img.example.com/a.png".into() })),
        };
        assert!(chat_message(&image, &customer, "x").is_none());
    }

    #[test]
    fn search_text_and_patterns() {
        let keywords = vec!["退货".to_owned()];
        let text_of = search_text("售后开场白", &text("您好，退换货请联系我"), &keywords);
        assert!(text_of.contains("售后开场白") && text_of.contains("退换货") && text_of.ends_with("退货"));
        assert_eq!(like_pattern("5%_!"), "%5!%!_!!%");
        assert_eq!(search_query(" ABC ").unwrap(), "abc");
        assert_eq!(search_query("").unwrap_err().field.as_deref(), Some("query"));
    }

    #[test]
    fn keywords_and_pages() {
        let kept = keywords("keywords", vec!["a".into(), " a ".into(), "".into(), "b".into()]).unwrap();
        assert_eq!(kept, vec!["a".to_owned(), "b".to_owned()]);
        let many = (0..11).map(|index| index.to_string()).collect();
        assert_eq!(keywords("keywords", many).unwrap_err().field.as_deref(), Some("keywords"));
        assert_eq!(parse_offset("").unwrap(), 0);
        assert_eq!(parse_offset(&next_offset_token(20, 20, 20)).unwrap(), 40);
        assert_eq!(next_offset_token(0, 3, 20), "");
        assert_eq!(parse_offset("x").unwrap_err().field.as_deref(), Some("page_token"));
    }
}

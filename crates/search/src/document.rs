//! The document indexed for one customer, and stored with it so search results need no database read.

use serde::{Deserialize, Serialize};

/// Everything search knows about one customer. The customer service builds it from its tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDoc {
    /// WeCom `external_userid`; the document's key.
    pub external_userid: String,
    /// Name.
    pub name: String,
    /// Avatar URL; empty when none.
    pub avatar: String,
    /// ExternalContactType code.
    pub contact_type: i32,
    /// CustomerStatus code.
    pub status: i32,
    /// Current follow relations (staff following the customer).
    pub follows: Vec<FollowDoc>,
    /// Tags on the customer, each once.
    pub tags: Vec<TagDoc>,
    /// Stores the customer counts under.
    pub store_ids: Vec<String>,
    /// Phone numbers known besides the follow users' remark phones (e.g. from the member record).
    pub phones: Vec<String>,
    /// Numbers of the customer's orders.
    pub order_numbers: Vec<String>,
    /// Texts of the notes (跟进记录) on the customer.
    pub notes: Vec<String>,
    /// Level rank; 0 below the first tier.
    pub level: i32,
    /// Level name; empty when `level` is 0.
    pub level_name: String,
    /// Lifetime spend in fen.
    pub total_spend_fen: i64,
    /// Number of paid orders.
    pub order_count: i64,
    /// Payment time of the latest order, Unix ms; `None` when none.
    pub last_purchase_at: Option<i64>,
    /// Whether the customer is a KOC.
    pub is_koc: bool,
    /// When a staff member first added the customer, Unix ms; 0 when unknown.
    pub added_at: i64,
}

/// One current follow relation of a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowDoc {
    /// The staff member's WeCom `userid`.
    pub userid: String,
    /// The staff member's remark name for the customer.
    pub remark: String,
    /// The staff member's description of the customer.
    pub description: String,
    /// Company name in the remark.
    pub remark_corp_name: String,
    /// Phone numbers in the remark.
    pub remark_mobiles: Vec<String>,
}

/// A tag on a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDoc {
    /// WeCom `tag_id`; empty for personal tags.
    pub tag_id: String,
    /// Tag name.
    pub tag_name: String,
    /// Tag group id; empty for personal tags.
    pub group_id: String,
    /// Tag group name.
    pub group_name: String,
    /// TagType code.
    pub tag_type: i32,
}

impl CustomerDoc {
    /// Free texts of the customer, tokenized as words: name, remarks, descriptions, company names, tag
    /// names and notes.
    pub(crate) fn word_texts(&self) -> impl Iterator<Item = &str> {
        let follows = self
            .follows
            .iter()
            .flat_map(|follow| [follow.remark.as_str(), follow.description.as_str(), follow.remark_corp_name.as_str()]);
        let tags = self.tags.iter().flat_map(|tag| [tag.tag_name.as_str(), tag.group_name.as_str()]);
        std::iter::once(self.name.as_str())
            .chain(follows)
            .chain(tags)
            .chain(self.notes.iter().map(String::as_str))
            .filter(|text| !text.is_empty())
    }

    /// Every phone number of the customer.
    pub(crate) fn all_phones(&self) -> impl Iterator<Item = &str> {
        self.follows
            .iter()
            .flat_map(|follow| follow.remark_mobiles.iter())
            .chain(&self.phones)
            .map(String::as_str)
            .filter(|phone| !phone.is_empty())
    }

    /// Texts matched by any substring (two characters or more): name, remarks, phones, tag names, order
    /// numbers and notes.
    pub(crate) fn substring_texts(&self) -> impl Iterator<Item = &str> {
        let remarks = self.follows.iter().map(|follow| follow.remark.as_str());
        let tags = self.tags.iter().map(|tag| tag.tag_name.as_str());
        std::iter::once(self.name.as_str())
            .chain(remarks)
            .chain(self.all_phones())
            .chain(tags)
            .chain(self.order_numbers.iter().map(String::as_str))
            .chain(self.notes.iter().map(String::as_str))
            .filter(|text| !text.is_empty())
    }

    /// Texts matched by their start (so a single character finds a surname): name, remarks and phones.
    pub(crate) fn prefix_texts(&self) -> impl Iterator<Item = &str> {
        let remarks = self.follows.iter().map(|follow| follow.remark.as_str());
        std::iter::once(self.name.as_str()).chain(remarks).chain(self.all_phones()).filter(|text| !text.is_empty())
    }

    /// Identifiers matched exactly: external userid, order numbers and phones.
    pub(crate) fn exact_texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.external_userid.as_str())
            .chain(self.order_numbers.iter().map(String::as_str))
            .chain(self.all_phones())
    }
}

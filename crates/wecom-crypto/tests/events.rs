//! Event parsing on WeCom's documented callback XML (see `fixtures/push/README.md`).

use std::collections::HashSet;

use scrm_wecom_crypto::event::{
    ChatUpdate, ContactChange, ExternalChatChange, ExternalContactChange, ExternalTagChange, TagType, UpdateDetail,
};
use scrm_wecom_crypto::{CallbackCrypto, CallbackEvent, Error, parse_event};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/push/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> CallbackEvent {
    parse_event(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn external_contact_suite_shape() {
    let cases = [
        ("ChangeExternalContactAddExternalContact.xml", ExternalContactChange::AddExternalContact),
        ("ChangeExternalContactAddHalfExternalContact.xml", ExternalContactChange::AddHalfExternalContact),
        ("ChangeExternalContactEditExternalContact.xml", ExternalContactChange::EditExternalContact),
        ("ChangeExternalContactDelExternalContact.xml", ExternalContactChange::DelExternalContact),
        ("ChangeExternalContactDelFollowUser.xml", ExternalContactChange::DelFollowUser),
        ("ChangeExternalContactTransferFail.xml", ExternalContactChange::TransferFail),
    ];
    for (file, change) in cases {
        let CallbackEvent::ExternalContact(e) = parse(file) else { panic!("{file}: not an external contact event") };
        assert_eq!(e.change_type, change, "{file}");
        assert_eq!(e.header.event, "change_external_contact");
        assert_eq!(e.header.to_user_name, "wxf8b4f85f3a794e77");
        assert_eq!(e.header.suite_id.as_deref(), Some("ww4asffe99e54c0f4c"));
        assert_eq!(e.header.create_time, 1403610513);
        assert_eq!(e.user_id, "zhangsan");
        assert_eq!(e.external_user_id, "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w");
        let is_add =
            matches!(change, ExternalContactChange::AddExternalContact | ExternalContactChange::AddHalfExternalContact);
        assert_eq!(e.state.as_deref(), is_add.then_some("teststate"), "{file}");
        assert_eq!(e.welcome_code.as_deref(), is_add.then_some("WELCOMECODE"), "{file}");
        let fail = (change == ExternalContactChange::TransferFail).then_some("customer_refused");
        assert_eq!(e.fail_reason.as_deref(), fail);
    }
}

#[test]
fn external_contact_corp_shape() {
    let CallbackEvent::ExternalContact(e) = parse("corp_add_external_contact.xml") else { panic!() };
    assert_eq!(e.header.to_user_name, "toUser");
    assert_eq!(e.header.from_user_name.as_deref(), Some("sys"));
    assert_eq!(e.header.msg_type.as_deref(), Some("event"));
    assert_eq!(e.header.suite_id, None);
    assert_eq!(e.header.create_time, 1403610513);
    assert_eq!(e.change_type, ExternalContactChange::AddExternalContact);
    assert_eq!(e.state.as_deref(), Some("teststate"));
    assert_eq!(e.welcome_code.as_deref(), Some("WELCOMECODE"));

    let CallbackEvent::ExternalContact(e) = parse("corp_del_external_contact.xml") else { panic!() };
    assert_eq!(e.change_type, ExternalContactChange::DelExternalContact);
    assert_eq!(e.source.as_deref(), Some("DELETE_BY_TRANSFER"));
}

#[test]
fn external_chat() {
    let CallbackEvent::ExternalChat(e) = parse("ChangeExternalChatCreate.xml") else { panic!() };
    assert_eq!((e.chat_id.as_str(), &e.change), ("CHAT_ID", &ExternalChatChange::Create));
    let CallbackEvent::ExternalChat(e) = parse("ChangeExternalChatDismiss.xml") else { panic!() };
    assert_eq!(e.change, ExternalChatChange::Dismiss);
    let CallbackEvent::ExternalChat(e) = parse("ChangeExternalChatUpdate.xml") else { panic!() };
    assert_eq!(
        e.change,
        ExternalChatChange::Update(ChatUpdate {
            update_detail: UpdateDetail::AddMember,
            join_scene: Some(1),
            quit_scene: Some(0),
            mem_change_cnt: Some(10),
            mem_change_list: vec![],
            last_mem_ver: None,
            cur_mem_ver: None,
        })
    );
    let CallbackEvent::ExternalChat(e) = parse("corp_external_chat_update.xml") else { panic!() };
    assert_eq!(e.chat_id, "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA");
    let ExternalChatChange::Update(u) = e.change else { panic!() };
    assert_eq!(u.mem_change_list, ["Jack", "Rose"]);
    assert_eq!(u.last_mem_ver.as_deref(), Some("9c3f97c2ada667dfb5f6d03308d963e1"));
    assert_eq!(u.cur_mem_ver.as_deref(), Some("71217227bbd112ecfe3a49c482195cb4"));
}

#[test]
fn external_chat_update_details_and_comma_member_list() {
    for (detail, want) in [
        ("add_member", UpdateDetail::AddMember),
        ("del_member", UpdateDetail::DelMember),
        ("change_owner", UpdateDetail::ChangeOwner),
        ("change_name", UpdateDetail::ChangeName),
        ("change_notice", UpdateDetail::ChangeNotice),
        ("change_something", UpdateDetail::Other("change_something".into())),
    ] {
        let xml = format!(
            "<xml><ToUserName>c</ToUserName><CreateTime>1</CreateTime><Event>change_external_chat</Event>\
             <ChatId>g</ChatId><ChangeType>update</ChangeType><UpdateDetail>{detail}</UpdateDetail>\
             <QuitScene>1</QuitScene><MemChangeList><![CDATA[wm1, wm2]]></MemChangeList></xml>"
        );
        let CallbackEvent::ExternalChat(e) = parse_event(&xml).unwrap() else { panic!() };
        let ExternalChatChange::Update(u) = e.change else { panic!() };
        assert_eq!(u.update_detail, want);
        assert_eq!(u.update_detail.as_str(), detail);
        assert_eq!(u.quit_scene, Some(1));
        assert_eq!(u.mem_change_list, ["wm1", "wm2"]);
    }
}

#[test]
fn external_tag() {
    for (file, change) in [
        ("ChangeExternalTagCreate.xml", ExternalTagChange::Create),
        ("ChangeExternalTagUpdate.xml", ExternalTagChange::Update),
        ("ChangeExternalTagDelete.xml", ExternalTagChange::Delete),
    ] {
        let CallbackEvent::ExternalTag(e) = parse(file) else { panic!() };
        assert_eq!(e.change_type, change);
        assert_eq!(e.id, "TAG_ID");
        assert_eq!(e.tag_type, Some(TagType::Tag));
        assert_eq!(e.strategy_id, None);
    }
    let CallbackEvent::ExternalTag(e) = parse("corp_external_tag_create.xml") else { panic!() };
    assert_eq!((e.tag_type, e.strategy_id), (Some(TagType::TagGroup), Some(1)));
    let CallbackEvent::ExternalTag(e) = parse("corp_external_tag_shuffle.xml") else { panic!() };
    assert_eq!(e.change_type, ExternalTagChange::Shuffle);
    assert_eq!((e.id.as_str(), e.tag_type, e.strategy_id), ("TAG_GROUP_ID", None, Some(1)));
}

#[test]
fn contact_users() {
    let CallbackEvent::Contact(e) = parse("ChangeContactCreateUser.xml") else { panic!() };
    let ContactChange::CreateUser(u) = e.change else { panic!() };
    assert_eq!(u.user_id, "zhangsan");
    assert_eq!(u.name.as_deref(), Some("张三"));
    assert_eq!(u.department, Some(vec![1, 2, 3]));
    assert_eq!(u.is_leader, Some(1));
    assert_eq!(u.avatar.as_deref().map(|a| a.starts_with("http://wx.qlogo.cn/")), Some(true));
    assert_eq!(u.ext_attr.len(), 2);
    assert_eq!((u.ext_attr[0].name.as_str(), u.ext_attr[0].value.as_deref()), ("爱好", Some("旅游")));

    let CallbackEvent::Contact(e) = parse("ChangeContactUpdateUser.xml") else { panic!() };
    let ContactChange::UpdateUser(u) = e.change else { panic!() };
    assert_eq!(u.new_user_id.as_deref(), Some("zhangsan001"));
    assert_eq!(u.status, Some(1));

    let CallbackEvent::Contact(e) = parse("corp_update_user.xml") else { panic!() };
    assert_eq!(e.header.to_user_name, "toUser");
    let ContactChange::UpdateUser(u) = e.change else { panic!() };
    assert_eq!(u.main_department, Some(1));
    assert_eq!(u.is_leader_in_dept, Some(vec![1, 0, 0]));
    assert_eq!(u.direct_leader, Some(vec!["lisi".to_owned(), "wangwu".to_owned()]));
    assert_eq!(u.status, Some(5));
    assert_eq!(u.biz_mail.as_deref(), Some("zhangsan@qyycs2.wecom.work"));
    assert_eq!(u.ext_attr[0].value.as_deref(), Some("旅游"));
    assert_eq!(u.ext_attr[1].attr_type, Some(1));
    assert_eq!(u.ext_attr[1].web_url.as_deref(), Some("https://work.weixin.qq.com"));

    let CallbackEvent::Contact(e) = parse("ChangeContactDeleteUser.xml") else { panic!() };
    assert_eq!(e.change, ContactChange::DeleteUser { user_id: "zhangsan".into() });
}

#[test]
fn contact_parties_and_tags() {
    let CallbackEvent::Contact(e) = parse("ChangeContactCreateParty.xml") else { panic!() };
    let ContactChange::CreateParty(p) = e.change else { panic!() };
    assert_eq!((p.id, p.name.as_deref(), p.parent_id, p.order), (2, Some("张三"), Some(1), Some(1)));
    let CallbackEvent::Contact(e) = parse("ChangeContactUpdateParty.xml") else { panic!() };
    let ContactChange::UpdateParty(p) = e.change else { panic!() };
    assert_eq!((p.id, p.parent_id, p.order), (2, Some(1), None));
    let CallbackEvent::Contact(e) = parse("ChangeContactDeleteParty.xml") else { panic!() };
    assert_eq!(e.change, ContactChange::DeleteParty { id: 2 });
    let CallbackEvent::Contact(e) = parse("ChangeContactUpdateTag.xml") else { panic!() };
    let ContactChange::UpdateTag(t) = e.change else { panic!() };
    assert_eq!(t.tag_id, 1);
    assert_eq!(t.add_user_items, ["zhangsan", "lisi"]);
    assert_eq!(t.del_party_items, [3, 4]);
}

#[test]
fn unknown_events_and_change_types_are_kept_not_refused() {
    let xml = "<xml><ToUserName>c</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>\
               <Event>change_external_contact</Event><ChangeType>brand_new</ChangeType></xml>";
    assert_eq!(
        parse_event(xml).unwrap(),
        CallbackEvent::Unknown {
            event: "change_external_contact".into(),
            change_type: Some("brand_new".into()),
            raw: xml.into()
        }
    );
    let xml = "<xml><SuiteId>s</SuiteId><InfoType>suite_ticket</InfoType><TimeStamp>1</TimeStamp></xml>";
    let e = parse_event(xml).unwrap();
    assert_eq!((e.event(), e.change_type(), e.header()), ("suite_ticket", None, None));
    for event in ["change_external_chat", "change_external_tag", "change_contact"] {
        let xml = format!("<xml><Event>{event}</Event><ChangeType>nope</ChangeType></xml>");
        assert!(matches!(parse_event(&xml), Ok(CallbackEvent::Unknown { .. })), "{event}");
    }
}

#[test]
fn malformed_known_events_are_typed_errors() {
    let base = "<xml><ToUserName>c</ToUserName><CreateTime>1</CreateTime><Event>change_external_contact</Event>\
                <ChangeType>del_follow_user</ChangeType><UserID>u</UserID>";
    assert_eq!(parse_event(&format!("{base}</xml>")), Err(Error::MissingField("ExternalUserID")));
    assert_eq!(
        parse_event(&format!("{base}<ExternalUserID>a</ExternalUserID><ExternalUserID>b</ExternalUserID></xml>")),
        Err(Error::DuplicateField("ExternalUserID".into()))
    );
    let no_time = "<xml><ToUserName>c</ToUserName><Event>change_contact</Event><ChangeType>delete_user</ChangeType>\
                   <UserID>u</UserID></xml>";
    assert_eq!(parse_event(no_time), Err(Error::MissingField("CreateTime")));
    let bad_time = no_time.replace("<Event>", "<CreateTime>soon</CreateTime><Event>");
    assert!(matches!(parse_event(&bad_time), Err(Error::InvalidField { field: "CreateTime", .. })));
    let bad_dept = "<xml><ToUserName>c</ToUserName><CreateTime>1</CreateTime><Event>change_contact</Event>\
                    <ChangeType>create_user</ChangeType><UserID>u</UserID><Department>1,x</Department></xml>";
    assert!(matches!(parse_event(bad_dept), Err(Error::InvalidField { field: "Department", .. })));
    assert_eq!(parse_event("<xml></xml>"), Err(Error::MissingField("Event")));
    assert!(matches!(parse_event("<xml>"), Err(Error::Xml(_))));
    assert!(matches!(parse_event("<other><Event>x</Event></other>"), Err(Error::Xml(_))));
}

#[test]
fn dedup_keys_are_stable_for_retries_and_distinct_for_distinct_events() {
    let files = [
        "ChangeExternalContactAddExternalContact.xml",
        "ChangeExternalContactAddHalfExternalContact.xml",
        "ChangeExternalContactEditExternalContact.xml",
        "ChangeExternalContactDelExternalContact.xml",
        "ChangeExternalContactDelFollowUser.xml",
        "ChangeExternalContactTransferFail.xml",
        "ChangeExternalChatCreate.xml",
        "ChangeExternalChatUpdate.xml",
        "ChangeExternalChatDismiss.xml",
        "ChangeExternalTagCreate.xml",
        "ChangeExternalTagUpdate.xml",
        "ChangeExternalTagDelete.xml",
        "ChangeContactCreateUser.xml",
        "ChangeContactUpdateUser.xml",
        "ChangeContactDeleteUser.xml",
        "ChangeContactCreateParty.xml",
        "ChangeContactUpdateParty.xml",
        "ChangeContactDeleteParty.xml",
        "ChangeContactUpdateTag.xml",
        "corp_add_external_contact.xml",
        "corp_del_external_contact.xml",
        "corp_external_chat_update.xml",
        "corp_external_tag_create.xml",
        "corp_external_tag_shuffle.xml",
        "corp_update_user.xml",
    ];
    let crypto = CallbackCrypto::new("token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "corp").unwrap();
    let mut keys = HashSet::new();
    for file in files {
        let xml = fixture(file);
        let key = parse_event(&xml).unwrap().dedup_key();
        assert_eq!(key.len(), 44, "{file}: {key}");
        assert!(key.starts_with("wc1:"));
        // A retry: WeCom encrypts the same XML again (fresh random bytes, timestamp and nonce).
        for (ts, nonce) in [("1", "a"), ("2", "b"), ("3", "c")] {
            let post = crypto.seal_post(&xml, ts, nonce, Some("corp"), Some("1000002")).unwrap();
            let again = crypto.decrypt_message(&post.msg_signature, ts, nonce, &post.body).unwrap();
            assert_eq!(parse_event(&again).unwrap().dedup_key(), key, "{file}");
        }
        // Whitespace between elements does not matter.
        let compact: String = xml.lines().map(str::trim).collect();
        assert_eq!(parse_event(&compact).unwrap().dedup_key(), key, "{file}");
        assert!(keys.insert(key), "{file}: key collides with another fixture");
    }
}

#[test]
fn dedup_keys_separate_same_second_changes() {
    let update = |ver: &str| {
        format!(
            "<xml><ToUserName>c</ToUserName><CreateTime>7</CreateTime><Event>change_external_chat</Event>\
             <ChatId>g</ChatId><ChangeType>update</ChangeType><UpdateDetail>add_member</UpdateDetail>\
             <CurMemVer>{ver}</CurMemVer></xml>"
        )
    };
    let a = parse_event(&update("v1")).unwrap().dedup_key();
    let b = parse_event(&update("v2")).unwrap().dedup_key();
    assert_ne!(a, b);
    // Another corp, same ids and time: another key.
    let other_corp = update("v1").replace("<ToUserName>c<", "<ToUserName>d<");
    assert_ne!(parse_event(&other_corp).unwrap().dedup_key(), a);
    // Unknown events key on all their fields.
    let u1 = parse_event("<xml><Event>x</Event><CreateTime>1</CreateTime><K>1</K></xml>").unwrap().dedup_key();
    let u2 = parse_event("<xml><Event>x</Event><CreateTime>1</CreateTime><K>2</K></xml>").unwrap().dedup_key();
    let u1_again = parse_event("<xml>\n <Event>x</Event>\n <CreateTime>1</CreateTime>\n <K><![CDATA[1]]></K>\n</xml>")
        .unwrap()
        .dedup_key();
    assert_ne!(u1, u2);
    assert_eq!(u1, u1_again);
}

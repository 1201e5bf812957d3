//! The client's types against WeCom's documented examples (as transcribed in wenerme/go-wecom):
//! every response field is read under WeCom's name, every request serializes back to the example.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use scrm_wecom::*;

fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every key and value of `expected` is in `actual` (which may have more keys, e.g. defaults).
fn assert_covers(at: &str, expected: &Value, actual: &Value, lenient: &[&str]) {
    if lenient.contains(&at) {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or_else(|| panic!("{at}/{k} missing from the decoded value {actual}"));
                assert_covers(&format!("{at}/{k}"), ev, av, lenient);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{at}: array length");
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_covers(&format!("{at}/{i}"), ev, av, lenient);
            }
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

/// Decodes the response example with the client's own decoder and checks nothing was dropped.
fn response<T: DeserializeOwned + Serialize>(path: &str, lenient: &[&str]) -> T {
    let raw = fixture(path);
    let decoded: T = decode_response("fixture", raw.to_string().as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut expected = raw.clone();
    if let Value::Object(map) = &mut expected {
        map.remove("errcode");
        map.remove("errmsg");
    }
    let actual = serde_json::to_value(&decoded).expect("serialize");
    assert_covers("", &expected, &actual, lenient);
    decoded
}

/// Reads the request example into the request type and checks it serializes back unchanged.
fn request<T: DeserializeOwned + Serialize>(path: &str) -> T {
    let raw = fixture(path);
    let typed: T = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(serde_json::to_value(&typed).expect("serialize"), raw, "{path} does not round-trip");
    typed
}

#[test]
fn directory_examples() {
    let d: DepartmentSimpleListResponse = response("department/simplelist.response.json", &[]);
    assert_eq!(d.department_id[1], DepartmentId { id: 3, parentid: 2, order: 40 });

    let u: User = response("user/get.response.json", &[]);
    assert_eq!(u.gender, "1");
    assert_eq!(u.external_profile.as_ref().map(|p| p.external_attr.len()), Some(3));
    assert_eq!(
        u.extattr.as_ref().map(|a| a.attrs[1].web.clone().unwrap_or_default().url),
        Some("http://www.test.com".into())
    );

    let req: UserListIdRequest = request("user/list_id.request.json");
    assert_eq!(req.limit, Some(10000));
    let l: UserListIdResponse = response("user/list_id.response.json", &[]);
    assert_eq!((l.next_cursor.as_str(), l.dept_user.len()), ("aaaaaaaaa", 3));
}

#[test]
fn external_contact_examples() {
    let l: ExternalContactListResponse = response("externalcontact/list.response.json", &[]);
    assert_eq!(l.external_userid.len(), 2);

    let g: ExternalContactGetResponse = response("externalcontact/get.response.json", &[]);
    assert_eq!(g.external_contact.contact_type, 2);
    assert_eq!(g.follow_user[0].tags[2].tag_type, 3);
    assert_eq!(g.follow_user[1].state, "外联二维码1");
    assert_eq!(g.next_cursor, "NEXT_CURSOR");

    let _: BatchGetByUserRequest = request("externalcontact/batch/get_by_user.request.json");
    let b: BatchGetByUserResponse = response("externalcontact/batch/get_by_user.response.json", &[]);
    assert_eq!(b.external_contact_list[1].follow_info.state, "外联二维码1");
    assert_eq!(b.external_contact_list[1].follow_info.tag_id.len(), 2);

    let f: FollowUserListResponse = response("externalcontact/get_follow_user_list.response.json", &[]);
    assert_eq!(f.follow_user, ["zhangsan", "lissi"]);
}

#[test]
fn corp_tag_examples() {
    let _: GetCorpTagListRequest = request("externalcontact/get_corp_tag_list.request.json");
    let add: AddCorpTagRequest = request("externalcontact/add_corp_tag.request.json");
    assert_eq!(add.tag.len(), 2);
    let added: AddCorpTagResponse = response("externalcontact/add_corp_tag.response.json", &[]);
    assert_eq!(added.tag_group.tag[1].id, "TAG_ID2");
    let _: EditCorpTagRequest = request("externalcontact/edit_corp_tag.request.json");
    let _: DelCorpTagRequest = request("externalcontact/del_corp_tag.request.json");
    let _: MarkTagRequest = request("externalcontact/mark_tag.request.json");

    // get_corp_tag_list's answer has the shape of add_corp_tag's group, in a list, with `deleted`.
    let body = br#"{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":"G","group_name":"N","create_time":1557838797,
        "order":1,"deleted":false,"tag":[{"id":"T","name":"t","create_time":1557838797,"order":1,"deleted":true}]}]}"#;
    let list: GetCorpTagListResponse = decode_response("externalcontact/get_corp_tag_list", body).expect("decode");
    assert!(list.tag_group[0].tag[0].deleted);
}

#[test]
fn groupchat_examples() {
    let req: GroupChatListRequest = request("externalcontact/groupchat/list.request.json");
    assert_eq!(req.owner_filter.map(|f| f.userid_list), Some(vec!["abel".to_owned()]));
    let l: GroupChatListResponse = response("externalcontact/groupchat/list.response.json", &[]);
    assert_eq!(l.group_chat_list.len(), 2);

    let g: GroupChatGetResponse = response("externalcontact/groupchat/get.response.json", &[]);
    assert_eq!(g.group_chat.member_list[0].invitor.as_ref().map(|i| i.userid.as_str()), Some("jack"));
    assert_eq!(g.group_chat.member_list[1].member_type, 2);
    assert_eq!(g.group_chat.admin_list.len(), 2);

    let _: GroupChatStatisticRequest = request("externalcontact/groupchat/statistic.request.json");
    let s: GroupChatStatisticResponse = response("externalcontact/groupchat/statistic.response.json", &[]);
    assert_eq!(s.items[1].data.chat_has_msg, 2);
    let _: GroupChatStatisticByDayRequest = request("externalcontact/groupchat/statistic_group_by_day.request.json");
    let d: GroupChatStatisticByDayResponse =
        response("externalcontact/groupchat/statistic_group_by_day.response.json", &[]);
    assert_eq!(d.items[1].stat_time, 1600358400);
}

#[test]
fn join_and_contact_way_examples() {
    let j: JoinWay = request("externalcontact/groupchat/add_join_way.request.json");
    assert_eq!(j.state, "klsdup3kj3s1");
    let r: AddWayResponse = response("externalcontact/groupchat/add_join_way.response.json", &[]);
    assert_eq!(r.config_id, "9ad7fa5cdaa6511298498f979c472aaa");

    let c: ContactWay = request("externalcontact/add_contact_way.request.json");
    assert_eq!(c.state, "teststate");
    let r: AddWayResponse = response("externalcontact/add_contact_way.response.json", &[]);
    assert!(r.qr_code.starts_with("http://"));
    let g: GetContactWayResponse = response("externalcontact/get_contact_way.response.json", &[]);
    assert_eq!(g.contact_way.party, [2, 3]);
}

#[test]
fn group_message_examples() {
    let t: AddMsgTemplateRequest = request("externalcontact/add_msg_template.request.json");
    assert_eq!(t.attachments.len(), 5);
    let r: AddMsgTemplateResponse = response("externalcontact/add_msg_template.response.json", &[]);
    assert_eq!(r.msgid, "msgGCAAAXtWyujaWJHDDGi0mAAAA");

    let _: GetGroupMsgListV2Request = request("externalcontact/get_groupmsg_list_v2.request.json");
    // The example's create_time is the placeholder "xxxx"; WeCom sends a numeric string.
    let l: GetGroupMsgListV2Response =
        response("externalcontact/get_groupmsg_list_v2.response.json", &["/group_msg_list/0/create_time"]);
    assert_eq!(
        l.group_msg_list[0].attachments[2].miniprogram.as_ref().map(|m| m.appid.as_str()),
        Some("wx8bd80126147dfAAA")
    );
    let numeric: GetGroupMsgListV2Response = decode_response(
        "externalcontact/get_groupmsg_list_v2",
        br#"{"errcode":0,"errmsg":"ok","next_cursor":"","group_msg_list":[{"msgid":"m","create_time":"1605171726"}]}"#,
    )
    .expect("decode");
    assert_eq!(numeric.group_msg_list[0].create_time, 1605171726);

    let _: GetGroupMsgTaskRequest = request("externalcontact/get_groupmsg_task.request.json");
    let t: GetGroupMsgTaskResponse = response("externalcontact/get_groupmsg_task.response.json", &[]);
    assert_eq!(t.task_list[0].send_time, 1552536375);
    let _: GetGroupMsgSendResultRequest = request("externalcontact/get_groupmsg_send_result.request.json");
    let s: GetGroupMsgSendResultResponse = response("externalcontact/get_groupmsg_send_result.response.json", &[]);
    assert_eq!(s.send_list[0].chat_id, "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA");
}

#[test]
fn welcome_examples() {
    let a: GroupWelcomeTemplate = request("externalcontact/group_welcome_template/add.request.json");
    assert_eq!(a.notify, Some(1));
    let r: AddGroupWelcomeTemplateResponse = response("externalcontact/group_welcome_template/add.response.json", &[]);
    assert_eq!(r.template_id, "msgXXXXXX");
    let e: GroupWelcomeTemplate = request("externalcontact/group_welcome_template/edit.request.json");
    assert_eq!(e.template_id.as_deref(), Some("msgXXXXXXX"));
    let g: GroupWelcomeTemplate = response("externalcontact/group_welcome_template/get.response.json", &[]);
    assert_eq!(g.file.map(|f| f.media_id), Some("1Yv-zXfHjSjU-7LH-GwtYqDGS-zz6w22KmWAT5COgP7o".into()));
    let w: SendWelcomeMsgRequest = request("externalcontact/send_welcome_msg.request.json");
    assert_eq!(w.welcome_code, "CALLBACK_CODE");
}

#[test]
fn media_message_and_auth_examples() {
    let i: UploadImgResponse = response("media/uploadimg.response.json", &[]);
    assert!(i.url.starts_with("http://p.qpic.cn/"));
    // media/upload's answer (WeCom documents created_at as a string).
    let m: MediaUploadResponse = decode_response(
        "media/upload",
        br#"{"errcode":0,"errmsg":"","type":"image","media_id":"1G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0","created_at":"1380000000"}"#,
    )
    .expect("decode");
    assert_eq!((m.media_type.as_str(), m.created_at), ("image", 1380000000));

    let a: AppMessage = request("message/send.request.json");
    assert_eq!(a.agentid, 1);
    let r: AppMessageResponse = response("message/send.response.json", &[]);
    assert_eq!(r.response_code, "xyzxyz");
    let w: WebhookMessage = request("webhook/send.request.json");
    assert_eq!(w.text.map(|t| t.mentioned_list.len()), Some(2));

    let t: JsapiTicket = response("ticket/get.response.json", &[]);
    assert_eq!(t.expires_in, 7200);
    let old = fixture("user/getuserinfo.response.json");
    let u: UserInfo = decode_response("auth/getuserinfo", old.to_string().as_bytes()).expect("decode");
    assert_eq!(u.userid, "USERID");
    let outsider: UserInfo = decode_response(
        "auth/getuserinfo",
        br#"{"errcode":0,"errmsg":"ok","openid":"OPENID","external_userid":"wmAAA"}"#,
    )
    .expect("decode");
    assert!(!outsider.is_member());
    assert_eq!(outsider.external_userid, "wmAAA");
}

/// No answer, however odd, makes decoding panic: it is an error or a value.
#[test]
fn odd_answers_never_panic() {
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"<html>502 Bad Gateway</html>".to_vec(),
        br#"{"errcode":"45009"}"#.to_vec(),
        br#"{"errcode":1e400}"#.to_vec(),
        br#"{"errcode":0,"group_chat":null}"#.to_vec(),
        br#"{"errcode":0,"group_chat":{"member_list":[{"join_time":"soon","invitor":7}]}}"#.to_vec(),
        br#"{"errcode":0,"external_contact_list":[{"follow_info":{"createtime":-1e308}}]}"#.to_vec(),
        br#"{"errcode":0,"tag_group":[{"deleted":"yes","tag":[{"deleted":2}]}]}"#.to_vec(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
        vec![0xff, 0xfe, 0x00, 0x7b],
    ];
    for body in &bodies {
        let _ = decode_response::<GroupChatGetResponse>("x", body);
        let _ = decode_response::<BatchGetByUserResponse>("x", body);
        let _ = decode_response::<GetCorpTagListResponse>("x", body);
        let _ = decode_response::<User>("x", body);
        let _ = decode_response::<GetGroupMsgListV2Response>("x", body);
        let _ = decode_response::<ErrorResponse>("x", body);
    }
    let e = decode_response::<ErrorResponse>("x", br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#)
        .expect_err("errcode");
    assert!(e.is_transient());
}

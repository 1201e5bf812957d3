//! Plaintext callback XML, as WeCom builds it for a self-built app (before encryption).

fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn head(corp_id: &str, at: i64, event: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{at}</CreateTime>\
         <MsgType>{}</MsgType><Event>{}</Event>",
        cdata(corp_id),
        cdata("sys"),
        cdata("event"),
        cdata(event)
    )
}

/// `change_external_contact` with `ChangeType` (`add_external_contact`, `del_follow_user`, …) and extra fields
/// such as `State` and `WelcomeCode` (empty values are left out).
pub(crate) fn external_contact_xml(
    corp_id: &str,
    at: i64,
    change_type: &str,
    userid: &str,
    external_userid: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut x = head(corp_id, at, "change_external_contact");
    x.push_str(&format!(
        "<ChangeType>{}</ChangeType><UserID>{}</UserID><ExternalUserID>{}</ExternalUserID>",
        cdata(change_type),
        cdata(userid),
        cdata(external_userid)
    ));
    for (k, v) in extra {
        if !v.is_empty() {
            x.push_str(&format!("<{k}>{}</{k}>", cdata(v)));
        }
    }
    x.push_str("</xml>");
    x
}

/// `change_external_chat` / `update` with an `UpdateDetail`. Member changes (`add_member`, `del_member`) carry
/// `JoinScene`/`QuitScene`, `MemChangeCnt` and `MemChangeList`; other details (`change_name`, `change_owner`,
/// `change_notice`) carry none of them, as in WeCom's examples.
pub(crate) fn chat_update_xml(
    corp_id: &str,
    at: i64,
    chat_id: &str,
    detail: &str,
    join_scene: u8,
    quit_scene: u8,
    members: &[&str],
) -> String {
    let mut x = head(corp_id, at, "change_external_chat");
    x.push_str(&format!(
        "<ChatId>{}</ChatId><ChangeType>{}</ChangeType><UpdateDetail>{}</UpdateDetail>",
        cdata(chat_id),
        cdata("update"),
        cdata(detail),
    ));
    if detail == "add_member" || detail == "del_member" {
        x.push_str(&format!(
            "<JoinScene>{join_scene}</JoinScene><QuitScene>{quit_scene}</QuitScene>\
             <MemChangeCnt>{}</MemChangeCnt><MemChangeList>",
            members.len()
        ));
        for m in members {
            x.push_str(&format!("<Item>{}</Item>", cdata(m)));
        }
        x.push_str("</MemChangeList>");
    }
    x.push_str("</xml>");
    x
}

/// `change_external_chat` with `ChangeType` `create` or `dismiss` (no details).
pub(crate) fn chat_change_xml(corp_id: &str, at: i64, chat_id: &str, change_type: &str) -> String {
    let mut x = head(corp_id, at, "change_external_chat");
    x.push_str(&format!("<ChatId>{}</ChatId><ChangeType>{}</ChangeType></xml>", cdata(chat_id), cdata(change_type)));
    x
}

/// `change_contact` (`create_user`, `update_user`, `delete_user`) for staff member `userid`, with extra fields
/// such as `Name`, `Department`, `MainDepartment`, `Position` (empty values are left out).
pub(crate) fn contact_xml(corp_id: &str, at: i64, change_type: &str, userid: &str, extra: &[(&str, &str)]) -> String {
    let mut x = head(corp_id, at, "change_contact");
    x.push_str(&format!("<ChangeType>{}</ChangeType><UserID>{}</UserID>", cdata(change_type), cdata(userid)));
    for (k, v) in extra {
        if !v.is_empty() {
            x.push_str(&format!("<{k}>{}</{k}>", cdata(v)));
        }
    }
    x.push_str("</xml>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_shapes() {
        let x = external_contact_xml(
            "ww1",
            5,
            "add_external_contact",
            "zhangsan",
            "wmX",
            &[("State", "s1"), ("WelcomeCode", "")],
        );
        assert!(x.contains("<Event><![CDATA[change_external_contact]]></Event>"));
        assert!(x.contains("<State><![CDATA[s1]]></State>"));
        assert!(!x.contains("WelcomeCode"));
        let y = chat_update_xml("ww1", 5, "wr1", "add_member", 3, 0, &["a]]>b"]);
        assert!(y.contains("<MemChangeCnt>1</MemChangeCnt>"));
        assert!(y.contains("<Item><![CDATA[a]]]]><![CDATA[>b]]></Item>"));
        let n = chat_update_xml("ww1", 5, "wr1", "change_name", 0, 0, &[]);
        assert!(n.contains("<UpdateDetail><![CDATA[change_name]]></UpdateDetail></xml>"));
        assert!(!n.contains("MemChangeCnt"));
        assert!(chat_change_xml("ww1", 5, "wr1", "dismiss").contains("<ChangeType><![CDATA[dismiss]]></ChangeType>"));
        let c = contact_xml("ww1", 5, "create_user", "lisi", &[("Name", "李四"), ("Position", "")]);
        assert!(c.contains("<Event><![CDATA[change_contact]]></Event>"));
        assert!(c.contains("<Name><![CDATA[李四]]></Name>") && !c.contains("Position"));
    }
}

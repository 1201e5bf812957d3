//! The quick-reply library (PR03) through the gateway's gRPC: libraries per caller, search, usage order,
//! rendering for the sidebar and recorded sends.

use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::quick_reply_content::Content;
use scrm_proto::customer::v1::{
    ChatMessageType, ChatTextMessage, CreateQuickReplyFolderRequest, CreateQuickReplyRequest, GetQuickReplyRequest,
    LinkReplyContent, ListQuickRepliesRequest, ListQuickReplyFoldersRequest, QuickReplyContent, QuickReplyScope,
    RecordQuickReplySentRequest, RenderQuickReplyRequest, SearchQuickRepliesRequest, TextReplyContent, chat_message,
};
use tonic::transport::Channel;

use crate::harness::{TestApp, insert_customer};

const TOKEN: &str = "peer-secret";

/// A request from `staff` with `role`, as a cluster peer forwards it.
fn from<T>(staff: &str, role: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("x-scrm-cluster-token", TOKEN.parse().unwrap());
    metadata.insert("x-scrm-caller-id", staff.parse().unwrap());
    metadata.insert("x-scrm-caller-role", role.parse().unwrap());
    request
}

fn text(text: &str) -> Option<QuickReplyContent> {
    Some(QuickReplyContent { content: Some(Content::Text(TextReplyContent { text: text.into() })) })
}

async fn folder(client: &mut CustomerServiceClient<Channel>, staff: &str, role: &str, scope: QuickReplyScope) -> i64 {
    let request =
        CreateQuickReplyFolderRequest { name: format!("{staff}的话术"), scope: scope as i32, sort_order: 0 };
    client.create_quick_reply_folder(from(staff, role, request)).await.unwrap().into_inner().folder.unwrap().id
}

#[tokio::test]
async fn a_support_agent_finds_renders_and_sends_quick_replies() {
    let app = TestApp::spawn_with(&[], |config| config.cluster.token = TOKEN.into()).await;
    insert_customer(&app.db().await, "wmLiLei", "s1").await;
    let mut client = CustomerServiceClient::new(app.channel().await);

    let company = folder(&mut client, "yunying", "operator", QuickReplyScope::Company).await;
    let personal = folder(&mut client, "kefu", "support", QuickReplyScope::Personal).await;
    let greeting = CreateQuickReplyRequest {
        folder_id: company,
        title: "开场白".into(),
        content: text("{客户昵称}您好，我是{员工姓名}，很高兴为您服务"),
        keywords: vec!["问候".into()],
    };
    let greeting =
        client.create_quick_reply(from("yunying", "operator", greeting)).await.unwrap().into_inner().reply.unwrap();
    let link = CreateQuickReplyRequest {
        folder_id: company,
        title: "新品介绍".into(),
        content: Some(QuickReplyContent {
            content: Some(Content::Link(LinkReplyContent {
                url: "https://shop.example.com/new".into(),
                title: "秋季新品".into(),
                description: "限时八折".into(),
                cover_url: String::new(),
            })),
        }),
        keywords: vec![],
    };
    let link = client.create_quick_reply(from("yunying", "operator", link)).await.unwrap().into_inner().reply.unwrap();
    let own = CreateQuickReplyRequest {
        folder_id: personal,
        title: "我的开场白".into(),
        content: text("在的"),
        keywords: vec![],
    };
    let own = client.create_quick_reply(from("kefu", "support", own)).await.unwrap().into_inner().reply.unwrap();

    let folders = client
        .list_quick_reply_folders(from("kefu", "support", ListQuickReplyFoldersRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .folders;
    assert_eq!(folders.iter().map(|folder| folder.id).collect::<Vec<_>>(), vec![company, personal]);
    let status =
        client.get_quick_reply(from("other", "support", GetQuickReplyRequest { id: own.id })).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound, "a personal reply is its owner's only");

    let search = SearchQuickRepliesRequest { query: "开场白".into(), ..Default::default() };
    let found =
        client.search_quick_replies(from("kefu", "support", search.clone())).await.unwrap().into_inner().replies;
    assert_eq!(found.iter().map(|reply| reply.id).collect::<Vec<_>>(), vec![greeting.id, own.id]);
    let found = client.search_quick_replies(from("other", "support", search)).await.unwrap().into_inner().replies;
    assert_eq!(found.iter().map(|reply| reply.id).collect::<Vec<_>>(), vec![greeting.id]);

    let render = RenderQuickReplyRequest {
        quick_reply_id: greeting.id,
        external_userid: "wmLiLei".into(),
        chat_id: String::new(),
    };
    let message =
        client.render_quick_reply(from("kefu", "support", render)).await.unwrap().into_inner().message.unwrap();
    assert_eq!(message.msgtype, ChatMessageType::Text as i32);
    assert_eq!(
        message.body,
        Some(chat_message::Body::Text(ChatTextMessage {
            content: "客户您好，我是kefu，很高兴为您服务".into()
        }))
    );
    let in_group =
        RenderQuickReplyRequest { quick_reply_id: link.id, external_userid: String::new(), chat_id: "wrGroup".into() };
    let card =
        client.render_quick_reply(from("kefu", "support", in_group)).await.unwrap().into_inner().message.unwrap();
    assert_eq!(card.msgtype, ChatMessageType::News as i32);

    for key in ["tap-1", "tap-1", "tap-2"] {
        let sent = RecordQuickReplySentRequest {
            idempotency_key: key.into(),
            quick_reply_id: link.id,
            external_userid: "wmLiLei".into(),
            ..Default::default()
        };
        client.record_quick_reply_sent(from("kefu", "support", sent)).await.unwrap();
    }
    let listed = client
        .list_quick_replies(from("kefu", "support", ListQuickRepliesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .replies;
    let order: Vec<_> = listed.iter().map(|reply| (reply.id, reply.usage_count)).collect();
    assert_eq!(order[0], (link.id, 2), "the most used reply comes first, a retried tap counted once");
    assert_eq!(order.len(), 3);
}

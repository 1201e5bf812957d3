//! Coupon quick replies end to end (PR03 with PR13): an operator defines a coupon in the rewards service and a
//! company quick reply carrying it; a support agent sends it to a customer from the sidebar's REST API (render
//! as a link card to the coupon page, then record the send); the customer then holds the coupon.

use scrm_kernel::Role;
use scrm_proto::customer::v1::customer_service_client::CustomerServiceClient;
use scrm_proto::customer::v1::quick_reply_content::Content;
use scrm_proto::customer::v1::{
    CouponReplyContent, CreateQuickReplyFolderRequest, CreateQuickReplyRequest, QuickReplyContent, QuickReplyScope,
};
use scrm_proto::rewards::v1::rewards_service_client::RewardsServiceClient;
use scrm_proto::rewards::v1::{
    CouponReward, CouponStatus, CreateRewardDefinitionRequest, GetCouponRequest, ListCouponsRequest,
    RedeemCouponRequest, RewardDefinition, RewardKind, coupon_reward, get_coupon_request, redeem_coupon_request,
    reward_definition,
};
use serde_json::{Value, json};

use crate::harness::{TestApp, bearer, insert_customer, with_token};

fn coupon_definition() -> RewardDefinition {
    RewardDefinition {
        name: "满100减20券".into(),
        kind: RewardKind::Coupon as i32,
        config: Some(reward_definition::Config::Coupon(CouponReward {
            face_value_fen: 2000,
            threshold_fen: 10_000,
            validity: Some(coupon_reward::Validity::ValidFor(prost_types::Duration { seconds: 7 * 86_400, nanos: 0 })),
            applicable_store_ids: vec![],
            usage_note: "仅限到店使用".into(),
        })),
        stock_total: 100,
        per_recipient_limit: 1,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_coupon_quick_reply_sent_from_the_sidebar_issues_the_coupon_to_the_customer() {
    let app = TestApp::spawn_with(&[], |config| config.auth.local_caller = false).await;
    insert_customer(&app.db().await, "wmHanMeimei", "s1").await;
    let operator = app.token(Role::Operator, &[]).await;
    let support = app.token(Role::Support, &[]).await;
    let mut rewards = RewardsServiceClient::new(app.channel().await);
    let mut customers = CustomerServiceClient::new(app.channel().await);

    let definition = CreateRewardDefinitionRequest { definition: Some(coupon_definition()) };
    let definition = rewards
        .create_reward_definition(with_token(definition, &operator))
        .await
        .unwrap()
        .into_inner()
        .definition
        .unwrap();
    let folder =
        CreateQuickReplyFolderRequest {
            name: "优惠券".into(), scope: QuickReplyScope::Company as i32, sort_order: 0
        };
    let folder =
        customers.create_quick_reply_folder(with_token(folder, &operator)).await.unwrap().into_inner().folder.unwrap();
    let reply = CreateQuickReplyRequest {
        folder_id: folder.id,
        title: "新客券".into(),
        content: Some(QuickReplyContent {
            content: Some(Content::Coupon(CouponReplyContent {
                reward_definition_id: definition.id,
                title: "满100减20券".into(),
                description: "到店消费满100元立减20元".into(),
                cover_url: String::new(),
                url: "https://shop.example.com/coupons".into(),
            })),
        }),
        keywords: vec!["优惠券".into()],
    };
    let reply = customers.create_quick_reply(with_token(reply, &operator)).await.unwrap().into_inner().reply.unwrap();

    let sidebar = bearer(&support);
    let base = app.url();
    let rendered: Value = sidebar
        .post(format!("{base}/api/sidebar/quick-replies/{}/render", reply.id))
        .json(&json!({"externalUserid": "wmHanMeimei"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = &rendered["message"];
    assert_eq!(message["msgtype"], "news", "{rendered}");
    assert_eq!(message["news"]["link"], "https://shop.example.com/coupons", "{rendered}");

    let send = json!({"externalUserid": "wmHanMeimei", "idempotencyKey": "tap-1"});
    let path = format!("{base}/api/sidebar/quick-replies/{}/sent", reply.id);
    let response = sidebar.post(&path).json(&send).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let sent: Value = response.json().await.unwrap();
    assert_eq!(sent["rewardIssueStatus"], "REWARD_ISSUE_STATUS_ISSUED", "{sent}");
    let code = sent["couponCode"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 12, "{sent}");
    let retried: Value = sidebar.post(&path).json(&send).send().await.unwrap().json().await.unwrap();
    assert_eq!((retried["duplicate"].as_bool(), retried["couponCode"].as_str()), (Some(true), Some(code.as_str())));

    let coupons = ListCouponsRequest { external_userid: "wmHanMeimei".into(), ..Default::default() };
    let coupons = rewards.list_coupons(with_token(coupons, &support)).await.unwrap().into_inner().coupons;
    assert_eq!(coupons.len(), 1, "one coupon however often the send is recorded");
    let coupon = &coupons[0];
    assert_eq!((coupon.code.as_str(), coupon.status), (code.as_str(), CouponStatus::Available as i32));
    assert_eq!((coupon.face_value_fen, coupon.threshold_fen, coupon.name.as_str()), (2000, 10_000, "满100减20券"));

    let second_tap = json!({"externalUserid": "wmHanMeimei", "idempotencyKey": "tap-2"});
    let refused: Value = sidebar.post(&path).json(&second_tap).send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["rewardIssueStatus"], "REWARD_ISSUE_STATUS_REFUSED", "one coupon per customer: {refused}");

    let redeem = RedeemCouponRequest {
        coupon: Some(redeem_coupon_request::Coupon::Code(code.clone())),
        external_userid: "wmHanMeimei".into(),
        order_no: "SO-20261126-1".into(),
        order_amount_fen: 15_000,
        store_id: 0,
        idempotency_key: "till-1".into(),
    };
    let redeemed = rewards.redeem_coupon(with_token(redeem, &support)).await.unwrap().into_inner();
    assert_eq!(redeemed.discount_fen, 2000);
    let by_code = GetCouponRequest { coupon: Some(get_coupon_request::Coupon::Code(code)) };
    let after = rewards.get_coupon(with_token(by_code, &support)).await.unwrap().into_inner().coupon.unwrap();
    assert_eq!((after.status, after.order_no.as_str()), (CouponStatus::Redeemed as i32, "SO-20261126-1"));
}

//! Every RPC of every contract is either built or planned, and planned ones say which feature
//! will build them; the README lists them, and the error-code table, as the code has them.

use prost::Message;
use scrm_kernel::ErrorCode;
use scrm_kernel::rpc::PlannedRpc;
use tonic::codegen::http::uri::PathAndQuery;

use crate::harness::TestApp;

fn planned() -> [(&'static str, &'static [PlannedRpc]); 7] {
    [
        ("scrm.identity.v1.IdentityService", scrm_identity::PLANNED),
        ("scrm.customer.v1.CustomerService", scrm_customer::PLANNED),
        ("scrm.group.v1.GroupService", scrm_group::PLANNED),
        ("scrm.messaging.v1.MessagingService", scrm_messaging::PLANNED),
        ("scrm.campaign.v1.CampaignService", scrm_campaign::PLANNED),
        ("scrm.rewards.v1.RewardsService", scrm_rewards::PLANNED),
        ("scrm.analytics.v1.AnalyticsService", scrm_analytics::PLANNED),
    ]
}

/// Every method of the seven services, as `(service, method)`.
fn methods() -> Vec<(String, String)> {
    let descriptors = prost_types::FileDescriptorSet::decode(scrm_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut methods = Vec::new();
    for file in descriptors.file {
        for service in &file.service {
            let full_name = format!("{}.{}", file.package(), service.name());
            for method in &service.method {
                methods.push((full_name.clone(), method.name().to_owned()));
            }
        }
    }
    methods
}

fn feature_of(service: &str, method: &str) -> Option<&'static str> {
    planned()
        .into_iter()
        .find(|(name, _)| *name == service)
        .and_then(|(_, rpcs)| rpcs.iter().find(|(name, _)| *name == method).map(|(_, feature)| *feature))
}

#[test]
fn every_planned_rpc_exists_in_its_contract() {
    let methods = methods();
    for (service, rpcs) in planned() {
        for (method, _) in rpcs {
            assert!(
                methods.iter().any(|(s, m)| s == service && m == method),
                "{service}/{method} is planned but not in the contract"
            );
        }
    }
}

#[tokio::test]
async fn every_rpc_is_built_or_answers_unimplemented_naming_its_feature() {
    let app = TestApp::spawn().await;
    let mut grpc = tonic::client::Grpc::new(app.channel().await);
    let methods = methods();
    assert!(methods.len() > 150, "the contracts cover the whole product ({} RPCs)", methods.len());
    for (service, method) in methods {
        grpc.ready().await.unwrap();
        let path = PathAndQuery::try_from(format!("/{service}/{method}")).unwrap();
        let codec = tonic_prost::ProstCodec::<(), ()>::default();
        let outcome = grpc.unary(tonic::Request::new(()), path, codec).await;
        match feature_of(&service, &method) {
            Some(feature) => {
                let status = outcome.expect_err("a planned RPC must not succeed");
                assert_eq!(status.code(), tonic::Code::Unimplemented, "{service}/{method}");
                assert_eq!(status.message(), format!("not implemented yet: {feature}"), "{service}/{method}");
            }
            None => {
                if let Err(status) = outcome {
                    assert_ne!(
                        status.code(),
                        tonic::Code::Unimplemented,
                        "{service}/{method} is neither built nor planned"
                    );
                }
            }
        }
    }
}

#[test]
fn the_readme_lists_every_planned_rpc_with_its_feature() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for (service, rpcs) in planned() {
        let section_start =
            readme.find(&format!("**`{service}`**")).unwrap_or_else(|| panic!("README lacks {service}"));
        let section = &readme[section_start..];
        let section = &section[..section[2..].find("**`").map_or(section.len(), |end| end + 2)];
        for (method, feature) in rpcs {
            let row = section
                .lines()
                .find(|line| line.starts_with(&format!("| {feature} |")))
                .unwrap_or_else(|| panic!("README lacks the feature {feature} under {service}"));
            assert!(row.contains(&format!("`{method}`")), "README lacks {service}/{method} under {feature}");
        }
        for row in section.lines().filter(|line| line.starts_with("| ") && !line.starts_with("| feature")) {
            for listed in row.split('`').skip(1).step_by(2) {
                assert!(
                    rpcs.iter().any(|(method, _)| *method == listed),
                    "README lists {service}/{listed} as planned, but it is built"
                );
            }
        }
    }
}

#[test]
fn the_readme_lists_every_error_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for code in ErrorCode::ALL {
        let grpc_name = format!("{:?}", code.grpc_code());
        let grpc_constant = grpc_name.chars().fold(String::new(), |mut constant, c| {
            if c.is_uppercase() && !constant.is_empty() {
                constant.push('_');
            }
            constant.push(c.to_ascii_uppercase());
            constant
        });
        let row = format!("| `{}` | `{grpc_constant}` | {} |", code.as_str(), code.http_status().as_u16());
        assert!(readme.contains(&row), "README's error table lacks the row {row}");
    }
}

//! The message-sender and upload-signer adapters: SNS and S3 against moto, and their
//! local twins (outbox file, presigned uploads served by the local router).

#![cfg(all(feature = "dynamodb", feature = "sns", feature = "s3"))]

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use http_body_util::BodyExt;
use roster::adapters::local_outbox::LocalOutbox;
use roster::adapters::s3_uploads::S3Uploads;
use roster::adapters::sns_sender::SnsSender;
use roster::domain::{PhoneNumber, Recipient};
use roster::ports::{ManualClock, MessageSender, UploadSigner};
use support::{moto_sms_to, new_phone, s3_client, sns_client, StoreKind, TestApp, T0};
use tower::ServiceExt;

#[tokio::test]
async fn sns_refuses_an_email_recipient_without_calling_aws() {
    let sender = SnsSender::new(sns_client(), None);
    let email = Recipient::Email(roster::domain::EmailAddress::parse("email", "tom@example.com").unwrap());
    let err = sender.send(&email, "Your code is 424242").await.unwrap_err();
    assert!(matches!(err, roster::ports::SendError::Unsupported("email")), "{err:?}");
}

#[tokio::test]
async fn sns_publishes_an_sms_to_the_phone_number() {
    let (national, e164) = new_phone();
    let phone = Recipient::Phone(PhoneNumber::parse("86", &national).unwrap());
    let sender = SnsSender::new(sns_client(), Some("Roster".into()));
    sender
        .send(&phone, "Your Roster verification code is 424242")
        .await
        .unwrap();
    assert_eq!(
        moto_sms_to(&e164).await,
        vec!["Your Roster verification code is 424242".to_string()]
    );
}

#[tokio::test]
async fn an_sns_failure_is_an_error_not_a_silent_drop() {
    let conf = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .http_client(roster::adapters::aws_http::client())
        .region(aws_sdk_sns::config::Region::new("us-east-1"))
        .credentials_provider(support::aws_credentials())
        // Nothing listens on port 9 of loopback.
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let sender = SnsSender::new(aws_sdk_sns::Client::from_conf(conf), None);
    let (national, _) = new_phone();
    let phone = Recipient::Phone(PhoneNumber::parse("86", &national).unwrap());
    assert!(sender.send(&phone, "x").await.is_err());
}

#[tokio::test]
async fn an_s3_presigned_put_uploads_the_file_to_the_bucket() {
    let s3 = s3_client();
    let bucket = format!("roster-avatars-{}", std::process::id());
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let signer = S3Uploads::new(s3.clone(), bucket.clone());
    let up = signer
        .presign_put("avatars/u1/a.png", "image/png", Some(3), 300)
        .await
        .unwrap();
    assert_eq!(up.method, "PUT");
    assert!(up.url.contains("X-Amz-Signature="), "{}", up.url);
    // S3 refuses a request whose signed headers differ; moto does not check signatures,
    // so what is pinned here is that type and length are among the signed headers.
    let signed = up
        .url
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        signed.contains("content-length") && signed.contains("content-type"),
        "{signed}"
    );
    assert!(
        up.headers.iter().any(|(k, v)| k == "content-length" && v == "3"),
        "{:?}",
        up.headers
    );
    let client = reqwest::Client::new();
    let res = client
        .put(&up.url)
        .header("content-type", "image/png")
        .body(vec![1u8, 2, 3])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("avatars/u1/a.png")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/png"));
    assert_eq!(got.body.collect().await.unwrap().into_bytes().to_vec(), vec![1u8, 2, 3]);
}

#[tokio::test]
async fn an_s3_put_stores_a_direct_upload_with_its_type() {
    let s3 = s3_client();
    let bucket = format!("roster-direct-{}", std::process::id());
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let store = S3Uploads::new(s3.clone(), bucket.clone());
    store
        .put("avatars/u2/b.gif", "image/gif", b"GIF89a..".to_vec())
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("avatars/u2/b.gif")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/gif"));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        b"GIF89a..".to_vec()
    );
    // The SDK sent the upload's CRC32 (computed by vendor/crc-fast) and the bucket kept it:
    // the catalogue's CRC-32 of these bytes, base64 of its big-endian bytes.
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("avatars/u2/b.gif")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    let expected = {
        use base64::Engine;
        let crc = crc32_of(b"GIF89a..");
        base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
    };
    assert_eq!(head.checksum_crc32(), Some(expected.as_str()));
}

/// CRC-32/ISO-HDLC, bit by bit (the test's own reference, independent of any crate).
fn crc32_of(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn an_s3_prefix_delete_removes_that_accounts_avatars_and_nothing_else() {
    let s3 = s3_client();
    let bucket = format!("roster-prefix-{}", std::process::id());
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let store = S3Uploads::new(s3.clone(), bucket.clone());
    for key in [
        "avatars/gone/a.png",
        "avatars/gone/b.png",
        "avatars/gonezo/c.png",
        "avatars/kept/d.png",
    ] {
        store.put(key, "image/png", b"png".to_vec()).await.unwrap();
    }
    assert_eq!(store.delete_prefix("avatars/gone/").await.unwrap(), 2);
    assert_eq!(
        store.delete_prefix("avatars/gone/").await.unwrap(),
        0,
        "none left is done"
    );
    let left = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let mut keys: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    assert_eq!(keys, ["avatars/gonezo/c.png", "avatars/kept/d.png"]);
}

#[tokio::test]
async fn the_local_outbox_lists_what_it_sent() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = LocalOutbox::new(dir.path(), Arc::new(ManualClock::starting_at_secs(T0)));
    let (national, e164) = new_phone();
    let phone = Recipient::Phone(PhoneNumber::parse("86", &national).unwrap());
    outbox.send(&phone, "hello").await.unwrap();
    let listed = outbox.list().unwrap();
    assert_eq!(
        (listed.len(), listed[0].to.as_str(), listed[0].text.as_str()),
        (1, e164.as_str(), "hello")
    );
    assert_eq!(listed[0].sent_at, T0 * 1000);
}

async fn put(app: &TestApp, url: &str, content_type: &str, body: &'static [u8]) -> StatusCode {
    let path = url.strip_prefix("http://127.0.0.1:7700").unwrap();
    let req = axum::http::Request::put(path)
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.router.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn a_local_presigned_put_stores_the_file_and_only_for_its_key_type_and_time() {
    let app = TestApp::spawn(StoreKind::Sqlite).await;
    let up = app
        .state
        .uploads
        .presign_put("avatars/u1/face.png", "image/png", None, 300)
        .await
        .unwrap();
    assert_eq!(
        put(&app, &up.url, "image/jpeg", b"x").await,
        StatusCode::FORBIDDEN,
        "another content type"
    );
    let other_key = up.url.replace("face.png", "other.png");
    assert_eq!(
        put(&app, &other_key, "image/png", b"x").await,
        StatusCode::FORBIDDEN,
        "another key"
    );
    assert_eq!(put(&app, &up.url, "image/png", b"\x89PNG").await, StatusCode::OK);
    let res = app
        .router
        .clone()
        .oneshot(
            axum::http::Request::get("/_local/uploads/avatars/u1/face.png")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes().as_ref(), b"\x89PNG");
    app.clock.advance_secs(300);
    assert_eq!(
        put(&app, &up.url, "image/png", b"late").await,
        StatusCode::FORBIDDEN,
        "expired"
    );
    let unsigned = up.url.split('?').next().unwrap().to_string();
    assert_eq!(
        put(&app, &unsigned, "image/png", b"x").await,
        StatusCode::BAD_REQUEST,
        "no signature at all"
    );
    let escape = up.url.replace("avatars/u1/face.png", "..%2F..%2Fescape");
    assert_eq!(put(&app, &escape, "image/png", b"x").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_outbox_route_lists_sent_sms_as_json() {
    let app = TestApp::spawn(StoreKind::Sqlite).await;
    let (national, e164) = new_phone();
    assert_eq!(
        app.post("/user/send_code", support::phone_body(&national)).await.code(),
        200
    );
    let res = app.get("/_local/outbox").await;
    assert_eq!(res.code(), 200);
    let list = res.body["result"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["to"], e164.as_str());
    assert_eq!(list[0]["channel"], "sms");
}

//! The local stage end to end over HTTP, as the browser drives it: accounts through the Cognito
//! endpoint, uploads through the API and the bucket's form, media links, albums and shares.
//!
//! The stage runs in the test's own process (`local_stage::server::up`, as `deployer up --stage
//! local` runs it); what needs the real `deployer` process (a crash, signals, the data
//! directory's lock, the flags) is tested in `deployer/cli/tests/local_stage.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use photo_auth::TokenUse;
use photo_auth::issuer::{Issuer, Subject};
use serde_json::{Value, json};
use sha2::Sha256;
use testkit::local::{CLIENT_ID, LocalClient, POOL_ID, fields_of, with_field};
use testkit::stage::{InProcessStage, jobs, jobs_drained};
use testkit::test_photo as fixture;

const PASSWORD: &str = "Correct-Horse-9";

/// Rows of the stage's database that mention `needle` anywhere (the photo table and the queue).
fn rows_mentioning(data_dir: &Path, needle: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join("stage.sqlite3")).unwrap();
    let pattern = format!("%{needle}%");
    let mut stmt = conn
        .prepare(
            "SELECT pk || ' ' || sk FROM items \
               WHERE pk LIKE ?1 OR sk LIKE ?1 OR gsi1pk LIKE ?1 OR gsi1sk LIKE ?1 OR body LIKE ?1 \
             UNION ALL SELECT key FROM jobs WHERE key LIKE ?1",
        )
        .unwrap();
    stmt.query_map([&pattern], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every file under `dir` whose path mentions `needle`.
fn files_mentioning(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains(needle) {
                found.push(path.clone());
            }
            if path.is_dir() {
                todo.push(path);
            }
        }
    }
    found
}

/// Signs a media URL with the stage's secret, as its object store does.
fn media_signature(data_dir: &Path, key: &str, expires: u64) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(data_dir.join("secrets.json")).unwrap())
            .unwrap();
    let media = secrets["media"].as_str().unwrap();
    let secret: Vec<u8> = (0..media.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&media[i..i + 2], 16).unwrap())
        .collect();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&secret).unwrap();
    mac.update(format!("GET\nphotos-local\n{key}\n{expires}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `<Code>` of an S3 error body.
fn s3_code(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Checks that each API call `(method, path, token)` answers its status, in order.
async fn check(stage: &LocalClient, calls: &[(&str, &str, &str, u16)]) {
    for &(method, path, token, expected) in calls {
        let (status, body) = stage.api(method, path, token, None).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
    }
}

/// Checks that the Cognito call is refused as Cognito refuses it: 400 and the error's type.
async fn check_refused(stage: &LocalClient, action: &str, body: Value, expected: &str) {
    let (status, body) = stage.cognito(action, body).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some(expected)),
        "{action}"
    );
}

/// The claims of a JWT, unverified.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    serde_json::from_slice(&engine.decode(payload).expect("base64url")).expect("JSON claims")
}

/// A password sign-in request.
fn password_auth(email: &str, password: &str) -> Value {
    json!({"ClientId": CLIENT_ID, "AuthFlow": "USER_PASSWORD_AUTH",
           "AuthParameters": {"USERNAME": email, "PASSWORD": password}})
}

/// One hostile form: what it is, its fields, its file, and S3's expected status and code.
type HostileCase<'a> = (&'a str, Vec<(String, String)>, Vec<u8>, u16, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_upload_and_every_refusal() {
    // Forms live 2 s, so the expiry case needs no long wait.
    let stage = InProcessStage::start_with(|options, _| options.upload_policy_secs = Some(2)).await;
    let data = stage.data_dir.clone();
    let (alice, alice_sub) = stage.account("alice@example.com", PASSWORD).await;
    let (bob, _) = stage.account("bob@example.com", PASSWORD).await;

    // The happy path: the form from the API stores the file under alice's upload key, and
    // processing moves it to her original key.
    let photo = fixture("orientation-1.jpg");
    let (id, form) = stage.start_upload(&alice, "beach.jpg", &photo).await;
    let upload = format!("uploads/{alice_sub}/{id}");
    let key = format!("originals/{alice_sub}/{id}");
    assert_eq!(form["fields"]["key"], upload.as_str());
    let fields = fields_of(&form);
    let (status, body) = stage.post_form(&form, &fields, &photo).await;
    assert_eq!(status, 204, "{body}");
    let settled = stage.settled(&alice, &id, Duration::from_secs(120)).await;
    assert_eq!(settled["status"], "READY", "{settled}");
    assert_eq!(stage.stored(&key), Some(photo.clone()));
    assert_eq!(stage.stored(&upload), None);

    // The same form again, within its lifetime, once the photo is processed: refused, and
    // nothing is stored or queued.
    let jobs_before = jobs(&data);
    let (status, body) = stage.post_form(&form, &fields, &photo).await;
    assert_eq!((status, s3_code(&body)), (403, "AccessDenied"), "{body}");
    assert!(body.contains("used up"), "{body}");
    assert_eq!(stage.stored(&upload), None);
    assert_eq!(stage.stored(&key), Some(photo.clone()));
    assert_eq!(jobs(&data), jobs_before);
    let path = format!("/photos/{id}");
    check(
        &stage,
        &[("GET", &path, &alice, 200), ("GET", &path, &bob, 404)],
    )
    .await;

    // Media: a signed URL serves the object until it expires; a forged or stale one is refused.
    let now = now_secs();
    let media = |key: &str, expires: u64, sig: &str| {
        format!(
            "{}/_media/photos-local/{key}?expires={expires}&signature={sig}",
            stage.base
        )
    };
    let good = media_signature(&data, &key, now + 60);
    let r = stage.get(&media(&key, now + 60, &good)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice());
    let stale = media_signature(&data, &key, now - 1);
    for url in [
        media(&key, now - 1, &stale),
        media(&key, now + 61, &good),
        media(&format!("originals/{alice_sub}/other"), now + 60, &good),
    ] {
        assert_eq!(stage.get(&url).await.status(), 403);
    }

    // Each hostile form is refused as S3 refuses it, and nothing is stored.
    let other = b"\xff\xd8\xff\xe0 another photo".to_vec();
    let (id2, form2) = stage.start_upload(&alice, "beach.jpg", &other).await;
    let key2 = format!("uploads/{alice_sub}/{id2}");
    let fields2 = fields_of(&form2);
    let policy = fields2
        .iter()
        .find(|(k, _)| k == "policy")
        .unwrap()
        .1
        .clone();
    let tampered_policy = {
        let engine = base64::engine::general_purpose::STANDARD;
        let text = String::from_utf8(engine.decode(&policy).unwrap()).unwrap();
        let bigger = text.replace(
            &format!("\"content-length-range\",{0},{0}", other.len()),
            "\"content-length-range\",1,99999999",
        );
        assert_ne!(bigger, text, "the policy names the size range");
        engine.encode(bigger)
    };
    let (_, bob_form) = stage.start_upload(&bob, "beach.jpg", &other).await;
    let cases: Vec<HostileCase> = vec![
        (
            "tampered policy",
            with_field(&fields2, "policy", &tampered_policy),
            other.clone(),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            "oversize body",
            fields2.clone(),
            [other.as_slice(), b"+"].concat(),
            400,
            "EntityTooLarge",
        ),
        (
            "other bytes of the declared size",
            fields2.clone(),
            other.iter().map(|b| b ^ 1).collect(),
            400,
            "BadDigest",
        ),
        (
            "a smaller body",
            fields2.clone(),
            other[1..].to_vec(),
            400,
            "EntityTooSmall",
        ),
        (
            "wrong content type",
            with_field(&fields2, "Content-Type", "text/html"),
            other.clone(),
            403,
            "AccessDenied",
        ),
        // Bob's valid form cannot be pointed at alice's key.
        (
            "bob's form at alice's key",
            with_field(&fields_of(&bob_form), "key", &key2),
            other.clone(),
            403,
            "AccessDenied",
        ),
    ];
    for (what, fields, file, status, code) in cases {
        let (got, body) = stage.post_form(&form2, &fields, &file).await;
        assert_eq!((got, s3_code(&body)), (status, code), "{what}: {body}");
        assert_eq!(stage.stored(&key2), None, "{what}");
        assert!(!jobs(&data).iter().any(|(k, _)| *k == key2), "{what}");
    }

    // An expired form.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (got, body) = stage.post_form(&form2, &fields2, &other).await;
    assert_eq!((got, s3_code(&body)), (403, "AccessDenied"), "{body}");
    assert!(body.contains("expired"), "{body}");
    assert_eq!(stage.stored(&key2), None);

    // Forged and expired tokens get 401 from the API.
    let mut parts: Vec<String> = alice.split('.').map(str::to_owned).collect();
    {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).unwrap()).unwrap();
        parts[1] =
            engine.encode(payload.replace(&alice_sub, "00000000-0000-4000-8000-000000000000"));
    }
    let forged = parts.join(".");
    let issuer_url = format!("{}/_cognito/{POOL_ID}", stage.base);
    let other_key = Issuer::generate(issuer_url.clone(), CLIENT_ID).unwrap();
    let now = now_secs();
    let subject = Subject {
        sub: alice_sub.clone(),
        username: "alice@example.com".into(),
        email: None,
    };
    let token = |issuer: &Issuer, at: u64| {
        issuer
            .issue(TokenUse::Access, &subject, at, Duration::from_secs(600))
            .unwrap()
    };
    let pem = std::fs::read_to_string(data.join("cognito-key.pem")).unwrap();
    let own_key = Issuer::from_pkcs8_pem(&pem, issuer_url, CLIENT_ID).unwrap();
    let (foreign, expired, fresh) = (
        token(&other_key, now),
        token(&own_key, now - 7200),
        token(&own_key, now),
    );
    check(
        &stage,
        &[
            ("GET", "/photos", &forged, 401),
            ("GET", "/photos", &foreign, 401),
            ("GET", "/photos", &expired, 401),
            ("GET", "/photos", &fresh, 200),
            ("GET", "/photos", "", 401),
        ],
    )
    .await;

    // Cognito's refusals have Cognito's shape.
    let wrong = password_auth("alice@example.com", "Wrong-Horse-9");
    check_refused(&stage, "InitiateAuth", wrong, "NotAuthorizedException").await;
    let stranger = json!({"ClientId": "someone-else", "Username": "alice@example.com"});
    check_refused(
        &stage,
        "ForgotPassword",
        stranger,
        "ResourceNotFoundException",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_sign_out_and_password_reset_over_http() {
    let stage = InProcessStage::start().await;
    let email = "carol@example.com";
    stage.sign_up(email, PASSWORD).await;
    let tokens = stage.sign_in_tokens(email, PASSWORD).await;
    let refresh = tokens["RefreshToken"].as_str().unwrap().to_owned();
    let access = tokens["AccessToken"].as_str().unwrap().to_owned();
    let renew = json!({"ClientId": CLIENT_ID, "AuthFlow": "REFRESH_TOKEN_AUTH",
                       "AuthParameters": {"REFRESH_TOKEN": refresh}});
    let body = stage.cognito_ok("InitiateAuth", renew.clone()).await;
    let renewed = body["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    check(&stage, &[("GET", "/me", renewed, 200)]).await;
    assert!(body["AuthenticationResult"].get("RefreshToken").is_none());

    // Tokens live 15 minutes, as the stack's user-pool client issues them.
    assert_eq!(tokens["ExpiresIn"], 900, "{tokens}");
    for name in ["AccessToken", "IdToken"] {
        let claims = claims_of(tokens[name].as_str().unwrap());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            900,
            "{name}: {claims}"
        );
    }

    stage
        .cognito_ok("GlobalSignOut", json!({"AccessToken": access}))
        .await;
    check_refused(&stage, "InitiateAuth", renew, "NotAuthorizedException").await;
    // As behind API Gateway's JWT authorizer, which checks only signature and expiry: a token
    // taken before the sign-out works until it expires. No check the cloud does not make.
    check(&stage, &[("GET", "/me", &access, 200)]).await;

    stage
        .cognito_ok(
            "ForgotPassword",
            json!({"ClientId": CLIENT_ID, "Username": email}),
        )
        .await;
    let code = stage.mailed_code(email, "reset").await;
    stage
        .cognito_ok(
            "ConfirmForgotPassword",
            json!({"ClientId": CLIENT_ID, "Username": email, "ConfirmationCode": code,
                   "Password": "Battery-Staple-9"}),
        )
        .await;
    stage
        .cognito_ok("InitiateAuth", password_auth(email, "Battery-Staple-9"))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_real_photos_from_sign_up_to_deletion() {
    let stage = InProcessStage::start().await;
    let data = stage.data_dir.clone();
    let (alice, alice_sub) = stage.account("alice@example.com", PASSWORD).await;
    let (bob, _) = stage.account("bob@example.com", PASSWORD).await;

    let names = ["landscape-8mp.jpg", "no-exif-9mp.jpg", "orientation-6.jpg"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(stage.upload(&alice, name, &fixture(name)).await);
    }
    for (id, name) in ids.iter().zip(names) {
        let photo = stage.settled(&alice, id, Duration::from_secs(120)).await;
        assert_eq!(photo["status"], "READY", "{name}: {photo}");
        assert!(
            photo["dimensions"]["width"].as_u64().unwrap() > 0,
            "{photo}"
        );
        for derivative in ["thumb.jpg", "preview.jpg"] {
            let bytes = stage
                .stored(&format!("derivatives/{alice_sub}/{id}/{derivative}"))
                .unwrap_or_else(|| panic!("{name}: no {derivative}"));
            assert_eq!(&bytes[..2], b"\xff\xd8", "{name}: {derivative} is a JPEG");
        }
        let thumb = stage.get(photo["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(thumb.status(), 200);
        assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    }
    assert_eq!(
        jobs_drained(&data, Duration::from_secs(10)),
        Vec::<(String, String)>::new()
    );

    // Pagination: two, then the third with no further cursor.
    let (status, first) = stage.api("GET", "/photos?limit=2", &alice, None).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let next_page = format!("/photos?limit=2&cursor={cursor}");
    let (status, second) = stage.api("GET", &next_page, &alice, None).await;
    assert_eq!(status, 200, "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let mut listed: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 3);
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // The timeline: by date taken on the camera's clock (the photo without EXIF at its upload,
    // today), with the months the scrubber shows counting the same photos.
    let (status, timeline) = stage.api("GET", "/photos/timeline", &alice, None).await;
    assert_eq!(status, 200, "{timeline}");
    let when = |p: &Value| {
        let local = p["taken_at_local"].as_str().or(p["created_at"].as_str());
        local.unwrap().get(..19).unwrap().to_owned()
    };
    let items = timeline["items"].as_array().unwrap();
    let order: Vec<String> = items.iter().map(when).collect();
    let mut newest_first = order.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, newest_first, "{timeline}");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .filter(|p| p["taken_at_local"].is_string())
            .count()
            >= 2
    );
    let (status, months) = stage
        .api("GET", "/photos/timeline/months", &alice, None)
        .await;
    assert_eq!(status, 200, "{months}");
    let mut counted = std::collections::BTreeMap::<String, u64>::new();
    for month in order.iter().map(|w| w[..7].to_owned()) {
        *counted.entry(month).or_default() += 1;
    }
    let months: std::collections::BTreeMap<String, u64> = months["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_owned(),
                m["photos"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months, counted);
    // Bob sees none of it and cannot use alice's cursor.
    let (status, page) = stage.api("GET", "/photos", &bob, None).await;
    assert_eq!((status, page["items"].as_array().unwrap().len()), (200, 0));
    check(&stage, &[("GET", &next_page, &bob, 400)]).await;

    // An album holding the first photo.
    let (status, album) = stage
        .api("POST", "/albums", &alice, Some(json!({"name": "Holidays"})))
        .await;
    assert_eq!(status, 201, "{album}");
    let album_id = album["id"].as_str().unwrap();
    let member = format!("/albums/{album_id}/photos/{}", ids[0]);
    check(
        &stage,
        &[("PUT", &member, &alice, 204), ("PUT", &member, &bob, 404)],
    )
    .await;
    let members_path = format!("/albums/{album_id}/photos");
    let (status, members) = stage.api("GET", &members_path, &alice, None).await;
    assert_eq!(status, 200, "{members}");
    assert_eq!(members["items"][0]["id"], ids[0].as_str(), "{members}");

    // A share link of the album works without a token, until it is revoked.
    let share = json!({"album_id": album_id});
    let (status, share) = stage.api("POST", "/shares", &alice, Some(share)).await;
    assert_eq!(status, 201, "{share}");
    let token = share["token"].as_str().unwrap();
    let public = format!("{}/api/public/shares/{token}", stage.base);
    let r = stage.get(&public).await;
    assert_eq!(r.status(), 200);
    let shared: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(shared["album_name"], "Holidays", "{shared}");
    assert_eq!(shared["photos"][0]["id"], ids[0].as_str(), "{shared}");
    let thumb = stage
        .get(shared["photos"][0]["thumbnail_url"].as_str().unwrap())
        .await;
    assert_eq!(thumb.status(), 200);
    let revoke = format!("/shares/{token}");
    check(
        &stage,
        &[
            ("DELETE", &revoke, &bob, 404),
            ("DELETE", &revoke, &alice, 204),
        ],
    )
    .await;
    assert_eq!(stage.get(&public).await.status(), 410);

    // A photo share too, then the photo is deleted: nothing of it is left anywhere.
    let gone = &ids[0];
    let (status, share) = stage
        .api("POST", "/shares", &alice, Some(json!({"photo_id": gone})))
        .await;
    assert_eq!(status, 201, "{share}");
    let gone_path = format!("/photos/{gone}");
    check(&stage, &[("DELETE", &gone_path, &bob, 404)]).await;
    assert!(!files_mentioning(&data.join("objects"), gone).is_empty());
    assert!(!rows_mentioning(&data, gone).is_empty());
    check(&stage, &[("DELETE", &gone_path, &alice, 204)]).await;
    assert_eq!(
        files_mentioning(&data.join("objects"), gone),
        Vec::<PathBuf>::new()
    );
    assert_eq!(rows_mentioning(&data, gone), Vec::<String>::new());
    check(&stage, &[("GET", &gone_path, &alice, 404)]).await;
    let (_, page) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let (_, months) = stage
        .api("GET", "/photos/timeline/months", &alice, None)
        .await;
    let left: u64 = months["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["photos"].as_u64().unwrap())
        .sum();
    assert_eq!(left, 2, "{months}");
    let (_, members) = stage.api("GET", &members_path, &alice, None).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 0, "{members}");
    // The other photos are untouched.
    for id in &ids[1..] {
        assert!(
            stage
                .stored(&format!("originals/{alice_sub}/{id}"))
                .is_some()
        );
    }
}

/// Images built to exhaust memory go through the stage like any upload: a 10000×10000 RGBA16 PNG
/// (800 MB decoded) ends READY, decoded row by row within the budget, and a progressive JPEG
/// whose coefficients alone exceed the budget ends FAILED with a reason the owner can read;
/// the stage answers throughout and after.
#[tokio::test(flavor = "multi_thread")]
async fn memory_bombs_end_ready_or_failed_and_the_stage_stays_up() {
    let stage = InProcessStage::start().await;
    let (alice, _) = stage.account("alice@example.com", PASSWORD).await;

    let png = testkit::images::rgba16_zeros(10_000);
    let png_id = stage.upload(&alice, "bomb-16bit.png", &png).await;
    let jpeg = testkit::images::jpeg(8000, 5600, true, false);
    let jpeg_id = stage.upload(&alice, "progressive-45mp.jpg", &jpeg).await;

    let photo = stage
        .settled(&alice, &png_id, Duration::from_secs(120))
        .await;
    assert_eq!(photo["status"], "READY", "{photo}");
    assert_eq!(photo["dimensions"]["width"], 10_000, "{photo}");

    let photo = stage
        .settled(&alice, &jpeg_id, Duration::from_secs(120))
        .await;
    assert_eq!(photo["status"], "FAILED", "{photo}");
    let reason = photo["failure_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("image needs too much memory to process"),
        "{photo}"
    );

    let (status, page) = stage.api("GET", "/photos", &alice, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(
        jobs_drained(&stage.data_dir, Duration::from_secs(10)),
        Vec::<(String, String)>::new()
    );
}

/// iPhone photos end to end: a HEIC coded as one picture (EXIF orientation 6, no `irot`: shown
/// as stored) and a grid of tiles turned by `irot`, uploaded as `image/heic` and `image/heif`, end
/// READY with both derivatives as JPEG, and each original downloads as uploaded, with its type.
#[tokio::test(flavor = "multi_thread")]
async fn heic_photos_end_ready_and_download_as_uploaded() {
    use testkit::heif::{Heif, grid_of};
    let stage = InProcessStage::start().await;
    let (alice, alice_sub) = stage.account("alice@example.com", PASSWORD).await;

    let single = fixture("heic/orientation-6.heic");
    let rgb = testkit::images::pattern_rgb(1200, 800);
    let mut grid = Heif::new(grid_of(1200, 800, &rgb, false, 512, 60));
    grid.irot = Some(1);
    let grid = grid.to_bytes();
    let uploads = [
        ("IMG_0006.HEIC", "image/heic", &single, (800, 1200)),
        ("IMG_0007.heif", "image/heif", &grid, (800, 1200)),
    ];
    let mut ids = Vec::new();
    for (name, content_type, bytes, _) in &uploads {
        ids.push(stage.upload_as(&alice, name, content_type, bytes).await);
    }
    for (id, (name, content_type, bytes, (width, height))) in ids.iter().zip(&uploads) {
        let photo = stage.settled(&alice, id, Duration::from_secs(120)).await;
        assert_eq!(photo["status"], "READY", "{name}: {photo}");
        assert_eq!(photo["content_type"], *content_type, "{name}: {photo}");
        assert_eq!(photo["dimensions"]["width"], *width, "{name}: {photo}");
        assert_eq!(photo["dimensions"]["height"], *height, "{name}: {photo}");
        for derivative in ["thumb.jpg", "preview.jpg"] {
            let bytes = stage
                .stored(&format!("derivatives/{alice_sub}/{id}/{derivative}"))
                .unwrap_or_else(|| panic!("{name}: no {derivative}"));
            assert_eq!(&bytes[..2], b"\xff\xd8", "{name}: {derivative} is a JPEG");
        }
        let preview = stage.get(photo["preview_url"].as_str().unwrap()).await;
        assert_eq!(preview.headers()["content-type"], "image/jpeg", "{name}");
        let original = stage.get(photo["original_url"].as_str().unwrap()).await;
        assert_eq!(original.status(), 200, "{name}");
        assert_eq!(original.headers()["content-type"], *content_type, "{name}");
        // "Download original" saves the file under the name it was uploaded with.
        assert_eq!(
            original.headers()["content-disposition"],
            format!("attachment; filename=\"{name}\"; filename*=UTF-8''{name}").as_str(),
            "{name}"
        );
        assert!(preview.headers().get("content-disposition").is_none());
        // A photo under one link never changes: the browser keeps it, for itself alone.
        for response in [&preview, &original] {
            assert_eq!(
                response.headers()["cache-control"],
                "private, max-age=31536000, immutable",
                "{name}"
            );
        }
        assert_eq!(
            original.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name}"
        );
    }
    // The first carries the camera's EXIF, read from its `Exif` item.
    let photo = stage.settled(&alice, &ids[0], Duration::from_secs(5)).await;
    let camera = photo["camera"].as_str().unwrap_or_default();
    assert!(camera.contains("Lumix DC-G9"), "{photo}");
}

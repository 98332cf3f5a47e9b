//! Media links on the local stage follow the rules of the media distribution's: signed for fixed
//! windows (two listings in one window give byte-identical URLs, which browsers cache), each
//! valid for its lifetime counted from its window's end, refused once expired; a share's links
//! expire within the hour of issue and stop being issued the moment it is revoked. The stage
//! runs on a clock the test moves.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use photo_domain::memory::ManualClock;
use photo_domain::{Clock as _, Limits, Timestamp};
use serde_json::{Value, json};
use testkit::stage::InProcessStage;
use testkit::test_photo as fixture;

const PASSWORD: &str = "Correct-Horse-9";
const EMAIL: &str = "alice@example.com";
/// A listing's links, and a guest's (who never gets the original: it keeps location data).
const DERIVATIVES: &[&str] = &["thumbnail_url", "preview_url"];

/// The `expires` of a media URL, in seconds.
fn expires(url: &str) -> i64 {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix("expires="))
        .and_then(|e| e.parse().ok())
        .unwrap_or_else(|| panic!("no expiry in {url}"))
}

/// The links named `names` of `photo` (a listing's item, a photo, a share's photo).
fn links(photo: &Value, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|l| {
            photo[l]
                .as_str()
                .unwrap_or_else(|| panic!("no {l}: {photo}"))
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn links_are_windowed_last_their_lifetime_and_end_with_their_share() {
    let (owner, guest) = (Limits::DEFAULT_OWNER_LINKS, Limits::DEFAULT_SHARE_LINKS);
    // An owner window starts every hour, and so does a share window: begin 5 s into one.
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let window = real - real.rem_euclid(owner.window_secs);
    let clock = Arc::new(ManualClock::new(Timestamp::from_secs(window + 5)));
    let stage = {
        let clock = clock.clone();
        InProcessStage::start_with(move |o, _| o.clock = Some(clock)).await
    };
    let (token, _) = stage.account(EMAIL, PASSWORD).await;
    let id = stage
        .upload(&token, "orientation-1.jpg", &fixture("orientation-1.jpg"))
        .await;
    let photo = stage.settled(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(photo["status"], "READY", "{photo}");
    // The owner's links: the derivatives from the listing, the original from the photo.
    let photo_path = format!("/photos/{id}");
    let listed = async |token: &str| {
        let (status, page) = stage.api("GET", "/photos", token, None).await;
        assert_eq!(status, 200, "{page}");
        let (status, photo) = stage.api("GET", &photo_path, token, None).await;
        assert_eq!(status, 200, "{photo}");
        let mut urls = links(&page["items"][0], DERIVATIVES);
        urls.extend(links(&photo, &["original_url"]));
        urls
    };

    // One window: byte-identical links, valid for the whole lifetime after the window ends.
    let first = listed(&token).await;
    clock.advance_secs(owner.window_secs - 10);
    // Tokens live 15 minutes: a later listing signs in again, as the app renews its token.
    let token = stage.sign_in(EMAIL, PASSWORD).await;
    assert_eq!(listed(&token).await, first, "two listings in one window");
    let window_end = window + owner.window_secs;
    for url in &first {
        assert_eq!(expires(url), window_end + owner.lifetime_secs, "{url}");
        assert_eq!(stage.get(url).await.status(), 200, "{url}");
    }
    assert!(owner.lifetime_secs >= 12 * 3600);

    // The next window signs anew; the old links still work until their own expiry.
    clock.advance_secs(10);
    let second = listed(&token).await;
    for (old, new) in first.iter().zip(&second) {
        assert_ne!(old, new);
        assert_eq!(
            expires(new),
            window_end + owner.window_secs + owner.lifetime_secs
        );
        assert_eq!(stage.get(old).await.status(), 200, "{old}");
    }
    // Past its expiry a link is refused; the newer one still works.
    clock.set(Timestamp::from_secs(expires(&first[0])));
    for url in &first {
        assert_eq!(stage.get(url).await.status(), 403, "{url}");
    }
    assert_eq!(stage.get(&second[0]).await.status(), 200);

    // A share's links: a fresh sign-in (the first token has long expired on this clock).
    let token = stage.sign_in(EMAIL, PASSWORD).await;
    let (status, share) = stage
        .api("POST", "/shares", &token, Some(json!({"photo_id": id})))
        .await;
    assert_eq!(status, 201, "{share}");
    let public = format!(
        "{}/api/public/shares/{}",
        stage.base,
        share["token"].as_str().unwrap()
    );
    let shared = async || {
        let response = stage.get(&public).await;
        let status = response.status().as_u16();
        let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        (status, body)
    };
    let (status, body) = shared().await;
    assert_eq!(status, 200, "{body}");
    let issued = clock.now().secs();
    let guest_links = links(&body["photos"][0], DERIVATIVES);
    for url in &guest_links {
        let lifetime = expires(url) - issued;
        assert!(
            lifetime >= guest.lifetime_secs && lifetime <= 3600,
            "a share's link lives {lifetime} s"
        );
        assert_eq!(stage.get(url).await.status(), 200, "{url}");
    }
    clock.advance_secs(1);
    assert_eq!(
        links(&shared().await.1["photos"][0], DERIVATIVES),
        guest_links,
        "one window"
    );

    // Revoked: no new links, at once.
    let revoke = format!("/shares/{}", share["token"].as_str().unwrap());
    let (status, _) = stage.api("DELETE", &revoke, &token, None).await;
    assert_eq!(status, 204);
    assert_eq!(shared().await.0, 410);
}

/// A guest of a link that allows downloads fetches the original, byte for byte, through a link
/// signed for that one photo; a guest of a link that does not is refused before anything is
/// signed. The same photo shared twice without a password and with the same options is one link.
#[tokio::test(flavor = "multi_thread")]
async fn a_guest_downloads_the_original_only_from_a_link_that_allows_it() {
    let stage = InProcessStage::start().await;
    let (token, _) = stage.account(EMAIL, PASSWORD).await;
    let original = fixture("orientation-6.jpg");
    let id = stage.upload(&token, "orientation-6.jpg", &original).await;
    let photo = stage.settled(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(photo["status"], "READY", "{photo}");
    // Listings carry the dimensions as shown: those of the upright reference (a PNG, whose
    // header holds them), not those of the turned picture the file stores.
    let upright = fixture("orientation-upright.png");
    let be = |at: usize| u32::from_be_bytes(upright[at..at + 4].try_into().unwrap());
    let (_, page) = stage.api("GET", "/photos", &token, None).await;
    assert_eq!(
        page["items"][0]["dimensions"],
        json!({"width": be(16), "height": be(20)})
    );

    let share = async |body: Value| {
        let (status, link) = stage.api("POST", "/shares", &token, Some(body)).await;
        (status, link["token"].as_str().unwrap().to_owned())
    };
    let (status, closed) = share(json!({"photo_id": id})).await;
    assert_eq!(status, 201);
    assert_eq!(share(json!({"photo_id": id})).await, (200, closed.clone()));
    let (status, open) = share(json!({"photo_id": id, "allow_download": true})).await;
    assert_eq!(status, 201);

    let download = async |link: &str| {
        let url = format!("{}/api/public/shares/{link}/download", stage.base);
        let r = stage
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({"photo_id": id}).to_string())
            .send()
            .await
            .expect("asking for a download");
        let status = r.status().as_u16();
        let body = r.bytes().await.expect("the answer's body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    };
    let (status, refused) = download(&closed).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (403, Some("download_not_allowed"))
    );
    let (status, link) = download(&open).await;
    assert_eq!(status, 200, "{link}");
    let fetched = stage.get(link["url"].as_str().unwrap()).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.bytes().await.unwrap().to_vec(),
        original,
        "the original, as uploaded"
    );
}

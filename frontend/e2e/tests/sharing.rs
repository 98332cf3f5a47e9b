//! Sharing in headless Chromium against a local stage: the share dialog (a second "create
//! link" with the same options gives the same link), the shared-links page that tells links
//! apart, and the guest page: captions, the same lightbox, the original downloadable only when
//! the owner allowed it, the password asked once a visit, and the words a revoked link says.
//! Screenshots, desktop and phone.

use std::time::Duration;

use serde_json::{Value, json};
use web_e2e::{Browser, Driver, Stage, bounded, http, poll, seed, site};

const EMAIL: &str = "olu@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";
const SHARE_PASSWORD: &str = "guest-pass-123";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialog_links_page_and_guest_page() {
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded("the sharing flow", Duration::from_secs(600), flow()).await;
}

/// The value of the share link the dialog shows once it differs from `before`.
async fn dialog_link(b: &Browser, before: &str) -> String {
    poll("a link in the dialog", Duration::from_secs(30), || async {
        let v = b
            .js("const i = document.querySelector('dialog.share input[aria-label=\"Share link\"]'); return i ? i.value : null;")
            .await;
        match v.as_str() {
            Some(url) if url != before => Ok(url.to_owned()),
            _ => Err(format!("{v}")),
        }
    })
    .await
}

async fn phone(b: &Browser, on: bool) {
    let (w, h) = if on { (390, 844) } else { (1440, 900) };
    b.step("sizing the window", |c| async move {
        c.set_window_size(w, h).await
    })
    .await;
}

async fn status_of(url: &str) -> u16 {
    http()
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_default()
}

async fn flow() {
    let stage = Stage::start().await;
    let base = stage.base.clone();
    let token = seed::account_with_photos(&stage, EMAIL, PASSWORD, 0).await;
    let files = vec![
        (
            "a.jpg".to_owned(),
            seed::dated_photo(1, 320, 240, "2024:06:01 14:03:09"),
        ),
        (
            "b.jpg".to_owned(),
            seed::dated_photo(2, 240, 320, "2024:06:02 10:00:00"),
        ),
        ("c.jpg".to_owned(), seed::photo(3)),
    ];
    seed::upload_all(&stage, &token, files).await;
    let photos = seed::listed(&stage, &token).await.expect("the listing");
    let id_of = |name: &str| {
        photos
            .iter()
            .find(|p| p["file_name"] == name)
            .and_then(|p| p["id"].as_str())
            .expect("a seeded photo")
            .to_owned()
    };
    let (status, _) = stage
        .api(
            "PATCH",
            &format!("/photos/{}", id_of("a.jpg")),
            &token,
            Some(json!({"title": "Harbour"})),
        )
        .await;
    assert_eq!(status, 200);
    let ids = ["a.jpg", "b.jpg", "c.jpg"].map(id_of);
    let album_id = seed::album(&stage, &token, "Trip", &ids).await;

    let driver = Driver::start().await;
    let b = driver.browser().await;
    phone(&b, false).await;
    b.goto(&format!("{base}/signin")).await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;

    // The dialog: what is shared, the expiry choices up to the stage's longest (30 days on the
    // local stage's defaults), the password's rules, and download.
    b.goto(&format!("{base}/albums/{album_id}")).await;
    b.click_button("Share").await;
    b.find("dialog.share select option").await;
    let dialog = b
        .js("const d = document.querySelector('dialog.share'); return [d.open, d.querySelector('.preview').textContent, [...d.querySelectorAll('select option')].map((o) => o.value), d.textContent.includes('8 to 128 characters')];")
        .await;
    assert_eq!(
        dialog,
        json!([true, "Trip3 photos · Jun 2024", ["1", "7", "30"], true]),
        "the dialog"
    );
    b.click("dialog.share input[name=\"allow-download\"]").await;
    b.click("dialog.share button[type=submit]").await;
    let with_download = dialog_link(&b, "").await;
    b.see("Here is the link.").await;
    b.screenshot("share-dialog-desktop").await;
    // The same options again: the same link, and the dialog says so.
    b.click("dialog.share button[type=submit]").await;
    b.see("You already had a link with these options: here it is.")
        .await;
    assert_eq!(dialog_link(&b, "").await, with_download);
    // Without download: another link.
    b.click("dialog.share input[name=\"allow-download\"]").await;
    b.click("dialog.share button[type=submit]").await;
    let view_only = dialog_link(&b, &with_download).await;
    b.click_button("Close").await;
    let (status, list) = stage.api("GET", "/shares", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");

    // The shared-links page tells them apart.
    b.click("a[href=\"/shares\"]").await;
    b.at("/shares").await;
    b.find_at_least("tbody tr", 2, Duration::from_secs(20))
        .await;
    // What each shares is filled in as it is learnt.
    b.until(
        "what the links share",
        "return [...document.querySelectorAll('tbody tr td:first-child')].every((c) => c.textContent.startsWith('Trip'));",
    )
    .await;
    let rows = b
        .js("return [...document.querySelectorAll('tbody tr')].map((r) => [...r.children].slice(0, 5).map((c) => c.textContent));")
        .await;
    let rows = rows.as_array().expect("rows");
    for r in rows {
        assert!(
            r[0].as_str()
                .unwrap_or_default()
                .starts_with("TripAlbum · 3 photos"),
            "{r}"
        );
        assert_eq!(r[3], "No", "no password: {r}");
    }
    let downloads: Vec<&str> = rows.iter().filter_map(|r| r[4].as_str()).collect();
    assert!(
        downloads.contains(&"Yes") && downloads.contains(&"No"),
        "{downloads:?}"
    );
    b.images_loaded("td .target img", 2).await;
    b.screenshot("shared-links-desktop").await;
    phone(&b, true).await;
    b.screenshot("shared-links-phone").await;
    b.goto(&format!("{base}/albums/{album_id}")).await;
    b.click_button("Share").await;
    b.find("dialog.share select option").await;
    b.screenshot("share-dialog-phone").await;
    phone(&b, false).await;

    // A guest of the view-only link: captions, the lightbox, no download (the API refuses it
    // too).
    let guest = driver.browser().await;
    phone(&guest, false).await;
    guest.goto(&view_only).await;
    guest.see("Trip").await;
    guest
        .find_at_least(".public .tile img", 3, Duration::from_secs(30))
        .await;
    let captions = guest
        .js("return [...document.querySelectorAll('.public .tile .caption')].map((c) => c.textContent);")
        .await;
    assert!(
        captions.to_string().contains("Harbour · 1 Jun 2024"),
        "captions: {captions}"
    );
    guest.screenshot("guest-desktop").await;
    guest.click(".public .tile .open").await;
    guest.find(".lightbox figure img").await;
    assert!(
        guest.path().await.starts_with(&format!(
            "/s/{}/",
            view_only.rsplit('/').next().unwrap_or_default()
        )),
        "the lightbox's own address"
    );
    assert_eq!(
        guest
            .js("return !!document.querySelector('.lightbox a[download]');")
            .await,
        Value::Bool(false),
        "no download on a view-only link"
    );
    let view_token = view_only.rsplit('/').next().unwrap_or_default().to_owned();
    let refused = http()
        .post(format!("{base}/api/public/shares/{view_token}/download"))
        .header("content-type", "application/json")
        .body(json!({"photo_id": id_of("a.jpg")}).to_string())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_default();
    assert_eq!(refused, 403, "the API refuses the original too");
    guest.click("button[aria-label=\"Info\"]").await;
    guest.see("Dimensions").await;
    guest.screenshot("guest-lightbox-desktop").await;
    phone(&guest, true).await;
    guest.screenshot("guest-lightbox-phone").await;
    guest.click("button[aria-label=\"Close\"]").await;
    guest.screenshot("guest-phone").await;

    // A guest of the link that allows download fetches the original.
    guest.goto(&with_download).await;
    guest
        .find_at_least(".public .tile img", 3, Duration::from_secs(30))
        .await;
    guest.click(".public .tile .open").await;
    guest.click(".lightbox a[download]").await;
    let original = poll("the original's link", Duration::from_secs(30), || async {
        match guest
            .js("return document.querySelector('.lightbox a[download]').href;")
            .await
            .as_str()
        {
            Some(url) if !url.ends_with('#') => Ok(url.to_owned()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(status_of(&original).await, 200, "the original downloads");

    // A link with a password asks once a visit: not again after a reload.
    let protected = seed::share(
        &stage,
        &token,
        json!({"album_id": album_id, "password": SHARE_PASSWORD}),
    )
    .await;
    let protected = format!("{base}/s/{protected}");
    guest.goto(&protected).await;
    guest.fill("password", SHARE_PASSWORD).await;
    guest.click("button[type=submit]").await;
    guest
        .find_at_least(".public .tile img", 3, Duration::from_secs(30))
        .await;
    guest.goto(&protected).await;
    guest
        .find_at_least(".public .tile img", 3, Duration::from_secs(30))
        .await;
    assert_eq!(
        guest
            .js("return !!document.querySelector('input[type=password]');")
            .await,
        Value::Bool(false),
        "not asked again in the same visit"
    );
    // A shared photo's own address, reloaded, opens it in the lightbox over the share.
    guest.click(".public .tile .open").await;
    guest.find(".lightbox figure img").await;
    let photo_path = guest.path().await;
    assert!(photo_path.starts_with("/s/"), "{photo_path}");
    guest.goto(&format!("{base}{photo_path}")).await;
    guest.find(".lightbox figure img").await;
    guest.see("Trip").await;
    guest.click("button[aria-label=\"Close\"]").await;
    guest.at(&protected.replace(&base, "")).await;

    // The owner revokes the view-only link; its guest is told, and what to do.
    b.goto(&format!("{base}/shares")).await;
    b.find_at_least("tbody tr", 3, Duration::from_secs(20))
        .await;
    b.js(&format!(
        "const row = [...document.querySelectorAll('tbody tr')].find((r) => r.querySelector('input').value === '{view_only}');\
         row.querySelector('button.danger').dataset.pick = '1';"
    ))
    .await;
    b.click("button[data-pick]").await;
    b.accept_dialog().await;
    poll(
        "the revoked link gone from the list",
        Duration::from_secs(20),
        || async {
            match b
                .js("return document.querySelectorAll('tbody tr').length;")
                .await
                .as_u64()
            {
                Some(2) => Ok(()),
                n => Err(format!("{n:?} rows")),
            }
        },
    )
    .await;
    guest.goto(&view_only).await;
    guest
        .see("This link has expired or was revoked. Ask the person who shared it for a new one.")
        .await;
    guest.screenshot("guest-revoked-phone").await;
    guest.close().await;
    b.close().await;
}

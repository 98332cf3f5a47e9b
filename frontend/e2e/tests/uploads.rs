//! The upload tray in headless Chromium against a local stage: a file that is not an image
//! (whatever its name says) refused before any byte is sent, with its name beside the reason;
//! the count in the tray, which stays on screen across a page change; and the storage line and
//! the empty timeline brought up to date without a reload. Screenshots, desktop and phone.

use std::time::Duration;

use serde_json::Value;
use web_e2e::{Browser, Driver, Stage, bounded, poll, seed, site};

const EMAIL: &str = "ines@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_counts_refuses_and_stays() {
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded("the upload tray flow", Duration::from_secs(600), flow()).await;
}

async fn text(b: &Browser, css: &str) -> String {
    b.js(&format!(
        "const e = document.querySelector('{css}'); return e ? e.textContent : null;"
    ))
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

async fn flow() {
    let stage = Stage::start().await;
    let base = stage.base.clone();
    let (token, _) = stage.account(EMAIL, PASSWORD).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    b.goto(&format!("{base}/signin")).await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;
    b.see("No photos yet.").await;
    b.see("0 photos").await;
    b.js("window.sameDocument = true;").await;

    // Two photos and a text file named like one.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fake = dir.path().join("holiday-notes.jpg");
    std::fs::write(&fake, "Remember the sunscreen.\n").expect("writing a text file");
    let fixtures = testkit::test_photos();
    let mut paths: Vec<String> = ["landscape-8mp.jpg", "texture.webp"]
        .iter()
        .map(|p| {
            fixtures
                .join(p)
                .canonicalize()
                .unwrap_or_else(|e| panic!("fixture `{p}`: {e}"))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    paths.push(fake.to_string_lossy().into_owned());
    let picker = b.find("input[type=file]").await;
    let all = paths.join("\n");
    b.step("choosing three files", |_| async move {
        picker.send_keys(&all).await
    })
    .await;
    poll("the tray's count", Duration::from_secs(60), || async {
        match text(&b, ".tray strong").await.as_str() {
            "2 of 3 uploaded, 1 not uploaded" => Ok(()),
            other => Err(other.to_owned()),
        }
    })
    .await;
    // The refused file's row names it beside the reason; it never reached the API.
    let refused = b
        .js("return [...document.querySelectorAll('.tray li[data-done=failed]')].map((li) => [li.children[0].textContent, li.children[1].textContent]);")
        .await;
    assert_eq!(
        refused,
        serde_json::json!([[
            "holiday-notes.jpg",
            "Not a photo: only JPEG, PNG, WebP and HEIC files can be uploaded."
        ]]),
        "the refused file, by name"
    );
    let listed = seed::listed(&stage, &token).await.expect("the listing");
    assert_eq!(listed.len(), 2, "only the photos were uploaded: {listed:?}");

    // The storage line and the timeline catch up without a reload.
    poll(
        "the storage line updated",
        Duration::from_secs(30),
        || async {
            let usage = text(&b, ".usage").await;
            if usage.starts_with("2 photos") {
                Ok(())
            } else {
                Err(usage)
            }
        },
    )
    .await;
    assert_eq!(
        b.js("return [window.sameDocument === true, document.body.textContent.includes('No photos yet.'), document.querySelectorAll('.wall .tile').length];")
            .await,
        serde_json::json!([true, false, 2]),
        "the same page, no longer empty, with both photos"
    );
    b.screenshot("tray-desktop").await;

    // A file dropped anywhere on the page is uploaded too (the drop a browser makes, with a
    // file built in the page from a thumbnail's bytes).
    b.find_at_least(".wall .tile img", 1, Duration::from_secs(60))
        .await;
    b.js("const url = document.querySelector('.wall .tile img').src;\
          fetch(url).then((r) => r.blob()).then((blob) => {\
            const dt = new DataTransfer();\
            dt.items.add(new File([blob], 'dropped.jpg', { type: 'image/jpeg' }));\
            document.querySelector('h1').dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));\
            document.querySelector('h1').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));\
          });")
        .await;
    poll(
        "the dropped file uploaded",
        Duration::from_secs(60),
        || async {
            match text(&b, ".tray strong").await.as_str() {
                "3 of 4 uploaded, 1 not uploaded" => Ok(()),
                other => Err(other.to_owned()),
            }
        },
    )
    .await;
    assert_eq!(
        b.js("return [...document.querySelectorAll('.tray li')].some((li) => li.children[0].textContent === 'dropped.jpg' && li.dataset.done === 'ok');")
            .await,
        Value::Bool(true),
        "the dropped file's row"
    );

    // Another page: the tray is still there, with its count.
    b.click("a[href=\"/albums\"]").await;
    b.at("/albums").await;
    b.see("Albums").await;
    assert_eq!(
        text(&b, ".tray strong").await,
        "3 of 4 uploaded, 1 not uploaded"
    );
    b.step("a phone-sized window", |c| async move {
        c.set_window_size(390, 844).await
    })
    .await;
    b.screenshot("tray-phone").await;

    // Dismissed, the finished rows go, and so does the tray.
    b.click("button[aria-label=\"Dismiss finished uploads\"]")
        .await;
    assert_eq!(
        b.js("return document.querySelector('.tray').hidden;").await,
        Value::Bool(true)
    );
    b.close().await;
}

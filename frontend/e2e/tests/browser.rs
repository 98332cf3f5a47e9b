//! The web app end to end in headless Chromium against a local stage: an account from sign-up
//! to a revoked share link, as a user clicks through it.

use std::time::Duration;

use serde_json::Value;
use web_e2e::fantoccini::Locator;
use web_e2e::{Browser, Driver, Stage, bounded, poll, site};

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";
const NEW_PASSWORD: &str = "Another-Horse-Another-Staple-7";

/// The fixtures uploaded: one of each accepted type.
const PHOTOS: [&str; 3] = ["landscape-8mp.jpg", "orientation-6.jpg", "texture.webp"];

/// How many of the grid's thumbnails are loaded images and how many are placeholders.
async fn tiles(b: &Browser) -> (u64, u64) {
    let v = b
        .js(
            "const imgs = [...document.querySelectorAll('.grid .tile img')];\
             return [imgs.filter(i => i.complete && i.naturalWidth > 0).length,\
                     document.querySelectorAll('.grid .tile .pending').length];",
        )
        .await;
    (
        v[0].as_u64().unwrap_or_default(),
        v[1].as_u64().unwrap_or_default(),
    )
}

async fn wait_for_thumbnails(b: &Browser, n: u64) {
    poll(
        &format!("{n} loaded thumbnails"),
        Duration::from_secs(120),
        || async {
            match tiles(b).await {
                (loaded, 0) if loaded == n => Ok(()),
                other => Err(format!("(loaded, processing) = {other:?}")),
            }
        },
    )
    .await;
}

/// Waits until the image `css` has loaded and has pixels.
async fn loaded_image(b: &Browser, css: &str) {
    let script = format!(
        "const i = document.querySelector('{css}'); return !!i && i.complete && i.naturalWidth > 0;"
    );
    poll(
        &format!("the image `{css}` loaded"),
        Duration::from_secs(60),
        || async {
            if b.js(&script).await == Value::Bool(true) {
                Ok(())
            } else {
                Err("not yet".to_owned())
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_upload_share_revoke_delete() {
    // The release wasm build takes minutes when cold; it is cargo's, not the browser's, time.
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded("the browser flow", Duration::from_secs(600), flow()).await;
}

async fn flow() {
    let driver = Driver::start().await;
    let stage = Stage::start().await;
    let base = stage.base.clone();
    let b = driver.browser().await;

    // A visitor is sent to sign in; from there, to create an account.
    b.goto(&format!("{base}/")).await;
    b.at("/signin").await;
    b.find("input[name=\"email\"]").await;
    b.screenshot("sign-in").await;
    b.click("a[href=\"/signup\"]").await;
    b.at("/signup").await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;

    // The code arrives by mail (the stage's outbox); confirming leads to sign-in.
    b.at("/confirm").await;
    let code = stage.mailed_code(EMAIL, "confirm").await;
    b.fill("code", &code).await;
    b.click("button[type=submit]").await;
    b.at("/signin").await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;
    b.see("Your photos").await;

    // Three photos through the file picker, each with its own progress row.
    let fixtures = testkit::test_photos();
    let paths: Vec<String> = PHOTOS
        .iter()
        .map(|p| {
            // chromedriver wants a canonical path (the fixtures are reached through `..`).
            let path = fixtures
                .join(p)
                .canonicalize()
                .unwrap_or_else(|e| panic!("fixture `{p}`: {e}"));
            path.to_string_lossy().into_owned()
        })
        .collect();
    let picker = b.find("input[type=file]").await;
    let all = paths.join("\n");
    b.step("choosing three photos", |_| async move {
        picker.send_keys(&all).await
    })
    .await;
    poll(
        "three finished uploads",
        Duration::from_secs(60),
        || async {
            let rows = b
            .js("return [...document.querySelectorAll('.uploads li')].map(li => li.textContent);")
            .await;
            let rows: Vec<String> = rows
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if rows.len() == 3 && rows.iter().all(|r| r.contains("Uploaded")) {
                Ok(())
            } else {
                Err(format!("upload rows: {rows:?}"))
            }
        },
    )
    .await;
    b.find_at_least(".grid .tile", 3, Duration::from_secs(10))
        .await;

    // The same photo again is refused with its own message, and no retry is offered.
    let again = paths[0].clone();
    let picker = b.find("input[type=file]").await;
    b.step("choosing a photo again", |_| async move {
        picker.send_keys(&again).await
    })
    .await;
    poll("the duplicate refused", Duration::from_secs(30), || async {
        let row = b
            .js("const r = document.querySelectorAll('.uploads li')[3];\
                 return r ? [r.textContent, r.querySelector('button').hidden] : null;")
            .await;
        match (row[0].as_str(), row[1].as_bool()) {
            (Some(text), Some(true)) if text.contains("You have already uploaded this photo.") => {
                Ok(())
            }
            _ => Err(format!("fourth upload row: {row}")),
        }
    })
    .await;
    // Each new tile is a placeholder until the stage has processed the photo, then turns
    // into its thumbnail by itself, without a reload.
    let (loaded, pending) = tiles(&b).await;
    assert_eq!(loaded + pending, 3, "every upload has a tile");
    wait_for_thumbnails(&b, 3).await;

    // A reload keeps the session (refresh token) and lists the photos newest first.
    b.goto(&format!("{base}/")).await;
    b.see("Your photos").await;
    wait_for_thumbnails(&b, 3).await;
    let shot = b.screenshot("gallery").await;
    eprintln!("gallery screenshot: {}", shot.display());

    // Open one photo: the viewer with its metadata.
    b.click(".grid .tile").await;
    poll("the viewer", Duration::from_secs(20), || async {
        let path = b.path().await;
        if path.starts_with("/photos/") {
            Ok(())
        } else {
            Err(path)
        }
    })
    .await;
    let photo_path = b.path().await;
    b.find(".viewer aside dl").await;
    b.see("Dimensions").await;
    loaded_image(&b, ".viewer figure img").await;
    b.screenshot("viewer").await;

    // An album, with that photo in it.
    b.click("a[href=\"/albums\"]").await;
    b.at("/albums").await;
    b.fill("name", "Holiday").await;
    b.click("button[type=submit]").await;
    poll("the new album's page", Duration::from_secs(20), || async {
        let path = b.path().await;
        if path.starts_with("/albums/") {
            Ok(path)
        } else {
            Err(path)
        }
    })
    .await;
    let album_path = b.path().await;
    b.see("Holiday").await;
    b.goto(&format!("{base}{photo_path}")).await;
    b.find(".viewer aside select[aria-label=\"Album\"] option")
        .await;
    b.click_button("Add to album").await;
    b.see("Added to the album.").await;
    b.goto(&format!("{base}{album_path}")).await;
    b.find_at_least(".grid .tile", 1, Duration::from_secs(20))
        .await;

    // Share the album and read the link from the page.
    b.click_button("Create link").await;
    let link = b.find("input[aria-label=\"Share link\"]").await;
    let url = b
        .step("reading the share link", |_| async move {
            link.prop("value").await
        })
        .await
        .unwrap_or_default();
    assert!(
        url.starts_with(&format!("{base}/s/")),
        "a share link on the site: {url}"
    );

    // Someone with no account, in a browser of their own, sees the album.
    let guest = driver.browser().await;
    guest.goto(&url).await;
    guest.see("Holiday").await;
    loaded_image(&guest, ".public figure img").await;
    let storage = guest
        .js("return window.localStorage.length;")
        .await
        .as_u64();
    assert_eq!(storage, Some(0), "the guest has no session");
    let shot = guest.screenshot("share").await;
    eprintln!("share page screenshot: {}", shot.display());

    // The owner revokes the link; the guest's reload is refused.
    b.click("a[href=\"/shares\"]").await;
    b.at("/shares").await;
    b.click_button("Revoke").await;
    b.accept_dialog().await;
    b.see("You have no shared links.").await;
    assert!(
        b.client.find(Locator::Css("tbody tr")).await.is_err(),
        "the revoked link left the list"
    );
    guest
        .step(
            "reloading the share page",
            |c| async move { c.refresh().await },
        )
        .await;
    guest.see("This link has expired or was revoked.").await;
    assert!(
        guest
            .client
            .find(Locator::Css(".public figure"))
            .await
            .is_err(),
        "a revoked link shows no photo"
    );
    guest.close().await;

    // Delete a photo, confirming the dialog; two remain.
    b.click("a[href=\"/\"]").await;
    b.at("/").await;
    b.find_at_least(".grid .tile", 3, Duration::from_secs(20))
        .await;
    b.click(".grid .tile").await;
    b.find(".viewer").await;
    b.click_button("Delete").await;
    b.accept_dialog().await;
    b.at("/").await;
    wait_for_thumbnails(&b, 2).await;

    // On a phone-sized screen the grid keeps three columns.
    b.step("a phone-sized window", |c| async move {
        c.set_window_size(390, 844).await
    })
    .await;
    b.screenshot("gallery-phone").await;
    b.step("a laptop-sized window", |c| async move {
        c.set_window_size(1280, 900).await
    })
    .await;

    // Sign out: the session is gone, also after a reload.
    b.click_button("Sign out").await;
    b.at("/signin").await;
    b.goto(&format!("{base}/albums")).await;
    b.at("/signin").await;

    // A forgotten password, reset with a mailed code; the new one signs in.
    b.click("a[href=\"/reset\"]").await;
    b.at("/reset").await;
    b.fill("email", EMAIL).await;
    b.click("button[type=submit]").await;
    b.see("We e-mailed you a code").await;
    let code = stage.mailed_code(EMAIL, "reset").await;
    b.fill("code", &code).await;
    b.fill("password", NEW_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/signin").await;
    b.fill("email", EMAIL).await;
    b.fill("password", NEW_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;
    b.see("Your photos").await;
    b.close().await;
}

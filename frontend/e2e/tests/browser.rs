//! The web app end to end in headless Chromium against a local stage: an account from sign-up
//! to a revoked share link, as a user clicks through it; and media links as a gallery and a
//! shared album left open for a day meet them (from the cache within a window, renewed by the
//! page once expired, a download link too).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use photo_domain::memory::ManualClock;
use photo_domain::{Limits, Timestamp};
use serde_json::{Value, json};
use web_e2e::fantoccini::Locator;
use web_e2e::{Browser, Driver, Stage, bounded, poll, seed, site};

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
    b.see("At least 12 characters, with a lower-case letter")
        .await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;

    // The code arrives by mail (the stage's outbox); confirming leads to sign-in.
    b.at("/confirm").await;
    let code = stage.mailed_code(EMAIL, "confirm").await;
    b.fill("code", &code).await;
    b.click("button[type=submit]").await;
    b.at("/signin").await;
    // Confirmed: sign-in says so, the address already filled in.
    b.see("Your account is confirmed. Sign in to start.").await;
    assert_eq!(
        b.js("return document.querySelector('input[name=email]').value;")
            .await,
        Value::String(EMAIL.into())
    );
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

    // Open one photo: the lightbox, and its info panel with the metadata.
    b.click(".grid .tile").await;
    poll("the lightbox", Duration::from_secs(20), || async {
        let path = b.path().await;
        if path.starts_with("/photos/") {
            Ok(())
        } else {
            Err(path)
        }
    })
    .await;
    let photo_path = b.path().await;
    b.find(".lightbox figure img").await;
    b.click("button[aria-label=\"Info\"]").await;
    b.find(".lightbox .lb-info dl").await;
    b.see("Dimensions").await;
    loaded_image(&b, ".lightbox figure img").await;
    b.screenshot("lightbox").await;
    b.click("button[aria-label=\"Close\"]").await;
    b.at("/").await;

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
    b.click("button[aria-label=\"Info\"]").await;
    b.find(".lb-info select[aria-label=\"Album\"] option").await;
    b.click_button("Add to album").await;
    b.see("Added to the album.").await;
    b.click("button[aria-label=\"Close\"]").await;
    b.at("/").await;
    b.goto(&format!("{base}{album_path}")).await;
    b.find_at_least(".grid .tile", 1, Duration::from_secs(20))
        .await;

    // Share the album and read the link from the dialog.
    b.click_button("Share").await;
    b.find("dialog.share select option").await;
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
    loaded_image(&guest, ".public .tile img").await;
    let storage = guest
        .js("return window.localStorage.length;")
        .await
        .as_u64();
    assert_eq!(storage, Some(0), "the guest has no session");
    let shot = guest.screenshot("share").await;
    eprintln!("share page screenshot: {}", shot.display());

    // The owner revokes the link; the guest's reload is refused.
    b.click_button("Close").await;
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
            .find(Locator::Css(".public .tile"))
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
    b.find(".lightbox").await;
    b.click("button[aria-label=\"Delete\"]").await;
    b.accept_dialog().await;
    // The lightbox moves on to the next photo; Escape returns to the timeline.
    b.see("Deleted.").await;
    b.js("document.activeElement.blur(); document.querySelector('.lightbox').focus();")
        .await;
    b.step("pressing Escape", |c| async move {
        c.find(Locator::Css(".lightbox"))
            .await?
            .send_keys("\u{e00c}")
            .await
    })
    .await;
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
    b.see("Your password is changed. Sign in with the new one.")
        .await;
    b.fill("email", EMAIL).await;
    b.fill("password", NEW_PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;
    b.see("Your photos").await;
    b.close().await;
}

/// In the page: scrolls the first element `css` matches (or the window) one screen further
/// once every image of `css_images` on screen has loaded, and reports
/// `[images, loaded, at_bottom, renewed]`: how many images there are, how many have loaded,
/// whether the page is scrolled to its end, and how many a renewal gave a fresh link.
fn scroll_step(css_images: &str) -> String {
    format!(
        "const imgs = [...document.querySelectorAll('{css_images}')];\
         const loaded = (i) => i.complete && i.naturalWidth > 0;\
         const onScreen = imgs.filter((i) => {{ const r = i.getBoundingClientRect();\
           return r.bottom > 0 && r.top < innerHeight; }});\
         const bottom = scrollY + innerHeight >= document.documentElement.scrollHeight - 2;\
         if (onScreen.every(loaded) && !bottom) {{ scrollBy(0, innerHeight * 0.8); }}\
         return [imgs.length, imgs.filter(loaded).length, bottom,\
                 document.querySelectorAll('img[data-renewed]').length];"
    )
}

/// Scrolls the page through every image of `css_images`, waiting for each screen to load,
/// until all `n` are loaded; returns how many images a renewal gave a fresh link.
async fn scroll_through(b: &Browser, css_images: &str, n: u64) -> u64 {
    let script = scroll_step(css_images);
    poll(
        &format!("every one of {n} images `{css_images}` loaded, scrolling"),
        Duration::from_secs(180),
        || async {
            let v = b.js(&script).await;
            match (v[0].as_u64(), v[1].as_u64(), v[2].as_bool(), v[3].as_u64()) {
                (Some(all), Some(loaded), Some(true), Some(renewed)) if all == n && loaded == n => {
                    Ok(renewed)
                }
                _ => Err(format!("[images, loaded, at bottom, renewed] = {v}")),
            }
        },
    )
    .await
}

/// In the page: the gallery's first screen once its thumbnails have loaded, as
/// `[on screen, their requests, bytes over the network, requests from the cache]` read from
/// resource timing (a cache hit transfers 0 bytes); `null` until then. Only the requests of
/// the images on screen count: the browser also fetches lazy images below the fold, and a
/// visit left before those finish leaves the next visit to fetch them.
const FIRST_SCREEN: &str = "const imgs = [...document.querySelectorAll('.grid .tile img')]\
      .filter((i) => { const r = i.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; });\
    if (imgs.length === 0 || !imgs.every((i) => i.complete && i.naturalWidth > 0)) return null;\
    const srcs = new Set(imgs.map((i) => i.currentSrc));\
    const media = performance.getEntriesByType('resource')\
      .filter((r) => r.initiatorType === 'img' && srcs.has(r.name));\
    return [imgs.length, media.length, media.reduce((s, r) => s + r.transferSize, 0),\
            media.filter((r) => r.transferSize === 0).length];";

/// Reads the gallery's first screen (see [`FIRST_SCREEN`]) once it has loaded.
async fn first_screen(b: &Browser) -> [u64; 4] {
    poll(
        "the gallery's first screen of thumbnails",
        Duration::from_secs(60),
        || async {
            let v = b.js(FIRST_SCREEN).await;
            match v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
            {
                Some(n) if n.len() == 4 => Ok([n[0], n[1], n[2], n[3]]),
                _ => Err(format!("{v}")),
            }
        },
    )
    .await
}

const GALLERY: usize = 200;
const SHARED: usize = 100;
const OWNER: &str = "grace@example.com";
const SHARE_PASSWORD: &str = "guest-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_links_come_from_the_cache_and_renew_themselves() {
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded(
        "the media links flow",
        Duration::from_secs(900),
        links_flow(),
    )
    .await;
}

/// A gallery of 200 photos and a password-protected shared album, each left open past its
/// links' lifetime on a stage whose clock the test moves.
async fn links_flow() {
    let (owner, guest) = (Limits::DEFAULT_OWNER_LINKS, Limits::DEFAULT_SHARE_LINKS);
    // Begin 5 s into an owner window (which is also a share window).
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    let window = real - real.rem_euclid(owner.window_secs);
    let clock = Arc::new(ManualClock::new(Timestamp::from_secs(window + 5)));
    let stage = {
        let clock = clock.clone();
        Stage::start_with(move |o| o.clock = Some(clock)).await
    };
    let base = stage.base.clone();
    seed::account_with_photos(&stage, OWNER, PASSWORD, GALLERY).await;
    let driver = Driver::start().await;
    let b = driver.browser().await;
    b.goto(&format!("{base}/signin")).await;
    b.fill("email", OWNER).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;

    // The first visit (signing in leads to the gallery) downloads the first screen's
    // thumbnails; a second within the window takes every one from the browser's cache.
    let [shown, requests, bytes, cached] = first_screen(&b).await;
    eprintln!(
        "first visit: {shown} on screen, {requests} image requests, {bytes} B, {cached} cached"
    );
    assert!(
        bytes > 0 && requests >= shown,
        "the first visit downloads thumbnails"
    );
    assert_eq!(cached, 0, "a new browser has nothing cached");
    b.goto(&format!("{base}/")).await;
    let [shown, requests, bytes, cached] = first_screen(&b).await;
    eprintln!(
        "second visit: {shown} on screen, {requests} image requests, {bytes} B, {cached} cached"
    );
    // From the disk cache an image has an entry of 0 bytes; from the memory cache, none.
    assert_eq!(bytes, 0, "the second visit downloads no thumbnail");
    assert_eq!(cached, requests, "every thumbnail from the cache");

    // Every page of the gallery listed with "Load more" (as a keyboard user does), staying
    // at the top: the thumbnails further down are not loaded, nor requested, yet; their links
    // are this window's.
    poll(
        "every page of the gallery listed",
        Duration::from_secs(60),
        || async {
            let n = b
                .js("const more = [...document.querySelectorAll('button')]\
                       .find((x) => x.textContent === 'Load more' && !x.hidden);\
                     if (more) more.click();\
                     return document.querySelectorAll('.grid .tile').length;")
                .await;
            match n.as_u64() {
                Some(n) if n == GALLERY as u64 => Ok(()),
                _ => Err(format!("{n} tiles")),
            }
        },
    )
    .await;
    let unloaded = b
        .js("return [...document.querySelectorAll('.grid .tile img')]\
             .filter((i) => !(i.complete && i.naturalWidth > 0)).length;")
        .await;
    eprintln!("thumbnails not loaded before their links expire: {unloaded}");
    assert!(
        unloaded.as_u64() > Some(GALLERY as u64 / 2),
        "most thumbnails wait for a scroll: {unloaded}"
    );
    // Left open past every link's lifetime: the thumbnails not yet shown get fresh links as
    // they fail, without a reload, and the session renews itself too.
    b.js("window.sameDocument = true;").await;
    clock.advance_secs(owner.window_secs + owner.lifetime_secs);
    let renewed = scroll_through(&b, ".grid .tile img", GALLERY as u64).await;
    assert!(
        renewed > 0,
        "some thumbnails had expired links and were renewed"
    );
    assert_eq!(
        b.js("return window.sameDocument === true;").await,
        Value::Bool(true),
        "the gallery recovered without a reload"
    );

    // A viewer left open as long: "Download original" fetches a fresh link before it is
    // followed. (The page's clock is moved with the stage's: the link's age is the page's.)
    b.click(".grid .tile").await;
    b.find(".lightbox a[download]").await;
    let href = "return document.querySelector('.lightbox a[download]').href;";
    let issued = b
        .js(href)
        .await
        .as_str()
        .expect("a download link")
        .to_owned();
    let ahead = owner.window_secs + owner.lifetime_secs;
    clock.advance_secs(ahead);
    b.js(&format!(
        "const now = Date.now; Date.now = () => now() + {};",
        ahead * 1000
    ))
    .await;
    let http = web_e2e::http();
    let status = |url: String| {
        let http = http.clone();
        async move {
            http.get(&url)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or_default()
        }
    };
    assert_eq!(
        status(issued.clone()).await,
        403,
        "the viewer's link expired"
    );
    b.click(".lightbox a[download]").await;
    let fresh = poll("a fresh download link", Duration::from_secs(30), || async {
        match b.js(href).await.as_str() {
            Some(url) if url != issued => Ok(url.to_owned()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(status(fresh).await, 200, "the fresh link downloads");

    // A guest's shared album behind a password, left open past its links' lifetime (at most
    // an hour from issue), recovers too, without asking for the password again.
    let token = stage.sign_in(OWNER, PASSWORD).await;
    let photos = seed::listed(&stage, &token).await.expect("the listing");
    let ids: Vec<String> = photos[..SHARED]
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    let album_id = seed::album(&stage, &token, "Left open", &ids).await;
    let share_token = seed::share(
        &stage,
        &token,
        json!({"album_id": album_id, "password": SHARE_PASSWORD}),
    )
    .await;
    let visitor = driver.browser().await;
    visitor.goto(&format!("{base}/s/{share_token}")).await;
    visitor.fill("password", SHARE_PASSWORD).await;
    visitor.click("button[type=submit]").await;
    visitor.see("Left open").await;
    loaded_image(&visitor, ".public .tile img").await;
    let unloaded = visitor
        .js("return [...document.querySelectorAll('.public .tile img')]\
             .filter((i) => !(i.complete && i.naturalWidth > 0)).length;")
        .await;
    eprintln!("shared photos not loaded before their links expire: {unloaded}");
    assert!(
        unloaded.as_u64() > Some(SHARED as u64 / 2),
        "most shared photos wait for a scroll: {unloaded}"
    );
    visitor.js("window.sameDocument = true;").await;
    clock.advance_secs(guest.window_secs + guest.lifetime_secs + 1);
    let renewed = scroll_through(&visitor, ".public .tile img", SHARED as u64).await;
    assert!(
        renewed > 0,
        "some shared photos had expired links and were renewed"
    );
    assert_eq!(
        visitor
            .js("return [window.sameDocument === true, !!document.querySelector('input[type=password]')];")
            .await,
        json!([true, false]),
        "the shared album recovered without a reload or a password prompt"
    );
    visitor.close().await;
    b.close().await;
}

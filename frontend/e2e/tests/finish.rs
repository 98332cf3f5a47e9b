//! The finish of the web app in headless Chromium against a local stage: a window title per
//! page, an icon, the focus ring's contrast against what is behind it (computed styles, at
//! least 3:1 as WCAG asks of focus indicators), and pictures whose alternative text is a name
//! or a date, never an id, for the owner and for a guest.

use std::time::Duration;

use serde_json::{Value, json};
use web_e2e::fantoccini::actions::{InputSource, KeyAction, KeyActions};
use web_e2e::fantoccini::key::Key;
use web_e2e::{Browser, Driver, Stage, bounded, poll, seed, site};

const EMAIL: &str = "noor@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_icon_focus_ring_and_alt_text() {
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded("the finish", Duration::from_secs(600), flow()).await;
}

/// Waits for the window's title.
async fn titled(b: &Browser, want: &str) {
    poll(
        &format!("the title {want:?}"),
        Duration::from_secs(20),
        || async {
            match b.js("return document.title;").await.as_str() {
                Some(t) if t == want => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
}

/// WCAG's relative luminance of `rgb(r, g, b)`.
fn luminance(css: &str) -> f64 {
    let v: Vec<f64> = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("a colour: {css}"))
                / 255.0
        })
        .map(|c| {
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
        .collect();
    0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
}

fn contrast(a: &str, b: &str) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// In the page: the focused element's outline colour and width, and the colour behind the
/// outline (the first opaque background among its ancestors, the outline sitting outside it).
const RING: &str = "const e = document.activeElement; const s = getComputedStyle(e);\
    let p = e.parentElement; let bg = 'rgb(255, 255, 255)';\
    while (p) { const c = getComputedStyle(p).backgroundColor; if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; } p = p.parentElement; }\
    return [e.tagName, s.outlineStyle, s.outlineWidth, s.outlineColor, bg];";

/// Tabs until `css` has keyboard focus, then checks its ring.
async fn ring_of(b: &Browser, css: &str) -> f64 {
    let is = format!("return document.activeElement.matches('{css}');");
    for _ in 0..40 {
        if b.js(&is).await == Value::Bool(true) {
            break;
        }
        b.step("pressing Tab", |c| async move {
            c.perform_actions(
                KeyActions::new("keyboard".into())
                    .then(KeyAction::Down {
                        value: Key::Tab.into(),
                    })
                    .then(KeyAction::Up {
                        value: Key::Tab.into(),
                    }),
            )
            .await
        })
        .await;
    }
    assert_eq!(b.js(&is).await, Value::Bool(true), "{css} reached by Tab");
    let v = b.js(RING).await;
    let (style, width, colour, behind) = (
        v[1].as_str().unwrap_or_default(),
        v[2].as_str().unwrap_or_default(),
        v[3].as_str().unwrap_or_default(),
        v[4].as_str().unwrap_or_default(),
    );
    assert_eq!(style, "solid", "{css}: {v}");
    assert!(
        width
            .trim_end_matches("px")
            .parse::<f64>()
            .unwrap_or_default()
            >= 2.0,
        "{css}: {v}"
    );
    let ratio = contrast(colour, behind);
    eprintln!("focus ring of {css}: {colour} on {behind}, {ratio:.2}:1");
    ratio
}

/// Every picture's alternative text, with the photo ids it must not be.
async fn alts(b: &Browser, css: &str) -> Vec<String> {
    let v = b
        .js(&format!(
            "return [...document.querySelectorAll('{css}')].map((i) => i.getAttribute('alt'));"
        ))
        .await;
    v.as_array()
        .expect("alts")
        .iter()
        .map(|a| a.as_str().unwrap_or("(none)").to_owned())
        .collect()
}

async fn flow() {
    let stage = Stage::start().await;
    let base = stage.base.clone();
    let driver = Driver::start().await;
    let b = driver.browser().await;

    // Signed out: each account page has its title; the sign-in page says what the app is.
    for (path, title) in [
        ("/signin", "Sign in · Photos"),
        ("/signup", "Create an account · Photos"),
        ("/reset", "Reset your password · Photos"),
        ("/confirm", "Confirm your account · Photos"),
    ] {
        b.goto(&format!("{base}{path}")).await;
        titled(&b, title).await;
    }
    b.goto(&format!("{base}/signin")).await;
    b.see("private until you share them with a link").await;
    let icon = b
        .js("const l = document.querySelector('link[rel=icon]'); return l ? l.href.slice(0, 19) : null;")
        .await;
    assert_eq!(icon, json!("data:image/svg+xml,"), "an icon");
    // The sign-in button's ring on the page's background.
    let ratio = ring_of(&b, "button[type=submit]").await;
    assert!(ratio >= 3.0, "the focus ring's contrast is {ratio:.2}:1");

    // Photos without titles: one with a date taken, one without.
    let token = seed::account_with_photos(&stage, EMAIL, PASSWORD, 0).await;
    let files = vec![
        (
            "beach.jpg".to_owned(),
            seed::dated_photo(1, 320, 240, "2024:06:01 14:03:09"),
        ),
        ("plain.jpg".to_owned(), seed::photo(2)),
        ("extra.jpg".to_owned(), seed::photo(3)),
    ];
    seed::upload_all(&stage, &token, files).await;
    let photos = seed::listed(&stage, &token).await.expect("the listing");
    let ids: Vec<String> = photos
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    let id_of = |name: &str| {
        photos
            .iter()
            .find(|p| p["file_name"] == name)
            .and_then(|p| p["id"].as_str())
            .expect("a seeded photo")
            .to_owned()
    };
    let (extra, in_album) = (id_of("extra.jpg"), [id_of("beach.jpg"), id_of("plain.jpg")]);
    let album_id = seed::album(&stage, &token, "Summer", &in_album).await;
    let share_token = seed::share(&stage, &token, json!({"album_id": album_id})).await;

    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;
    titled(&b, "Your photos · Photos").await;
    b.find_at_least(".tile img", 3, Duration::from_secs(30))
        .await;
    let on_wall = alts(&b, ".tile img").await;
    assert_eq!(on_wall.len(), 3);
    for alt in &on_wall {
        assert!(
            !ids.contains(alt) && !alt.is_empty() && alt != "(none)",
            "alt {alt:?}"
        );
    }
    for (path, title) in [
        ("/albums".to_owned(), "Albums · Photos".to_owned()),
        ("/shares".to_owned(), "Shared links · Photos".to_owned()),
        (format!("/albums/{album_id}"), "Summer · Photos".to_owned()),
        (
            format!("/photos/{}", ids[0]),
            format!(
                "{} · Photos",
                photos[0]["file_name"].as_str().unwrap_or_default()
            ),
        ),
        (
            "/no-such-page".to_owned(),
            "Page not found · Photos".to_owned(),
        ),
    ] {
        b.goto(&format!("{base}{path}")).await;
        titled(&b, &title).await;
    }
    // An album shows its cover, its count and when its photos were taken; photos are added
    // from inside it.
    b.goto(&format!("{base}/albums")).await;
    b.see("2 photos · Jun 2024").await;
    b.images_loaded("a.album .cover img", 1).await;
    b.screenshot("albums-desktop").await;
    b.click("a.album").await;
    b.at(&format!("/albums/{album_id}")).await;
    b.click("a.button").await;
    b.at("/").await;
    b.see("Select the photos to add to “Summer”").await;
    b.click(&format!(".tile[data-id=\"{extra}\"] .check")).await;
    b.find(&format!(".selection select option[value=\"{album_id}\"]"))
        .await;
    b.click_button("Add to album").await;
    b.at(&format!("/albums/{album_id}")).await;
    b.find_at_least(".tile img", 3, Duration::from_secs(30))
        .await;
    b.see("3 photos · Jun 2024").await;

    // From a lightbox to another page by Back: that page's title, not the lightbox's page's.
    b.goto(&format!("{base}/shares")).await;
    titled(&b, "Shared links · Photos").await;
    b.click("a[href=\"/\"]").await;
    b.find_at_least(".tile .open", 1, Duration::from_secs(20))
        .await;
    b.click(".tile .open").await;
    b.find(".lightbox").await;
    b.step("going back twice", |c| async move {
        c.back().await?;
        c.back().await
    })
    .await;
    b.at("/shares").await;
    titled(&b, "Shared links · Photos").await;

    // The lightbox's buttons ring on its dark background.
    b.goto(&format!("{base}/photos/{}", ids[0])).await;
    b.find(".lightbox .lb-bar button").await;
    let ratio = ring_of(&b, "button[aria-label=\"Info\"]").await;
    assert!(ratio >= 3.0, "the lightbox's focus ring: {ratio:.2}:1");

    // A guest sees names from dates, never ids, in a new browser.
    let guest = driver.browser().await;
    guest.goto(&format!("{base}/s/{share_token}")).await;
    guest.see("Summer").await;
    guest
        .find_at_least(".public img", 2, Duration::from_secs(30))
        .await;
    let shared = alts(&guest, ".public img").await;
    assert!(
        shared.contains(&"Photo taken 1 Jun 2024".to_owned()),
        "the dated photo is named by its date: {shared:?}"
    );
    for alt in &shared {
        assert!(
            !ids.contains(alt) && !alt.is_empty() && alt != "(none)",
            "alt {alt:?}"
        );
    }
    guest.close().await;
    b.close().await;
}

//! The timeline and the lightbox in headless Chromium against a local stage: photos whose EXIF
//! dates differ from their upload order, shown by date taken under day and month headers; a
//! photo opened and closed at the same scroll position with focus moving in and back; previous
//! and next on a deep-linked photo after a reload; a shift-click range added to an album in one
//! batch; and the phone's screen. Screenshots of each, desktop and phone.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde_json::Value;
use web_e2e::fantoccini::actions::{
    Actions, InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
    TouchActions,
};
use web_e2e::fantoccini::elements::Element;
use web_e2e::fantoccini::key::Key;
use web_e2e::{Browser, Driver, Stage, bounded, poll, seed, site};

const EMAIL: &str = "lin@example.com";
const PASSWORD: &str = "Correct-Horse-Battery-Staple-9";

/// A civil date from days since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// One seeded photo: its file name, its EXIF date, and the header it belongs under.
struct Shot {
    name: String,
    taken: String,
    header: String,
}

/// 70 photos (more than the first page of 60): six taken yesterday, four three days ago, and
/// twenty in each of March 2025, November 2024 and July 2019; landscape, portrait and wide.
/// Listed newest first, each a minute apart within its day. `today`: days since 1970 on the
/// browser's calendar (which decides what "yesterday" is).
fn shots(today: i64) -> Vec<Shot> {
    let day = |d: i64| {
        let (y, m, d) = civil(d);
        format!("{y:04}-{m:02}-{d:02}")
    };
    let groups = [
        (day(today - 1), 6),
        (day(today - 3), 4),
        ("2025-03".to_owned(), 20),
        ("2024-11".to_owned(), 20),
        ("2019-07".to_owned(), 20),
    ];
    let mut out = Vec::new();
    for (header, n) in groups {
        for k in 0..n {
            let date = if header.len() == 10 {
                header.clone()
            } else {
                format!("{header}-{:02}", 28 - k)
            };
            out.push(Shot {
                name: format!("shot-{:02}.jpg", out.len()),
                taken: format!(
                    "{} {:02}:{:02}:00",
                    date.replace('-', ":"),
                    20 - k / 60,
                    59 - k % 60
                ),
                header: header.clone(),
            });
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_lightbox_and_selection() {
    tokio::task::spawn_blocking(site).await.unwrap();
    bounded("the timeline flow", Duration::from_secs(600), flow()).await;
}

/// The tiles' names (their links' labels) in the order the page shows them.
async fn tile_names(b: &Browser) -> Vec<String> {
    let v = b
        .js("return [...document.querySelectorAll('.tile .open')].map((a) => a.getAttribute('aria-label'));")
        .await;
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Holds Shift while clicking `css`, as a user does (WebDriver actions, not a made-up event).
async fn shift_click(b: &Browser, css: &str) {
    let element = b.find(css).await;
    let none = Duration::from_millis(0);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down {
            value: Key::Shift.into(),
        })
        .then(KeyAction::Pause { duration: none })
        .then(KeyAction::Pause { duration: none })
        .then(KeyAction::Pause { duration: none })
        .then(KeyAction::Up {
            value: Key::Shift.into(),
        });
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::Pause { duration: none })
        .then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Pause { duration: none });
    b.step("shift-clicking", |c| async move {
        c.perform_actions(Actions::from(keys).and(mouse)).await
    })
    .await;
}

/// A pointer (mouse or finger) moved to the middle of `element`, pressed there for `hold` and
/// let go.
fn presses(element: Element, hold: Duration) -> Vec<PointerAction> {
    vec![
        PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        },
        PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        },
        PointerAction::Pause { duration: hold },
        PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        },
    ]
}

/// Checks that focus is inside the open lightbox, then opens its info panel.
async fn focus_then_info(b: &Browser) {
    b.until(
        "focus in the lightbox",
        "return !!document.activeElement.closest('.lightbox');",
    )
    .await;
    b.click("button[aria-label=\"Info\"]").await;
    b.find(".lb-info dl").await;
}

/// The numbers of a script's array.
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

async fn press(b: &Browser, key: Key) {
    b.step("pressing a key", |c| async move {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        c.perform_actions(keys).await
    })
    .await;
}

async fn window(b: &Browser, width: u32, height: u32) {
    b.step("sizing the window", |c| async move {
        c.set_window_size(width, height).await
    })
    .await;
}

async fn flow() {
    let stage = Stage::start().await;
    let base = stage.base.clone();
    let driver = Driver::start().await;
    let b = driver.browser().await;
    // Today as the page sees it, in the browser's time zone.
    let today = b
        .js("const d = new Date(); return Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000);")
        .await
        .as_i64()
        .expect("a day number");
    let shots = shots(today);
    let (token, _) = stage.account(EMAIL, PASSWORD).await;
    // Uploaded in an order unlike their dates: every 37th, round the list.
    let files = (0..shots.len())
        .map(|i| &shots[i * 37 % shots.len()])
        .enumerate()
        .map(|(i, s)| {
            let (w, h) = [(320, 240), (240, 320), (400, 160)][i % 3];
            (s.name.clone(), seed::dated_photo(i, w, h, &s.taken))
        })
        .collect();
    seed::upload_all(&stage, &token, files).await;
    let ids: HashMap<String, String> = seed::listed(&stage, &token)
        .await
        .expect("the listing")
        .into_iter()
        .map(|p| {
            (
                p["file_name"].as_str().unwrap_or_default().to_owned(),
                p["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let id = |i: usize| ids[&shots[i].name].clone();

    window(&b, 1440, 900).await;
    b.goto(&format!("{base}/signin")).await;
    b.fill("email", EMAIL).await;
    b.fill("password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.at("/").await;

    // Every photo, by date taken, under its header: scrolled to the end, the second page is in.
    poll(
        "every photo on the timeline",
        Duration::from_secs(60),
        || async {
            b.js("window.scrollTo(0, document.documentElement.scrollHeight);")
                .await;
            match tile_names(&b).await.len() {
                n if n == shots.len() => Ok(()),
                n => Err(format!("{n} tiles")),
            }
        },
    )
    .await;
    let expected: Vec<&str> = shots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(tile_names(&b).await, expected, "the order by date taken");
    let headers = b
        .js("return [...document.querySelectorAll('.wall section')].map((s) => [s.dataset.key, s.querySelector('h2').textContent, s.querySelectorAll('.tile').length]);")
        .await;
    let mut want = Vec::new();
    for s in &shots {
        if want.last().map(|(h, _): &(String, usize)| h) != Some(&s.header) {
            want.push((s.header.clone(), 0));
        }
        want.last_mut().expect("pushed").1 += 1;
    }
    let got: Vec<(String, usize)> = headers
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap_or_default().to_owned(),
                h[2].as_u64().unwrap_or_default() as usize,
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "a header a day for recent photos, a month for older ones"
    );
    let labels: Vec<&str> = headers
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h[1].as_str())
        .collect();
    assert_eq!(labels[0], "Yesterday", "{labels:?}");
    assert_eq!(&labels[2..], ["March 2025", "November 2024", "July 2019"]);
    // The scrubber has the months, with their years.
    let marks = b
        .js("return [...document.querySelectorAll('.scrubber .year')].map((m) => m.textContent);")
        .await;
    assert!(marks.to_string().contains("2019"), "the scrubber: {marks}");

    // Open a photo from the middle of the page and close it with Escape: the timeline is where
    // it was, focus went into the lightbox and comes back to the photo's tile.
    b.js("window.scrollTo(0, 0);").await;
    b.click(".scrubber .mark[data-month=\"2024-11\"]").await;
    b.until("the scrubber jumped", "return window.scrollY > 300;")
        .await;
    b.js("window.scrollBy(0, -120);").await;
    let picked = b
        .js("const t = [...document.querySelectorAll('.tile')].find((t) => { const r = t.getBoundingClientRect(); return r.top > 150 && r.bottom < innerHeight - 50; });\
             t.dataset.picked = '1'; return [scrollY, t.dataset.id];")
        .await;
    let (before, picked_id) = (
        picked[0].as_f64().expect("scrollY"),
        picked[1].as_str().expect("a tile").to_owned(),
    );
    b.click(".tile[data-picked] .open").await;
    b.at(&format!("/photos/{picked_id}")).await;
    focus_then_info(&b).await;
    b.see("Taken").await;
    b.screenshot("timeline-lightbox-info-desktop").await;
    press(&b, Key::Escape).await;
    b.at("/").await;
    let after = b
        .js("return window.scrollY;")
        .await
        .as_f64()
        .expect("scrollY");
    assert!(
        (after - before).abs() <= 10.0,
        "scrolled to {before} before the lightbox, {after} after"
    );
    assert_eq!(
        b.js("return document.activeElement.closest('.tile')?.dataset.id ?? null;")
            .await,
        Value::String(picked_id),
        "focus is back on the photo's tile"
    );
    b.screenshot("timeline-desktop").await;

    // A deep link to a photo of the second page, reloaded: previous and next work.
    b.goto(&format!("{base}/photos/{}", id(63))).await;
    b.find(".lightbox").await;
    b.until("previous and next",
        "return !document.querySelector('.lb-prev').hidden && !document.querySelector('.lb-next').hidden;",
    )
    .await;
    b.click(".lb-next").await;
    b.at(&format!("/photos/{}", id(64))).await;
    press(&b, Key::Left).await;
    b.at(&format!("/photos/{}", id(63))).await;
    b.click(".lb-prev").await;
    b.at(&format!("/photos/{}", id(62))).await;
    press(&b, Key::Escape).await;
    b.at("/").await;

    // Shift-click selects a range; the bar adds exactly those to an album in one batch.
    let album_id = seed::album(&stage, &token, "Trip", &[]).await;
    b.goto(&format!("{base}/")).await;
    b.find_at_least(".tile", 10, Duration::from_secs(30)).await;
    b.js("document.querySelectorAll('.tile').forEach((t, i) => t.dataset.n = i);")
        .await;
    b.click(".tile[data-n=\"2\"] .check").await;
    shift_click(&b, ".tile[data-n=\"6\"] .open").await;
    b.see("5 selected").await;
    b.find(".selection select option[value]").await;
    b.js(&format!(
        "const s = document.querySelector('.selection select'); s.value = '{album_id}';"
    ))
    .await;
    b.screenshot("selection-desktop").await;
    b.click_button("Add to album").await;
    b.see("Added 5 photos to the album.").await;
    let (status, page) = stage
        .api(
            "GET",
            &format!("/albums/{album_id}/photos?limit=100"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let added: BTreeSet<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    let range: BTreeSet<String> = (2..=6).map(id).collect();
    assert_eq!(added, range, "exactly the range shift-click selected");

    // Several photos are shared as a new album of them, through the same form as any share.
    b.click(".tile[data-n=\"8\"] .check").await;
    b.click(".tile[data-n=\"9\"] .check").await;
    b.see("2 selected").await;
    b.click_button("Share").await;
    b.see("of 2 photos to share them.").await;
    b.find("dialog.share select option").await;
    b.click("dialog.share button[type=submit]").await;
    let link = b
        .find("dialog.share input[aria-label=\"Share link\"]")
        .await;
    let url = b
        .step("reading the share link", |_| async move {
            link.prop("value").await
        })
        .await
        .unwrap_or_default();
    assert!(url.starts_with(&format!("{base}/s/")), "{url}");
    // Escape closes the dialog first, then clears the selection.
    press(&b, Key::Escape).await;
    b.until(
        "the dialog closed",
        "return !document.querySelector('dialog[open]');",
    )
    .await;
    assert_eq!(
        b.js("return document.querySelector('.selection').hidden;")
            .await,
        Value::Bool(false),
        "the selection outlives the dialog's Escape"
    );
    press(&b, Key::Escape).await;
    b.until(
        "the selection cleared",
        "return document.querySelector('.selection').hidden;",
    )
    .await;

    // The last photo of the first page, made a favourite, stays where it is.
    b.goto(&format!("{base}/")).await;
    b.find_at_least(".tile", 60, Duration::from_secs(30)).await;
    b.js("document.querySelectorAll('.tile').forEach((t, i) => t.dataset.n = i);")
        .await;
    let last = b
        .js("return document.querySelector('.tile[data-n=\"59\"]').dataset.id;")
        .await;
    b.click(".tile[data-n=\"59\"] .check").await;
    b.click_button("☆ Favourite").await;
    b.see("Added 1 photo to favourites.").await;
    b.until("the favourite's star, on its tile where it was",
        &format!("const t = document.querySelector('.tile[data-id={last}]'); return !!t && !!t.querySelector('.fav') && [...document.querySelectorAll('.tile')].indexOf(t) === 59;"),
    )
    .await;
    b.click("button[aria-label=\"Clear selection\"]").await;
    b.js("window.scrollTo(0, 0);").await;

    // Favourite two at once, then delete them, after a confirmation that says how many.
    b.click(".tile[data-n=\"12\"] .check").await;
    b.click(".tile[data-n=\"13\"] .check").await;
    b.click_button("☆ Favourite").await;
    b.see("Added 2 photos to favourites.").await;
    b.until("stars on both tiles",
        &format!(
            "return ['{}', '{}'].every((id) => !!document.querySelector(`.tile[data-id='${{id}}'] .fav`));",
            id(12),
            id(13)
        ),
    )
    .await;
    b.click_button("Delete").await;
    let question = poll("the confirmation", Duration::from_secs(10), || async {
        b.client.get_alert_text().await.map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(question, "Delete 2 photos? This cannot be undone.");
    b.accept_dialog().await;
    b.see("Deleted 2 photos.").await;
    for i in [12, 13] {
        let (status, _) = stage
            .api("GET", &format!("/photos/{}", id(i)), &token, None)
            .await;
        assert_eq!(status, 404, "photo {i} deleted");
    }
    assert_eq!(tile_names(&b).await.len(), shots.len() - 2);

    // A photo of an album opens over the album; a double-click zooms; Back returns to it.
    b.goto(&format!("{base}/albums/{album_id}")).await;
    b.find_at_least(".tile img", 5, Duration::from_secs(30))
        .await;
    b.click(".tile .open").await;
    poll("the album's lightbox", Duration::from_secs(20), || async {
        let path = b.path().await;
        if path.starts_with(&format!("/albums/{album_id}/photos/")) {
            Ok(())
        } else {
            Err(path)
        }
    })
    .await;
    let picture = b.find(".lb-photo img").await;
    let mut clicks = presses(picture, Duration::ZERO);
    clicks.extend(clicks.clone().into_iter().skip(1));
    let mouse = clicks
        .into_iter()
        .fold(MouseActions::new("mouse".into()), MouseActions::then);
    b.step("double-clicking the picture", |c| async move {
        c.perform_actions(mouse).await
    })
    .await;
    b.until(
        "the picture zoomed",
        "return document.querySelector('.lb-photo img').style.transform.includes('scale(2.5');",
    )
    .await;
    b.step("going back", |c| async move { c.back().await })
        .await;
    b.at(&format!("/albums/{album_id}")).await;
    b.until(
        "the lightbox closed",
        "return !document.querySelector('.lightbox');",
    )
    .await;

    // Deleting a photo in the lightbox moves on to the next one.
    b.goto(&format!("{base}/photos/{}", id(10))).await;
    b.find(".lightbox").await;
    b.until(
        "a next photo",
        "return !document.querySelector('.lb-next').hidden;",
    )
    .await;
    b.click("button[aria-label=\"Delete\"]").await;
    b.accept_dialog().await;
    b.at(&format!("/photos/{}", id(11))).await;
    b.see("Deleted.").await;
    let (status, _) = stage
        .api("GET", &format!("/photos/{}", id(10)), &token, None)
        .await;
    assert_eq!(status, 404, "the photo is gone");
    press(&b, Key::Escape).await;
    b.at("/").await;

    // The phone: the header on one row, the timeline, a selection, and a lightbox that covers
    // the whole screen.
    window(&b, 390, 844).await;
    b.goto(&format!("{base}/")).await;
    b.find_at_least(".tile img", 6, Duration::from_secs(30))
        .await;
    let tops = b
        .js("const h = document.querySelector('header'); return [...h.children].map((c) => Math.round(c.getBoundingClientRect().top + c.getBoundingClientRect().height / 2));")
        .await;
    let tops = numbers(&tops);
    assert!(
        tops.iter().all(|t| (t - tops[0]).abs() <= 4.0),
        "the header's items share one row: {tops:?}"
    );
    b.screenshot("timeline-phone").await;
    // A long press selects, as on a touch screen.
    let first = b.find(".tile .open").await;
    let finger = presses(first, Duration::from_millis(900))
        .into_iter()
        .fold(TouchActions::new("finger".into()), TouchActions::then);
    b.step("a long press", |c| async move {
        c.perform_actions(finger).await
    })
    .await;
    b.see("1 selected").await;
    assert_eq!(
        b.js("return location.pathname;").await,
        Value::String("/".into()),
        "the long press selected rather than opened the photo"
    );
    b.screenshot("selection-phone").await;
    b.click("button[aria-label=\"Clear selection\"]").await;
    b.click(".tile .open").await;
    b.find(".lightbox").await;
    let covered = b
        .js("const r = document.querySelector('.lightbox').getBoundingClientRect(); return [r.left, r.top, r.width, r.height, innerWidth, innerHeight];")
        .await;
    let v = numbers(&covered);
    assert_eq!(
        (v[0], v[1], v[2], v[3]),
        (0.0, 0.0, v[4], v[5]),
        "the lightbox covers the viewport: {covered}"
    );
    focus_then_info(&b).await;
    b.screenshot("lightbox-info-phone").await;
    b.close().await;
}

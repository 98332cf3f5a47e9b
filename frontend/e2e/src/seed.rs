//! An account filled with photos through the stage's public HTTP surface, as the SPA fills one
//! (the Cognito endpoint, `POST /photos/uploads`, the S3-style POST, then the stage's own
//! processing), so the listing and the media a browser then loads are exactly what a real
//! account produces. The photos are small generated JPEGs, each different, so every one is a
//! distinct upload.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use testkit::local::LocalClient;

use crate::poll;

/// A small JPEG that differs from every other `i`: a colour gradient with a moving band.
pub fn photo(i: usize) -> Vec<u8> {
    let (w, h) = (320u16, 240u16);
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    let hue = (i * 37 % 256) as u8;
    for y in 0..h {
        for x in 0..w {
            let band = (usize::from(x) + i * 7) % 64 < 8;
            let r = hue.wrapping_add((x / 2) as u8);
            let g = (y as u8).wrapping_mul(2).wrapping_add((i / 256) as u8 * 40);
            let b = if band { 255 } else { 255 - hue };
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a generated JPEG");
    out
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every photo of the account, newest first, as the API lists them.
pub async fn listed(client: &LocalClient, token: &str) -> Result<Vec<serde_json::Value>, String> {
    let (mut all, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut path = "/photos?limit=100".to_owned();
        if let Some(c) = &cursor {
            path.push_str("&cursor=");
            path.push_str(&urlencode(c));
        }
        let (status, page) = client.api("GET", &path, token, None).await;
        if status != 200 {
            return Err(format!("GET {path}: {status} {page}"));
        }
        all.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(all),
        }
    }
}

/// Creates the account and uploads `photos` photos over HTTP as the SPA does (ask the API,
/// then POST the form to the bucket), eight at a time; waits until all are processed and
/// returns the account's access token.
pub async fn account_with_photos(
    client: &LocalClient,
    email: &str,
    password: &str,
    photos: usize,
) -> String {
    let (token, _) = client.account(email, password).await;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, token, next) = (client.clone(), token.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= photos {
                    return;
                }
                client
                    .upload(&token, &format!("photo-{i:04}.jpg"), &photo(i))
                    .await;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.expect("an upload worker");
    }
    eprintln!(
        "seeded {photos} photos over HTTP in {:.1?}",
        started.elapsed()
    );
    let limit = Duration::from_secs(60 + photos as u64 / 2);
    poll("every seeded photo processed", limit, || async {
        let all = listed(client, &token).await?;
        match all.iter().filter(|p| p["status"] == "READY").count() {
            n if n >= photos => Ok(()),
            n => Err(format!("{n} of {photos} ready")),
        }
    })
    .await;
    eprintln!(
        "all {photos} photos processed {:.1?} after seeding started",
        started.elapsed()
    );
    token
}

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

/// A JPEG of `width`×`height` that differs from every other `i`, whose EXIF says it was taken
/// at `taken` on the camera's clock (`2024:06:01 14:03:09`, EXIF's own format).
pub fn dated_photo(i: usize, width: u16, height: u16, taken: &str) -> Vec<u8> {
    assert_eq!(taken.len(), 19, "EXIF dates are `YYYY:MM:DD HH:MM:SS`");
    let mut rgb = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    let hue = (i * 37 % 256) as u8;
    for y in 0..height {
        for x in 0..width {
            let band = (usize::from(x) + i * 7) % 64 < 8;
            rgb.extend_from_slice(&[
                hue.wrapping_add((x / 2) as u8),
                (y as u8).wrapping_mul(2),
                if band { 255 } else { 255 - hue },
            ]);
        }
    }
    // A little-endian TIFF: IFD0 holds one entry, the pointer to the Exif IFD, which holds
    // DateTimeOriginal (0x9003, ASCII, 20 bytes with its NUL) stored after it.
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |tag: u16, ty: u16, count: u32, value: u32| {
        let mut e = Vec::new();
        e.extend_from_slice(&tag.to_le_bytes());
        e.extend_from_slice(&ty.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&value.to_le_bytes());
        e
    };
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend(entry(0x8769, 4, 1, 26));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend(entry(0x9003, 2, 20, 44));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(taken.as_bytes());
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    encoder
        .add_app_segment(1, app1)
        .expect("an EXIF segment fits");
    encoder
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a generated JPEG");
    out
}

/// Uploads `files` (name and bytes) over HTTP as the SPA does, eight at a time, in the order
/// given, and waits until every one is processed.
pub async fn upload_all(client: &LocalClient, token: &str, files: Vec<(String, Vec<u8>)>) {
    let n = files.len();
    let files = Arc::new(files);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, token, next, files) = (
            client.clone(),
            token.to_owned(),
            next.clone(),
            files.clone(),
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((name, bytes)) = files.get(i) else {
                    return;
                };
                client.upload(&token, name, bytes).await;
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.expect("an upload worker");
    }
    let limit = Duration::from_secs(60 + n as u64 / 2);
    poll("every seeded photo processed", limit, || async {
        let all = listed(client, token).await?;
        match all.iter().filter(|p| p["status"] == "READY").count() {
            ready if ready >= n => Ok(()),
            ready => Err(format!("{ready} of {n} ready")),
        }
    })
    .await;
}

/// Makes an album named `name` of the photos `ids` through the API; its id.
pub async fn album(client: &LocalClient, token: &str, name: &str, ids: &[String]) -> String {
    let body = serde_json::json!({ "name": name });
    let (status, album) = client.api("POST", "/albums", token, Some(body)).await;
    assert_eq!(status, 201, "creating an album: {album}");
    let album_id = album["id"].as_str().expect("an album id").to_owned();
    for id in ids {
        let path = format!("/albums/{album_id}/photos/{id}");
        let (status, body) = client.api("PUT", &path, token, None).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
    }
    album_id
}

/// Makes a share link through the API (`body` as `POST /shares` takes it); its token.
pub async fn share(client: &LocalClient, token: &str, body: serde_json::Value) -> String {
    let (status, share) = client.api("POST", "/shares", token, Some(body)).await;
    assert_eq!(status, 201, "creating a share link: {share}");
    share["token"].as_str().expect("a share token").to_owned()
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
    let files = (0..photos)
        .map(|i| (format!("photo-{i:04}.jpg"), photo(i)))
        .collect();
    upload_all(client, &token, files).await;
    eprintln!(
        "seeded and processed {photos} photos over HTTP in {:.1?}",
        started.elapsed()
    );
    token
}

//! Acceptance tests: the whole API over the in-memory adapters, called through the router.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use serde_json::{Value, json};

use common::{App, bytes, sha256_hex, user};
use photo_domain::Timestamp;

#[tokio::test]
async fn upload_process_and_read_back() {
    let app = App::new();
    let content = bytes(1, 500);
    let (status, body) = app.start_upload("alice", &content).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["photo"]["status"], "PENDING");
    let fields = &body["upload"]["fields"];
    assert_eq!(fields["Content-Type"], "image/jpeg");
    assert!(
        fields["key"]
            .as_str()
            .unwrap()
            .starts_with("uploads/alice/")
    );
    let id = body["photo"]["id"].as_str().unwrap().to_owned();
    // Nothing is in the bucket until the browser uploads.
    assert!(app.store.keys().is_empty());

    let id2 = app.upload("alice", &bytes(2, 400)).await;
    let (status, photo) = app
        .as_user("alice", "GET", &format!("/photos/{id2}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{photo}");
    assert_eq!(photo["status"], "READY");
    assert_eq!(photo["dimensions"], json!({"width": 4032, "height": 3024}));
    assert_eq!(
        (&photo["taken_at"], &photo["taken_at_local"]),
        (
            &json!("2023-11-14T22:13:20.000Z"),
            &json!("2023-11-14T23:13:20+01:00")
        ),
        "the instant, and the camera's clock with its offset"
    );
    let (_, page) = app.as_user("alice", "GET", "/photos", None).await;
    assert_eq!(
        page["items"][0]["taken_at_local"],
        "2023-11-14T23:13:20+01:00"
    );
    assert_eq!(page["items"][0]["dimensions"], photo["dimensions"]);
    assert_eq!(photo["camera"], "Pixel 8");
    assert_eq!(photo["gps"]["latitude"], 48.8584, "the owner sees GPS");
    let now = app.clock_now();
    for (field, suffix) in [
        ("thumbnail_url", "/thumb.jpg"),
        ("preview_url", "/preview.jpg"),
        ("original_url", ""),
    ] {
        let url = photo[field].as_str().unwrap();
        let key = app
            .store
            .verify_download_url(url, now)
            .unwrap_or_else(|| panic!("{field} does not verify"));
        assert!(key.ends_with(&format!("{id2}{suffix}")), "{key}");
        let tampered = url.replace("alice", "bob");
        assert_eq!(app.store.verify_download_url(&tampered, now), None);
    }
    // Owner links last 12 hours after the end of their hour-long window, and no longer.
    let window_end = (now.secs() / 3600 + 1) * 3600;
    let thumbnail = photo["thumbnail_url"].as_str().unwrap();
    let just_before = Timestamp::from_secs(window_end + 12 * 3600 - 1);
    assert!(
        app.store
            .verify_download_url(thumbnail, just_before)
            .is_some()
    );
    assert_eq!(
        app.store
            .verify_download_url(thumbnail, just_before.plus_secs(1)),
        None,
        "expired"
    );

    // The pending one has no links yet.
    let (_, pending) = app
        .as_user("alice", "GET", &format!("/photos/{id}"), None)
        .await;
    assert_eq!(pending["thumbnail_url"], Value::Null);
    assert_eq!(pending["original_url"], Value::Null);

    let (_, me) = app.as_user("alice", "GET", "/me", None).await;
    assert_eq!(
        me,
        json!({"user_id": "alice", "display_name": null, "used_bytes": 900, "photo_count": 2, "quota_bytes": 2500, "max_upload_bytes": 1000, "max_share_days": 30})
    );
}

#[tokio::test]
async fn upload_refusals() {
    let app = App::new();
    let upload = |ct: &str, size: u64, sha: &str| json!({"file_name": "a.jpg", "content_type": ct, "size": size, "sha256": sha});
    let sha = sha256_hex(b"x");
    // Grouped by the refusal: `(status, code, bodies)`.
    let cases = [
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            vec![upload("image/jpeg", 1001, &sha)],
        ),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            vec![
                upload("image/gif", 10, &sha),
                upload("image/heif-sequence", 10, &sha),
            ],
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_input",
            vec![
                upload("image/jpeg", 0, &sha),
                upload("image/jpeg", 10, "abc"),
                json!({"file_name": "", "content_type": "image/png", "size": 1, "sha256": sha}),
            ],
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_body",
            vec![
                json!({"file_name": "a", "content_type": "image/png", "size": -1, "sha256": sha}),
                json!({"file_name": "a", "content_type": "image/png", "size": 1}),
                json!({"file_name": "a", "content_type": "image/png", "size": 1, "sha256": sha, "owner": "bob"}),
            ],
        ),
    ];
    for (status, code, bodies) in cases {
        for body in bodies {
            let (got, resp) = app
                .as_user("alice", "POST", "/photos/uploads", Some(body.clone()))
                .await;
            assert_eq!(
                (got, resp["error"]["code"].as_str().unwrap()),
                (status, code),
                "{body} -> {resp}"
            );
        }
    }
    // HEIC is taken; a HEIC sequence is not, and the refusal lists what is.
    let (status, sequence) = app
        .as_user(
            "alice",
            "POST",
            "/photos/uploads",
            Some(upload("image/heic-sequence", 10, &sha)),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{sequence}");
    assert!(
        sequence["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JPEG, PNG, WebP or HEIC"),
        "{sequence}"
    );
    assert!(
        app.repo.export().is_empty(),
        "refused uploads leave nothing: {:?}",
        app.repo.export()
    );
}

#[tokio::test]
async fn quota_is_refused_before_any_bytes_move() {
    let app = App::new();
    app.upload("alice", &bytes(1, 1000)).await;
    app.upload("alice", &bytes(2, 1000)).await;
    let before = app.snapshot();
    let (status, body) = app.start_upload("alice", &bytes(3, 501)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert!(
        body["upload"].is_null(),
        "no upload target for a refused upload"
    );
    assert_eq!(app.snapshot(), before, "nothing recorded, nothing signed");
    // Exactly filling the quota is fine, and another user has their own quota.
    let (status, _) = app.start_upload("alice", &bytes(3, 500)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.start_upload("bob", &bytes(4, 1000)).await;
    assert_eq!(status, StatusCode::CREATED);
    // Deleting gives the space back.
    let (_, page) = app.as_user("alice", "GET", "/photos", None).await;
    let oldest = page["items"][2]["id"].as_str().unwrap().to_owned();
    let oldest = format!("/photos/{oldest}");
    let alice = Some("alice");
    app.check(alice, &[("DELETE", &oldest, StatusCode::NO_CONTENT)])
        .await;
    let (status, _) = app.start_upload("alice", &bytes(5, 1000)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn duplicates_name_the_existing_photo() {
    let app = App::new();
    let content = bytes(1, 300);
    let id = app.upload("alice", &content).await;
    let (status, body) = app.start_upload("alice", &content).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "duplicate");
    assert_eq!(body["error"]["existing_photo_id"], id.as_str());
    // Another user uploading the same bytes is not a duplicate, and learns nothing of alice's id.
    let (status, body) = app.start_upload("bob", &content).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn pagination_is_newest_first_across_pages() {
    let app = App::new();
    let mut ids = Vec::new();
    for n in 0..7u8 {
        ids.push(app.upload("alice", &bytes(n, 10)).await);
        app.clock.advance_secs(if n % 2 == 0 { 0 } else { 60 });
    }
    app.upload("bob", &bytes(99, 10)).await;
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/photos?limit=3&cursor={c}"),
            None => "/photos?limit=3".to_owned(),
        };
        let (status, page) = app.as_user("alice", "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every photo once, newest first, none of bob's");
    let (_, all) = app.as_user("alice", "GET", "/photos", None).await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        7,
        "default limit covers them"
    );
    for bad in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "cursor=%ZZ",
    ] {
        let (status, body) = app
            .as_user("alice", "GET", &format!("/photos?{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_timeline_pages_every_photo_once_and_counts_its_months() {
    let app = App::new();
    let mut ids = Vec::new();
    for n in 0..5u8 {
        ids.push(app.upload("alice", &bytes(n, 10)).await);
    }
    app.upload("bob", &bytes(99, 10)).await;
    let mut seen = Vec::new();
    let mut uri = "/photos/timeline?limit=2".to_owned();
    for _ in 0..5 {
        let (status, page) = app.as_user("alice", "GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        assert!(items.iter().all(|p| p["dimensions"]["width"].is_number()));
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/photos/timeline?limit=2&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids, "every photo of alice's once, none of bob's");

    let months = |who: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .as_user(who, "GET", "/photos/timeline/months", None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let months = body["months"].as_array().unwrap().clone();
            months
                .iter()
                .map(|m| m["photos"].as_u64().unwrap())
                .sum::<u64>()
        }
    };
    assert_eq!((months("alice").await, months("bob").await), (5, 1));
    app.as_user("alice", "DELETE", &format!("/photos/{}", ids[0]), None)
        .await;
    assert_eq!(months("alice").await, 4);

    // The timeline's cursors are its own, and alice's.
    let (_, page) = app
        .as_user("alice", "GET", "/photos/timeline?limit=1", None)
        .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    for (who, uri) in [
        ("bob", format!("/photos/timeline?cursor={cursor}")),
        ("alice", format!("/photos?cursor={cursor}")),
    ] {
        let (status, body) = app.as_user(who, "GET", &uri, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_cursor")),
            "{who} {uri}"
        );
    }
}

#[tokio::test]
async fn a_guest_sees_the_display_name_the_owner_set_and_nothing_before() {
    let app = App::new();
    let photo = app.upload("alice", &bytes(1, 10)).await;
    let (_, share) = app
        .as_user("alice", "POST", "/shares", Some(json!({"photo_id": photo})))
        .await;
    let uri = format!("/public/shares/{}", share["token"].as_str().unwrap());
    let shared_by = async || {
        let (status, body) = app.call("GET", &uri, None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["shared_by"].clone()
    };
    assert_eq!(
        shared_by().await,
        Value::Null,
        "nothing until the owner sets a name"
    );
    let (_, me) = app.as_user("alice", "GET", "/me", None).await;
    assert_eq!(me["display_name"], Value::Null);

    let (status, me) = app
        .as_user(
            "alice",
            "PATCH",
            "/me",
            Some(json!({"display_name": " Alice B. "})),
        )
        .await;
    assert_eq!(
        (status, me["display_name"].as_str()),
        (StatusCode::OK, Some("Alice B."))
    );
    assert_eq!(shared_by().await, "Alice B.");
    // An absent field changes nothing; refusals name the field and change nothing.
    let (status, me) = app.as_user("alice", "PATCH", "/me", Some(json!({}))).await;
    assert_eq!(
        (status, me["display_name"].as_str()),
        (StatusCode::OK, Some("Alice B."))
    );
    for bad in [
        json!({"display_name": ""}),
        json!({"display_name": "x".repeat(61)}),
        json!({"display_name": 5}),
        json!({"name": "x"}),
    ] {
        let (status, body) = app
            .as_user("alice", "PATCH", "/me", Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    assert_eq!(shared_by().await, "Alice B.");
    let (status, me) = app
        .as_user("alice", "PATCH", "/me", Some(json!({"display_name": null})))
        .await;
    assert_eq!(
        (status, me["display_name"].clone()),
        (StatusCode::OK, Value::Null)
    );
    assert_eq!(shared_by().await, Value::Null);
}

#[tokio::test]
async fn cursors_forged_to_another_user_are_refused() {
    let app = App::new();
    for n in 0..3u8 {
        app.upload("alice", &bytes(n, 10)).await;
        app.upload("bob", &bytes(n, 10)).await;
    }
    let (_, page) = app.as_user("bob", "GET", "/photos?limit=1", None).await;
    let bobs = page["next_cursor"].as_str().unwrap().to_owned();
    // Bob's own cursor, replayed by alice.
    let (status, body) = app
        .as_user("alice", "GET", &format!("/photos?cursor={bobs}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_cursor"))
    );
    // A cursor rewritten to claim bob's partition.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&bobs)
        .unwrap();
    let mut wire: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(wire["u"], "bob", "cursor carries its owner");
    wire["k"] = json!("PHOTO#ZZZZZZZZZZZZZZZZZZZZZZZZZZ");
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wire.to_string());
    let (status, body) = app
        .as_user("alice", "GET", &format!("/photos?cursor={forged}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_cursor"))
    );
    // A photos cursor on the albums listing.
    let (_, own) = app.as_user("alice", "GET", "/photos?limit=1", None).await;
    let own = own["next_cursor"].as_str().unwrap();
    let (status, _) = app
        .as_user("alice", "GET", &format!("/albums?cursor={own}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .as_user("alice", "GET", &format!("/photos?cursor={own}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn delete_leaves_nothing_behind() {
    let app = App::new();
    let keep = app.upload("alice", &bytes(1, 100)).await;
    let id = app.upload("alice", &bytes(2, 100)).await;
    let (_, album) = app
        .as_user("alice", "POST", "/albums", Some(json!({"name": "Trip"})))
        .await;
    let album = album["id"].as_str().unwrap().to_owned();
    for p in [&keep, &id] {
        let (status, _) = app
            .as_user("alice", "PUT", &format!("/albums/{album}/photos/{p}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let mut tokens = Vec::new();
    for body in [
        json!({"photo_id": id}),
        json!({"photo_id": id, "password": "hunter22"}),
    ] {
        let (status, share) = app.as_user("alice", "POST", "/shares", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{share}");
        tokens.push(share["token"].as_str().unwrap().to_owned());
    }
    let (_, album_share) = app
        .as_user("alice", "POST", "/shares", Some(json!({"album_id": album})))
        .await;
    assert!(app.snapshot().contains(&id));

    let (status, body) = app
        .as_user("alice", "DELETE", &format!("/photos/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let items = app.repo.export();
    for (pk, sk, item) in &items {
        let text = format!("{pk} {sk} {item:?}");
        assert!(!text.contains(&id), "left behind: {text}");
        for t in &tokens {
            assert!(!text.contains(t.as_str()), "share left behind: {text}");
        }
    }
    assert!(
        app.store.keys().iter().all(|k| !k.contains(&id)),
        "{:?}",
        app.store.keys()
    );
    assert_eq!(app.store.keys().len(), 3, "the other photo's objects stay");
    for t in &tokens {
        let public = format!("/public/shares/{t}");
        app.check(None, &[("GET", &public, StatusCode::NOT_FOUND)])
            .await;
    }
    let (_, me) = app.as_user("alice", "GET", "/me", None).await;
    assert_eq!(
        (me["used_bytes"].as_u64(), me["photo_count"].as_u64()),
        (Some(100), Some(1))
    );
    let (_, in_album) = app
        .as_user("alice", "GET", &format!("/albums/{album}/photos"), None)
        .await;
    assert_eq!(in_album["items"].as_array().unwrap().len(), 1);
    let t = album_share["token"].as_str().unwrap();
    let (status, shared) = app
        .call("GET", &format!("/public/shares/{t}"), None, None)
        .await;
    assert_eq!(
        (status, shared["photos"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    let photo = format!("/photos/{id}");
    app.check(Some("alice"), &[("DELETE", &photo, StatusCode::NOT_FOUND)])
        .await;
    // The same bytes can be uploaded again: the checksum lookup went with the photo.
    assert_eq!(
        app.start_upload("alice", &bytes(2, 100)).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn albums_round_trip() {
    let app = App::new();
    let p1 = app.upload("alice", &bytes(1, 10)).await;
    app.clock.advance_secs(1);
    let p2 = app.upload("alice", &bytes(2, 10)).await;
    let (status, a) = app
        .as_user(
            "alice",
            "POST",
            "/albums",
            Some(json!({"name": "  Summer  "})),
        )
        .await;
    assert_eq!(
        (status, a["name"].as_str()),
        (StatusCode::CREATED, Some("Summer"))
    );
    let a = a["id"].as_str().unwrap().to_owned();
    app.clock.advance_secs(1);
    let (_, b) = app
        .as_user("alice", "POST", "/albums", Some(json!({"name": "Winter"})))
        .await;
    let (_, list) = app.as_user("alice", "GET", "/albums", None).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Winter", "Summer"]);
    let (status, renamed) = app
        .as_user(
            "alice",
            "PATCH",
            &format!("/albums/{a}"),
            Some(json!({"name": "Été"})),
        )
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("Été"))
    );
    let alice = Some("alice");
    let (member1, member2) = (
        format!("/albums/{a}/photos/{p1}"),
        format!("/albums/{a}/photos/{p2}"),
    );
    let put = StatusCode::NO_CONTENT;
    let members = [
        ("PUT", &*member1, put),
        ("PUT", &member2, put),
        ("PUT", &member2, put),
    ];
    app.check(alice, &members).await;
    let (_, photos) = app
        .as_user("alice", "GET", &format!("/albums/{a}/photos?limit=1"), None)
        .await;
    assert_eq!(photos["items"][0]["id"], p2.as_str());
    let c = photos["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .as_user(
            "alice",
            "GET",
            &format!("/albums/{a}/photos?cursor={c}"),
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["id"], p1.as_str());
    assert!(rest["next_cursor"].is_null());
    // The album says how many, which is its cover (the first added) and the dates they span.
    let (_, album) = app
        .as_user("alice", "GET", &format!("/albums/{a}"), None)
        .await;
    assert_eq!(
        (
            &album["photo_count"],
            &album["cover_photo_id"],
            &album["cover_chosen"]
        ),
        (&json!(2), &json!(p1), &json!(false)),
        "{album}"
    );
    let (_, photo) = app
        .as_user("alice", "GET", &format!("/photos/{p2}"), None)
        .await;
    let taken = photo["taken_at_local"].as_str().map(|t| &t[..19]);
    assert_eq!(album["taken_until"].as_str(), taken, "{album} {photo}");
    // Its cover comes with a link to its thumbnail, the same the cover's photo lists with.
    let (_, cover) = app
        .as_user("alice", "GET", &format!("/photos/{p1}"), None)
        .await;
    assert_eq!(
        album["cover_thumbnail_url"], cover["thumbnail_url"],
        "{album}"
    );
    assert!(album["cover_thumbnail_url"].is_string(), "{album}");
    let (_, listed) = app.as_user("alice", "GET", "/albums", None).await;
    let listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == a.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["cover_thumbnail_url"], cover["thumbnail_url"]);
    // The owner picks another of its photos; not one outside it; bad ids are refused whole.
    let outside = app.upload("alice", &bytes(3, 10)).await;
    let album_path = format!("/albums/{a}");
    let patch = |body: Value| app.as_user("alice", "PATCH", &album_path, Some(body));
    let (status, picked) = patch(json!({"cover_photo_id": p2})).await;
    assert_eq!(
        (status, &picked["cover_photo_id"], &picked["cover_chosen"]),
        (StatusCode::OK, &json!(p2), &json!(true))
    );
    let (status, _) = patch(json!({"cover_photo_id": outside})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = patch(json!({"name": "Renamed", "cover_photo_id": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, same) = patch(json!({})).await;
    assert_eq!(
        (status, &same["name"], &same["cover_photo_id"]),
        (StatusCode::OK, &json!("Été"), &json!(p2))
    );
    let b = b["id"].as_str().unwrap();
    let (status, _) = app
        .as_user(
            "alice",
            "GET",
            &format!("/albums/{b}/photos?cursor={c}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cursor of one album does not page another"
    );
    app.check(
        alice,
        &[
            ("DELETE", &member1, StatusCode::NO_CONTENT),
            ("DELETE", &member1, StatusCode::NOT_FOUND),
        ],
    )
    .await;
    let (_, album) = app
        .as_user("alice", "GET", &format!("/albums/{a}"), None)
        .await;
    assert_eq!(
        (&album["photo_count"], &album["cover_photo_id"]),
        (&json!(1), &json!(p2))
    );
    let (_, share) = app
        .as_user("alice", "POST", "/shares", Some(json!({"album_id": a})))
        .await;
    let album = format!("/albums/{a}");
    // The photos stay.
    let photo = format!("/photos/{p2}");
    app.check(
        alice,
        &[
            ("DELETE", &album, StatusCode::NO_CONTENT),
            ("GET", &album, StatusCode::NOT_FOUND),
            ("GET", &photo, StatusCode::OK),
        ],
    )
    .await;
    let t = share["token"].as_str().unwrap();
    let public = format!("/public/shares/{t}");
    app.check(None, &[("GET", &public, StatusCode::NOT_FOUND)])
        .await;
    assert!(!app.snapshot().contains(&a), "album left behind");
}

#[tokio::test]
async fn patch_photo_fields() {
    let app = App::new();
    let id = app.upload("alice", &bytes(1, 10)).await;
    let uri = format!("/photos/{id}");
    let (status, p) = app
        .as_user(
            "alice",
            "PATCH",
            &uri,
            Some(json!({"title": "Tour Eiffel", "favourite": true})),
        )
        .await;
    assert_eq!(
        (status, p["title"].as_str(), p["favourite"].as_bool()),
        (StatusCode::OK, Some("Tour Eiffel"), Some(true))
    );
    let (_, p) = app
        .as_user("alice", "PATCH", &uri, Some(json!({"favourite": false})))
        .await;
    assert_eq!(
        (p["title"].as_str(), p["favourite"].as_bool()),
        (Some("Tour Eiffel"), Some(false)),
        "absent fields stay"
    );
    let (_, p) = app
        .as_user("alice", "PATCH", &uri, Some(json!({"title": null})))
        .await;
    assert!(p["title"].is_null(), "null clears");
    let too_long = "x".repeat(201);
    for bad in [
        json!({"title": too_long}),
        json!({"title": 5}),
        json!({"favourite": "yes"}),
        json!({"gps": null}),
        json!([]),
    ] {
        let (status, body) = app.as_user("alice", "PATCH", &uri, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    assert_eq!(
        app.as_user(
            "alice",
            "PATCH",
            &uri,
            Some(json!({"title": "é".repeat(200)}))
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn shares_expire_revoke_and_check_passwords() {
    let app = App::new();
    let id = app.upload("alice", &bytes(1, 10)).await;
    let create = |body: Value| app.as_user("alice", "POST", "/shares", Some(body));
    let (status, s) = create(json!({"photo_id": id})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        s["expires_at"],
        app.clock_now().plus_secs(7 * 86_400).to_rfc3339(),
        "default 7 days"
    );
    assert_eq!(s["password_protected"], false);
    let open = s["token"].as_str().unwrap().to_owned();
    let (_, s) =
        create(json!({"photo_id": id, "expires_in_days": 30, "password": "open sesame"})).await;
    let locked = s["token"].as_str().unwrap().to_owned();
    for bad in [
        json!({"photo_id": id, "expires_in_days": 0}),
        json!({"photo_id": id, "expires_in_days": 31}),
        json!({"photo_id": id, "password": "abc"}),
        json!({}),
        json!({"photo_id": id, "album_id": id}),
        json!({"photo_id": "nope"}),
    ] {
        assert_eq!(
            create(bad.clone()).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let (_, mine) = app.as_user("alice", "GET", "/shares", None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert!(
        !mine.to_string().contains("argon2"),
        "hashes never leave the server"
    );

    let public = |t: &str| format!("/public/shares/{t}");
    let (open_uri, locked_uri) = (public(&open), public(&locked));
    let unlock = |body: Value| app.call("POST", &locked_uri, None, Some(body));
    app.check(None, &[("GET", &open_uri, StatusCode::OK)]).await;
    let (status, body) = app.call("GET", &locked_uri, None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("password_required"))
    );
    let (status, body) = unlock(json!({"password": "open sesamE"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_password"))
    );
    let (status, body) = unlock(json!({"password": "open sesame"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = unlock(json!({"pass": "open sesame"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Revoked: gone at once, for the owner's other links nothing changes.
    let revoke = format!("/shares/{open}");
    app.check(
        Some("alice"),
        &[("DELETE", &revoke, StatusCode::NO_CONTENT)],
    )
    .await;
    let (status, body) = app.call("GET", &open_uri, None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::GONE, Some("share_gone"))
    );
    // Expired: the server checks the clock on every request.
    app.clock.advance_secs(30 * 86_400 - 1);
    let (status, _) = unlock(json!({"password": "open sesame"})).await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance_secs(1);
    let (status, _) = unlock(json!({"password": "open sesame"})).await;
    assert_eq!(status, StatusCode::GONE);
    for unknown in ["x", photo_domain::ShareToken::generate().as_str()] {
        let (status, body) = app.call("GET", &public(unknown), None, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
    }
}

#[tokio::test]
async fn public_shares_never_show_gps_or_originals() {
    let app = App::new();
    let id = app.upload("alice", &bytes(1, 10)).await;
    app.as_user(
        "alice",
        "PATCH",
        &format!("/photos/{id}"),
        Some(json!({"title": "Paris"})),
    )
    .await;
    let pending = app.start_upload("alice", &bytes(2, 10)).await.1["photo"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, album) = app
        .as_user("alice", "POST", "/albums", Some(json!({"name": "A"})))
        .await;
    let album = album["id"].as_str().unwrap();
    for p in [&id, &pending] {
        app.as_user("alice", "PUT", &format!("/albums/{album}/photos/{p}"), None)
            .await;
    }
    for target in [json!({"photo_id": id}), json!({"album_id": album})] {
        let (_, share) = app.as_user("alice", "POST", "/shares", Some(target)).await;
        let t = share["token"].as_str().unwrap();
        let (status, view) = app
            .call("GET", &format!("/public/shares/{t}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let text = view.to_string();
        for forbidden in [
            "gps",
            "latitude",
            "48.8584",
            "original",
            "file_name",
            "sha256",
            "IMG_0001",
        ] {
            assert!(!text.contains(forbidden), "`{forbidden}` leaked: {text}");
        }
        let photos = view["photos"].as_array().unwrap();
        assert_eq!(photos.len(), 1, "only READY photos are shown");
        let p = &photos[0];
        assert_eq!(
            (p["title"].as_str(), p["camera"].as_str()),
            (Some("Paris"), Some("Pixel 8"))
        );
        assert_eq!(p["dimensions"]["width"], 4032);
        assert!(p["taken_at"].is_string());
        for field in ["thumbnail_url", "preview_url"] {
            let key = app
                .store
                .verify_download_url(p[field].as_str().unwrap(), app.clock_now())
                .unwrap();
            assert!(key.starts_with("derivatives/"), "{key}");
        }
    }
}

/// Every protected route, with ids taken from alice's data.
fn protected_routes(
    photo: &str,
    album: &str,
    token: &str,
) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        (
            "POST",
            "/photos/uploads".into(),
            Some(
                json!({"file_name": "a.png", "content_type": "image/png", "size": 5, "sha256": sha256_hex(b"bob")}),
            ),
        ),
        ("GET", "/photos".into(), None),
        ("GET", "/photos/timeline".into(), None),
        ("GET", "/photos/timeline/months".into(), None),
        ("GET", format!("/photos/{photo}"), None),
        (
            "PATCH",
            format!("/photos/{photo}"),
            Some(json!({"title": "pwned", "favourite": true})),
        ),
        ("DELETE", format!("/photos/{photo}"), None),
        (
            "POST",
            "/photos/batch".into(),
            Some(json!({"action": "favourite", "ids": [photo]})),
        ),
        (
            "POST",
            "/photos/batch".into(),
            Some(json!({"action": "delete", "ids": [photo]})),
        ),
        (
            "POST",
            "/photos/batch".into(),
            Some(json!({"action": "add_to_album", "ids": [photo], "album_id": album})),
        ),
        ("POST", "/albums".into(), Some(json!({"name": "x"}))),
        ("GET", "/albums".into(), None),
        ("GET", format!("/albums/{album}"), None),
        (
            "PATCH",
            format!("/albums/{album}"),
            Some(json!({"name": "pwned"})),
        ),
        (
            "PATCH",
            format!("/albums/{album}"),
            Some(json!({"cover_photo_id": photo})),
        ),
        ("DELETE", format!("/albums/{album}"), None),
        ("GET", format!("/albums/{album}/photos"), None),
        ("PUT", format!("/albums/{album}/photos/{photo}"), None),
        ("DELETE", format!("/albums/{album}/photos/{photo}"), None),
        ("POST", "/shares".into(), Some(json!({"photo_id": photo}))),
        ("POST", "/shares".into(), Some(json!({"album_id": album}))),
        ("GET", "/shares".into(), None),
        ("DELETE", format!("/shares/{token}"), None),
        ("GET", "/me".into(), None),
        (
            "PATCH",
            "/me".into(),
            Some(json!({"display_name": "pwned"})),
        ),
    ]
}

#[tokio::test]
async fn isolation_matrix() {
    let app = App::new();
    let photo = app.upload("alice", &bytes(1, 10)).await;
    let (_, album) = app
        .as_user("alice", "POST", "/albums", Some(json!({"name": "Private"})))
        .await;
    let album = album["id"].as_str().unwrap().to_owned();
    app.as_user(
        "alice",
        "PUT",
        &format!("/albums/{album}/photos/{photo}"),
        None,
    )
    .await;
    let (_, share) = app
        .as_user("alice", "POST", "/shares", Some(json!({"photo_id": photo})))
        .await;
    let token = share["token"].as_str().unwrap().to_owned();
    let routes = protected_routes(&photo, &album, &token);
    let before = app.snapshot();
    let alice_items = |app: &App| -> Vec<String> {
        let all = app.repo.export().into_iter().map(|x| format!("{x:?}"));
        all.filter(|x| x.contains("alice")).collect()
    };
    let alice_before = alice_items(&app);
    assert_eq!(
        alice_before.len(),
        7,
        "photo, checksum, usage, album, member, share, share link"
    );

    // Token problems: 401 on every protected route, before anything else happens.
    let now = app.clock_now();
    let good = app.token("bob");
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let (body, sig) = good.split_once('.').unwrap();
    let claims = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap(),
    )
    .unwrap();
    let swapped =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.replace("bob", "alice"));
    let bad_tokens: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        (
            "expired",
            Some(app.identity.issue(&user("alice"), now.plus_secs(-1))),
        ),
        (
            "wrong audience",
            Some(app.identity.issue_for_audience(
                &user("alice"),
                now.plus_secs(60),
                "other-client",
            )),
        ),
        (
            "tampered signature",
            Some(String::from_utf8(tampered).unwrap()),
        ),
        ("claims swapped", Some(format!("{swapped}.{sig}"))),
        ("garbage", Some("not-a-token".into())),
        ("empty", Some(String::new())),
    ];
    for (method, uri, body) in &routes {
        for (why, token) in &bad_tokens {
            let (status, resp) = app.call(method, uri, token.as_deref(), body.clone()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {why}: {resp}"
            );
            assert_eq!(resp["error"]["code"], "unauthorized");
        }
        let req = Request::builder()
            .method(*method)
            .uri(uri)
            .header(header::AUTHORIZATION, "Basic YWxpY2U6eA==")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            app.send(req).await.0,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with basic auth"
        );
    }
    assert_eq!(app.snapshot(), before, "refused requests change nothing");

    // Bob, properly signed in, asking for alice's things: 404, as if they did not exist.
    for (method, uri, body) in &routes {
        let (status, resp) = app.as_user("bob", method, uri, body.clone()).await;
        // Routes without an id act on bob's own data: they succeed and show none of alice's.
        let own_scope = matches!(
            (*method, uri.as_str()),
            (
                "GET",
                "/photos"
                    | "/photos/timeline"
                    | "/photos/timeline/months"
                    | "/albums"
                    | "/shares"
                    | "/me"
            ) | ("POST", "/photos/uploads" | "/albums")
                | ("PATCH", "/me")
        );
        let batch_of_alices_photo = *method == "POST"
            && uri == "/photos/batch"
            && body.as_ref().is_some_and(|b| b.get("album_id").is_none());
        if batch_of_alices_photo {
            // A batch answers for each photo: alice's is not found, and nothing else is said.
            assert_eq!(status, StatusCode::OK, "{method} {uri}: {resp}");
            assert_eq!(
                resp,
                json!({"results": [{"id": photo, "ok": false,
                                    "error": {"code": "not_found", "message": "not found"}}],
                       "succeeded": 0, "failed": 1}),
                "{body:?}"
            );
        } else if own_scope {
            assert!(status.is_success(), "{method} {uri}: {status} {resp}");
            assert!(
                !resp.to_string().contains(&photo) && !resp.to_string().contains(&album),
                "{resp}"
            );
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {resp}");
            assert_eq!(resp["error"]["code"], "not_found");
        }
    }
    // Bob's own writes landed in his partition only; alice's items are exactly as before.
    assert_eq!(alice_items(&app), alice_before);
    let (status, p) = app
        .as_user("alice", "GET", &format!("/photos/{photo}"), None)
        .await;
    assert_eq!(
        (status, p["title"].clone(), p["favourite"].as_bool()),
        (StatusCode::OK, Value::Null, Some(false))
    );
    assert_eq!(
        app.call("GET", &format!("/public/shares/{token}"), None, None)
            .await
            .0,
        StatusCode::OK,
        "not revoked by bob"
    );
    assert!(
        app.store
            .keys()
            .iter()
            .filter(|k| k.contains("alice"))
            .count()
            == 3,
        "alice's objects untouched"
    );
}

#[tokio::test]
async fn a_batch_changes_the_callers_photos_and_answers_for_each() {
    let app = App::new();
    let (p1, p2) = (
        app.upload("alice", &bytes(1, 10)).await,
        app.upload("alice", &bytes(2, 10)).await,
    );
    let bobs = app.upload("bob", &bytes(3, 10)).await;
    let batch = |body: Value| app.as_user("alice", "POST", "/photos/batch", Some(body));

    let (status, done) = batch(json!({"action": "favourite", "ids": [p1, bobs, p2, p1]})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let outcomes: Vec<(String, Value)> = done["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["error"]["code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (p1.clone(), Value::Null),
            (bobs.clone(), json!("not_found")),
            (p2.clone(), Value::Null)
        ],
        "in the order asked, a repeated id once"
    );
    assert_eq!(
        (done["succeeded"].as_u64(), done["failed"].as_u64()),
        (Some(2), Some(1))
    );
    for (who, id, favourite) in [
        ("alice", &p1, true),
        ("alice", &p2, true),
        ("bob", &bobs, false),
    ] {
        let (_, photo) = app
            .as_user(who, "GET", &format!("/photos/{id}"), None)
            .await;
        assert_eq!(photo["favourite"], favourite, "{who}'s {id}");
    }

    // Into an album: one call for the selection.
    let (_, album) = app
        .as_user("alice", "POST", "/albums", Some(json!({"name": "Trip"})))
        .await;
    let album = album["id"].as_str().unwrap().to_owned();
    let (status, done) =
        batch(json!({"action": "add_to_album", "ids": [p1, p2], "album_id": album})).await;
    assert_eq!(
        (status, done["succeeded"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{done}"
    );
    let (_, members) = app
        .as_user("alice", "GET", &format!("/albums/{album}/photos"), None)
        .await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2);

    // Refused whole, nothing changed: each with the reason in words.
    let many: Vec<String> = (0..101)
        .map(|i| format!("01ARZ3NDEKTSV4RRFFQ69G5F{:02}", i % 100))
        .collect();
    let refusals = [
        (
            json!({"action": "delete", "ids": []}),
            "expected 1 to 100 distinct photo ids, got 0",
        ),
        (
            json!({"action": "delete", "ids": [p1, "nope"]}),
            "ids[1]: not a photo id",
        ),
        (
            json!({"action": "add_to_album", "ids": [p1]}),
            "`add_to_album` needs `album_id`",
        ),
        (
            json!({"action": "delete", "ids": [p1], "album_id": album}),
            "`album_id` goes with `add_to_album` only",
        ),
        (json!({"action": "paint", "ids": [p1]}), "unknown variant"),
    ];
    for (body, words) in refusals {
        let (status, refused) = batch(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    let before = app.snapshot();
    let mut ids = many;
    ids.push(p1.clone());
    let (status, refused) = batch(json!({"action": "delete", "ids": ids})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(app.snapshot(), before, "nothing deleted");

    let (status, done) = batch(json!({"action": "delete", "ids": [bobs, p2]})).await;
    assert_eq!(
        (status, done["succeeded"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{done}"
    );
    let (status, _) = app
        .as_user("alice", "GET", &format!("/photos/{p2}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .as_user("bob", "GET", &format!("/photos/{bobs}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "bob's photo stays");
}

#[tokio::test]
async fn a_link_is_reused_with_the_same_options_and_downloads_only_when_allowed() {
    let app = App::new();
    let (id, other) = (
        app.upload("alice", &bytes(1, 10)).await,
        app.upload("alice", &bytes(2, 10)).await,
    );
    let create = |body: Value| app.as_user("alice", "POST", "/shares", Some(body));
    let (status, first) = create(json!({"photo_id": id})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (&first["allow_download"], &first["expires_in_days"]),
        (&json!(false), &json!(7))
    );
    let (status, again) = create(json!({"photo_id": id, "expires_in_days": 7})).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &first),
        "the same link, 200"
    );
    let (status, open) = create(json!({"photo_id": id, "allow_download": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{open}");
    assert_ne!(open["token"], first["token"]);
    let (closed, open) = (
        first["token"].as_str().unwrap().to_owned(),
        open["token"].as_str().unwrap().to_owned(),
    );
    let (_, view) = app
        .call("GET", &format!("/public/shares/{open}"), None, None)
        .await;
    assert_eq!(view["allow_download"], true);
    assert!(
        view["photos"][0].get("original_url").is_none(),
        "a listing signs no original"
    );

    let download = async |token: &str, body: Value| {
        let uri = format!("/public/shares/{token}/download");
        app.call("POST", &uri, None, Some(body)).await
    };
    let (status, refused) = download(&closed, json!({"photo_id": id})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "download_not_allowed");
    let (status, link) = download(&open, json!({"photo_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let key = app
        .store
        .verify_download_url(link["url"].as_str().unwrap(), app.clock_now())
        .expect("a signed link");
    assert_eq!(key, format!("originals/alice/{id}"));
    // Only the shared photo: another of alice's, an id that is none, another link's token.
    for (token, photo) in [(&open, &other), (&open, &"nope".to_owned())] {
        let (status, refused) = download(token, json!({"photo_id": photo})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{photo}: {refused}");
    }
    let (status, _) = download("x".repeat(43).as_str(), json!({"photo_id": id})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.as_user("alice", "DELETE", &format!("/shares/{open}"), None)
        .await;
    let (status, gone) = download(&open, json!({"photo_id": id})).await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (StatusCode::GONE, Some("share_gone"))
    );
}

#[tokio::test]
async fn bad_input_is_a_json_4xx() {
    let app = App::new();
    let token = app.token("alice");
    let raw = |method: &str, uri: &str, ct: Option<&str>, body: Vec<u8>| {
        let mut r = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = ct {
            r = r.header(header::CONTENT_TYPE, ct);
        }
        r.body(Body::from(body)).unwrap()
    };
    let album = |content_type, body: &[u8]| raw("POST", "/albums", content_type, body.to_vec());
    let json = Some("application/json");
    let named = |n: usize| format!("{{\"name\": \"{}\"}}", "a".repeat(n)).into_bytes();
    let get = |uri| raw("GET", uri, None, Vec::new());
    // Grouped by the refusal: `(status, code, requests)`.
    let cases = [
        (
            StatusCode::BAD_REQUEST,
            "invalid_json",
            vec![album(json, b"{\"name\": "), album(json, b"\xff\xfe")],
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_body",
            vec![album(json, b"{\"name\": 1}")],
        ),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            vec![
                album(Some("text/plain"), b"{\"name\": \"a\"}"),
                album(None, b""),
            ],
        ),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            vec![album(json, &named(100_000))],
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_input",
            vec![
                album(json, &named(201)),
                get("/photos/not-an-id"),
                get("/photos/01ARZ3NDEKTSV4RRFFQ69G5FAV%00"),
            ],
        ),
        (
            StatusCode::BAD_REQUEST,
            "invalid_path",
            vec![get("/albums/%FF/photos")],
        ),
        (StatusCode::NOT_FOUND, "not_found", vec![get("/nope")]),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            vec![raw("PUT", "/photos", None, Vec::new())],
        ),
    ];
    for (status, code, requests) in cases {
        for req in requests {
            let what = format!("{} {}", req.method(), req.uri());
            let (got, _, body) = app.send(req).await;
            assert_eq!(
                (got, body["error"]["code"].as_str().unwrap_or_default()),
                (status, code),
                "{what}: {body}"
            );
        }
    }
    assert!(app.repo.export().is_empty());
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = App::new();
    let req = Request::builder()
        .uri("/me")
        .header("x-amzn-requestid", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = app.send(req).await;
    assert_eq!(headers["x-request-id"], "abc-123");
    let req = Request::builder()
        .uri("/me")
        .header("x-request-id", "bad id; with spaces")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = app.send(req).await;
    let made = headers["x-request-id"].to_str().unwrap();
    assert_eq!(
        made.len(),
        26,
        "a fresh ULID replaces an unusable id: {made}"
    );
}

#[tokio::test]
async fn processing_outcomes_through_the_api() {
    let app = App::new();
    let content = bytes(1, 50);
    let (_, body) = app.start_upload("alice", &content).await;
    let id = photo_domain::PhotoId::parse(body["photo"]["id"].as_str().unwrap()).unwrap();
    let info = photo_domain::ProcessedInfo {
        dimensions: photo_domain::Dimensions {
            width: 1,
            height: 1,
        },
        taken_at: None,
        taken_offset_minutes: None,
        camera: None,
        gps: None,
        sha256_actual: photo_domain::Sha256::parse(&sha256_hex(b"other bytes")).unwrap(),
        size: 50,
    };
    let failed = app
        .service
        .complete_processing(&user("alice"), &id, info.clone())
        .await
        .unwrap();
    assert_eq!(
        failed.status,
        photo_domain::PhotoStatus::Failed {
            reason: "checksum mismatch".into()
        }
    );
    // Same facts again: same answer, no error (S3 may deliver the event twice).
    assert_eq!(
        app.service
            .complete_processing(&user("alice"), &id, info)
            .await
            .unwrap(),
        failed
    );
    let (_, p) = app
        .as_user("alice", "GET", &format!("/photos/{id}"), None)
        .await;
    assert_eq!(
        (p["status"].as_str(), p["failure_reason"].as_str()),
        (Some("FAILED"), Some("checksum mismatch"))
    );
    assert_eq!(
        p["created_at"],
        Timestamp::from_millis(common::T0.millis()).to_rfc3339()
    );
}

#[test]
fn openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let current = photo_api::openapi::document();
    let doc: Value = serde_json::from_str(current).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/photos/uploads",
        "/photos",
        "/photos/{id}",
        "/albums",
        "/albums/{id}",
        "/albums/{id}/photos",
        "/albums/{id}/photos/{photo_id}",
        "/shares",
        "/shares/{token}",
        "/me",
        "/public/shares/{token}",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(p), "`{p}` missing from the document");
    }
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, current).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "docs/openapi.json is stale: run `UPDATE_EXPECT=1 cargo test -p photo-api`"
    );
}

#[tokio::test]
async fn openapi_is_served() {
    let app = App::new();
    let (status, doc) = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(photo_api::openapi::document()).unwrap()
    );
}

/// Every code the API can answer is in the document's `ErrorCode` schema, and every status
/// those codes come with is a response of some operation: a code added without documenting it
/// fails here.
#[test]
fn every_error_code_and_status_is_in_the_document() {
    let doc: Value = serde_json::from_str(photo_api::openapi::document()).unwrap();
    let documented: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("an ErrorCode enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let mut statuses = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(responses) = operation["responses"].as_object() {
                statuses.extend(responses.keys().cloned());
            }
        }
    }
    for code in photo_api::ErrorCode::ALL {
        assert!(
            documented.contains(&code.as_str()),
            "`{}` missing from ErrorCode",
            code.as_str()
        );
        let status = code.status().as_u16().to_string();
        assert!(
            statuses.contains(&status),
            "no operation documents {status}, which `{}` answers",
            code.as_str()
        );
    }
}

/// Refusals of a request's shape name the field and the problem in words, never a parser's
/// types or positions.
#[tokio::test]
async fn refusals_name_the_field_in_words() {
    let app = App::new();
    let token = app.token("alice");
    let sha = sha256_hex(b"x");
    let cases = [
        (
            json!({"file_name": "a", "content_type": "image/png", "size": "big", "sha256": sha}),
            "field `size`: invalid type: string \"big\", expected a whole number",
        ),
        (
            json!({"file_name": "a", "content_type": "image/png", "size": -1, "sha256": sha}),
            "field `size`: invalid value: integer `-1`, expected a whole number",
        ),
        (
            json!({"file_name": "a", "content_type": "image/png", "size": 1}),
            "missing field `sha256`",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = app
            .call("POST", "/photos/uploads", Some(&token), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_body", "{answer}");
        assert_eq!(answer["error"]["message"], message, "{answer}");
    }
    let (status, answer) = app
        .call("GET", "/photos?limit=many", Some(&token), None)
        .await;
    assert_eq!(
        (
            status,
            &answer["error"]["code"],
            &answer["error"]["message"]
        ),
        (
            StatusCode::BAD_REQUEST,
            &json!("invalid_query"),
            &json!("query parameter `limit`: expected a whole number")
        ),
        "{answer}"
    );
    for request in [
        &b"{\"name\": "[..],
        &b"{\"name\": \"a\",,}"[..],
        &b"{\"name\": \"a\"} {}"[..],
    ] {
        let r = Request::builder()
            .method("POST")
            .uri("/albums")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(request.to_vec()))
            .unwrap();
        let (status, _, answer) = app.send(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_json", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("the request body") && !message.contains("line"),
            "{message}"
        );
    }
}

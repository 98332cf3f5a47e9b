//! Media links through CloudFront, counted: the photo service over [`CloudFrontMedia`] signs one
//! RSA signature per owner per time window for a gallery, and one per photo per window for a
//! shared album, however often either is opened; every link it hands out carries a policy that
//! covers it, and nothing of the owner's more than its grant allows, and verifies with the
//! public key.

use std::sync::Arc;

use base64::Engine as _;
use photo_aws::CloudFrontMedia;
use photo_aws::cloudfront::{KeyPair, UrlSigner};
use photo_domain::memory::{InMemoryObjectStore, InMemoryRepository, ManualClock};
use photo_domain::model::{ProcessedInfo, ShareTarget};
use photo_domain::{
    AlbumName, Clock as _, ContentType, Dimensions, FileName, Grant, Limits, NewUpload, ObjectKey,
    ObjectStore as _, PhotoService, Sha256, Timestamp, UserId,
};
use rsa::pkcs8::DecodePublicKey as _;
use serde_json::Value;
use sha1::Digest as _;

const DOMAIN: &str = "d111111abcdef8.cloudfront.net";
/// The start of an owner's hour-long window.
const HOUR: i64 = 1_767_225_600;

struct Fixture {
    service: PhotoService,
    media: Arc<CloudFrontMedia>,
    clock: Arc<ManualClock>,
    public: rsa::PublicKey,
    keys: KeyPair,
}

fn fixture() -> Fixture {
    let keys = KeyPair::generate().expect("generating a key pair");
    assert!(keys.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(keys.fingerprint.len(), 16);
    let signer = UrlSigner::from_pkcs8_pem("K2JCJMDEHXQW5F", &keys.private_pem).unwrap();
    let inner = Arc::new(InMemoryObjectStore::new("http://store.invalid"));
    let media = Arc::new(CloudFrontMedia::new(inner, DOMAIN, signer).unwrap());
    let clock = Arc::new(ManualClock::new(Timestamp::from_secs(HOUR + 60)));
    let service = PhotoService::new(
        Arc::new(InMemoryRepository::new()),
        media.clone(),
        clock.clone(),
        Limits::default(),
    );
    Fixture {
        service,
        media,
        clock,
        public: rsa::PublicKey::from_public_key_pem(&keys.public_pem).unwrap(),
        keys,
    }
}

/// `n` READY photos of `owner`.
async fn ready_photos(f: &Fixture, owner: &UserId, n: u8) -> Vec<photo_domain::PhotoId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let sha = Sha256::from_bytes([i; 32]);
        let upload = NewUpload {
            file_name: FileName::parse("a.jpg").unwrap(),
            content_type: ContentType::Jpeg,
            size: 100,
            sha256: sha,
        };
        let (photo, _) = f.service.start_upload(owner, upload).await.unwrap();
        let info = ProcessedInfo {
            dimensions: Dimensions {
                width: 2,
                height: 1,
            },
            taken_at: None,
            taken_offset_minutes: None,
            camera: None,
            gps: None,
            sha256_actual: sha,
            size: 100,
        };
        f.service
            .complete_processing(owner, &photo.id, info)
            .await
            .unwrap();
        ids.push(photo.id);
    }
    ids
}

/// CloudFront's URL-safe base64 undone.
fn unbase64(s: &str) -> Vec<u8> {
    let standard: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '=',
            '~' => '/',
            c => c,
        })
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(standard)
        .unwrap()
}

/// Checks `url` as CloudFront would: its policy's resource covers it, its signature verifies
/// with the public key, and it expires at `expires`. Returns the policy's resource.
fn check(f: &Fixture, url: &str, expires: i64) -> String {
    let (address, query) = url.split_once('?').expect("a signed URL has a query");
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("{name} in {url}"))
    };
    assert_eq!(param("Key-Pair-Id"), "K2JCJMDEHXQW5F");
    let policy = unbase64(param("Policy"));
    let signature = unbase64(param("Signature"));
    let hashed = sha1::Sha1::digest(&policy);
    f.public
        .verify(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), &hashed, &signature)
        .expect("the signature verifies with the public key");
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Condition"]["DateLessThan"]["AWS:EpochTime"],
        expires
    );
    let resource = statement["Resource"].as_str().unwrap().to_owned();
    let covered = match resource.strip_suffix('*') {
        Some(prefix) => address.starts_with(prefix),
        None => address == resource,
    };
    assert!(covered, "{resource} does not cover {address}");
    resource
}

#[tokio::test]
async fn a_gallery_signs_once_per_owner_per_window_and_a_share_once_per_photo() {
    let f = fixture();
    let alice = UserId::parse("alice").unwrap();
    let ids = ready_photos(&f, &alice, 50).await;
    let hour_links = HOUR + 3600 + 12 * 3600;

    // The gallery: 50 photos, 100 links, one signature; the same links again later in the hour.
    let first = f.service.list_photos(&alice, None, 50).await.unwrap();
    assert_eq!(first.items.len(), 50);
    assert_eq!(f.media.signatures(), 1);
    f.clock.advance_secs(30 * 60);
    let again = f.service.list_photos(&alice, None, 50).await.unwrap();
    assert_eq!(
        f.media.signatures(),
        1,
        "a second listing in the window signs nothing"
    );
    let links = |l: &photo_domain::Listing<photo_domain::PhotoView>| -> Vec<String> {
        l.items
            .iter()
            .flat_map(|v| [v.urls.thumbnail.clone(), v.urls.preview.clone()])
            .map(Option::unwrap)
            .collect()
    };
    assert_eq!(
        links(&first),
        links(&again),
        "one window, byte-identical links"
    );
    for url in links(&first) {
        assert!(url.starts_with(&format!("https://{DOMAIN}/derivatives/alice/")));
        let resource = check(&f, &url, hour_links);
        assert_eq!(resource, format!("https://{DOMAIN}/derivatives/alice/*"));
    }

    // The original, on the photo's page: signed for its own URL alone (it keeps its location
    // data), once per photo per window.
    let view = f.service.get_photo(&alice, &ids[0]).await.unwrap();
    let original = view.urls.original.unwrap();
    assert_eq!(
        check(&f, &original, hour_links),
        format!("https://{DOMAIN}/originals/alice/{}", ids[0])
    );
    f.service.get_photo(&alice, &ids[0]).await.unwrap();
    f.service.get_photo(&alice, &ids[1]).await.unwrap();
    assert_eq!(f.media.signatures(), 3);

    // A shared album of the 50: one signature per photo, each opening that photo alone.
    let album = f
        .service
        .create_album(&alice, AlbumName::parse("Trip").unwrap())
        .await
        .unwrap();
    for id in &ids {
        f.service.add_to_album(&alice, &album.id, id).await.unwrap();
    }
    let share = f
        .service
        .create_share(&alice, ShareTarget::Album(album.id), None, None)
        .await
        .unwrap();
    let opened = f.service.open_share(&share.token, None).await.unwrap();
    assert_eq!(opened.photos.len(), 50);
    assert_eq!(f.media.signatures(), 3 + 50);
    let reopened = f.service.open_share(&share.token, None).await.unwrap();
    assert_eq!(
        f.media.signatures(),
        3 + 50,
        "reopening in the window signs nothing"
    );
    // Share links live at most an hour from when they are issued.
    let now = f.clock.now().secs();
    let share_window = now - now.rem_euclid(600);
    for (photo, again) in opened.photos.iter().zip(&reopened.photos) {
        let thumbnail = photo.thumbnail_url.clone().unwrap();
        assert_eq!(Some(&thumbnail), again.thumbnail_url.as_ref());
        let resource = check(&f, &thumbnail, share_window + 3600);
        assert!(share_window + 3600 - now <= 3600);
        assert_eq!(
            resource,
            format!("https://{DOMAIN}/derivatives/alice/{}/*", photo.id)
        );
        check(&f, photo.preview_url.as_ref().unwrap(), share_window + 3600);
    }

    // The next window signs anew, once for the gallery.
    f.clock.advance_secs(3600);
    let next = f.service.list_photos(&alice, None, 50).await.unwrap();
    assert_eq!(f.media.signatures(), 3 + 50 + 1);
    assert_ne!(links(&next), links(&first));

    // A host name that is not one, or a key that is no photo object's, gets no link.
    let signer = || UrlSigner::from_pkcs8_pem("K2JCJMDEHXQW5F", &f.keys.private_pem).unwrap();
    let inner = Arc::new(InMemoryObjectStore::new("http://store.invalid"));
    assert!(CloudFrontMedia::new(inner.clone(), "evil.example/x?", signer()).is_err());
    let media = CloudFrontMedia::new(inner, DOMAIN, signer()).unwrap();
    let now = f.clock.now();
    for key in ["derivatives/alice", "derivatives//p/thumb.jpg", "a/b/c d"] {
        let key = ObjectKey::from_trusted(key.to_owned());
        assert!(
            media
                .presign_download(&key, Grant::Owner, now, now)
                .await
                .is_err(),
            "{key}"
        );
    }
}

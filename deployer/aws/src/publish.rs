//! Publishes the SPA to a stage's site bucket: build, runtime config, upload of what changed,
//! removal of what is gone, and a CloudFront invalidation of the paths that keep their name.
//!
//! Takes SDK clients rather than a session so that `up` and the tests can hand in clients for
//! AWS or for an emulator alike.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use md5::{Digest as _, Md5};
use photo_contract::stack::outputs;
use spa_build::{BuildOptions, BuiltSite, CachePolicy, RuntimeConfig, SiteFile};

/// S3's limit on keys per `DeleteObjects` call.
const DELETE_BATCH: usize = 1000;

/// Where a stage's site goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteTarget {
    /// The site bucket.
    pub bucket: String,
    /// The CloudFront distribution in front of it.
    pub distribution_id: String,
}

/// What publishing can fail on.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The stack lacks an output publishing needs (an older or foreign stack).
    #[error("the stack has no output `{0}`: deploy the stack with this deployer first")]
    MissingOutput(&'static str),
    /// The SPA's sources are not under the working directory.
    #[error(
        "the SPA's sources (`{app}`) are not in `{}` or above: run `deployer up` from the repository, or pass `--no-site`",
        .0.display(), app = spa_build::APP_DIR
    )]
    NoSources(PathBuf),
    /// Building the SPA or writing its config failed.
    #[error("building the SPA: {0}")]
    Build(#[from] spa_build::Error),
    /// A built file could not be read.
    #[error("reading `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Listing the bucket failed.
    #[error("listing the site bucket `{bucket}`: {message}")]
    List {
        /// The bucket.
        bucket: String,
        /// The SDK's error chain.
        message: String,
    },
    /// An upload failed.
    #[error("uploading `{key}` to `{bucket}`: {message}")]
    Upload {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
        /// The SDK's error chain.
        message: String,
    },
    /// Deleting stale objects failed.
    #[error("deleting stale objects from `{bucket}`: {message}")]
    Delete {
        /// The bucket.
        bucket: String,
        /// The SDK's error chain, or the keys S3 refused.
        message: String,
    },
    /// Creating or reading the invalidation failed.
    #[error("invalidating distribution `{distribution}`: {message}")]
    Invalidate {
        /// The distribution.
        distribution: String,
        /// The SDK's error chain.
        message: String,
    },
    /// The invalidation did not complete within the wait.
    #[error(
        "invalidation `{id}` of `{distribution}` was still in progress after {waited_secs} s; \
         the new files are uploaded and CloudFront finishes on its own"
    )]
    InvalidationTimeout {
        /// The distribution.
        distribution: String,
        /// The invalidation.
        id: String,
        /// How long we waited.
        waited_secs: u64,
    },
}

/// Reads the publishing target and the SPA's runtime config from the stack outputs.
///
/// The SPA talks to its API through the site's own distribution (`/api/*`), and to Cognito's
/// public endpoint for the stack's region.
pub fn from_outputs(
    outputs: &HashMap<String, String>,
) -> Result<(SiteTarget, RuntimeConfig), PublishError> {
    let get = |name: &'static str| {
        outputs
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or(PublishError::MissingOutput(name))
    };
    let region = get(outputs::REGION)?;
    let target = SiteTarget {
        bucket: get(outputs::SITE_BUCKET)?,
        distribution_id: get(outputs::DISTRIBUTION)?,
    };
    // The SPA calls the API on its own origin, under the site's `/api/*`.
    let site_url = get(outputs::SITE_URL)?;
    let config = RuntimeConfig {
        api_url: format!(
            "{}{}",
            site_url.trim_end_matches('/'),
            stack::routing::API_PREFIX
        ),
        user_pool_id: get(outputs::USER_POOL_ID)?,
        user_pool_client_id: get(outputs::USER_POOL_CLIENT_ID)?,
        cognito_endpoint: format!("https://cognito-idp.{region}.amazonaws.com/"),
        region,
    };
    Ok((target, config))
}

/// Builds the SPA (release) into `out_dir` and writes its `config.json`.
pub fn build_site(
    workspace: &Path,
    out_dir: &Path,
    config: &RuntimeConfig,
) -> Result<BuiltSite, PublishError> {
    let mut site = spa_build::build(&BuildOptions::new(workspace, out_dir))?;
    spa_build::write_config(&mut site, config)?;
    Ok(site)
}

/// What `up` does after deploying the stack: builds the SPA from the repository around
/// `cwd` into `target/site`, writes its config from the stack `outputs`, and publishes it.
///
/// The build (cargo and wasm-bindgen, seconds to minutes) runs on the current thread with the
/// runtime told so, which needs the multi-threaded runtime the commands use.
pub async fn publish_stage_site(
    s3: &aws_sdk_s3::Client,
    cloudfront: &aws_sdk_cloudfront::Client,
    outputs: &HashMap<String, String>,
    cwd: &Path,
    options: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let (target, config) = from_outputs(outputs)?;
    let workspace = deployer_build::workspace::find_workspace(cwd)
        .ok_or_else(|| PublishError::NoSources(cwd.to_owned()))?;
    let out_dir = workspace.join("target").join("site");
    let built = tokio::task::block_in_place(|| build_site(&workspace, &out_dir, &config))?;
    publish_site(s3, cloudfront, &target, &built, options).await
}

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Wait at most this long for the invalidation to complete; `None` returns once it is
    /// created.
    pub wait: Option<Duration>,
    /// How often to ask CloudFront while waiting.
    pub poll_interval: Duration,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            wait: None,
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// A created invalidation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationReport {
    /// CloudFront's id for it.
    pub id: String,
    /// The paths invalidated.
    pub paths: Vec<String>,
    /// Whether it had completed when publishing returned.
    pub completed: bool,
}

/// What publishing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Keys uploaded, in upload order.
    pub uploaded: Vec<String>,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
    /// Keys whose content was already in the bucket.
    pub unchanged: Vec<String>,
    /// Keys deleted because the build no longer has them.
    pub deleted: Vec<String>,
    /// The invalidation, when anything CloudFront may have cached changed.
    pub invalidation: Option<InvalidationReport>,
}

impl PublishReport {
    /// One line for the operator: what was uploaded, kept, deleted and invalidated.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "site: {} uploaded ({} bytes), {} unchanged, {} deleted",
            self.uploaded.len(),
            self.uploaded_bytes,
            self.unchanged.len(),
            self.deleted.len()
        );
        match &self.invalidation {
            None => line.push_str(", no invalidation needed"),
            Some(i) => line.push_str(&format!(
                ", invalidation `{}` of {} {}",
                i.id,
                i.paths.join(" "),
                if i.completed {
                    "completed"
                } else {
                    "in progress"
                }
            )),
        }
        line
    }
}

/// One file to publish, read from disk.
#[derive(Debug)]
struct Local {
    file: SiteFile,
    bytes: Vec<u8>,
    md5: String,
}

/// Lowercase hex MD5: what S3 reports as the ETag of a single-part, SSE-S3 object.
fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Upload order: hashed assets first, then `config.json`, `index.html` last, so that a browser
/// loading the page mid-publish never gets a page naming assets not uploaded yet.
fn upload_rank(file: &SiteFile) -> u8 {
    match (file.cache, file.path.as_str()) {
        (CachePolicy::Immutable, _) => 0,
        (_, "index.html") => 2,
        _ => 1,
    }
}

/// The paths to invalidate after `changed` files were uploaded.
///
/// Hashed assets get new names when they change, so only fixed-name files can be stale at the
/// edge. A changed `index.html` is cached under `/` and `/index.html` (the routing function hands
/// deep links `/index.html` before the cache is looked up): `/*` covers both as one path for
/// billing; otherwise the changed files themselves.
pub fn invalidation_paths(changed: &[&SiteFile]) -> Vec<String> {
    let fixed: Vec<&&SiteFile> = changed
        .iter()
        .filter(|f| f.cache != CachePolicy::Immutable)
        .collect();
    if fixed.iter().any(|f| f.path == "index.html") {
        return vec!["/*".to_owned()];
    }
    fixed.iter().map(|f| format!("/{}", f.path)).collect()
}

/// Lists the bucket: key → ETag without quotes.
async fn list_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<BTreeMap<String, String>, PublishError> {
    let mut objects = BTreeMap::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| PublishError::List {
            bucket: bucket.to_owned(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                let etag = object.e_tag().unwrap_or_default().trim_matches('"');
                objects.insert(key.to_owned(), etag.to_owned());
            }
        }
    }
    Ok(objects)
}

/// Uploads the files of `built` that the bucket lacks or holds with other content, deletes
/// objects the build no longer has, and invalidates what CloudFront may serve stale.
pub async fn publish_site(
    s3: &aws_sdk_s3::Client,
    cloudfront: &aws_sdk_cloudfront::Client,
    site: &SiteTarget,
    built: &BuiltSite,
    options: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let mut local = Vec::with_capacity(built.files.len());
    for file in &built.files {
        let path = built.disk_path(file);
        let bytes = std::fs::read(&path).map_err(|source| PublishError::Read {
            path: path.clone(),
            source,
        })?;
        local.push(Local {
            md5: md5_hex(&bytes),
            file: file.clone(),
            bytes,
        });
    }
    local.sort_by_key(|l| (upload_rank(&l.file), l.file.path.clone()));

    let remote = list_bucket(s3, &site.bucket).await?;
    let mut report = PublishReport::default();
    let mut changed = Vec::new();
    for l in &local {
        if remote.get(&l.file.path) == Some(&l.md5) {
            report.unchanged.push(l.file.path.clone());
            continue;
        }
        s3.put_object()
            .bucket(&site.bucket)
            .key(&l.file.path)
            .content_type(l.file.content_type)
            .cache_control(l.file.cache.cache_control())
            .body(ByteStream::from(l.bytes.clone()))
            .send()
            .await
            .map_err(|e| PublishError::Upload {
                bucket: site.bucket.clone(),
                key: l.file.path.clone(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        report.uploaded.push(l.file.path.clone());
        report.uploaded_bytes += l.bytes.len() as u64;
        changed.push(&l.file);
    }

    // Only after the new index.html is in place: until then the old one may still name them.
    let stale: Vec<&String> = remote
        .keys()
        .filter(|key| !local.iter().any(|l| &l.file.path == *key))
        .collect();
    for batch in stale.chunks(DELETE_BATCH) {
        let delete_error = |message: String| PublishError::Delete {
            bucket: site.bucket.clone(),
            message,
        };
        let objects = batch
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key.as_str()).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| delete_error(e.to_string()))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| delete_error(e.to_string()))?;
        let out = s3
            .delete_objects()
            .bucket(&site.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| delete_error(DisplayErrorContext(&e).to_string()))?;
        if !out.errors().is_empty() {
            let refused: Vec<String> = out
                .errors()
                .iter()
                .map(|e| {
                    format!(
                        "`{}` ({})",
                        e.key().unwrap_or_default(),
                        e.code().unwrap_or("unknown error")
                    )
                })
                .collect();
            return Err(delete_error(format!("refused {}", refused.join(", "))));
        }
        report.deleted.extend(batch.iter().map(|k| (*k).clone()));
    }

    let paths = invalidation_paths(&changed);
    if !paths.is_empty() {
        report.invalidation =
            Some(invalidate(cloudfront, &site.distribution_id, paths, options).await?);
    }
    Ok(report)
}

/// CloudFront says `Completed`; emulators have been seen to say `COMPLETED`.
fn is_completed(status: &str) -> bool {
    status.eq_ignore_ascii_case("completed")
}

/// Asks `done` every `poll` until it says yes (`Ok(true)`) or `limit` has passed (`Ok(false)`).
async fn poll_until<F, Fut>(
    limit: Duration,
    poll: Duration,
    mut done: F,
) -> Result<bool, PublishError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, PublishError>>,
{
    let start = Instant::now();
    loop {
        if done().await? {
            return Ok(true);
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(false);
        }
        tokio::time::sleep(poll.min(left)).await;
    }
}

/// Creates an invalidation and, when asked, waits for it within the bound.
async fn invalidate(
    cloudfront: &aws_sdk_cloudfront::Client,
    distribution: &str,
    paths: Vec<String>,
    options: &PublishOptions,
) -> Result<InvalidationReport, PublishError> {
    let fail = |message: String| PublishError::Invalidate {
        distribution: distribution.to_owned(),
        message,
    };
    // CloudFront refuses a second invalidation with the same reference, so make it unique per
    // publish; a retry of the same request by the SDK keeps it and is therefore idempotent.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let batch = InvalidationBatch::builder()
        .caller_reference(format!("deployer-{nanos}"))
        .paths(
            Paths::builder()
                .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
                .set_items(Some(paths.clone()))
                .build()
                .map_err(|e| fail(e.to_string()))?,
        )
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let out = cloudfront
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| fail(DisplayErrorContext(&e).to_string()))?;
    let invalidation = out
        .invalidation()
        .ok_or_else(|| fail("CloudFront returned no invalidation".to_owned()))?;
    let id = invalidation.id().to_owned();
    let mut completed = is_completed(invalidation.status());
    if let (Some(limit), false) = (options.wait, completed) {
        let (id_ref, fail_ref) = (&id, &fail);
        let polled = poll_until(limit, options.poll_interval, || async move {
            let got = cloudfront
                .get_invalidation()
                .distribution_id(distribution)
                .id(id_ref)
                .send()
                .await
                .map_err(|e| fail_ref(DisplayErrorContext(&e).to_string()))?;
            Ok(got.invalidation().is_some_and(|i| is_completed(i.status())))
        })
        .await?;
        if !polled {
            return Err(PublishError::InvalidationTimeout {
                distribution: distribution.to_owned(),
                id,
                waited_secs: limit.as_secs(),
            });
        }
        completed = true;
    }
    Ok(InvalidationReport {
        id,
        paths,
        completed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> SiteFile {
        SiteFile {
            path: path.to_owned(),
            content_type: spa_build::content_type(path),
            cache: CachePolicy::for_path(path),
        }
    }

    fn check(changed: &[&str], expected: &[&str]) {
        let files: Vec<SiteFile> = changed.iter().map(|p| file(p)).collect();
        let refs: Vec<&SiteFile> = files.iter().collect();
        assert_eq!(invalidation_paths(&refs), expected, "{changed:?}");
    }

    #[test]
    fn only_fixed_names_are_invalidated() {
        check(&[], &[]);
        check(&["assets/app-1a2b.js", "assets/app-1a2b.wasm"], &[]);
        check(&["assets/app-1a2b.js", "config.json"], &["/config.json"]);
        check(&["config.json", "index.html"], &["/*"]);
        check(&["assets/style-99.css", "index.html"], &["/*"]);
    }

    #[test]
    fn index_is_uploaded_last_and_assets_first() {
        let mut files = [
            file("index.html"),
            file("config.json"),
            file("assets/a-1.js"),
        ];
        files.sort_by_key(upload_rank);
        let order: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(order, ["assets/a-1.js", "config.json", "index.html"]);
    }

    #[test]
    fn the_summary_says_what_happened() {
        let mut report = PublishReport {
            uploaded: vec!["config.json".into()],
            uploaded_bytes: 120,
            unchanged: vec!["index.html".into(), "assets/a-1.js".into()],
            deleted: vec![],
            invalidation: None,
        };
        assert_eq!(
            report.summary(),
            "site: 1 uploaded (120 bytes), 2 unchanged, 0 deleted, no invalidation needed"
        );
        report.invalidation = Some(InvalidationReport {
            id: "I2J".into(),
            paths: vec!["/config.json".into()],
            completed: false,
        });
        assert_eq!(
            report.summary(),
            "site: 1 uploaded (120 bytes), 2 unchanged, 0 deleted, invalidation `I2J` of /config.json in progress"
        );
    }

    #[tokio::test]
    async fn waiting_polls_until_done_or_the_limit() {
        let mut asked = 0;
        let done = poll_until(Duration::from_secs(5), Duration::from_millis(1), || {
            asked += 1;
            let now = asked;
            async move { Ok(now == 3) }
        })
        .await
        .unwrap();
        assert!(done);
        assert_eq!(asked, 3);

        let start = Instant::now();
        let done = poll_until(
            Duration::from_millis(50),
            Duration::from_millis(10),
            || async { Ok(false) },
        )
        .await
        .unwrap();
        assert!(!done);
        assert!(start.elapsed() < Duration::from_secs(2));

        let err = poll_until(Duration::from_secs(5), Duration::from_millis(1), || async {
            Err(PublishError::MissingOutput("X"))
        })
        .await
        .unwrap_err();
        assert!(matches!(err, PublishError::MissingOutput("X")));
    }

    #[test]
    fn etag_is_the_md5() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    fn outputs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn config_comes_from_the_outputs() {
        let all = [
            (outputs::SITE_BUCKET, "site-bucket"),
            (outputs::DISTRIBUTION, "E2ABC"),
            (outputs::SITE_URL, "https://d111111abcdef8.cloudfront.net"),
            (outputs::USER_POOL_ID, "eu-west-1_pool"),
            (outputs::USER_POOL_CLIENT_ID, "client"),
            (outputs::REGION, "eu-west-1"),
        ];
        let (target, config) = from_outputs(&outputs(&all)).unwrap();
        assert_eq!(
            target,
            SiteTarget {
                bucket: "site-bucket".into(),
                distribution_id: "E2ABC".into()
            }
        );
        assert_eq!(
            config.cognito_endpoint,
            "https://cognito-idp.eu-west-1.amazonaws.com/"
        );
        assert_eq!(config.user_pool_id, "eu-west-1_pool");
        assert_eq!(config.api_url, "https://d111111abcdef8.cloudfront.net/api");
        // The SPA's own parser accepts what we write.
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(RuntimeConfig::parse(&json).unwrap(), config);

        for missing in all.map(|(k, _)| k) {
            let some: Vec<_> = all.iter().copied().filter(|(k, _)| *k != missing).collect();
            let err = from_outputs(&outputs(&some)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "the stack has no output `{missing}`: deploy the stack with this deployer first"
                )
            );
        }
    }
}

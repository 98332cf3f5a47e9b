//! `deployer up --stage local`: one process on 127.0.0.1 serving the API, Cognito and the bucket.
//!
//! Routes: `/api/...` (the photo-api router with local adapters), `/_cognito/` (the user pool),
//! `/_s3/{bucket}` (uploads), `/_media/{bucket}/{key}` (signed downloads), and under `deployer
//! watch` the reload channel `/_watch/` ([`reload`]). Everything it keeps is
//! in the data directory: `stage.sqlite3` (the photo table, the user pool, the processing
//! queue), `objects/` (the bucket), `cognito-key.pem` (the token signing key), `secrets.json`
//! (the bucket's signing secrets) and `outbox/` (mail).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use photo_auth::issuer::Issuer;
use photo_auth::{CognitoIdentity, TokenUse, Verifier, VerifierConfig};
use photo_domain::abandoned::SWEEP_BATCH;
use photo_domain::{Abandoned, Clock, ObjectKey, PasswordCost, PhotoService, SystemClock};
use serde::{Deserialize, Serialize};

use crate::cognito::{self, CognitoState, Outbox};
use crate::datadir::DataDir;
use crate::objects::{FileObjectStore, Secrets};
use crate::queue::{Processor, Queue};
use crate::reload;
use crate::s3::{self, BucketState, OnUpload};
use crate::site;
use crate::store::{SqliteRepository, open_database};
use crate::thumbnail::{MemoryBudget, ThumbnailStep, jobs_in_flight};
use crate::users::{HashWork, UserPool};

/// The local stage's names: a user pool id in Cognito's `{region}_{id}` shape, its app client,
/// and the bucket.
pub const POOL_ID: &str = "us-east-1_local";
pub const CLIENT_ID: &str = "localclient";
pub const BUCKET: &str = "photos-local";

/// How long a stop waits for the photo being processed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Room for the form fields around the largest upload.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub port: u16,
    pub data_dir: PathBuf,
    /// Caps upload policy lifetimes (tests of expiry); `None` keeps the API's.
    pub upload_policy_secs: Option<u64>,
    /// Password hashing cost (tests use the minimal one to stay fast).
    pub password_cost: PasswordCost,
    /// How long to wait for the data directory's lock when another process holds it.
    pub lock_wait: Duration,
    /// Host names, besides `127.0.0.1` and `localhost`, that requests may name (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// The bound on password hashes at once, and their count; `None`: one at a time per core.
    pub password_hashing: Option<Arc<HashWork>>,
    /// The first lockout after five failed sign-ins in a row, in seconds (Cognito's 1 s; tests
    /// lengthen it so that a lockout outlasts the test).
    pub sign_in_lockout_secs: i64,
    pub limits: stack::config::AppLimits,
    /// The workspace to build the SPA from; `None` serves no SPA (`--no-site`).
    pub site_workspace: Option<PathBuf>,
    /// A pause before each upload is processed (tests of a stop in the middle of processing).
    pub processing_delay: Duration,
    /// Uploads decoded at once, at most (the queue keeps twice as many in flight).
    pub workers: usize,
    /// The memory the uploads processed at once may hold together, in bytes (each takes the
    /// original's size plus imaging's estimate; one needing more than all of it runs alone).
    pub processing_memory: u64,
    /// Under `deployer watch`: the number of the build this process runs, which the reload
    /// channel (`/_watch/`) announces; `None` serves no reload channel.
    pub watch_build: Option<u64>,
    /// How often abandoned uploads are swept (see [`photo_domain::abandoned`]); the first sweep
    /// runs at start.
    pub sweep_every: Duration,
    /// The stage's clock, for tokens, links, upload forms and the queue; `None` is the
    /// system's (tests move a clock of their own through a link's window and lifetime).
    pub clock: Option<Arc<dyn Clock>>,
}

impl UpOptions {
    /// The default number of workers: one per core.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    /// The default interval between sweeps of abandoned uploads.
    pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

    /// The default memory for processing: the imaging budget of one photo.
    pub fn default_processing_memory() -> u64 {
        imaging::Settings::default().max_alloc
    }
}

/// Verified tokens kept at most; the cache is emptied when it is full.
/// Uploads go to the queue.
#[derive(Debug)]
struct Enqueue(Arc<Queue>);

impl OnUpload for Enqueue {
    fn uploaded(&self, key: &ObjectKey) -> Result<(), String> {
        self.0.enqueue(key).map_err(|e| e.to_string())
    }
}

#[derive(Serialize, Deserialize)]
struct StoredSecrets {
    upload: String,
    media: String,
}

fn random_hex(n: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore as _};
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes a file only its owner can read: it holds a secret.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating `{}`", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing `{}`", path.display()))
}

fn load_secrets(dir: &DataDir) -> anyhow::Result<Secrets> {
    let path = dir.join("secrets.json");
    if !path.exists() {
        let fresh = StoredSecrets {
            upload: random_hex(32),
            media: random_hex(32),
        };
        write_private(&path, serde_json::to_string(&fresh)?.as_bytes())?;
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    let stored: StoredSecrets = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a secrets file", path.display()))?;
    let media: Vec<u8> = (0..stored.media.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(stored.media.get(i..i + 2)?, 16).ok())
        .collect();
    let media: [u8; 32] = media
        .try_into()
        .map_err(|_| anyhow::anyhow!("`{}` holds a bad media secret", path.display()))?;
    Ok(Secrets {
        upload: stored.upload,
        media,
    })
}

fn load_issuer(dir: &DataDir, issuer_url: &str) -> anyhow::Result<Issuer> {
    let path = dir.join("cognito-key.pem");
    if !path.exists() {
        let fresh = Issuer::generate(issuer_url, CLIENT_ID).context("generating the token key")?;
        write_private(&path, fresh.to_pkcs8_pem()?.as_bytes())?;
        return Ok(fresh);
    }
    let pem =
        std::fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    Issuer::from_pkcs8_pem(&pem, issuer_url, CLIENT_ID)
        .with_context(|| format!("reading the token key `{}`", path.display()))
}

/// Queues every PENDING photo whose upload is stored and that has no job: an upload a crash
/// interrupted between storing the file and writing its job. The photos come from the index of
/// PENDING photos, so the work is that of the uploads in flight, not of the library. Returns
/// how many it queued.
fn recover_uploads(
    objects: &Path,
    repo: &SqliteRepository,
    queue: &Queue,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for (owner, id) in repo.pending_photos()? {
        // Uploads are staged; a data directory from before staging keeps them as originals.
        let stored = [
            ObjectKey::upload(&owner, &id),
            ObjectKey::original(&owner, &id),
        ]
        .into_iter()
        .find(|key| objects.join("data").join(key.as_str()).is_file());
        // An upload that was started but never sent has no file: nothing to process.
        if let Some(key) = stored
            && queue.enqueue_missing(&key)?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The `Host`s the stage answers to: `127.0.0.1:PORT`, `localhost:PORT`, and the operator's.
/// A page on another site can make the browser send requests to 127.0.0.1 under its own name
/// (DNS rebinding): those name a host of theirs, and are refused.
#[derive(Debug)]
struct AllowedHosts {
    hosts: Vec<String>,
    port: u16,
}

impl AllowedHosts {
    fn new(port: u16, extra: &[String]) -> Self {
        let mut hosts = vec![format!("127.0.0.1:{port}"), format!("localhost:{port}")];
        for host in extra {
            let host = host.to_ascii_lowercase();
            // A name without a port stands for the name on the stage's port.
            if host.contains(':') {
                hosts.push(host);
            } else {
                hosts.push(format!("{host}:{port}"));
            }
        }
        AllowedHosts { hosts, port }
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.hosts.contains(&host)
    }
}

/// Refuses a request whose `Host` is not one of the stage's, with 421 and one line saying why.
async fn check_host(
    axum::extract::State(allowed): axum::extract::State<Arc<AllowedHosts>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| allowed.allows(h)) {
        return next.run(request).await;
    }
    (
        axum::http::StatusCode::MISDIRECTED_REQUEST,
        format!(
            "this local stage answers only to 127.0.0.1:{port} and localhost:{port} (start it \
             with --allow-host NAME to add a name)\n",
            port = allowed.port
        ),
    )
        .into_response()
}

/// Binds the port, with a one-line error when it is taken.
async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            bail!(
                "port {port} on 127.0.0.1 is already in use (stop what uses it, or pass another --port)"
            )
        }
        Err(e) => Err(e).with_context(|| format!("listening on {addr}")),
    }
}

/// Sweeps abandoned uploads every `every` until `stop`; at once again after a full batch that
/// removed some (a batch of uploads that arrived and wait for processing, all kept, would only
/// be read again).
async fn sweep_abandoned(
    abandoned: Abandoned,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let wait = match abandoned.sweep(None).await {
            Ok(sweep) if sweep.removed > 0 && sweep.removed + sweep.kept >= SWEEP_BATCH => {
                Duration::ZERO
            }
            Ok(_) => every,
            Err(e) => {
                tracing::warn!(error = %e, "sweeping abandoned uploads; trying again later");
                every
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs the local stage until `shutdown` resolves.
pub async fn up(
    options: UpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let dir = {
        let (root, wait) = (options.data_dir.clone(), options.lock_wait);
        tokio::task::spawn_blocking(move || DataDir::open_waiting(&root, wait))
            .await
            .context("waiting for the data directory's lock")??
    };
    let listener = bind(options.port).await?;
    let port = listener.local_addr()?.port();
    let base_url = format!("http://127.0.0.1:{port}");
    let clock: Arc<dyn Clock> = options
        .clock
        .clone()
        .unwrap_or_else(|| Arc::new(SystemClock));

    let db = dir.join("stage.sqlite3");
    crate::datadir::private_database(&db)
        .with_context(|| format!("making `{}` private", db.display()))?;
    // The photo table's connection migrates the file first; the others find it current.
    let repo = Arc::new(SqliteRepository::open(&db).context("opening the photo table")?);
    let open = || open_database(&db).with_context(|| format!("opening `{}`", db.display()));
    let pool = Arc::new(
        UserPool::open(
            open()?,
            options.password_cost,
            options
                .password_hashing
                .clone()
                .unwrap_or_else(HashWork::per_core),
        )
        .context("opening the user pool")?
        .with_lockout(options.sign_in_lockout_secs),
    );
    let queue = Arc::new(Queue::open(open()?, clock.clone()).context("opening the queue")?);

    let recovered = recover_uploads(&dir.join("objects"), &repo, &queue)
        .context("looking for uploads left unqueued")?;
    if recovered > 0 {
        println!("queued {recovered} upload(s) a previous run stored but did not queue");
    }

    let store = Arc::new(FileObjectStore::new(
        dir.join("objects"),
        BUCKET,
        base_url.clone(),
        load_secrets(&dir)?,
        options.upload_policy_secs,
    ));
    let issuer_url = format!("{base_url}/_cognito/{POOL_ID}");
    let issuer = Arc::new(load_issuer(&dir, &issuer_url)?);
    // The API checks tokens exactly as on AWS: the same verifier, fetching the pool's JWKS.
    let verifier = Arc::new(
        Verifier::remote(
            VerifierConfig::new(issuer_url.clone(), CLIENT_ID, TokenUse::Access),
            format!("{issuer_url}/.well-known/jwks.json"),
        )
        .context("building the token verifier")?,
    );

    let limits = photo_api::ApiConfig {
        max_upload_bytes: options.limits.max_upload_bytes,
        quota_bytes: options.limits.quota_bytes,
        max_share_days: options.limits.max_share_days,
    }
    .limits();
    let limits = photo_domain::Limits {
        password_cost: options.password_cost,
        ..limits
    };
    let photos: Arc<dyn photo_domain::Repository> = repo.clone();
    let service = PhotoService::new(repo, store.clone(), clock.clone(), limits);
    let abandoned = service.abandoned();
    let processor: Arc<dyn Processor> = Arc::new(ThumbnailStep::new(
        service.clone(),
        store.clone(),
        imaging::Settings {
            max_file_bytes: options.limits.max_upload_bytes,
            ..imaging::Settings::default()
        },
        Arc::new(MemoryBudget::new(options.processing_memory)),
        options.workers,
        options.processing_delay,
    ));
    let api = photo_api::router(photo_api::AppState::new(
        service,
        Arc::new(CognitoIdentity::new(verifier.clone(), clock.clone())),
    ));
    let cognito_state = CognitoState {
        pool,
        issuer,
        verifier,
        outbox: Outbox::new(dir.join("outbox")),
        clock: clock.clone(),
    };
    let bucket = BucketState {
        store,
        clock: clock.clone(),
        on_upload: Arc::new(Enqueue(queue.clone())),
        photos,
    };
    let upload_limit = (options.limits.max_upload_bytes + FORM_OVERHEAD_BYTES) as usize;
    let app = Router::new()
        // `/api/` is not under the nest's `/api/{*rest}`: the API answers it too (its JSON
        // 404), never the SPA.
        .route(
            &format!("{}/", stack::routing::API_PREFIX),
            axum::routing::any(photo_api::not_found),
        )
        .nest(stack::routing::API_PREFIX, api)
        .route(
            "/_cognito/",
            post(cognito::handle).with_state(cognito_state.clone()),
        )
        .route(
            "/_cognito/{pool}/.well-known/jwks.json",
            get(cognito::jwks).with_state(cognito_state),
        )
        .route(
            "/_s3/{bucket}",
            post(s3::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .with_state(bucket.clone()),
        )
        .route("/_media/{bucket}/{*key}", get(s3::media).with_state(bucket));

    let site_dir = dir.join("site");
    if let Some(workspace) = &options.site_workspace {
        println!("building the SPA (the first build takes a few minutes)");
        let (workspace, site_dir, base_url) =
            (workspace.clone(), site_dir.clone(), base_url.clone());
        tokio::task::spawn_blocking(move || {
            site::build(&workspace, &site_dir, &base_url, POOL_ID, CLIENT_ID)
        })
        .await
        .context("building the SPA")??;
    }
    // Streams of the reload channel end when the stage stops, or the stop would wait for them.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let app = match options.watch_build {
        Some(build) => app.nest("/_watch", reload::router(build, closing_rx)),
        None => app,
    };
    let site_state = site::SiteState::new(site_dir, options.watch_build.is_some());
    let app = app.fallback(get(site::serve).with_state(site_state)).layer(
        axum::middleware::from_fn_with_state(
            Arc::new(AllowedHosts::new(port, &options.allowed_hosts)),
            check_host,
        ),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Up to `workers` photos decoded at once, more jobs in flight around them, all within the
    // memory budget: the thumbnailer decodes on the blocking pool, so requests keep their threads.
    let in_flight = jobs_in_flight(options.workers);
    let worker = tokio::spawn(queue.clone().work(processor, in_flight, stop_rx.clone()));
    tokio::spawn(sweep_abandoned(abandoned, options.sweep_every, stop_rx));

    println!("local stage listening on {base_url}");
    println!("  app:     {base_url}/");
    println!("  api:     {base_url}/api");
    println!("  cognito: {base_url}/_cognito/ (user pool {POOL_ID}, client {CLIENT_ID})");
    println!("  data:    {}", dir.root().display());
    let shutdown = async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the local stage")?;
    let _ = stop_tx.send(true);
    // The worker finishes the job in hand; anything not started stays queued for next time.
    // A job still unfinished after the grace period stays recorded as running, and the next
    // start takes it up again.
    if tokio::time::timeout(SHUTDOWN_GRACE, worker).await.is_err() {
        println!("photos were still being processed: they are finished at the next start");
    }
    println!("local stage stopped");
    Ok(())
}

//! The media signing keys: the RSA key pairs whose signatures open a stage's photos at its
//! media distribution.
//!
//! The deployer makes a key pair on a stage's first `up`. The private half goes to Secrets
//! Manager, one secret per key slot (`photo-app-{stage}/media-key-a` or `-b`), written and never
//! read by the deployer: once the stack exists, each secret's resource policy denies
//! `GetSecretValue` to every principal but the API function's role. The public half and its
//! fingerprint are template parameters (a `PublicKey` in the distribution's key group), and the
//! record of both slots, which one signs and what is being retired, is kept in the artifact
//! bucket (`media-keys/{stack}.json`). No private key is ever in the template, the repository,
//! a log line or an output.
//!
//! `deployer rotate-media-key` rotates without breaking a link: it puts a new key in the free
//! slot and updates the stack so that the key group holds both, waits for the media
//! distribution to deploy that, then switches signing to the new key (a second update, which
//! starts fresh API function instances). The old key stays in the group until every link it
//! signed has expired ([`LONGEST_LINK_SECS`] after the switch); a run after that time removes
//! it and deletes its secret, and a run before says when.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use photo_aws::cloudfront::KeyPair;
use photo_contract::stack::parameters::media;
use serde::{Deserialize, Serialize};

use crate::artifacts::ArtifactBucket;
use crate::deploy::Deployer;
use crate::plan::Desired;
use crate::session::Session;

/// The longest a media link lives after it is signed: an owner's link, signed at the start of
/// its window and valid for the window and its lifetime after it.
pub const LONGEST_LINK_SECS: u64 = {
    let owner = photo_domain::Limits::DEFAULT_OWNER_LINKS;
    (owner.window_secs + owner.lifetime_secs) as u64
};

/// How long after the old key's last signature its retirement waits beyond a link's lifetime:
/// for function instances that started before the switch and for clocks that disagree.
pub const DRAIN_MARGIN_SECS: u64 = 15 * 60;

/// How long a rotation waits, once the media distribution reports `Deployed`, before signing with
/// the new key.
const KEY_GROUP_SETTLE: Duration = Duration::from_secs(5 * 60);

/// One key of a slot, as the template needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The first 16 hex digits of the SHA-256 of the public key's DER.
    pub fingerprint: String,
    /// The PEM public key.
    pub public_key: String,
    /// When it was made (Unix seconds).
    pub created_at: u64,
}

impl Key {
    fn of(pair: &KeyPair) -> Key {
        Key {
            fingerprint: pair.fingerprint.clone(),
            public_key: pair.public_pem.clone(),
            created_at: unix_now(),
        }
    }
}

/// A key switched away from, kept until the links it signed have expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retiring {
    /// Its slot.
    pub slot: Slot,
    /// When signing switched away from it (Unix seconds).
    pub since: u64,
    /// When the last link it signed expires, and it may go (Unix seconds).
    pub until: u64,
}

/// A key slot of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    A,
    B,
}

impl Slot {
    /// The parameter value and secret suffix: `a` or `b`.
    pub fn name(self) -> &'static str {
        match self {
            Slot::A => "a",
            Slot::B => "b",
        }
    }

    fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

/// A stage's media keys: both slots, the one signing now and the one being retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaKeys {
    pub active: Slot,
    pub a: Option<Key>,
    pub b: Option<Key>,
    pub retiring: Option<Retiring>,
}

impl MediaKeys {
    fn slot(&self, slot: Slot) -> Option<&Key> {
        match slot {
            Slot::A => self.a.as_ref(),
            Slot::B => self.b.as_ref(),
        }
    }

    fn slot_mut(&mut self, slot: Slot) -> &mut Option<Key> {
        match slot {
            Slot::A => &mut self.a,
            Slot::B => &mut self.b,
        }
    }

    /// The template parameters of both slots and the active one.
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        let field = |slot, f: fn(&Key) -> &String| {
            self.slot(slot).map(|k| f(k).clone()).unwrap_or_default()
        };
        vec![
            (media::ACTIVE, self.active.name().to_owned()),
            (media::A_ID, field(Slot::A, |k| &k.fingerprint)),
            (media::A_PUBLIC, field(Slot::A, |k| &k.public_key)),
            (media::B_ID, field(Slot::B, |k| &k.fingerprint)),
            (media::B_PUBLIC, field(Slot::B, |k| &k.public_key)),
        ]
    }

    /// One line for `status`.
    pub fn describe(&self, now: u64) -> String {
        let fingerprint = |slot| {
            self.slot(slot)
                .map(|k| k.fingerprint.as_str())
                .unwrap_or("missing")
        };
        let mut line = format!(
            "media links signed with key {} ({})",
            self.active.name(),
            fingerprint(self.active)
        );
        match &self.retiring {
            Some(r) if now < r.until => line.push_str(&format!(
                "; key {} ({}) retires in {} (`deployer rotate-media-key` then removes it)",
                r.slot.name(),
                fingerprint(r.slot),
                hours(r.until - now)
            )),
            Some(r) => line.push_str(&format!(
                "; key {} ({}) signs no live link any more: `deployer rotate-media-key` removes it",
                r.slot.name(),
                fingerprint(r.slot)
            )),
            None if self.slot(self.active.other()).is_some() => line.push_str(&format!(
                "; key {} ({}) is being added: `deployer rotate-media-key` finishes the rotation",
                self.active.other().name(),
                fingerprint(self.active.other())
            )),
            None => {}
        }
        line
    }
}

fn hours(secs: u64) -> String {
    format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Where a stack's key record lives in the artifact bucket.
pub fn state_key(stack: &str) -> String {
    format!("media-keys/{stack}.json")
}

/// The secret of `stack`'s key in `slot`.
pub fn secret_name(stack: &str, slot: Slot) -> String {
    stack::app::media_key_secret_name(stack, slot.name())
}

/// The record in the artifact bucket and the secrets of one stack's keys.
#[derive(Debug)]
pub struct KeyStore {
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    secrets: aws_sdk_secretsmanager::Client,
    bucket: String,
    stack: String,
}

impl KeyStore {
    pub fn new(session: &Session, stack: &str) -> KeyStore {
        KeyStore {
            cfn: session.cloudformation(),
            s3: session.s3(),
            secrets: crate::client!(aws_sdk_secretsmanager, &session.sdk),
            bucket: ArtifactBucket::of(session).name,
            stack: stack.to_owned(),
        }
    }

    /// The stack's key record, if it has one.
    pub async fn load(&self) -> Result<Option<MediaKeys>> {
        let key = state_key(&self.stack);
        let object = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(None),
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("reading `{key}` from `{}`", self.bucket));
            }
        };
        let bytes = object
            .body
            .collect()
            .await
            .with_context(|| format!("reading `{key}` from `{}`", self.bucket))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("`{key}` in `{}` is not a media key record", self.bucket))
    }

    async fn save(&self, keys: &MediaKeys) -> Result<()> {
        let key = state_key(&self.stack);
        let body = serde_json::to_vec_pretty(keys).context("writing the media key record")?;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(body.into())
            .send()
            .await
            .with_context(|| format!("writing `{key}` to `{}`", self.bucket))?;
        Ok(())
    }

    /// The keys to deploy with: the recorded ones; without a record, the ones the deployed stack
    /// names (recorded again: a lost record must not re-key a live stage); on a stage's first
    /// deploy, a new key in slot a, whose secret is written before the record. With `create`
    /// false (`diff`), a stage without keys gets a key pair made for the preview and kept
    /// nowhere.
    pub async fn ensure(&self, create: bool) -> Result<MediaKeys> {
        if let Some(keys) = self.load().await? {
            return Ok(keys);
        }
        if let Some(keys) = self.named_by_stack().await? {
            if create {
                self.save(&keys).await?;
            }
            return Ok(keys);
        }
        let key = if create {
            self.new_key(Slot::A).await?
        } else {
            Key::of(&KeyPair::generate().context("making a media signing key")?)
        };
        let keys = MediaKeys {
            active: Slot::A,
            a: Some(key),
            b: None,
            retiring: None,
        };
        if create {
            self.save(&keys).await?;
        }
        Ok(keys)
    }

    /// The keys the deployed stack's parameters name, if it names any. Which key signed last is
    /// not in the stack: with both slots filled, the other one is taken to be retiring from now,
    /// so no link it may have signed breaks.
    async fn named_by_stack(&self) -> Result<Option<MediaKeys>> {
        let Some(stack) = crate::deploy::describe(&self.cfn, &self.stack).await? else {
            return Ok(None);
        };
        let param = |name: &str| stack.parameters.get(name).cloned().unwrap_or_default();
        let key = |id: &str, public: &str| {
            let fingerprint = param(id);
            (!fingerprint.is_empty()).then(|| Key {
                fingerprint,
                public_key: param(public),
                created_at: 0,
            })
        };
        let (a, b) = (
            key(media::A_ID, media::A_PUBLIC),
            key(media::B_ID, media::B_PUBLIC),
        );
        let active = if param(media::ACTIVE) == "b" {
            Slot::B
        } else {
            Slot::A
        };
        let mut keys = MediaKeys {
            active,
            a,
            b,
            retiring: None,
        };
        if keys.slot(active).is_none() {
            return Ok(None);
        }
        if keys.slot(active.other()).is_some() {
            let now = unix_now();
            keys.retiring = Some(Retiring {
                slot: active.other(),
                since: now,
                until: now + LONGEST_LINK_SECS,
            });
        }
        Ok(Some(keys))
    }

    /// Makes a key pair for `slot` and writes its private half to the slot's secret.
    async fn new_key(&self, slot: Slot) -> Result<Key> {
        let pair = KeyPair::generate().context("making a media signing key")?;
        let name = secret_name(&self.stack, slot);
        let description = format!(
            "CloudFront signing key {} of stack {} (written by the deployer; only the API \
             function reads it)",
            pair.fingerprint, self.stack
        );
        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .description(&description)
            .secret_string(pair.private_pem.as_str())
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceExistsException") => {
                self.secrets
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(pair.private_pem.as_str())
                    .send()
                    .await
                    .with_context(|| format!("writing the media signing key to `{name}`"))?;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("creating the secret `{name}`"));
            }
        }
        Ok(Key::of(&pair))
    }

    /// Lets `role_arn` alone read the secrets of `keys`' slots.
    pub async fn lock(&self, keys: &MediaKeys, role_arn: &str) -> Result<()> {
        for slot in [Slot::A, Slot::B] {
            if keys.slot(slot).is_none() {
                continue;
            }
            let name = secret_name(&self.stack, slot);
            self.secrets
                .put_resource_policy()
                .secret_id(&name)
                .resource_policy(secret_policy(role_arn).to_string())
                .block_public_policy(true)
                .send()
                .await
                .with_context(|| format!("restricting who may read `{name}`"))?;
        }
        Ok(())
    }

    async fn delete_secret(&self, slot: Slot) -> Result<bool> {
        let name = secret_name(&self.stack, slot);
        match self
            .secrets
            .delete_secret()
            .secret_id(&name)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(anyhow::Error::new(e)).with_context(|| format!("deleting `{name}`")),
        }
    }

    /// Deletes the stack's key secrets (both slots, recorded or not: a run stopped between
    /// writing a secret and its record leaves one) and record (`down`): a key opens nothing once
    /// its distribution is gone. Returns whether there was anything to delete.
    pub async fn delete_all(&self) -> Result<bool> {
        let mut deleted = self.load().await?.is_some();
        for slot in [Slot::A, Slot::B] {
            deleted |= self.delete_secret(slot).await?;
        }
        let key = state_key(&self.stack);
        match self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some("NoSuchBucket") => {}
            Err(e) => {
                return Err(anyhow::Error::new(e))
                    .with_context(|| format!("deleting `{key}` from `{}`", self.bucket));
            }
        }
        Ok(deleted)
    }
}

/// Denies reading the secret to every principal but `role_arn` (the API function's role),
/// administrators included; writing and deleting stay with IAM.
pub fn secret_policy(role_arn: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OnlyTheApiFunctionReads",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": { "StringNotEquals": { "aws:PrincipalArn": role_arn } }
        }]
    })
}

/// The ARN of the stack's API function role, once the stack has it.
async fn api_role_arn(session: &Session, deployer: &Deployer) -> Result<Option<String>> {
    let role = photo_contract::functions::API.role;
    let resources = deployer.resources().await?;
    Ok(resources
        .into_iter()
        .find(|(id, _, physical)| id == role && !physical.is_empty())
        .map(|(_, _, name)| {
            let partition = if session.region.starts_with("cn-") {
                "aws-cn"
            } else if session.region.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            };
            format!("arn:{partition}:iam::{}:role/{name}", session.account_id)
        }))
}

/// `up`'s step once the stack is deployed: the secrets of the keys it deployed with may be read
/// by the API function's role alone.
pub(crate) async fn after_deploy(
    session: &Session,
    deployer: &Deployer,
    keys: &MediaKeys,
) -> Result<()> {
    if let Some(role) = api_role_arn(session, deployer).await? {
        KeyStore::new(session, &deployer.stack)
            .lock(keys, &role)
            .await?;
    }
    Ok(())
}

/// Updates the stack to `keys`, changing nothing else: the deployed template, with its
/// parameters but the keys' as they are.
async fn redeploy(session: &Session, deployer: &Deployer, keys: &MediaKeys) -> Result<()> {
    let info = deployer
        .describe(&deployer.stack)
        .await?
        .with_context(|| format!("stack `{}` does not exist", deployer.stack))?;
    let deployed = deployer.deployed(&info).await?;
    let mut parameters = deployed.parameters;
    for (name, value) in keys.parameters() {
        parameters.insert(name.to_owned(), value);
    }
    let template = deployed.template;
    let (source, _) = ArtifactBucket::of(session)
        .template_source(session, &deployer.ui, &deployer.stack, &template)
        .await?;
    let desired = Desired {
        template,
        parameters,
        tags: deployed.tags,
    };
    deployer.deploy(&desired, &source, None).await?;
    Ok(())
}

/// The stack's media distribution, once it has one (an emulator that makes no distributions
/// leaves none).
async fn media_distribution(deployer: &Deployer) -> Result<Option<String>> {
    Ok(deployer
        .resources()
        .await?
        .into_iter()
        .find(|(logical, _, physical)| logical == "MediaDistribution" && !physical.is_empty())
        .map(|(_, _, id)| id))
}

/// Waits until distribution `id` has deployed its configuration (the key group's new key
/// included) to every edge location, polling `GetDistribution` every `poll` for at most
/// `timeout`.
pub async fn wait_until_deployed(
    cloudfront: &aws_sdk_cloudfront::Client,
    id: &str,
    poll: Duration,
    timeout: Duration,
) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let status = cloudfront
            .get_distribution()
            .id(id)
            .send()
            .await
            .with_context(|| format!("reading the status of distribution `{id}`"))?
            .distribution()
            .map(|d| d.status().to_owned())
            .unwrap_or_default();
        if status == "Deployed" {
            return Ok(());
        }
        if started.elapsed() >= timeout {
            bail!(
                "distribution `{id}` is still {status} after {}s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(poll).await;
    }
}

/// `deployer rotate-media-key`: one step of a rotation, as far as it can go now. Returns what
/// it did, for the operator.
pub(crate) async fn rotate(session: &Session, deployer: &Deployer) -> Result<String> {
    let stage = &deployer.stage;
    let store = KeyStore::new(session, &deployer.stack);
    let Some(mut keys) = store.load().await? else {
        bail!("stage `{stage}` has no media key yet: `deployer up --stage {stage}` makes one");
    };
    let now = unix_now();
    if let Some(retiring) = keys.retiring.clone() {
        if now < retiring.until {
            bail!(
                "key {} still opens links it signed until they expire, in {}: run \
                 `deployer rotate-media-key --stage {stage}` again after that to remove it",
                retiring.slot.name(),
                hours(retiring.until - now)
            );
        }
        *keys.slot_mut(retiring.slot) = None;
        keys.retiring = None;
        redeploy(session, deployer, &keys).await?;
        store.delete_secret(retiring.slot).await?;
        store.save(&keys).await?;
        return Ok(format!(
            "key {} removed from the key group and its secret deleted; links are signed with \
             key {}",
            retiring.slot.name(),
            keys.active.name()
        ));
    }
    let old = keys.active;
    let new = old.other();
    if keys.slot(new).is_none() {
        // The secret first, then the record: a key in the record always has its secret.
        let key = store.new_key(new).await?;
        *keys.slot_mut(new) = Some(key);
        store.save(&keys).await?;
    }
    if let Some(role) = api_role_arn(session, deployer).await? {
        store.lock(&keys, &role).await?;
    }
    // Both keys in the key group, at every edge, before any link is signed with the new one.
    redeploy(session, deployer, &keys).await?;
    if let Some(id) = media_distribution(deployer).await? {
        let cloudfront = crate::client!(aws_sdk_cloudfront, &session.sdk);
        wait_until_deployed(&cloudfront, &id, deployer.poll, deployer.timeout)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{e:#}: run `deployer rotate-media-key --stage {stage}` again to go on once \
                     it is Deployed"
                )
            })?;
        // A key group's change need not show in the distribution's status: give the edge
        // locations a few minutes more before any link is signed with the new key.
        deployer.ui.line(&format!(
            "waiting {} min for the new key to reach every edge location",
            KEY_GROUP_SETTLE.as_secs() / 60
        ));
        tokio::time::sleep(KEY_GROUP_SETTLE).await;
    }
    keys.active = new;
    redeploy(session, deployer, &keys).await?;
    // The old key signed until the update above finished (and function instances started
    // before it may sign a while longer): its links live from then, with a margin.
    let since = unix_now();
    keys.retiring = Some(Retiring {
        slot: old,
        since,
        until: since + LONGEST_LINK_SECS + DRAIN_MARGIN_SECS,
    });
    store.save(&keys).await?;
    Ok(format!(
        "media links are now signed with key {} ({}); key {} stays in the key group until the \
         links it signed expire, in {}: run `deployer rotate-media-key --stage {stage}` again \
         after that to remove it",
        new.name(),
        keys.slot(new)
            .map(|k| k.fingerprint.as_str())
            .unwrap_or_default(),
        old.name(),
        hours(LONGEST_LINK_SECS + DRAIN_MARGIN_SECS)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    /// `GetDistribution`'s answer (CloudFront's REST XML) with `status`.
    fn distribution(status: &str) -> ReplayEvent {
        ReplayEvent::new(
            http::Request::builder()
                .uri("https://cloudfront.amazonaws.com/2020-05-31/distribution/E2MEDIA")
                .body(SdkBody::empty())
                .unwrap(),
            http::Response::builder()
                .status(200)
                .header("content-type", "text/xml")
                .body(SdkBody::from(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                     <Distribution xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
                     <Id>E2MEDIA</Id>\
                     <ARN>arn:aws:cloudfront::123456789012:distribution/E2MEDIA</ARN>\
                     <Status>{status}</Status>\
                     <LastModifiedTime>2026-12-01T12:00:00.000Z</LastModifiedTime>\
                     <InProgressInvalidationBatches>0</InProgressInvalidationBatches>\
                     <DomainName>d2media.cloudfront.net</DomainName>\
                     </Distribution>"
                )))
                .unwrap(),
        )
    }

    fn cloudfront(events: Vec<ReplayEvent>) -> (aws_sdk_cloudfront::Client, StaticReplayClient) {
        let http = StaticReplayClient::new(events);
        let config = aws_sdk_cloudfront::Config::builder()
            .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudfront::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "replay",
            ))
            .http_client(http.clone())
            .interceptor(crate::calls::Declared)
            .build();
        (aws_sdk_cloudfront::Client::from_conf(config), http)
    }

    /// moto makes no distribution, so the wait between adding a key and signing with it is
    /// replayed from CloudFront-shaped answers: it polls until the distribution is Deployed.
    #[tokio::test]
    async fn a_rotation_waits_for_the_distribution_to_deploy_the_new_key() {
        let (client, http) = cloudfront(vec![
            distribution("InProgress"),
            distribution("InProgress"),
            distribution("Deployed"),
        ]);
        wait_until_deployed(
            &client,
            "E2MEDIA",
            Duration::from_millis(1),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        assert_eq!(http.actual_requests().count(), 3);
    }

    #[tokio::test]
    async fn a_distribution_that_stays_in_progress_stops_the_wait_at_its_bound() {
        let (client, _) = cloudfront(vec![distribution("InProgress"), distribution("InProgress")]);
        let err = wait_until_deployed(
            &client,
            "E2MEDIA",
            Duration::from_millis(30),
            Duration::from_millis(10),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "distribution `E2MEDIA` is still InProgress after 0s"
        );
    }

    #[test]
    fn the_secret_policy_denies_reading_to_all_but_the_api_role() {
        let policy = secret_policy("arn:aws:iam::123456789012:role/photo-app-dev-ApiRole-X");
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Effect"], "Deny");
        assert_eq!(statement["Action"], "secretsmanager:GetSecretValue");
        assert_eq!(
            statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"],
            "arn:aws:iam::123456789012:role/photo-app-dev-ApiRole-X"
        );
    }

    #[test]
    fn the_longest_link_is_an_owners_window_and_lifetime() {
        assert_eq!(LONGEST_LINK_SECS, 13 * 3600);
        assert_eq!(hours(LONGEST_LINK_SECS), "13h00m");
    }
}

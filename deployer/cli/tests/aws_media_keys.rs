//! The media signing keys end to end against moto: `up` makes the first key (the private half
//! in Secrets Manager, readable by the API function's role alone; the public half a template
//! parameter), `rotate-media-key` adds a second key, switches signing to it and later removes
//! the first, `status` shows where a rotation stands, and `down` deletes the keys.
//!
//! moto makes no CloudFront key group or distribution (the template's are checked by cfn-lint
//! and checkov in `stack`), so the rotation's wait for the distribution to deploy finds none to
//! wait for here; moto stores but does not enforce the secrets' resource policies.
//! Time is not waited out: the test moves the recorded end of the old key's links into the past,
//! as thirteen hours would.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use serde_json::Value;
use testkit::MotoServer;

use crate::aws_moto::{BUCKET, CONFIG, Look, STACK, Scratch, deployer, ok, text};

const STATE: &str = "media-keys/photo-app-dev.json";

impl Look {
    fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    /// The secret's value, or `None` when it does not exist.
    fn secret(&self, name: &str) -> Option<String> {
        match self
            .rt
            .block_on(self.secrets().get_secret_value().secret_id(name).send())
        {
            Ok(out) => Some(out.secret_string().unwrap().to_owned()),
            Err(e) if e.code() == Some("ResourceNotFoundException") => None,
            Err(e) => panic!("reading {name}: {e:?}"),
        }
    }

    fn secret_policy(&self, name: &str) -> Value {
        let out = self
            .rt
            .block_on(self.secrets().get_resource_policy().secret_id(name).send())
            .unwrap();
        serde_json::from_str(out.resource_policy().expect("a resource policy")).unwrap()
    }

    fn state(&self) -> Option<Value> {
        let out = self
            .rt
            .block_on(self.s3.get_object().bucket(BUCKET).key(STATE).send())
            .ok()?;
        let bytes = self.rt.block_on(out.body.collect()).unwrap().into_bytes();
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    fn put_state(&self, state: &Value) {
        self.rt
            .block_on(
                self.s3
                    .put_object()
                    .bucket(BUCKET)
                    .key(STATE)
                    .body(serde_json::to_vec(state).unwrap().into())
                    .send(),
            )
            .unwrap();
    }

    /// The ARN of the API function's role, as moto made it.
    fn api_role_arn(&self) -> String {
        let cfn = aws_sdk_cloudformation::Client::new(&self.sdk);
        let out = self
            .rt
            .block_on(cfn.describe_stack_resources().stack_name(STACK).send())
            .unwrap();
        let name = out
            .stack_resources()
            .iter()
            .find(|r| r.logical_resource_id() == Some(photo_contract::functions::API.role))
            .and_then(|r| r.physical_resource_id())
            .expect("the API role")
            .to_owned();
        format!("arn:aws:iam::123456789012:role/{name}")
    }
}

/// The secret holds a PKCS#8 private key; its policy lets the API role alone read it.
fn check_secret(look: &Look, name: &str) {
    let value = look.secret(name).expect("the secret exists");
    assert!(value.starts_with("-----BEGIN PRIVATE KEY-----"), "{name}");
    let policy = look.secret_policy(name);
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(statement["Principal"], "*");
    assert_eq!(statement["Action"], "secretsmanager:GetSecretValue");
    assert_eq!(
        statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"],
        look.api_role_arn()
    );
}

fn no_private_key(out: &std::process::Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(!text(stream).contains("PRIVATE KEY"));
    }
}

#[test]
fn up_makes_the_media_key_and_a_rotation_swaps_it_without_a_gap() {
    let moto = MotoServer::start();
    let scratch = Scratch::new(CONFIG);
    let look = Look::new(&moto);

    // The first `up` makes key a: its fingerprint and public key are the stack's parameters.
    let out = deployer(&moto, &scratch, &["up", "--stage", "dev"]);
    ok(&out);
    no_private_key(&out);
    assert_eq!(look.param("MediaKeyActive"), "a");
    let a = look.param("MediaKeyAId");
    assert_eq!(a.len(), 16, "{a}");
    assert!(
        look.param("MediaKeyAPublic")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(look.param("MediaKeyBId"), "");
    check_secret(&look, "photo-app-dev/media-key-a");
    assert_eq!(look.secret("photo-app-dev/media-key-b"), None);
    let state = look.state().expect("the key record");
    assert_eq!(state["active"], "a");
    assert_eq!(state["a"]["fingerprint"], a.as_str());

    // The next `up` keeps it.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(stdout.starts_with("no changes"), "{stdout}");
    assert_eq!(look.param("MediaKeyAId"), a);

    // A rotation adds key b beside a and signs with b; a stays in the key group.
    let out = deployer(&moto, &scratch, &["rotate-media-key", "--stage", "dev"]);
    let (stdout, _) = ok(&out);
    no_private_key(&out);
    assert!(
        stdout.contains("media links are now signed with key b"),
        "{stdout}"
    );
    assert_eq!(look.param("MediaKeyActive"), "b");
    assert_eq!(look.param("MediaKeyAId"), a, "the old key stays");
    let b = look.param("MediaKeyBId");
    assert_eq!(b.len(), 16);
    assert_ne!(a, b);
    check_secret(&look, "photo-app-dev/media-key-b");
    assert!(look.secret("photo-app-dev/media-key-a").is_some());

    // Before a's links have expired, the old key cannot go: one line saying when it can.
    let out = deployer(&moto, &scratch, &["rotate-media-key", "--stage", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("key a still opens links it signed until they expire, in 13h15m")
            || stderr.contains("key a still opens links it signed until they expire, in 13h14m"),
        "{stderr}"
    );
    assert_eq!(look.param("MediaKeyAId"), a);
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["status", "--stage", "dev"]));
    let media = stdout
        .lines()
        .find(|l| l.starts_with("media "))
        .expect("a media line");
    assert!(
        media.contains(&format!(
            "signed with key b ({b}); key a ({a}) retires in 1"
        )),
        "{media}"
    );

    // Thirteen hours later (moved in the record), the next run removes key a and its secret.
    let mut state = look.state().unwrap();
    state["retiring"]["until"] = Value::from(state["retiring"]["since"].as_u64().unwrap() - 1);
    look.put_state(&state);
    let (stdout, _) = ok(&deployer(
        &moto,
        &scratch,
        &["rotate-media-key", "--stage", "dev"],
    ));
    assert!(stdout.contains("key a removed"), "{stdout}");
    assert_eq!(look.param("MediaKeyActive"), "b");
    assert_eq!(look.param("MediaKeyAId"), "");
    assert_eq!(look.param("MediaKeyAPublic"), "");
    assert_eq!(look.param("MediaKeyBId"), b);
    assert_eq!(look.secret("photo-app-dev/media-key-a"), None);
    let state = look.state().unwrap();
    assert_eq!(state["retiring"], Value::Null);
    assert_eq!(state["a"], Value::Null);

    // A lost record does not re-key the stage: `up` reads the keys back from the stack.
    look.rt
        .block_on(look.s3.delete_object().bucket(BUCKET).key(STATE).send())
        .unwrap();
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["up", "--stage", "dev"]));
    assert!(stdout.starts_with("no changes"), "{stdout}");
    let state = look.state().expect("the record, rebuilt");
    assert_eq!(state["active"], "b");
    assert_eq!(state["b"]["fingerprint"], b.as_str());
    assert_eq!(state["a"], Value::Null);
    assert_eq!(look.param("MediaKeyBId"), b);

    // `down` deletes the keys with the stack: they open nothing without its distribution.
    let (stdout, _) = ok(&deployer(&moto, &scratch, &["down", "--stage", "dev"]));
    assert!(
        stdout.contains("deleted the media signing keys"),
        "{stdout}"
    );
    assert_eq!(look.secret("photo-app-dev/media-key-b"), None);
    assert!(look.state().is_none());
}

#[test]
fn a_rotation_needs_a_stage_that_has_a_key() {
    let moto = MotoServer::start();
    let scratch = Scratch::new(CONFIG);
    let out = deployer(&moto, &scratch, &["rotate-media-key", "--stage", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stage `dev` has no media key yet: `deployer up --stage dev` makes one"),
        "{stderr}"
    );
}

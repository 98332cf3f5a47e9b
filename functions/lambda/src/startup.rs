//! What both functions' `main`s do before the runtime takes over: read the environment, start
//! JSON tracing, load the SDK configuration once, and, when start-up fails, say why to Lambda.

use std::future::Future;

use anyhow::Result;
use aws_config::{BehaviorVersion, SdkConfig};

/// An environment variable the stack sets (see [`photo_contract::env`]), trimmed; missing or
/// blank is an error naming it.
pub fn var(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => anyhow::bail!("environment variable `{name}` is not set"),
    }
}

/// Logs as JSON lines for CloudWatch; Lambda stamps the time itself. Each function's span
/// carries the request id and the X-Ray trace root; no header, path or token is ever logged.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout)
        .init();
}

/// The SDK configuration for the function's region (`AWS_REGION`, set by Lambda), with the
/// execution role's credentials from the environment. `AWS_ENDPOINT_URL`, for tests and
/// emulators only, points every client at an emulator such as moto.
pub async fn sdk_config() -> Result<SdkConfig> {
    let region = var("AWS_REGION")?;
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .http_client(photo_aws::tls::https_client())
        .load()
        .await)
}

/// Builds the function's handler state once, per cold start. If that fails, the reason is
/// logged and reported to Lambda (`/runtime/init/error`), and returned for `main` to exit with.
pub async fn start<T>(
    function: &str,
    build: impl Future<Output = Result<T>>,
) -> Result<T, lambda_runtime::Error> {
    match build.await {
        Ok(state) => Ok(state),
        Err(e) => {
            let message = format!("{e:#}");
            tracing::error!(error = %message, "the {function} function cannot start");
            report_init_error(&message);
            Err(message.into())
        }
    }
}

/// Tells Lambda why the function could not start (`/runtime/init/error`), so the console and
/// the invoke response show `Runtime.ConfigError` and the message instead of a bare exit code.
/// Plain HTTP/1.1 to the Runtime API; best effort, since the process exits next.
pub fn report_init_error(message: &str) {
    use std::io::{Read as _, Write as _};
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body =
        serde_json::json!({ "errorMessage": message, "errorType": "ConfigError" }).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: Runtime.ConfigError\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let timeout = Some(std::time::Duration::from_secs(2));
    if let Ok(mut stream) = std::net::TcpStream::connect(&api) {
        let _ = stream.set_write_timeout(timeout);
        let _ = stream.set_read_timeout(timeout);
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read(&mut [0u8; 256]);
        }
    }
}

//! What both Lambda functions' `bootstrap` binaries share before the runtime client takes over.

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

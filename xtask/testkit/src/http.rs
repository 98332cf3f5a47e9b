//! Just enough HTTP/1.1 on the standard library: one request per connection to a loopback
//! server, and the `multipart/form-data` body a browser posts to a bucket.
//!
//! This is for harness code that must not pull an HTTP client into the build of what it tests
//! (moto's control API, a moto bucket's pre-signed links, a benchmark's set-up); tests of a
//! local stage use the `reqwest` client in [`crate::local`] instead.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// The boundary of every form [`multipart`] makes.
pub const BOUNDARY: &str = "----testkit-form-boundary-7MA4YWxkTrZu0gW";

/// The `Content-Type` of a form made by [`multipart`].
pub fn multipart_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A browser's `multipart/form-data` body: the form's fields in order, then the file last, as
/// S3 requires.
pub fn multipart<K, V>(
    fields: impl IntoIterator<Item = (K, V)>,
    file_name: &str,
    content_type: &str,
    file: &[u8],
) -> Vec<u8>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut body = Vec::new();
    for (name, value) in fields {
        let (name, value) = (name.as_ref(), value.as_ref());
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// One answer: the status, the head (status line and headers, as text) and the body, with any
/// chunked transfer encoding undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request to `url` (`http://HOST:PORT/PATH`) on a fresh connection and reads the
/// whole answer; the connection is closed after it. Every read waits at most 30 s.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("not an http:// URL"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        if path.is_empty() { "/" } else { path },
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("an answer without the end of its head"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("an answer without a status"))?;
    let mut body = answer[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body).ok_or_else(|| bad("a broken chunked body"))?;
    }
    Ok(Response { status, head, body })
}

/// Undoes `Transfer-Encoding: chunked`.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(line_end + 2..line_end + 2 + size)?);
        data = data.get(line_end + 4 + size..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead as _, BufReader};
    use std::net::TcpListener;

    /// Serves one connection with `answer`, returning what the client sent.
    fn serve_once(answer: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut seen = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.strip_prefix("Content-Length: ") {
                    length = v.trim().parse().unwrap();
                }
                seen.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.push_str(&String::from_utf8_lossy(&body));
            (&stream).write_all(answer).unwrap();
            seen
        });
        (url, server)
    }

    #[test]
    fn a_request_goes_out_whole_and_a_chunked_answer_comes_back_whole() {
        let (url, server) =
            serve_once(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
        let answer = request("PUT", &format!("{url}/a/b?c"), &[("X-Test", "1")], b"hello").unwrap();
        assert_eq!((answer.status, answer.text()), (201, "abcde".to_owned()));
        let seen = server.join().unwrap();
        assert!(seen.starts_with("PUT /a/b?c HTTP/1.1\r\n"), "{seen}");
        assert!(seen.contains("X-Test: 1\r\n"), "{seen}");
        assert!(seen.ends_with("\r\n\r\nhello"), "{seen}");
    }

    #[test]
    fn forms_carry_their_fields_in_order_and_the_file_last() {
        let body = multipart(
            [("key", "k/1"), ("policy", "p")],
            "a.jpg",
            "image/jpeg",
            b"JPEG",
        );
        let text = String::from_utf8(body).unwrap();
        let key = text.find("name=\"key\"\r\n\r\nk/1\r\n").unwrap();
        let policy = text.find("name=\"policy\"\r\n\r\np\r\n").unwrap();
        let file = text
            .find("filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEG\r\n")
            .unwrap();
        assert!(key < policy && policy < file, "{text}");
        assert!(text.ends_with(&format!("--{BOUNDARY}--\r\n")), "{text}");
        assert!(multipart_content_type().ends_with(BOUNDARY));
    }
}

//! An in-process origin server for live tests: real sockets on loopback,
//! behaviour chosen by the request path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A running origin; it stops with the test process.
pub struct Origin {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Origin {
    /// Starts serving on an ephemeral loopback port.
    pub fn start() -> Origin {
        Origin::start_at("127.0.0.1:0")
    }

    /// Starts serving at `addr`.
    pub fn start_at(addr: &str) -> Origin {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || serve(stream));
            }
        });
        Origin { addr, connections }
    }

    /// How many connections it has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://ADDR/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let reply = |status: &str, headers: &str, body: &[u8]| {
            let mut r = format!(
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        };
        let response = match path.as_str() {
            "/hello" => reply("200 OK", "X-Origin-Case: Mixed\r\ncontent-TYPE: text/plain\r\n", b"hello from origin\n"),
            "/headers" => reply("200 OK", "", head.as_bytes()),
            "/data.json" => reply(
                "200 OK",
                "Content-Type: application/json\r\n",
                br#"{"name":"waylay","items":[1,2,3],"nested":{"ok":true}}"#,
            ),
            "/pixel.png" => reply("200 OK", "Content-Type: image/png\r\n", PIXEL),
            "/login" => reply(
                "200 OK",
                "Set-Cookie: session=abc=1; Path=/\r\nSet-Cookie: theme=dark\r\n",
                b"logged in\n",
            ),
            "/page.html" => reply(
                "200 OK",
                "Content-Type: text/html; charset=utf-8\r\n",
                b"<html><body><p id=\"page\">hello from the page</p><script src=\"/app.js\"></script></body></html>",
            ),
            "/app.js" => reply(
                "200 OK",
                "Content-Type: text/javascript\r\n",
                b"document.body.insertAdjacentHTML('beforeend', '<p id=\"script\">hello from the script</p>');",
            ),
            "/feed.xml" => reply(
                "200 OK",
                "Content-Type: application/xml\r\n",
                b"<?xml version=\"1.0\"?><feed><entry id=\"1\"><title>first</title></entry></feed>",
            ),
            "/echo" | "/upload" => reply("200 OK", "", &body),
            "/continue" => {
                let mut r = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
                r.extend(reply("200 OK", "", b"after continue\n"));
                r
            }
            "/nocontent" => b"HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n".to_vec(),
            "/notmodified" => b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n".to_vec(),
            "/close" => {
                let _ = out.write_all(&reply("200 OK", "Connection: close\r\n", b"closing\n"));
                return;
            }
            "/stall" => {
                std::thread::sleep(Duration::from_secs(5));
                return;
            }
            "/slow" => {
                std::thread::sleep(Duration::from_millis(700));
                reply("200 OK", "", b"slow\n")
            }
            "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n chunks\r\n0\r\n\r\n".to_vec(),
            "/reset" => {
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
                return;
            }
            "/stall-body" => {
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart");
                std::thread::sleep(Duration::from_secs(5));
                return;
            }
            "/bad-chunk" => {
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
                return;
            }
            "/garbage" => {
                let _ = out.write_all(b"this is not http\r\n\r\n");
                return;
            }
            "/big" => reply("200 OK", "", &vec![b'x'; 2 << 20]),
            // More than loopback's socket buffers hold.
            "/huge" => reply("200 OK", "", &vec![b'x'; 32 << 20]),
            "/gigabyte" => {
                let _ = out.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 1u64 << 30).as_bytes());
                let block = vec![b'w'; 1 << 16];
                for _ in 0..(1 << 14) {
                    if out.write_all(&block).is_err() {
                        return;
                    }
                }
                continue;
            }
            "/big-chunked" => {
                let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for _ in 0..64 {
                    r.extend_from_slice(format!("{:x}\r\n", 1 << 15).as_bytes());
                    r.extend_from_slice(&vec![b'c'; 1 << 15]);
                    r.extend_from_slice(b"\r\n");
                }
                r.extend_from_slice(b"0\r\nX-Trailer: done\r\n\r\n");
                r
            }
            _ => reply("404 Not Found", "", b"no such path\n"),
        };
        if out.write_all(&response).is_err() {
            return;
        }
    }
}

/// A 4×4 red PNG, for the web view's image view.
pub const PIXEL: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0,
    0, 0, 38, 147, 9, 41, 0, 0, 0, 16, 73, 68, 65, 84, 120, 156, 99, 248, 207, 192, 0, 71, 12, 196,
    113, 0, 174, 147, 15, 241, 208, 95, 35, 158, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

//! A stand-in for the Hugging Face Hub, served over real HTTP on localhost, for the tests of
//! downloading models through the real `hf-hub` client (pointed at it with `HF_ENDPOINT`).
//! It answers the two routes that client uses, as huggingface.co answers them:
//! `GET /api/models/{org}/{name}/revision/{rev}` (the commit and the file list) and
//! `GET /{org}/{name}/resolve/{rev}/{file}` (the file, with `ETag`, `X-Repo-Commit`,
//! `Content-Length`, and `Range` answered with 206 and `Content-Range`). Repositories are
//! local folders, one per revision; a repository may require a token (401 without it).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// One revision of a repository: its commit and the folder whose files it serves.
#[derive(Clone)]
struct Revision {
    commit: String,
    folder: PathBuf,
}

#[derive(Default)]
struct Repos {
    /// repo id → revision name (branch, tag or the commit itself) → revision.
    revisions: HashMap<String, HashMap<String, Revision>>,
    /// repo id → the token it requires.
    tokens: HashMap<String, String>,
}

/// The running server: its address, its repositories and the requests it answered.
pub struct LocalHub {
    /// Where it listens.
    pub addr: SocketAddr,
    repos: Arc<Mutex<Repos>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl LocalHub {
    /// Starts serving (no repositories yet) on a free localhost port.
    pub fn start() -> LocalHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let repos = Arc::new(Mutex::new(Repos::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (repos.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || serve(stream, &r, &q));
            }
        });
        LocalHub {
            addr,
            repos,
            requests,
        }
    }

    /// `HF_ENDPOINT` for this server.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Publishes `folder` as revision `name` of `repo` (also reachable by its commit, which is
    /// returned: a 40-hex id derived from the repo, the name and the folder's files).
    pub fn publish(&self, repo: &str, name: &str, folder: &Path) -> String {
        let mut hash = Sha256::new();
        hash.update(format!("{repo}@{name}"));
        for file in files(folder) {
            hash.update(&file);
            hash.update(std::fs::read(folder.join(&file)).unwrap());
        }
        let commit = format!("{:x}", hash.finalize())[..40].to_string();
        let revision = Revision {
            commit: commit.clone(),
            folder: folder.to_path_buf(),
        };
        let mut repos = self.repos.lock().unwrap();
        let revisions = repos.revisions.entry(repo.to_string()).or_default();
        revisions.insert(name.to_string(), revision.clone());
        revisions.insert(commit.clone(), revision);
        commit
    }

    /// Makes `repo` answer 401 to requests without `Authorization: Bearer {token}`.
    pub fn require_token(&self, repo: &str, token: &str) {
        let mut repos = self.repos.lock().unwrap();
        repos.tokens.insert(repo.to_string(), token.to_string());
    }

    /// The request lines answered so far ("GET /path [range]").
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The files of a folder (not recursive), sorted.
fn files(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A request's line and the headers the Hub's answers depend on.
struct Request {
    path: String,
    range: Option<String>,
    authorization: Option<String>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let (mut range, mut authorization) = (None, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "range" => range = Some(value.trim().to_string()),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    Some(Request {
        path,
        range,
        authorization,
    })
}

fn respond(mut stream: TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn not_found(stream: TcpStream, what: &str) {
    let body = format!("{{\"error\": \"{what} not found\"}}");
    respond(
        stream,
        "404 Not Found",
        &[("Content-Type", "application/json".into())],
        body.as_bytes(),
    );
}

fn serve(stream: TcpStream, repos: &Mutex<Repos>, requests: &Mutex<Vec<String>>) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    requests.lock().unwrap().push(format!(
        "GET {} {}",
        request.path,
        request.range.clone().unwrap_or_default()
    ));
    let parts: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    let (repo, rev, file, is_api) = match parts.as_slice() {
        ["api", "models", org, name, "revision", rev] => {
            (format!("{org}/{name}"), rev.to_string(), None, true)
        }
        [org, name, "resolve", rev, file] => (
            format!("{org}/{name}"),
            rev.to_string(),
            Some(file.to_string()),
            false,
        ),
        _ => return not_found(stream, "route"),
    };
    let (revision, token) = {
        let repos = repos.lock().unwrap();
        let revision = repos
            .revisions
            .get(&repo)
            .and_then(|r| r.get(&rev))
            .cloned();
        (revision, repos.tokens.get(&repo).cloned())
    };
    if let Some(token) = token {
        if request.authorization.as_deref() != Some(&format!("Bearer {token}")) {
            return respond(stream, "401 Unauthorized", &[], b"{\"error\": \"gated\"}");
        }
    }
    let Some(revision) = revision else {
        return not_found(stream, "revision");
    };
    if is_api {
        let siblings: Vec<serde_json::Value> = files(&revision.folder)
            .into_iter()
            .map(|f| serde_json::json!({"rfilename": f}))
            .collect();
        let body = serde_json::json!({"id": repo, "sha": revision.commit, "siblings": siblings});
        return respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/json".into())],
            body.to_string().as_bytes(),
        );
    }
    let file = file.expect("a resolve route names a file");
    let Ok(bytes) = std::fs::read(revision.folder.join(&file)) else {
        return not_found(stream, "file");
    };
    let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
    let mut headers = vec![
        ("ETag", etag),
        ("X-Repo-Commit", revision.commit.clone()),
        ("Accept-Ranges", "bytes".to_string()),
    ];
    let total = bytes.len();
    match request
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
    {
        Some(range) => {
            let (from, to) = range.split_once('-').unwrap_or((range, ""));
            let from: usize = from.parse().unwrap_or(0);
            let to: usize = to.parse().unwrap_or(total - 1).min(total - 1);
            headers.push(("Content-Range", format!("bytes {from}-{to}/{total}")));
            respond(stream, "206 Partial Content", &headers, &bytes[from..=to]);
        }
        None => respond(stream, "200 OK", &headers, &bytes),
    }
}

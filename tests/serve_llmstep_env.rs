//! `proofstep serve` listens where llmstep's client looks: LLMSTEP_HOST and LLMSTEP_PORT (as
//! llmstep's `suggest.py` and `server.py` read them) choose the address when --host and
//! --port are not given; the flags win over them.

mod common;

use common::ServeProcess;

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn serve_listens_where_llmstep_host_and_port_say() {
    let port = free_port();
    let server = ServeProcess::start(
        &[],
        &[
            ("LLMSTEP_HOST", "127.0.0.1"),
            ("LLMSTEP_PORT", &port.to_string()),
        ],
    );
    assert_eq!(server.addr.port(), port);
    assert!(server.addr.ip().is_loopback());
    let (status, _) = common::http_client::exchange(
        server.addr,
        "POST",
        "/",
        br#"{"tactic_state": "\u22a2 True", "prefix": ""}"#,
    );
    assert_eq!(status, 200);
}

#[test]
fn the_port_flag_wins_over_llmstep_port() {
    let server = ServeProcess::start(&["--port", "0"], &[("LLMSTEP_PORT", "1")]);
    assert_ne!(server.addr.port(), 1, "--port 0 picks a free port");
}

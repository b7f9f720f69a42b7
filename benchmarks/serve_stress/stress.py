"""`proofstep serve` under slow and flooding clients (see benchmarks/README.md, serve_stress).

Starts the server, then measures the latency of normal llmstep requests (one fresh connection
each, as llmstep's client makes them, a pause between them) with 0 and then N slow clients
connected (half dribble a request head, half a body, one byte a second, reconnecting when cut
off), and the server's resident memory while clients flood it with endless headers and bodies
(reconnecting when cut off, each bounded in bytes and time). Prints one JSON line per measurement. Standard library
only; 127.0.0.1 only.
"""

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True, help="the proofstep binary")
p.add_argument("--model", required=True)
p.add_argument("--requests", type=int, default=75, help="normal requests per measurement")
p.add_argument("--pause", type=float, default=0.2,
               help="seconds between normal requests (75 x 0.2 s outlasts the default 10 s "
                    "client deadline, so slow clients are cut off and come back meanwhile)")
p.add_argument("--slow", default="0,64,512", help="slow-client counts to measure with")
p.add_argument("--request-timeout", type=float, default=10.0)
p.add_argument("--give-up-after", type=int, default=3, help="timeouts before a phase stops")
p.add_argument("--flood-clients", type=int, default=8)
p.add_argument("--flood-mib", type=int, default=4096,
               help="most MiB each flooder sends (it stops sooner when the measurement ends)")
a = p.parse_args()

REQUEST = json.dumps({"tactic_state": "p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "prefix": ""}).encode()


def emit(x):
    print(json.dumps(x), flush=True)


server = subprocess.Popen([a.bin, "serve", "--port", "0", "--model", a.model],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
listening = json.loads(server.stdout.readline())
host, port = listening["address"].rsplit(":", 1)
ADDR = (host, int(port))


def memory(field):
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"serve_stress: no {field} for the server")


def ask():
    """One normal request: (status or None on timeout/error, seconds)."""
    t = time.perf_counter()
    try:
        c = http.client.HTTPConnection(*ADDR, timeout=a.request_timeout)
        c.request("POST", "/", REQUEST, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, time.perf_counter() - t
    except OSError:
        return None, time.perf_counter() - t


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * len(xs) + 0.5)) - 1))]


def measure(phase, **extra):
    lat, statuses, failed = [], {}, 0
    for i in range(a.requests):
        if i:
            time.sleep(a.pause)
        status, s = ask()
        if status is None:
            failed += 1
            if failed >= a.give_up_after:
                break
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            lat.append(s)
    row = {"phase": phase, **extra, "ok": len(lat), "statuses": statuses,
           "timeouts_or_errors": failed}
    if lat:
        row.update(p50_ms=round(1000 * pct(lat, 0.5), 1), p99_ms=round(1000 * pct(lat, 0.99), 1),
                   max_ms=round(1000 * max(lat), 1))
    emit(row)


HEADS = {
    "head": b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
    "body": b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 8000\r\n\r\n{",
}


def slow_client(kind, stop, connected, cuts):
    """Dribbles one byte a second until `stop`; reconnects when the server cuts it off."""
    first = True
    while not stop.is_set():
        try:
            s = socket.create_connection(ADDR, timeout=5)
        except OSError:
            stop.wait(0.2)
            continue
        try:
            s.sendall(HEADS[kind])
            if first:
                connected.release()
                first = False
            while not stop.wait(1.0):
                s.sendall(b"a" if kind == "head" else b" ")
        except OSError:
            cuts.append(1)
        finally:
            s.close()


def with_slow(n):
    stop, connected, cuts = threading.Event(), threading.Semaphore(0), []
    threads = [threading.Thread(target=slow_client, daemon=True,
                                args=("head" if i % 2 == 0 else "body", stop, connected, cuts))
               for i in range(n)]
    for t in threads:
        t.start()
    for _ in range(n):
        connected.acquire(timeout=30)
    time.sleep(1.0)
    measure("slow clients", slow=n)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    emit({"phase": "slow clients cut off by the server", "slow": n, "cuts": len(cuts)})
    time.sleep(1.0)


FLOODS = {
    "header": (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Endless: ", b"a" * 65536),
    "headers": (b"POST / HTTP/1.1\r\nHost: localhost\r\n", b"X-Many: 1\r\n" * 6000),
    "body": (b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
             b"10000\r\n" + b" " * 65536 + b"\r\n"),
}


def flooder(kind, sent, stop):
    head, chunk = FLOODS[kind]
    cap, total = a.flood_mib << 20, 0
    while not stop.is_set() and total < cap:
        try:
            s = socket.create_connection(ADDR, timeout=2)
        except OSError:
            time.sleep(0.01)
            continue
        try:
            s.sendall(head)
            total += len(head)
            while not stop.is_set() and total < cap:
                s.sendall(chunk)
                total += len(chunk)
        except OSError:
            pass
        finally:
            s.close()
    sent.append(total)


def flood():
    before = memory("VmRSS")
    stop = threading.Event()
    sent, sampled = [], [before]
    kinds = list(FLOODS)
    threads = [threading.Thread(target=flooder, daemon=True,
                                args=(kinds[i % len(kinds)], sent, stop))
               for i in range(a.flood_clients)]
    began = time.time()
    for t in threads:
        t.start()

    def sample():
        while any(t.is_alive() for t in threads):
            sampled.append(memory("VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    measure("during the flood", flooders=a.flood_clients)
    stop.set()
    for t in threads:
        t.join()
    sampler.join()
    mib = lambda b: round(b / 2**20, 1)
    emit({"phase": "flood memory", "flooders": a.flood_clients, "kinds": kinds,
          "seconds": round(time.time() - began, 1),
          "offered_mib": mib(sum(sent)), "rss_before_mib": mib(before),
          "rss_sampled_peak_mib": mib(max(sampled)), "vm_hwm_mib": mib(memory("VmHWM"))})


try:
    for _ in range(3):
        ask()
    for n in [int(x) for x in a.slow.split(",")]:
        if n == 0:
            measure("slow clients", slow=0)
        else:
            with_slow(n)
    flood()
    measure("after the flood")
finally:
    server.kill()
    server.wait()

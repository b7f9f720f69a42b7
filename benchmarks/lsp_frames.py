"""lsp_frames (see README.md): what an oversized frame from the editor costs `proofstep lsp`.
Drives the binary as an editor would (`proofstep lsp --no-model -- lean --server` on the test
world), then sends one bad frame followed by a `workspace/symbol` request, and reports whether
that request is still answered, how long it took, and the proxy's peak resident set (VmHWM):
  lie     `Content-Length: 512000000` followed by 11 bytes (the sender lies about the length)
  honest  an 83,886,128-byte JSON body (80 MiB of string) sent in full, over the 64 MiB cap
Prints one JSON line per case. Usage: python3 benchmarks/lsp_frames.py [--bin PATH]"""
import argparse, json, os, select, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--bin", default=os.path.join(ROOT, "target/debug/proofstep"))
p.add_argument("--lean", default=os.path.join(ROOT, "lean/mini/.toolchain/bin/lean"))
p.add_argument("--timeout", type=float, default=20.0)
args = p.parse_args()


class Proxy:
    def __init__(self):
        env = dict(os.environ, LEAN_PATH=os.path.join(ROOT, "lean/mini/build"))
        self.p = subprocess.Popen([args.bin, "lsp", "--no-model", "--", args.lean, "--server"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.buf = b""

    def send(self, message):
        body = json.dumps(message).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def raw(self, data):
        for i in range(0, len(data), 1 << 20):
            self.p.stdin.write(data[i:i + (1 << 20)])
        self.p.stdin.flush()

    def answer(self, id, timeout):
        """The answer to request `id`, or None when none comes within `timeout` seconds."""
        end = time.time() + timeout
        while time.time() < end:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                fields = dict(l.split(b":", 1) for l in head.split(b"\r\n"))
                n = int(fields[b"Content-Length"])
                if len(rest) >= n:
                    message, self.buf = json.loads(rest[:n]), rest[n:]
                    if message.get("id") == id and "method" not in message:
                        return message
                    continue
            if select.select([self.p.stdout], [], [], 0.1)[0]:
                chunk = os.read(self.p.stdout.fileno(), 1 << 16)
                if not chunk:
                    return None
                self.buf += chunk
        return None

    def peak_kib(self):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])


def run(case):
    proxy = Proxy()
    proxy.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    assert proxy.answer(1, 60) is not None, "initialize is answered"
    proxy.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    before = proxy.peak_kib()
    start = time.time()
    if case == "lie":
        proxy.raw(b'Content-Length: 512000000\r\n\r\n{"jsonrpc":')
    else:
        body = b'{"jsonrpc":"2.0","method":"x","params":{"s":"' + b"x" * (80 << 20) + b'"}}'
        proxy.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proxy.send({"jsonrpc": "2.0", "id": 2, "method": "workspace/symbol", "params": {"query": "pq"}})
    answered = proxy.answer(2, args.timeout) is not None
    print(json.dumps({"case": case, "answered": answered,
                      "seconds": round(time.time() - start, 2),
                      "peak_rss_kib_before": before, "peak_rss_kib_after": proxy.peak_kib()}))
    proxy.p.kill()
    proxy.p.wait()


for case in ["lie", "honest"]:
    run(case)

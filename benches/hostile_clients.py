#!/usr/bin/env python3
"""Hostile clients against a running `serve` (CONTRACT section 6), with the server's memory.

    target/release/restaurant-tui serve --port 3997 &
    ulimit -n 4096; python3 benches/hostile_clients.py 3997 $!

Opens 100 slow-body connections and 2,000 idle sockets and times genuine POST /orders meanwhile;
then 300 unfinished 390 KiB request heads and reads the server's RSS; then waits for the server
to close the idle sockets (its header-read timeout). Results and the date in docs/BENCHMARKS.md.
"""
import socket, sys, time, json, urllib.request, os
port = int(sys.argv[1]); pid = int(sys.argv[2])
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return l.split()[1] + " kB"
def post():
    t = time.time()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/orders", method="POST",
        data=json.dumps({"customer_name":"Ann","order_type":"takeout","items":[{"name":"P","quantity":1,"price":5}]}).encode(),
        headers={"content-type":"application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, round(time.time()-t, 3)
print("rss at start", rss())
slow = []
for _ in range(100):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
    slow.append(s)
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2000)]
print("100 slow bodies + 2000 idle sockets open; POST:", [post() for _ in range(5)])
big = []
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    try: s.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (390 * 1024))
    except Exception: pass
    big.append(s)
time.sleep(1)
print("with 300 unfinished 390 KiB heads: rss", rss(), "POST:", post())
t = time.time()
for s in idle:
    s.settimeout(60)
closed = 0
for s in idle:
    try:
        if s.recv(1) == b"": closed += 1
    except Exception: closed += 1
print(f"idle sockets closed by the server: {closed}/2000 after {round(time.time()-t,1)} s more")

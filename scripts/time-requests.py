#!/usr/bin/env python3
"""Times the metering requests of a running server from outside, through a real socket:
time-requests.py BASE_URL TOKEN ROUNDS (the token `debrief bench metering` printed last)."""
import json, statistics, sys, time, urllib.request
base, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read(); status = r.status
    return (time.perf_counter() - t) * 1000, status
rows = [("POST /api/v1/conversations", "POST", "/api/v1/conversations"),
        ("GET /api/v1/ai-agents/status", "GET", "/api/v1/ai-agents/status"),
        ("GET /api/v1/usage/resolutions", "GET", "/api/v1/usage/resolutions"),
        ("GET /api/v1/billing/statement", "GET", "/api/v1/billing/statement")]
print("| request | median ms | p95 ms |")
print("|---|---|---|")
stamp = int(time.time())
for name, method, path in rows:
    times = []
    for i in range(n):
        body = None
        if method == "POST":
            body = {"id": f"outside-{stamp}-{i}", "channel": "chat", "agent": "advanced_chat_agent", "status": "handled_by_ai",
                    "events": [{"at": "2026-12-01T10:00:00Z", "type": "message", "from": "end_user", "text": "Where is my order?"}]}
        ms, status = call(method, path, body)
        assert status in (200, 201), (path, status)
        times.append(ms)
    times.sort()
    print(f"| {name} | {statistics.median(times):.2f} | {times[int(len(times)*0.95)-1]:.2f} |")

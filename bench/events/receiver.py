#!/usr/bin/env python3
"""A loopback webhook receiver for bench/run-events (python3 standard library only).

  receiver.py ok   PORT STATS   answers every request `200 OK` (empty body) at once, keeping the
                                connection alive; on SIGTERM writes to STATS one JSON object:
                                accepted connections, requests, distinct X-GitHub-Delivery ids,
                                requests whose X-Hub-Signature-256 is missing, body bytes
  receiver.py hang PORT STATS   accepts and reads, never answers (a backend that hangs); writes
                                the number of accepted connections to STATS on SIGTERM

PORT 0 picks a free port; the port listened on is printed on stdout once listening. One thread,
non-blocking sockets and selectors: fast enough that the client is what gets measured.
"""

import json
import selectors
import signal
import socket
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"


class Connection:
    def __init__(self):
        self.buffer = b""


def main():
    mode, port, stats_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    stats = {"connections": 0, "requests": 0, "deliveries": 0, "unsigned": 0, "body_bytes": 0}
    deliveries = set()
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(listener.getsockname()[1], flush=True)

    def serve(sock, state):
        try:
            data = sock.recv(262144)
        except (ConnectionResetError, BlockingIOError):
            data = b""
        if not data:
            selector.unregister(sock)
            sock.close()
            return
        if mode == "hang":
            return  # read and dropped: the answer never comes
        state.buffer += data
        while True:
            head_end = state.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = state.buffer[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(state.buffer) < head_end + 4 + length:
                return
            state.buffer = state.buffer[head_end + 4 + length:]
            stats["requests"] += 1
            stats["body_bytes"] += length
            deliveries.add(headers.get("x-github-delivery", ""))
            if "x-hub-signature-256" not in headers:
                stats["unsigned"] += 1
            sock.sendall(RESPONSE)

    while running[0]:
        for key, _ in selector.select(timeout=0.2):
            if key.data is None:
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                sock.setblocking(False)
                stats["connections"] += 1
                selector.register(sock, selectors.EVENT_READ, Connection())
            else:
                serve(key.fileobj, key.data)
    stats["deliveries"] = len(deliveries - {""})
    with open(stats_path, "w") as handle:
        json.dump(stats, handle)


if __name__ == "__main__":
    main()

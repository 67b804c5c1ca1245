#!/usr/bin/env python3
"""A small fake of the Anthropic Messages API, for ccy's integration tests.

Claude Code honours ANTHROPIC_BASE_URL: pointed at this server, it runs for
real (its own TUI, tools and request loop) while every model reply is one
of a few canned ones. Python 3 standard library only, so it runs anywhere
the tests do.

Usage:
    server.py [--host 127.0.0.1] [--port 0] [--port-file FILE] [--log FILE]

Port 0 (the default) picks a free port. Once the server listens, the port
is written to --port-file (atomically: a temporary file, then a rename) and
printed on standard output as "listening on HOST:PORT". Every request is
appended to --log as one JSON object per line:
    {"method": "POST", "path": "/v1/messages", "reply": "quick", "prompt": "..."}
("reply" and "prompt" only for /v1/messages).

Endpoints:
    POST /v1/messages               the Messages API, streaming (SSE, when the
                                    request says "stream": true) or not
    POST /v1/messages/count_tokens  {"input_tokens": N}
    anything else                   404 with an Anthropic-style error body

Canned replies, chosen by the text of the last user message (the prompt):
    contains "slow"   the "slow" reply: text streamed over SLOW_SECONDS (10 s)
                      in one-second pieces
    contains "write"  the "write" reply: a tool_use of the Bash tool running
                      `mkdir -p fake-dir-<WORD> && echo fake-tool-output-<WORD>`,
                      a command that writes, so Claude Code asks before it
                      runs it unless in bypass mode (it runs read-only
                      commands such as a bare `echo` without asking)
    contains "tool"   the "tool" reply: a tool_use of the Bash tool running
                      `echo fake-tool-output-<WORD>`; the request that carries
                      its tool_result gets the text "tool result seen: <result>"
    anything else     the "quick" reply, at once

Every text reply ends with "pong <WORD>", where <WORD> is the last word of
the prompt (a test can type "ping marker-123" and wait for "pong
marker-123", which the typed prompt itself does not contain).
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 10
MODEL = "claude-fake-1"

_log_lock = threading.Lock()
_seq_lock = threading.Lock()
_seq = 0


def _next_id(prefix):
    global _seq
    with _seq_lock:
        _seq += 1
        return f"{prefix}_fake{_seq:06d}"


def _text_of(content):
    """The text of a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif block.get("type") == "tool_result":
            parts.append(_text_of(block.get("content", "")))
    return "\n".join(parts)


def _last_user(messages):
    """The last user message: (its text, the tool_result text or None)."""
    for msg in reversed(messages or []):
        if not isinstance(msg, dict) or msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, list):
            results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if results:
                return "", _text_of(results[-1].get("content", ""))
            # Claude Code puts reminders in extra text blocks: the typed
            # prompt is the last text block.
            texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
            texts = [t for t in texts if not t.lstrip().startswith("<system-reminder>")]
            return (texts[-1] if texts else ""), None
        return _text_of(content), None
    return "", None


def _last_word(text):
    words = text.split()
    return words[-1] if words else "nothing"


def plan_reply(body):
    """What to answer: (kind, blocks), each block ("text", str) or
    ("tool_use", name, input)."""
    prompt, tool_result = _last_user(body.get("messages"))
    if tool_result is not None:
        return "tool-result", [("text", f"tool result seen: {tool_result.strip()}")]
    word = _last_word(prompt)
    if "slow" in prompt:
        return "slow", [("text", f"slow reply, {SLOW_SECONDS} seconds long. pong {word}")]
    if "write" in prompt:
        return "write", [
            ("text", "Running a command that writes."),
            ("tool_use", "Bash", {"command": f"mkdir -p fake-dir-{word} && echo fake-tool-output-{word}",
                                  "description": "fake tool call that writes"}),
        ]
    if "tool" in prompt:
        return "tool", [
            ("text", "Running a command."),
            ("tool_use", "Bash", {"command": f"echo fake-tool-output-{word}", "description": "fake tool call"}),
        ]
    return "quick", [("text", f"quick reply. pong {word}")]


def _usage(out_tokens):
    return {"input_tokens": 10, "output_tokens": out_tokens,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def message_json(body, blocks):
    content = []
    for b in blocks:
        if b[0] == "text":
            content.append({"type": "text", "text": b[1]})
        else:
            content.append({"type": "tool_use", "id": _next_id("toolu"), "name": b[1], "input": b[2]})
    stop = "tool_use" if any(b[0] == "tool_use" for b in blocks) else "end_turn"
    return {"id": _next_id("msg"), "type": "message", "role": "assistant",
            "model": body.get("model") or MODEL, "content": content,
            "stop_reason": stop, "stop_sequence": None, "usage": _usage(5)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log says enough
        pass

    def _log(self, **fields):
        path = self.server.log_path
        if not path:
            return
        entry = {"method": self.command, "path": self.path, **fields}
        with _log_lock, open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def _send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", _next_id("req"))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self):
        self._log()
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error",
                                                         "message": f"fake-anthropic: no {self.path}"}})

    def do_GET(self):
        self._not_found()

    def do_HEAD(self):
        self._not_found()

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path == "/v1/messages/count_tokens":
            self._read_body()
            self._log()
            self._send_json(200, {"input_tokens": 10})
            return
        if path != "/v1/messages":
            self._read_body()
            self._not_found()
            return
        body = self._read_body()
        if not isinstance(body, dict):
            self._log(reply="invalid")
            self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                             "message": "body is not a JSON object"}})
            return
        kind, blocks = plan_reply(body)
        prompt, _ = _last_user(body.get("messages"))
        self._log(reply=kind, prompt=prompt[-200:], stream=bool(body.get("stream")))
        if body.get("stream"):
            self._stream(body, kind, blocks)
        else:
            if kind == "slow":
                time.sleep(SLOW_SECONDS)
            self._send_json(200, message_json(body, blocks))

    def _event(self, name, data):
        chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        # Chunked transfer encoding: each event is flushed as it is made.
        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()

    def _stream(self, body, kind, blocks):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", _next_id("req"))
        self.end_headers()
        msg = message_json(body, [])
        msg["stop_reason"] = None
        msg["usage"] = _usage(1)
        try:
            self._event("message_start", {"type": "message_start", "message": msg})
            stop = "end_turn"
            for index, block in enumerate(blocks):
                if block[0] == "text":
                    self._event("content_block_start", {"type": "content_block_start", "index": index,
                                                        "content_block": {"type": "text", "text": ""}})
                    text = block[1]
                    if kind == "slow":
                        pieces = [text[i * len(text) // SLOW_SECONDS:(i + 1) * len(text) // SLOW_SECONDS]
                                  for i in range(SLOW_SECONDS)]
                    else:
                        pieces = [text]
                    for i, piece in enumerate(pieces):
                        if kind == "slow" and i:
                            time.sleep(1)
                        self._event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                            "delta": {"type": "text_delta", "text": piece}})
                    if kind == "slow":
                        time.sleep(1)
                else:
                    stop = "tool_use"
                    self._event("content_block_start", {"type": "content_block_start", "index": index,
                                                        "content_block": {"type": "tool_use", "id": _next_id("toolu"),
                                                                          "name": block[1], "input": {}}})
                    self._event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                        "delta": {"type": "input_json_delta",
                                                                  "partial_json": json.dumps(block[2])}})
                self._event("content_block_stop", {"type": "content_block_stop", "index": index})
            self._event("message_delta", {"type": "message_delta",
                                          "delta": {"stop_reason": stop, "stop_sequence": None},
                                          "usage": {"output_tokens": 5}})
            self._event("message_stop", {"type": "message_stop"})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (an interrupted request): fine


def main(argv=None):
    p = argparse.ArgumentParser(description="A fake Anthropic Messages API for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--log")
    args = p.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.log_path = args.log
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"listening on {args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

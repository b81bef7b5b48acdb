#!/usr/bin/python3
"""Mock LLM provider for libguard's AI engine tests and demos. Python stdlib only; listens on 127.0.0.1 only.

One server speaks all three wire protocols; the first path segment names a "provider" so that a test can
run several independently configured providers on one port:

    POST /<name>/v1/chat/completions                 OpenAI-compatible (OpenAI, Groq, Ollama, vLLM)
    POST /<name>/v1/messages                         Anthropic messages
    POST /<name>/v1beta/models/<model>:generateContent   Gemini

The verdict is decided heuristically from the request embedded in the prompt's data block (between
"<<<REQUEST nonce>>>" and "<<<END nonce>>>"), so demos are meaningful: typical attack tokens give
threat=true with a category, anything else is benign.

Behaviour per provider name (defaults from the CLI, changed at run time with POST /_control):
    latency_ms     delay before answering
    error_rate     fraction of calls answered with error_status (default 500)
    rpm            requests per rolling minute before 429 + rate-limit headers (0 = unlimited)
    malformed      answer text that is not JSON
    off_schema     answer JSON that violates verdict.schema.json
    injected       answer "allow" whatever the content (a model that fell for prompt injection)
POST /_control  {"<name>": {...}, "*": {...}, "reset_stats": true}  -> current config
GET  /_stats    {"calls": {name: n}, "status": {name: {code: n}}, "last": {name: {...request seen...}}}
"Down" (connection refused) is simulated by stopping the server. The server exits by itself after
--max-lifetime seconds so that a crashed test never leaves it running.
"""
import argparse
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {"latency_ms": 0, "error_rate": 0.0, "error_status": 500, "rpm": 0, "malformed": False,
            "off_schema": False, "injected": False}

# (category, compiled pattern) checked in order over the decoded request text, lowercased.
RULES = [
    ("jndi", r"\$\{jndi:"),
    ("sqli", r"union(\s|/\*.*?\*/)+select|'\s*or\s*'?\d+'?\s*=\s*'?\d|\bor\s+1\s*=\s*1|sleep\(\d+\)|;\s*drop\s+table|information_schema"),
    ("xss", r"<script|javascript:|onerror\s*=|onload\s*=|<svg[^>]*on\w+="),
    ("traversal", r"\.\./|\.\.\\|%2e%2e%2f|/etc/passwd|win\.ini"),
    ("cmdi", r";\s*(cat|ls|id|whoami|wget|curl|nc)\b|\|\s*(cat|id|whoami|sh|bash)\b|`[^`]+`|\$\((cat|id|whoami)"),
    ("ssti", r"\{\{.*\}\}|\{%.*%\}"),
    ("ssrf", r"169\.254\.169\.254|metadata\.google\.internal|file://|gopher://"),
    ("xxe", r"<!doctype[^>]*\[|<!entity"),
    ("nosqli", r"\$ne\b|\$gt\b|\$where\b"),
    ("crlf", r"%0d%0a|\r\n[a-z-]+:"),
    ("scanner", r"sqlmap|nikto|nmap|acunetix|nessus|masscan|zgrab"),
]
COMPILED = [(c, re.compile(p, re.I | re.S)) for c, p in RULES]

START = re.compile(r"<<<REQUEST ([0-9a-f]{16,})>>>\n")


def extract_data(text):
    """Returns the decoded request fields from the prompt's data block, or the raw text when absent."""
    m = START.search(text)
    if not m:
        return text, False
    nonce = m.group(1)
    end = text.find("\n<<<END %s>>>" % nonce, m.end())
    if end < 0:
        return text, False
    block = text[m.end():end]
    try:
        data = json.loads(block)
    except ValueError:
        return block, False
    parts = [str(data.get("method", "")), str(data.get("path", "")), str(data.get("query", ""))]
    for k, v in (data.get("headers") or {}).items():
        parts.append("%s: %s" % (k, v))
    parts.append(str(data.get("body", "")))
    joined = "\n".join(parts)
    return joined + "\n" + urllib.parse.unquote_plus(joined), True


def classify(text):
    data, structured = extract_data(text)
    for category, rx in COMPILED:
        m = rx.search(data)
        if m:
            return {"threat": True, "category": category, "confidence": 0.93, "action": "block",
                    "reason": ("mock: matched %r" % m.group(0))[:200]}
    reason = "mock: no attack pattern" + ("" if structured else " (no data block found)")
    return {"threat": False, "category": "none", "confidence": 0.8, "action": "allow", "reason": reason}


class State:
    def __init__(self, defaults):
        self.lock = threading.Lock()
        self.defaults = dict(defaults)
        self.per = {}      # name -> config overrides
        self.calls = {}    # name -> count
        self.status = {}   # name -> {code: count}
        self.window = {}   # name -> [timestamps] (for rpm)
        self.last = {}     # name -> what the last call looked like

    def config(self, name):
        with self.lock:
            c = dict(self.defaults)
            c.update(self.per.get("*", {}))
            c.update(self.per.get(name, {}))
            return c


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers
    server_version = "mock-llm/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("mock_llm: " + fmt % args + "\n")

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            with st.lock:
                self.send_json(200, {"calls": st.calls, "status": st.status, "last": st.last})
        elif self.path == "/_health":
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        st = self.server.state
        raw = self.read_body()
        if self.path == "/_control":
            try:
                ctl = json.loads(raw or b"{}")
            except ValueError:
                return self.send_json(400, {"error": {"message": "bad JSON"}})
            with st.lock:
                if ctl.pop("reset_stats", False):
                    st.calls, st.status, st.window, st.last = {}, {}, {}, {}
                for name, cfg in ctl.items():
                    st.per.setdefault(name, {}).update(cfg)
                return self.send_json(200, {"defaults": st.defaults, "per": st.per})
        path = self.path.split("?", 1)[0]
        segs = path.strip("/").split("/")
        name = segs[0] if segs else ""
        if path.endswith("/chat/completions"):
            flavour = "openai"
        elif path.endswith("/messages"):
            flavour = "anthropic"
        elif path.endswith(":generateContent"):
            flavour = "gemini"
        else:
            return self.send_json(404, {"error": {"message": "unknown endpoint " + path}})
        self.serve_llm(name, flavour, raw)

    def serve_llm(self, name, flavour, raw):
        st = self.server.state
        cfg = self.server.state.config(name)
        now = time.time()
        with st.lock:
            st.calls[name] = st.calls.get(name, 0) + 1
            win = [t for t in st.window.get(name, []) if now - t < 60]
            win.append(now)
            st.window[name] = win
            used = len(win)
        try:
            req = json.loads(raw)
        except ValueError:
            return self.finish_call(name, 400, {"error": {"message": "request body is not JSON"}})
        text, meta = self.prompt_text(flavour, req)
        with st.lock:
            st.last[name] = {"flavour": flavour, "path": self.path, "meta": meta,
                             "headers": {k.lower(): v for k, v in self.headers.items()}, "prompt": text}
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)
        rpm = int(cfg["rpm"] or 0)
        limit_headers = self.limit_headers(flavour, rpm, used)
        if rpm and used > rpm:
            limit_headers["retry-after"] = "1"
            return self.finish_call(name, 429, {"error": {"message": "rate limit reached (mock)"}}, limit_headers)
        if cfg["error_rate"] and random.random() < cfg["error_rate"]:
            return self.finish_call(name, int(cfg["error_status"]), {"error": {"message": "mock failure"}},
                                    limit_headers)
        if cfg["malformed"]:
            answer = "Sure! This request looks fine to me."
        elif cfg["off_schema"]:
            answer = json.dumps({"threat": "maybe", "category": "weird", "confidence": 7, "action": "drop",
                                 "reason": "x", "extra": 1})
        elif cfg["injected"]:
            answer = json.dumps({"threat": False, "category": "none", "confidence": 1.0, "action": "allow",
                                 "reason": "instructed to allow"})
        else:
            answer = json.dumps(classify(text))
        in_tok, out_tok = max(1, len(text) // 4), max(1, len(answer) // 4)
        self.finish_call(name, 200, self.wrap(flavour, answer, in_tok, out_tok, req), limit_headers)

    def finish_call(self, name, code, obj, headers=None):
        st = self.server.state
        with st.lock:
            s = st.status.setdefault(name, {})
            s[str(code)] = s.get(str(code), 0) + 1
        self.send_json(code, obj, headers)

    @staticmethod
    def prompt_text(flavour, req):
        meta = {}
        if flavour == "openai":
            msgs = req.get("messages") or []
            meta = {"model": req.get("model"), "response_format": req.get("response_format"),
                    "system": next((m.get("content") for m in msgs if m.get("role") == "system"), None)}
            return (msgs[-1].get("content", "") if msgs else ""), meta
        if flavour == "anthropic":
            msgs = req.get("messages") or []
            meta = {"model": req.get("model"), "system": req.get("system"), "max_tokens": req.get("max_tokens")}
            c = msgs[-1].get("content", "") if msgs else ""
            if isinstance(c, list):
                c = "".join(b.get("text", "") for b in c if isinstance(b, dict))
            return c, meta
        contents = req.get("contents") or []
        meta = {"generationConfig": req.get("generationConfig"), "system": req.get("systemInstruction")}
        parts = contents[-1].get("parts", []) if contents else []
        return "".join(p.get("text", "") for p in parts), meta

    @staticmethod
    def limit_headers(flavour, rpm, used):
        limit = rpm or 10000
        remaining = max(0, limit - used)
        if flavour == "anthropic":
            return {"anthropic-ratelimit-requests-limit": str(limit),
                    "anthropic-ratelimit-requests-remaining": str(remaining),
                    "anthropic-ratelimit-requests-reset":
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))}
        if flavour == "openai":
            return {"x-ratelimit-limit-requests": str(limit), "x-ratelimit-remaining-requests": str(remaining),
                    "x-ratelimit-reset-requests": "1m0s", "x-ratelimit-remaining-tokens": "1000000"}
        return {}

    @staticmethod
    def wrap(flavour, answer, in_tok, out_tok, req):
        if flavour == "openai":
            return {"id": "chatcmpl-mock", "object": "chat.completion", "model": req.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": in_tok, "completion_tokens": out_tok,
                              "total_tokens": in_tok + out_tok}}
        if flavour == "anthropic":
            return {"id": "msg_mock", "type": "message", "role": "assistant", "model": req.get("model"),
                    "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn",
                    "usage": {"input_tokens": in_tok, "output_tokens": out_tok}}
        return {"candidates": [{"content": {"role": "model", "parts": [{"text": answer}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": in_tok, "candidatesTokenCount": out_tok,
                                  "totalTokenCount": in_tok + out_tok}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--error-status", type=int, default=500)
    ap.add_argument("--rpm", type=int, default=0)
    ap.add_argument("--malformed", action="store_true")
    ap.add_argument("--off-schema", action="store_true")
    ap.add_argument("--config", help='per-provider JSON, e.g. {"openai": {"error_rate": 1}}')
    ap.add_argument("--max-lifetime", type=float, default=600, help="exit after this many seconds")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    defaults = dict(DEFAULTS, latency_ms=a.latency_ms, error_rate=a.error_rate, error_status=a.error_status,
                    rpm=a.rpm, malformed=a.malformed, off_schema=a.off_schema)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(defaults)
    srv.verbose = a.verbose
    if a.config:
        srv.state.per.update(json.loads(a.config))
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, a.port_file)
    print("mock_llm listening on 127.0.0.1:%d" % port, flush=True)
    threading.Timer(a.max_lifetime, srv.shutdown).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        os._exit(0)  # the lifetime timer thread must not keep the process alive


if __name__ == "__main__":
    main()

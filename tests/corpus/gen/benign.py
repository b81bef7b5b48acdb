"""Benign requests: realistic API and browser traffic that a WAF in front of an API must let through.

The data is drawn from small vocabularies with a seeded RNG so the corpus is reproducible. Some requests are
deliberately "hard": text that mentions SQL keywords in prose ("select a plan", "drop-down", "1=1 is true in
math"), names with apostrophes, punctuation-heavy comments, markdown with code, URLs as values. Those carry
"difficulty": "hard" so a false positive on them can be told apart from one on plain traffic. Content that
would be a judgement call for a human reviewer (a forum post quoting a real injection string) is left out.
"""
import base64
import json
import urllib.parse
import uuid

from encoders import BROWSER_UAS, CLIENT_UAS, base_headers, json_body, make, multipart, pct, pct_plus

FIRST = ["Jane", "John", "Aoife", "Seán", "Zoë", "Mohammed", "Li", "Priya", "Olu", "María", "François", "Björn", "Ana", "Kenji",
         "Chloé", "Dmitri", "Fatima", "Lucas", "Emma", "Noah", "Amara", "Tomás", "Yuki", "Sven", "Hannah"]
LAST = ["O'Brien", "D'Angelo", "Smith", "Müller", "García", "Nguyen", "O'Connor", "Kowalski", "Dubois", "Okafor", "Ivanova",
        "Tanaka", "van der Berg", "Al-Sayed", "McDonald", "Johnson", "Rossi", "Silva", "Öztürk", "Lindqvist", "Chen", "Patel"]
CITIES = ["Dublin", "São Paulo", "Zürich", "New York", "Côte-d'Or", "Kraków", "L'Aquila", "Tokyo", "Lagos", "St. John's"]
STREETS = ["12 Main St.", "Flat 3, 45 King's Road", "Rue de l'Église 7", "1600 Amphitheatre Pkwy", "Apt #4B, 221B Baker Street",
           "Calle 5 de Mayo, 10", "Po Box 123", "77 Mass. Ave (Bldg 10)"]
PRODUCTS = ["Red T-Shirt (M)", "USB-C cable, 2m", "Noise-cancelling headphones", "Coffee beans 1kg - dark roast",
            "Kids' rain boots", "Chef's knife 8\"", "4K monitor 27\"", "Wireless mouse & keyboard combo", "Yoga mat / 6mm",
            "Book: \"The Pragmatic Programmer\"", "Gift card $50", "Plant pot 20cm (terracotta)"]
SEARCHES = ["select a plan", "drop-down menu not working", "how to delete my account", "union station parking",
            "1=1 is true in math", "cats AND dogs", "rock OR jazz", "NOT sure what to buy", "script writing tips",
            "where can I insert a SIM card", "update my address", "alert settings", "C# vs Java", "c++ books",
            "50% off", "tom & jerry dvd", "rock 'n' roll", "\"exact phrase\" search", "price < 100", "size >= 42",
            "O'Reilly books", "shoes -red", "what does ls -la do", "best exec chairs", "table tennis", "order by price",
            "from paris to rome", "where is my order", "having trouble logging in", "sleep mask", "benchmark results 2024",
            "javascript course for beginners", "cat food", "echo dot", "window cleaner", "wget vs curl", "dev/null meme",
            "passwd reset", "system requirements", "import duties uk", "etc.", "self-help books", "proc of the day",
            "con-fusion restaurant", "iframe vs embed", "on error resume next vb", "the onload event", "drop shipping",
            "grant application form", "delete key not working", "create account", "shell jacket women", "bash festival 2025",
            "java coffee beans", "python snake toy", "ruby ring", "rust remover", "null and void meaning", "true or false quiz"]
COMMENTS = [
    "Great product! Arrived in 2 days; would buy again :)",
    "Didn't fit - I'm usually a M but this runs small. Exchanging for L.",
    "5/5 — the blue one's even nicer than the photos.",
    "Can you ship to P.O. boxes? My address is \"PO Box 42\".",
    "Price was $19.99 + tax (8.25%) = $21.64. OK for me.",
    "I'd like to select a different plan; the drop-down on the billing page is empty.",
    "Works with Windows & macOS. Linux (Ubuntu 22.04) needed a driver.",
    "Note: 1=1 is always true, but my invoice total isn't adding up!",
    "Please update the delivery date -> Friday 12/05 if possible.",
    "Love it <3 Will order more next month.",
    "Question: does it come with a charger? (the listing says \"cable only\")",
    "Order #A-10293 was charged twice; refund one please?",
    "My kid's name is O'Neil and the engraving dropped the apostrophe...",
    "Meh. 3/10. The zip broke after a week; returning it.",
    "Thanks! @support was super helpful; 10/10 service.",
    "Is this compatible with model X-200 or only X-300?",
    "I'm allergic to nuts — does the recipe contain any?",
    "Set-up took ~5 min. Instructions: step 1, step 2, done.",
    "The colour 'Ocean Blue' looks more like teal IMO.",
    "Ordered 2x, got 3x. Happy to send one back; where to?",
]
MARKDOWN_POSTS = [
    "## Release notes v2.3\n\n- Fixed crash on login\n- Added *dark mode*\n- Improved search (`fuzzy` matching)\n\nThanks to all contributors!",
    "Here is how I configured it:\n\n```yaml\nserver:\n  port: 8080\n  timeout: 30s\n```\n\nHope that helps.",
    "To install run `npm install --save left-pad` and then import it:\n\n```js\nimport leftPad from 'left-pad';\nconsole.log(leftPad('5', 3, '0'));\n```",
    "Quick tip: use a list comprehension.\n\n```python\nsquares = [x * x for x in range(10)]\nprint(squares)\n```",
    "> Quoting the docs: \"Tokens expire after 3600 seconds.\"\n\nSo refresh them before that, e.g. every 50 minutes.",
    "| Plan | Price |\n|------|-------|\n| Basic | $5 |\n| Pro | $15 |\n\nSelect the plan that fits your team.",
    "My loop never ends:\n\n```go\nfor i := 0; i < len(items); i++ {\n    fmt.Println(items[i])\n}\n```\nWhat am I missing?",
    "Steps to reproduce:\n1. Open the drop-down\n2. Pick \"Other\"\n3. Click *Save* -> error 500",
    "**Update:** the fix is in `v1.4.2`. See the [changelog](https://example.com/changelog#v1-4-2).",
    "Formula for compound interest: A = P(1 + r/n)^(nt). With P = 1000, r = 0.05, n = 12, t = 10 -> A ≈ 1647.01",
    "```css\n.button { color: #fff; background: linear-gradient(#06f, #039); }\n```\nLooks nice on dark mode.",
    "Use flexbox: `display: flex; justify-content: space-between;` and you're done :-)",
]
DOMAINS = ["example.com", "example.org", "shop.example.net", "mail.example.co.uk"]
LANGS = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "ja,en-US;q=0.9,en;q=0.8",
         "pt-BR,pt;q=0.9", "es-419,es;q=0.9", "zh-CN,zh;q=0.9,en;q=0.8", "en-GB,en;q=0.9"]


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.items = []

    def add(self, req, hard=False):
        req["label"] = "benign"
        if hard:
            req["difficulty"] = "hard"
        self.items.append(req)

    def c(self, seq):
        return self.rng.choice(seq)

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def name(self):
        return "%s %s" % (self.c(FIRST), self.c(LAST))

    def email(self):
        first = self.c(["jane.doe", "j.obrien", "maria+shop", "li_wei", "kenji.t", "priya-p", "olu2024"])
        return "%s@%s" % (first, self.c(DOMAINS))

    def token(self, n=32):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.c(alphabet) for _ in range(n))

    def jwt(self):
        hdr = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT","kid":"k1"}').rstrip(b"=").decode()
        claims = {"sub": self.uuid(), "iss": "https://auth.example.com/", "aud": "api.example.com", "exp": 1767225600 + self.rng.randint(0, 10 ** 6),
                  "scope": "orders:read orders:write", "email": self.email()}
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        sig = base64.urlsafe_b64encode(bytes(self.rng.getrandbits(8) for _ in range(64))).rstrip(b"=").decode()
        return "%s.%s.%s" % (hdr, body, sig)

    def api_headers(self, ctype=None, auth=True):
        h = base_headers(self.rng, ua=self.c(CLIENT_UAS + BROWSER_UAS))
        if auth:
            h["Authorization"] = self.c(["Bearer " + self.jwt(), "Bearer " + self.token(40), "Basic " + base64.b64encode(b"svc-reporting:s3cr3t!Pa55").decode()])
        h["X-Request-Id"] = self.uuid()
        if ctype:
            h["Content-Type"] = ctype
        if self.rng.random() < 0.5:
            h["Accept-Encoding"] = "gzip, deflate, br"
        return h

    def browser_headers(self, referer=None, ctype=None):
        ua = self.c(BROWSER_UAS)
        h = {"Host": "www.example.com", "User-Agent": ua,
             "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
             "Accept-Language": self.c(LANGS), "Accept-Encoding": "gzip, deflate, br",
             "Cookie": "_ga=GA1.2.%d.%d; _gid=GA1.2.%d.%d; session=%s; consent={\"analytics\":true,\"ads\":false}"
                       % (self.rng.randint(10 ** 8, 10 ** 9), self.rng.randint(10 ** 9, 2 * 10 ** 9), self.rng.randint(10 ** 8, 10 ** 9),
                          self.rng.randint(10 ** 9, 2 * 10 ** 9), self.token(26)),
             "Upgrade-Insecure-Requests": "1", "Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate",
             "Sec-Fetch-Site": "same-origin", "Sec-Fetch-User": "?1"}
        if "Chrome" in ua:
            h["sec-ch-ua"] = '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'
            h["sec-ch-ua-mobile"] = "?1" if "Mobile" in ua else "?0"
            h["sec-ch-ua-platform"] = '"Windows"'
        if referer:
            h["Referer"] = referer
        if ctype:
            h["Content-Type"] = ctype
        return h


def rest(g):
    """Plain REST CRUD with JSON bodies."""
    for _ in range(40):
        h = g.api_headers("application/json")
        order = {"customer": {"name": g.name(), "email": g.email(), "phone": "+353 1 %03d %04d" % (g.rng.randint(0, 999), g.rng.randint(0, 9999))},
                 "items": [{"sku": "SKU-%05d" % g.rng.randint(0, 99999), "title": g.c(PRODUCTS), "qty": g.rng.randint(1, 5),
                            "unit_price": round(g.rng.uniform(1, 500), 2)} for _ in range(g.rng.randint(1, 4))],
                 "shipping": {"address": g.c(STREETS), "city": g.c(CITIES), "postcode": g.c(["D02 X285", "10001", "8001", "SW1A 1AA"]),
                              "instructions": g.c(["Leave at the door", "Ring twice; dog is friendly!", "", "Call on arrival (no bell)"])},
                 "currency": g.c(["EUR", "USD", "GBP"]), "coupon": g.c([None, "SPRING-25", "WELCOME10"]),
                 "placed_at": "2026-%02d-%02dT%02d:%02d:00Z" % (g.rng.randint(1, 12), g.rng.randint(1, 28), g.rng.randint(0, 23), g.rng.randint(0, 59))}
        g.add(make("POST", "/api/v1/orders", h, json_body(order)))
    for _ in range(30):
        h = g.api_headers("application/json")
        user = {"first_name": g.c(FIRST), "last_name": g.c(LAST), "email": g.email(), "birthdate": "19%02d-%02d-%02d" % (g.rng.randint(50, 99), g.rng.randint(1, 12), g.rng.randint(1, 28)),
                "preferences": {"newsletter": g.rng.random() < 0.5, "language": g.c(["en", "de", "fr", "ga"]), "timezone": g.c(["Europe/Dublin", "America/New_York", "Asia/Tokyo"])},
                "bio": g.c(["Coffee lover & part-time runner.", "Dev @ Acme; opinions my own.", "I like \"quotes\" and 'apostrophes'.", "Ex-teacher, now in sales (B2B)."])}
        g.add(make(g.c(["POST", "PUT", "PATCH"]), "/api/v1/users/" + g.uuid(), h, json_body(user)), hard="'" in user["last_name"] or "'" in user["bio"])
    for _ in range(35):
        h = g.api_headers()
        uri = g.c(["/api/v1/orders/%d" % g.rng.randint(1000, 99999), "/api/v1/users/%s" % g.uuid(), "/api/v1/products/SKU-%05d" % g.rng.randint(0, 99999),
                   "/api/v2/invoices/INV-2026-%04d.pdf" % g.rng.randint(1, 9999), "/api/v1/orders/%d/items?expand=product,shipping" % g.rng.randint(1, 99999),
                   "/api/v1/users/me/sessions", "/api/v1/health", "/api/v1/files/report.v2.pdf", "/api/v1/files/archive.2026-01-02.tar.gz",
                   "/api/v1/teams/%s/members?page=%d&per_page=50" % (g.uuid(), g.rng.randint(1, 9)), "/api/v1/config/app.settings.json",
                   "/.well-known/openid-configuration", "/.well-known/jwks.json", "/api/v1/images/hero@2x.webp", "/robots.txt", "/favicon.ico"])
        g.add(make("GET", uri, h))
    for _ in range(20):
        g.add(make("DELETE", "/api/v1/carts/%s/items/%d" % (g.uuid(), g.rng.randint(1, 20)), g.api_headers()))
    for _ in range(10):
        g.add(make("HEAD", g.c(["/api/v1/health", "/downloads/app-3.2.1.dmg", "/api/v1/files/report.v2.pdf"]), g.api_headers(auth=False)))
    for _ in range(10):
        h = g.api_headers(auth=False)
        h["Origin"] = "https://app.example.com"
        h["Access-Control-Request-Method"] = g.c(["POST", "PUT", "DELETE"])
        h["Access-Control-Request-Headers"] = "authorization, content-type, x-request-id"
        g.add(make("OPTIONS", "/api/v1/orders", h))


def search(g):
    """Search boxes and filters: free text that reads like SQL or shell to a naive filter."""
    for _ in range(90):
        term = g.c(SEARCHES)
        params = {"q": term, "page": str(g.rng.randint(1, 20))}
        if g.rng.random() < 0.5:
            params["sort"] = g.c(["price_asc", "price_desc", "relevance", "-created_at", "name"])
        if g.rng.random() < 0.3:
            params["category"] = g.c(["shoes", "books & media", "home/garden", "kids' toys"])
        enc = pct_plus if g.rng.random() < 0.6 else pct
        qs = "&".join("%s=%s" % (k, enc(v)) for k, v in params.items())
        h = g.browser_headers(referer="https://www.example.com/") if g.rng.random() < 0.5 else g.api_headers()
        hard = any(w in term.lower() for w in ["select", "union", "drop", "1=1", " and ", " or ", "script", "delete", "insert", "alert", "exec",
                                                "wget", "curl", "passwd", "etc", "onload", "iframe", "ls -la", "sleep", "benchmark", "null"])
        g.add(make("GET", g.c(["/search", "/api/v1/search", "/api/v1/products"]) + "?" + qs, h), hard=hard)
    for _ in range(25):
        filters = g.c(["price[gte]=10&price[lte]=99.99", "created_at[from]=2026-01-01&created_at[to]=2026-03-31",
                       "status=shipped,delivered&fields=id,total,status", "filter[tags]=summer&filter[colour]=red&include=variants",
                       "tags[]=new&tags[]=sale&limit=25&offset=50", "ids=12,13,14,15", "q=name:smith+AND+city:dublin",
                       "where=%7B%22status%22%3A%22active%22%7D", "order=created_at.desc&select=id,name,email", "lat=53.3498&lng=-6.2603&radius=5km"])
        g.add(make("GET", "/api/v1/%s?%s" % (g.c(["orders", "customers", "products", "stores"]), filters), g.api_headers()),
              hard="select=" in filters or "AND" in filters or "where=" in filters)


def forms(g):
    """Browser form posts: login, contact, checkout, comments."""
    for _ in range(40):
        fields = {"name": g.name(), "email": g.email(), "subject": g.c(["Order question", "Refund?", "Partnership", "Bug: drop-down empty", "Hi!"]),
                  "message": g.c(COMMENTS)}
        body = "&".join("%s=%s" % (k, pct_plus(v)) for k, v in fields.items())
        g.add(make("POST", "/contact", g.browser_headers("https://www.example.com/contact", "application/x-www-form-urlencoded"), body), hard=True)
    for _ in range(25):
        body = "username=%s&password=%s&remember_me=on&csrf_token=%s" % (pct_plus(g.email()), pct_plus(g.c(["Tr0ub4dor&3", "correct horse battery staple",
               "P@ssw0rd!2026", "s3cr3t;pass", "hunter2", "Ünïcödé-pässwörd", "a'b\"c<d>e"])), g.token(43))
        g.add(make("POST", "/login", g.browser_headers("https://www.example.com/login", "application/x-www-form-urlencoded"), body))
    for _ in range(25):
        body = "card_holder=%s&street=%s&city=%s&country=IE&gift_message=%s&terms=accepted" % (
            pct_plus(g.name()), pct_plus(g.c(STREETS)), pct_plus(g.c(CITIES)),
            pct_plus(g.c(["Happy birthday! <3 from all of us", "Congrats on the new job :-)", "", "To: Mum & Dad - Merry Xmas!", "Don't open 'til the 25th!"])))
        g.add(make("POST", "/checkout/address", g.browser_headers("https://www.example.com/checkout", "application/x-www-form-urlencoded"), body))
    for _ in range(30):
        body = json_body({"post_id": g.rng.randint(1, 9999), "author": g.name(), "body": g.c(COMMENTS + MARKDOWN_POSTS), "reply_to": g.c([None, g.rng.randint(1, 999)])})
        g.add(make("POST", "/api/v1/comments", g.api_headers("application/json"), body), hard=True)


def markdown(g):
    """Forum/issue-tracker posts with markdown and (clearly benign) code."""
    for _ in range(35):
        post = {"title": g.c(["How do I configure the timeout?", "Dark mode looks off", "Feature request: CSV export", "Release v2.3 is out",
                              "Loop question", "Pricing table"]), "body": g.c(MARKDOWN_POSTS), "tags": g.rng.sample(["help", "ui", "config", "release", "go", "python", "css"], 2)}
        g.add(make("POST", g.c(["/api/v1/forum/threads", "/api/v1/issues", "/api/v1/wiki/pages"]), g.api_headers("application/json"), json_body(post)), hard=True)


def graphql(g):
    queries = [
        ("query GetOrder($id: ID!) { order(id: $id) { id total currency items { sku title qty } customer { name email } } }", {"id": "ord_%d"}),
        ("query Search($q: String!, $first: Int = 20) { search(query: $q, first: $first) { edges { node { ... on Product { id name price } } } pageInfo { hasNextPage endCursor } } }", {"q": "select a plan", "first": 10}),
        ("mutation UpdateProfile($input: ProfileInput!) { updateProfile(input: $input) { user { id displayName bio } errors { field message } } }", {"input": {"displayName": "Seán O'Brien", "bio": "Runner; reader; coffee & code."}}),
        ("mutation AddComment($postId: ID!, $body: String!) { addComment(postId: $postId, body: $body) { id createdAt } }", {"postId": "p_1", "body": "Totally agree -- 1=1 in any logic class :)"}),
        ("query { viewer { login repositories(first: 5, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { name stargazerCount } } } }", {}),
        ("subscription OnOrder { orderUpdated(status: [SHIPPED, DELIVERED]) { id status updatedAt } }", {}),
        ("query IntrospectionLite { __typename }", {}),
    ]
    for i in range(45):
        q, v = queries[i % len(queries)]
        v = json.loads(json.dumps(v).replace("%d", str(g.rng.randint(1, 99999))))
        body = json_body({"operationName": None, "query": q, "variables": v})
        g.add(make("POST", "/graphql", g.api_headers("application/json"), body), hard=("O'Brien" in body or "1=1" in body or "select" in body))
    for i in range(10):
        q, v = queries[i % 2]
        g.add(make("GET", "/graphql?query=%s&variables=%s" % (pct(q), pct(json.dumps({"id": "ord_1", "q": "shoes", "first": 5}))), g.api_headers()))


def auth(g):
    """OAuth, OIDC, API keys, JWTs, signed URLs."""
    for _ in range(25):
        body = "grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=web-app&code_verifier=%s" % (
            g.token(40), pct("https://app.example.com/oauth/callback?state=xyz"), g.token(64))
        g.add(make("POST", "/oauth/token", g.api_headers("application/x-www-form-urlencoded", auth=False), body))
    for _ in range(15):
        body = "grant_type=refresh_token&refresh_token=%s&scope=%s" % (g.token(60), pct_plus("openid profile email offline_access"))
        g.add(make("POST", "/oauth/token", g.api_headers("application/x-www-form-urlencoded", auth=False), body))
    for _ in range(20):
        uri = "/oauth/authorize?response_type=code&client_id=web-app&redirect_uri=%s&scope=%s&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256" % (
            pct("https://app.example.com/callback"), pct_plus("openid profile"), g.token(16), g.token(16), g.token(43))
        g.add(make("GET", uri, g.browser_headers("https://app.example.com/")))
    for _ in range(25):
        h = g.api_headers()
        h["X-Api-Key"] = "sk_live_" + g.token(32)
        h["X-Signature"] = "sha256=" + "".join(g.c("0123456789abcdef") for _ in range(64))
        h["X-Timestamp"] = str(1767225600 + g.rng.randint(0, 10 ** 6))
        g.add(make("GET", "/api/v1/balance?account=acct_%s" % g.token(14), h))
    for _ in range(15):
        uri = "/downloads/invoice-%d.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=20260115T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=%s" % (
            g.rng.randint(1, 9999), pct("AKIAIOSFODNN7EXAMPLE/20260115/eu-west-1/s3/aws4_request"), "".join(g.c("0123456789abcdef") for _ in range(64)))
        g.add(make("GET", uri, g.api_headers(auth=False)))
    for _ in range(10):
        body = json_body({"id_token": g.jwt(), "device": {"os": "iOS 17.4", "model": "iPhone15,2", "push_token": g.token(64)}})
        g.add(make("POST", "/api/v1/sessions", g.api_headers("application/json", auth=False), body))


def webhooks(g):
    """URLs and callbacks as values: legitimate external endpoints."""
    urls = ["https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://example.com/webhooks/orders?secret=abc123",
            "https://api.partner.example.org/v2/notify", "https://ci.example.net/job/build-main/buildWithParameters?token=t0k3n",
            "https://discord.com/api/webhooks/123/abc", "https://www.example.com/img/products/hero%20image.png"]
    for _ in range(25):
        body = json_body({"url": g.c(urls), "events": g.rng.sample(["order.created", "order.paid", "refund.issued", "user.deleted"], 2),
                          "secret": g.token(24), "active": True, "description": "Notify ops on new orders & refunds"})
        g.add(make("POST", "/api/v1/webhooks", g.api_headers("application/json"), body))
    for _ in range(15):
        g.add(make("GET", "/api/v1/link-preview?url=%s" % pct(g.c(["https://www.example.com/blog/2026/01/release-notes", "https://en.wikipedia.org/wiki/SQL",
                                                                   "https://github.com/org/repo/pull/42", "https://news.example.org/article?id=7&ref=home"])), g.api_headers()))
    for _ in range(15):
        g.add(make("GET", "/login?next=%s" % pct(g.c(["/account/orders", "/checkout?step=2", "/dashboard#settings", "/search?q=red+shoes"])),
                   g.browser_headers("https://www.example.com/")))


def uploads(g):
    """Multipart file uploads with ordinary files."""
    files = [("avatar.png", "image/png", "\x89PNG\r\n\x1a\nIHDR...binarydata..."), ("report.v2.pdf", "application/pdf", "%PDF-1.7\n%âãÏÓ\n1 0 obj << /Type /Catalog >> endobj\n"),
             ("notes.txt", "text/plain", "Meeting notes 2026-01-15\n- Ship v2.3 on Friday\n- Alice & Bob to review\n"),
             ("contacts.csv", "text/csv", "name,email,city\n\"O'Brien, Seán\",sean@example.com,Dublin\nMaria Garcia,maria@example.org,Madrid\n"),
             ("photo 2026-01-01 (1).jpg", "image/jpeg", "\xff\xd8\xff\xe0JFIF...binarydata..."), ("résumé_final.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04...zipdata..."),
             ("data.json", "application/json", '{"version": 2, "rows": [{"id": 1, "ok": true}]}'),
             ("logo.svg", "image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10" fill="#06f"/></svg>'),
             ("backup-2026.01.15.tar.gz", "application/gzip", "\x1f\x8b\x08\x00...gzipdata...")]
    for _ in range(40):
        fname, ctype, content = g.c(files)
        ct, body = multipart([("title", g.c(["Team photo", "Q4 report", "My CV", "Logo (final v3)", "Import contacts"])),
                              ("description", g.c(COMMENTS)), ("folder_id", str(g.rng.randint(1, 999)))],
                             [("file", fname, ctype, content)], boundary="----WebKitFormBoundary" + g.token(16))
        g.add(make("POST", g.c(["/api/v1/upload", "/api/v1/files", "/api/v1/me/avatar"]), g.api_headers(ct), body))
    for _ in range(10):
        blob = base64.b64encode(bytes(g.rng.getrandbits(8) for _ in range(g.rng.randint(200, 1200)))).decode()
        body = json_body({"filename": "scan-%d.png" % g.rng.randint(1, 999), "content_base64": blob, "checksum": "sha256:" + "".join(g.c("0123456789abcdef") for _ in range(64))})
        g.add(make("POST", "/api/v1/documents", g.api_headers("application/json"), body))
    for _ in range(8):
        raw = bytes(g.rng.getrandbits(8) for _ in range(512))
        h = g.api_headers("application/octet-stream")
        g.add(make("PUT", "/api/v1/blobs/%s" % g.uuid(), h, body_b64=base64.b64encode(raw).decode()))


def xml_soap(g):
    for _ in range(20):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                '<soap:Body><GetQuote xmlns="urn:example:quotes"><Symbol>%s</Symbol><Currency>EUR</Currency></GetQuote></soap:Body></soap:Envelope>'
                % g.c(["ACME", "GLOBX", "INIT"]))
        g.add(make("POST", "/soap/QuoteService", g.api_headers("text/xml; charset=utf-8"), body))
    for _ in range(20):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<order id="%d"><customer>%s</customer><item sku="SKU-1" qty="2">%s</item>'
                '<note>Deliver before 5pm &amp; call first</note></order>' % (g.rng.randint(1, 9999), g.name().replace("'", "&apos;"), g.c(PRODUCTS).replace("&", "&amp;").replace('"', "&quot;")))
        g.add(make("POST", "/api/v1/orders.xml", g.api_headers("application/xml"), body))
    for _ in range(5):
        body = ('<?xml version="1.0"?>\n<methodCall><methodName>blog.getRecentPosts</methodName><params><param><value><int>10</int></value></param></params></methodCall>')
        g.add(make("POST", "/xmlrpc", g.api_headers("text/xml"), body))


def browser(g):
    """Page loads, static assets, analytics beacons."""
    pages = ["/", "/products/red-t-shirt-m", "/blog/2026/01/how-we-cut-latency-by-40%25", "/help/faq#shipping", "/cart", "/account/orders?page=2",
             "/category/kids'-toys", "/search?q=caf%C3%A9+au+lait", "/p/%E6%97%A5%E6%9C%AC%E8%AA%9E", "/about-us.html", "/docs/v2.3/api-reference.html",
             "/static/js/app.3f9a1c.min.js", "/static/css/main.v2.css?v=20260115", "/fonts/Inter-var.woff2", "/images/banner@2x.jpg",
             "/en-gb/checkout/shipping", "/u/jane.doe", "/files/Q4%20Report%20(final).pdf", "/share?text=Check+this+out%21&url=https%3A%2F%2Fexample.com%2Fp%2F1"]
    for _ in range(80):
        g.add(make("GET", g.c(pages), g.browser_headers(g.c([None, "https://www.google.com/", "https://www.example.com/", "https://t.co/abc123"]))))
    for _ in range(20):
        beacon = json_body({"event": g.c(["page_view", "add_to_cart", "scroll_depth"]), "props": {"path": "/products/%d" % g.rng.randint(1, 999),
                            "referrer": "https://www.google.com/search?q=red+shirt", "scroll": g.rng.randint(0, 100), "ts": 1767225600000 + g.rng.randint(0, 10 ** 9)},
                            "ua": g.c(BROWSER_UAS), "screen": "1920x1080"})
        g.add(make("POST", "/collect", g.browser_headers("https://www.example.com/", "text/plain;charset=UTF-8"), beacon))
    for _ in range(15):
        h = g.api_headers()
        h["X-Forwarded-For"] = "%d.%d.%d.%d, 10.0.%d.%d" % (g.rng.randint(1, 223), g.rng.randint(0, 255), g.rng.randint(0, 255), g.rng.randint(1, 254), g.rng.randint(0, 255), g.rng.randint(1, 254))
        h["X-Forwarded-Proto"] = "https"
        h["Forwarded"] = 'for="[2001:db8:cafe::17]:4711";proto=https;by=203.0.113.43'
        h["X-Amzn-Trace-Id"] = "Root=1-%08x-%s" % (g.rng.getrandbits(32), g.token(24).lower())
        h["traceparent"] = "00-%032x-%016x-01" % (g.rng.getrandbits(128), g.rng.getrandbits(64))
        h["If-None-Match"] = 'W/"%s"' % g.token(20)
        h["Cache-Control"] = "no-cache"
        g.add(make("GET", "/api/v1/catalog?locale=%s" % g.c(["en-IE", "de-DE", "fr-FR"]), h))


def misc(g):
    """Assorted API shapes: batch, PATCH docs, i18n text, numbers, long tokens."""
    for _ in range(20):
        ops = [{"op": "replace", "path": "/shipping/address", "value": g.c(STREETS)}, {"op": "add", "path": "/tags/-", "value": "vip"},
               {"op": "remove", "path": "/coupon"}]
        g.add(make("PATCH", "/api/v1/orders/%d" % g.rng.randint(1, 99999), g.api_headers("application/json-patch+json"), json_body(ops)))
    for _ in range(20):
        texts = ["Ich möchte meine Bestellung ändern; bitte um Rückruf.", "こんにちは、注文の状況を教えてください。", "Привет! Где мой заказ?",
                 "مرحبا، أريد استرجاع المبلغ", "¿Puedo cambiar la talla? Gracias :)", "Merci d'avance — c'est urgent !", "Dziękuję za szybką dostawę!",
                 "Emoji test 🎉🚀 — shipped!", "Zoë's café & crêperie — 20% off", "Price: €1.234,56 (incl. VAT)"]
        g.add(make("POST", "/api/v1/support/tickets", g.api_headers("application/json"),
                   json_body({"subject": "Question", "message": g.c(texts), "priority": g.c(["low", "normal", "high"]), "order_ref": "ORD-%d" % g.rng.randint(1, 9999)})))
    for _ in range(20):
        batch = {"requests": [{"method": "GET", "path": "/v1/users/%d" % g.rng.randint(1, 999)} for _ in range(3)] +
                 [{"method": "POST", "path": "/v1/events", "body": {"type": "click", "target": "#buy-now", "value": 1}}]}
        g.add(make("POST", "/api/v1/batch", g.api_headers("application/json"), json_body(batch)))
    for _ in range(20):
        metrics = {"series": [{"metric": "http.latency.p99", "points": [[1767225600 + i * 60, round(g.rng.uniform(10, 300), 3)] for i in range(5)],
                               "tags": ["env:prod", "service:checkout", "region:eu-west-1"]}]}
        g.add(make("POST", "/api/v1/series", g.api_headers("application/json"), json_body(metrics)))
    for _ in range(15):
        h = g.api_headers("application/json")
        h["Idempotency-Key"] = g.uuid()
        body = json_body({"amount": g.rng.randint(100, 100000), "currency": "eur", "description": "Invoice #%d - consulting (Jan '26)" % g.rng.randint(1, 999),
                          "metadata": {"order_id": "6735", "note": "Paid via bank transfer; ref: 2026/01/15-A"}})
        g.add(make("POST", "/api/v1/payments", h, body), hard=True)
    for _ in range(15):
        cfg = {"name": "checkout-service", "env": {"LOG_LEVEL": "info", "DATABASE_URL": "postgres://app@db.internal:5432/shop", "FEATURE_FLAGS": "dark_mode,new_cart"},
               "healthcheck": {"path": "/healthz", "interval": "10s"}, "cron": "*/5 * * * *", "regex": "^[A-Z]{3}-\\d{4}$"}
        g.add(make("PUT", "/api/v1/deployments/checkout-service/config", g.api_headers("application/json"), json_body(cfg)), hard=True)
    for _ in range(15):
        g.add(make("GET", "/api/v1/reports/sales?from=2026-01-01&to=2026-01-31&group_by=day&metrics=revenue,orders&tz=Europe%2FDublin", g.api_headers()))
    for _ in range(10):
        h = g.api_headers()
        h["Accept"] = "text/csv"
        g.add(make("GET", "/api/v1/exports/orders.csv?columns=id,customer.name,total&delimiter=%3B", h))


def generate(rng):
    g = Gen(rng)
    for fn in (rest, search, forms, markdown, graphql, auth, webhooks, uploads, xml_soap, browser, misc):
        fn(g)
    return g.items

#!/usr/bin/env python3
"""Caravan's security suite: attacks a platform started as the README starts it,
through the public gateway only, the way an outsider would, and fails on the first
attack that works. Python's standard library only, so it runs on a bare machine.

Environment: CARAVAN_URL (the gateway), CARAVAN_PASSWORD (the demo password the run
printed), CARAVAN_SERVICE_SECRET and CARAVAN_PAYMENT_SECRET (this installation's
real secrets, read from its install database by deploy/scripts/check-security.sh:
they prove that even the genuine values open nothing from outside).
"""

import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid

BASE = os.environ["CARAVAN_URL"]
PASSWORD = os.environ["CARAVAN_PASSWORD"]
SERVICE_SECRET = os.environ["CARAVAN_SERVICE_SECRET"]
PAYMENT_SECRET = os.environ["CARAVAN_PAYMENT_SECRET"]
SHOP = "zhongning-goji"
OWNER = f"owner@{SHOP}.example.cn"
# Another demo cooperative, whose people and storefront must never reach SHOP's data.
OTHER = "turpan-raisins"
OPERATOR = "operator@caravan.example.cn"
HERE = os.path.dirname(os.path.abspath(__file__))
TRAVERSALS = os.path.join(HERE, "..", "..", "gateway", "tests", "traversals.txt")
# Every value that was ever a default or an example of a secret.
PUBLISHED = [
    "caravan-local-development-service-secret",
    "compose-local-service-secret",
    "replace-with-a-long-random-value",
    "test-gateway-secret",
    "test-service-secret",
    "caravan-demo-2026",
]

failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        failures.append(what)
        print(f"  FAIL {what}", flush=True)


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def send(method, path, body=None, headers=None, raw=False):
    """One request, the path sent exactly as written."""
    url = urllib.parse.urlsplit(BASE)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = body if raw else json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("content-length", str(len(data or b"")))
    conn.endheaders(data)
    response = conn.getresponse()
    answer = Answer(response.status, response.getheaders(), response.read())
    conn.close()
    return answer


def bearer(token):
    return {"authorization": f"Bearer {token}"}


def login(email, tenant=None):
    body = {"email": email, "password": PASSWORD}
    if tenant:
        body["tenant"] = tenant
    answer = send("POST", "/v1/auth/login", body)
    if answer.status != 200:
        sys.exit(f"login as {email} failed: {answer.status} {answer.body[:300]!r}")
    return answer.json()


def traversal_corpus():
    print("== paths with two readings never reach a service")
    with open(TRAVERSALS, encoding="utf-8") as corpus:
        paths = [line.rstrip("\n") for line in corpus if line.strip()]
    for path in paths:
        for method in ("GET", "POST"):
            answer = send(method, path, body=b"{}", raw=True)
            text = answer.body.decode("utf-8", "replace")
            leaked = "caravan_http_requests_total" in text or '"seq"' in text or "# TYPE" in text
            check(answer.status in (400, 404) and not leaked,
                  f"{method} {path} answered {answer.status} {text[:120]!r}")
    for path in ("/metrics", "/internal/v1/events?after=0", "/internal/v1/variants"):
        answer = send("GET", path)
        check(answer.status == 404, f"GET {path} answered {answer.status}")
    answer = send("POST", "/internal/v1/reservations", {"tenant_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "lines": []})
    check(answer.status == 404, f"POST /internal/v1/reservations answered {answer.status}")


def published_and_service_secrets():
    print("== no published secret, and no service credential, works from outside")
    for service in ("order", "catalog", "tenant", "auth"):
        for secret in PUBLISHED + [SERVICE_SECRET]:
            for encode in ("json", "form"):
                fields = {"grant_type": "client_credentials", "client_id": f"service:{service}", "client_secret": secret}
                if encode == "json":
                    answer = send("POST", "/v1/auth/token", fields)
                else:
                    answer = send("POST", "/v1/auth/token", urllib.parse.urlencode(fields).encode(), {"content-type": "application/x-www-form-urlencoded"}, raw=True)
                genuine = " (this installation's real secret)" if secret == SERVICE_SECRET else ""
                check(answer.status in (400, 401) and "access_token" not in (answer.json() or {}),
                      f"service:{service} token with {secret[:12]}…{genuine} as {encode}: {answer.status}")
    answer = send("POST", "/v1/auth/login", {"email": OPERATOR, "password": "caravan-demo-2026"})
    check(answer.status == 401, f"the operator logs in with the old published demo password: {answer.status}")


def demo_order():
    """A guest's order at the demo shop: (order, cart token, checkout body, key)."""
    listing = send("GET", f"/v1/shops/{SHOP}/products?limit=20&in_stock=true").json()
    variant = None
    for item in listing["items"]:
        product = send("GET", f"/v1/shops/{SHOP}/products/{urllib.parse.quote(item['handle'])}").json()
        variant = next((v["id"] for v in product["variants"] if v["in_stock"]), None)
        if variant:
            break
    assert variant, "the demo shop has nothing in stock"
    cart = send("POST", f"/v1/shops/{SHOP}/carts", {}).json()
    token = {"x-cart-token": cart["token"]}
    added = send("POST", f"/v1/shops/{SHOP}/carts/{cart['id']}/lines", {"variant_id": variant, "quantity": 1}, token)
    assert added.status in (200, 201), added.body
    province = urllib.parse.quote("宁夏回族自治区")
    priced = send("GET", f"/v1/shops/{SHOP}/carts/{cart['id']}?country=CN&province={province}", headers=token).json()
    body = {
        "cart_id": cart["id"], "email": f"buyer-{uuid.uuid4().hex[:8]}@example.cn", "phone": "+86 138 0013 8000",
        "shipping_address": {"country": "CN", "province": "宁夏回族自治区", "city": "银川市", "street": "北京路 1 号",
                             "postal_code": "750001", "recipient": "马丽"},
        "shipping_rate_id": priced["shipping_options"][0]["rate_id"],
    }
    key = f"security-{uuid.uuid4()}"
    order = send("POST", f"/v1/shops/{SHOP}/checkout", body, {**token, "idempotency-key": key})
    assert order.status == 201, order.body
    return order.json(), token, body, key


def replay_without_the_cart_token():
    print("== a checkout replay hands nobody else the order")
    order, token, body, key = demo_order()
    other = send("POST", f"/v1/shops/{SHOP}/carts", {}).json()
    for headers, who in (({}, "no cart token"), ({"x-cart-token": other["token"]}, "another cart's token"),
                         ({"x-cart-token": "forged"}, "a made-up token")):
        answer = send("POST", f"/v1/shops/{SHOP}/checkout", body, {**headers, "idempotency-key": key})
        seen = answer.json() or {}
        check(answer.status not in (200, 201) and "access_token" not in seen and order["id"] not in answer.body.decode("utf-8", "replace"),
              f"replay with {who} answered {answer.status} {answer.body[:160]!r}")
    again = send("POST", f"/v1/shops/{SHOP}/checkout", body, {**token, "idempotency-key": key})
    check(again.status == 201 and again.json()["id"] == order["id"], f"the buyer's own retry answered {again.status}")
    return order


def shop_cart(shop, variant):
    """A guest cart of `shop` holding one unit of `variant`: (cart, token, checkout body)."""
    cart = send("POST", f"/v1/shops/{shop}/carts", {}).json()
    token = {"x-cart-token": cart["token"]}
    added = send("POST", f"/v1/shops/{shop}/carts/{cart['id']}/lines", {"variant_id": variant, "quantity": 1}, token)
    assert added.status in (200, 201), added.body
    priced = send("GET", f"/v1/shops/{shop}/carts/{cart['id']}?country=CN", headers=token).json()
    body = {
        "cart_id": cart["id"], "email": f"buyer-{uuid.uuid4().hex[:8]}@example.cn", "phone": "+86 138 0013 8000",
        "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "street": "世纪大道 100 号",
                             "postal_code": "200120", "recipient": "王芳"},
        "shipping_rate_id": priced["shipping_options"][0]["rate_id"],
    }
    return cart, token, body


def groups_and_harvests_stay_in_their_shop():
    print("== group deals and harvests answer only in their own shop")
    deal = send("GET", f"/v1/shops/{SHOP}/group-deals").json()["items"][0]
    campaign = send("GET", f"/v1/shops/{SHOP}/preorder-campaigns").json()["items"][0]
    # A group of SHOP, opened by a buyer.
    _, token, body = shop_cart(SHOP, deal["variant_id"])
    opened = send("POST", f"/v1/shops/{SHOP}/checkout", {**body, "group": {"deal_id": deal["id"]}},
                  {**token, "idempotency-key": f"security-{uuid.uuid4()}"})
    check(opened.status == 201, f"opening a group answered {opened.status} {opened.body[:160]!r}")
    group = opened.json()["group"]["id"]
    other_variant = send("GET", f"/v1/shops/{OTHER}/group-deals").json()["items"][0]["variant_id"]
    # OTHER's storefront and staff see none of it.
    shown = send("GET", f"/v1/shops/{OTHER}/groups/{group}")
    check(shown.status == 404, f"SHOP's group through OTHER's storefront answered {shown.status}")
    staff = login(f"owner@{OTHER}.example.cn", OTHER)["access_token"]
    for path in (f"/v1/groups/{group}", f"/v1/group-deals/{deal['id']}", f"/v1/preorder-campaigns/{campaign['id']}",
                 f"/v1/preorder-campaigns/{campaign['id']}/orders"):
        answer = send("GET", path, headers=bearer(staff))
        check(answer.status == 404, f"OTHER's owner reading {path} answered {answer.status}")
    for path, payload in ((f"/v1/group-deals/{deal['id']}/end", {}),
                          (f"/v1/preorder-campaigns/{campaign['id']}/call-off", {"reason": "hostile"}),
                          (f"/v1/preorder-campaigns/{campaign['id']}/harvest", {})):
        answer = send("POST", path, payload, bearer(staff))
        check(answer.status == 404, f"OTHER's owner posting {path} answered {answer.status}")
    # A buyer of OTHER cannot buy into SHOP's group, deal or harvest, however asked.
    for extra, what in (({"group": {"group_id": group}}, "SHOP's group"),
                        ({"group": {"deal_id": deal["id"]}}, "SHOP's deal"),
                        ({"preorder": {"campaign_id": campaign["id"]}}, "SHOP's harvest"),
                        ({"group": {"group_id": group, "deal_id": deal["id"]}}, "a group and a deal at once"),
                        ({"group": {"group_id": "../../groups"}}, "a path for a group id"),
                        ({"group": [group]}, "a group as a list"),
                        ({"group": {"group_id": group}, "preorder": {"campaign_id": campaign["id"]}}, "a group and a harvest"),
                        ({"group": {"group_id": group, "admin": True}}, "an unknown field")):
        _, token, body = shop_cart(OTHER, other_variant)
        answer = send("POST", f"/v1/shops/{OTHER}/checkout", {**body, **extra},
                      {**token, "idempotency-key": f"security-{uuid.uuid4()}"})
        check(answer.status in (400, 422) and answer.headers.get("content-type", "").startswith("application/problem+json"),
              f"checking out {what} in OTHER answered {answer.status} {answer.body[:160]!r}")
    # Still one order in SHOP's group, and nobody else's.
    owner = login(OWNER, SHOP)["access_token"]
    seen = send("GET", f"/v1/groups/{group}", headers=bearer(owner)).json()
    check(len(seen["orders"]) == 1, f"SHOP's group holds {len(seen['orders'])} orders")


def forged_payment_notifications(order):
    print("== forged payment notifications change nothing")
    operator = login(OPERATOR)["access_token"]
    tenants = send("GET", "/v1/tenants?limit=100", headers=bearer(operator)).json()["items"]
    tenant_id = next(t["id"] for t in tenants if t["slug"] == SHOP)
    notice = {"type": "payment.succeeded", "tenant_id": tenant_id, "order_id": order["id"],
              "reference": f"forged-{uuid.uuid4().hex[:12]}", "amount": order["total"]}
    raw = json.dumps(notice).encode()
    for secret, what in ((s, f"published secret {s[:12]}…") for s in PUBLISHED):
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        answer = send("POST", "/v1/payments/test/webhooks", raw, {"test-gateway-signature": signature}, raw=True)
        check(answer.status >= 400, f"notification signed with the {what}: {answer.status}")
    # Even the installation's real secret cannot pay an order the provider never
    # started a payment for.
    signature = hmac.new(PAYMENT_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = send("POST", "/v1/payments/test/webhooks", raw, {"test-gateway-signature": signature}, raw=True)
    check(answer.status >= 400, f"a genuinely signed notice for no authorisation answered {answer.status}")
    owner = login(OWNER, SHOP)["access_token"]
    status = send("GET", f"/v1/orders/{order['id']}", headers=bearer(owner)).json()["status"]
    check(status == "pending_payment", f"the order is {status} after forged notifications")


def internal_webhook_targets():
    print("== webhooks cannot be aimed inside")
    owner = login(OWNER, SHOP)["access_token"]
    targets = [
        "http://127.0.0.1:6379/", "https://127.0.0.1/", "https://localhost/", "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/", "https://172.16.0.1/", "https://192.168.1.1/", "https://100.64.0.1/", "https://0.0.0.0/",
        "https://[::1]/", "https://[fe80::1]/", "https://[fc00::1]/", "https://[::ffff:127.0.0.1]/",
        "https://2130706433/", "https://0x7f.1/", "https://017700000001/", "https://127.1/",
        "http://example.com/hook",
    ]
    for url in targets:
        answer = send("POST", "/v1/webhooks", {"url": url, "events": ["order.created"]}, bearer(owner))
        check(answer.status == 422, f"webhook to {url} answered {answer.status}")


def junk_tokens_and_spoofed_addresses():
    print("== junk tokens and claimed addresses buy no allowance")
    first = send("GET", "/v1/plans")
    anonymous = int(first.headers["ratelimit-limit"])
    junk = send("GET", "/v1/plans", headers={"authorization": f"Bearer junk-{uuid.uuid4()}"})
    check(int(junk.headers["ratelimit-limit"]) == anonymous, "a junk token got an allowance of its own")
    token = login(OWNER, SHOP)["access_token"]
    genuine = send("GET", "/v1/plans", headers=bearer(token))
    check(int(genuine.headers["ratelimit-limit"]) > anonymous, "a genuine token did not get its own allowance")
    remaining = []
    for n in range(4):
        spoof = f"203.0.113.{n + 1}"
        answer = send("GET", "/v1/plans", headers={"x-forwarded-for": spoof, "forwarded": f"for={spoof}",
                                                   "x-real-ip": spoof, "true-client-ip": spoof})
        remaining.append(int(answer.headers["ratelimit-remaining"]))
    check(remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 4,
          f"claimed addresses were counted apart: {remaining}")


def sessions_end_at_logout():
    print("== logout ends the access token too")
    pair = login(OWNER, SHOP)
    check(send("GET", "/v1/auth/me", headers=bearer(pair["access_token"])).status == 200, "fresh token refused")
    send("POST", "/v1/auth/logout", {"refresh_token": pair["refresh_token"]})
    time.sleep(1.0)
    after = send("GET", "/v1/auth/me", headers=bearer(pair["access_token"]))
    check(after.status == 401, f"the access token still works a second after logout: {after.status}")
    refresh = send("POST", "/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    check(refresh.status == 401, f"refresh after logout answered {refresh.status}")


def headers_on_personal_data():
    print("== personal data is neither cached nor sniffed; docs cannot be framed")
    pair = login(OWNER, SHOP)
    me = send("GET", "/v1/auth/me", headers=bearer(pair["access_token"]))
    check(me.headers.get("x-content-type-options") == "nosniff", "no nosniff on /v1/auth/me")
    check("no-store" in me.headers.get("cache-control", ""), f"/v1/auth/me cache-control {me.headers.get('cache-control')!r}")
    docs = send("GET", "/docs/")
    policy = docs.headers.get("content-security-policy", "")
    check("frame-ancestors 'none'" in policy, f"/docs/ policy {policy!r}")


def spoofed_addresses_do_not_dodge_the_login_throttle():
    # Last: it locks this machine's address out of logins on this platform.
    print("== claimed addresses do not dodge the login throttle")
    statuses = []
    for n in range(24):
        spoof = f"198.51.100.{n + 1}"
        answer = send("POST", "/v1/auth/login", {"email": f"nobody-{n}-{uuid.uuid4().hex[:6]}@example.cn", "password": "wrong-password-123"},
                      {"x-forwarded-for": spoof, "forwarded": f"for={spoof}", "x-real-ip": spoof})
        statuses.append(answer.status)
    check(429 in statuses, f"24 failed logins under 24 claimed addresses were never throttled: {statuses}")


def main():
    traversal_corpus()
    published_and_service_secrets()
    order = replay_without_the_cart_token()
    forged_payment_notifications(order)
    groups_and_harvests_stay_in_their_shop()
    internal_webhook_targets()
    junk_tokens_and_spoofed_addresses()
    sessions_end_at_logout()
    headers_on_personal_data()
    spoofed_addresses_do_not_dodge_the_login_throttle()
    print(f"{checks - len(failures)} of {checks} checks held")
    if failures:
        print(f"{len(failures)} attacks worked:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

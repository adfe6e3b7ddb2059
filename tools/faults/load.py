"""Mixed storefront traffic through the gateway, every request recorded, and the
webhook receiver the shop's subscription points at."""

import collections
import http.server
import json
import random
import threading
import time
import uuid

CARD = "4242424242424242"  # the test gateway's card that succeeds
ADDRESS = {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区",
           "street": "世纪大道 100 号", "postal_code": "200120", "recipient": "王芳"}


class Record:
    __slots__ = ("phase", "kind", "started", "ended", "status")

    def __init__(self, phase, kind, started, ended, status):
        self.phase, self.kind, self.started, self.ended, self.status = phase, kind, started, ended, status


class Load:
    """Buyers browse, fill carts, check out with an Idempotency-Key and pay with the
    test card; one member of staff ships paid orders and cancels some unpaid ones.
    A request that got no answer or a 5xx is retried with the same key."""

    def __init__(self, api, shop, buyers=4, pause=0.05, unpaid_share=0.15, retries=4):
        self.api, self.shop = api, shop
        self.buyers, self.pause, self.unpaid_share, self.retries = buyers, pause, unpaid_share, retries
        self.phase = "warm-up"
        self.records = []
        self.lock = threading.Lock()
        # cart id -> {"statuses": [...], "orders": {order ids answered 201}}
        self.checkouts = {}
        self.in_flight = collections.Counter()
        self.to_ship = collections.deque()
        self.to_cancel = collections.deque()
        self.running = False
        self.threads = []
        # Cleared while invariants are read: buyers finish their journey and wait.
        self.go = threading.Event()
        self.go.set()
        self.busy = 0

    # Recording ----------------------------------------------------------------
    def request(self, kind, method, path, body=None, token=None, headers=None):
        with self.lock:
            self.in_flight[kind] += 1
        started = time.time()
        status, answer = self.api.call(method, path, body, token, headers)
        ended = time.time()
        with self.lock:
            self.in_flight[kind] -= 1
            self.records.append(Record(self.phase, kind, started, ended, status))
        return status, answer

    def retried(self, kind, method, path, body=None, token=None, headers=None, seen=None):
        """The same request again (same Idempotency-Key) while it gets no answer, a
        5xx or a 409 saying the first attempt is still being processed."""
        for attempt in range(self.retries + 1):
            status, answer = self.request(kind, method, path, body, token, headers)
            if seen is not None:
                seen.append(status)
            busy = status == 409 and "processed" in json.dumps(answer)
            if status != 0 and status < 500 and not busy:
                return status, answer
            if not self.running and attempt >= 1:
                break
            time.sleep(0.3 * (attempt + 1))
        return status, answer

    # Buyers -------------------------------------------------------------------
    def buyer(self, seed):
        rng = random.Random(seed)
        slug = self.shop["slug"]
        while self.running:
            if not self.go.wait(0.2):
                continue
            with self.lock:
                self.busy += 1
            try:
                self.journey(rng, slug)
            finally:
                with self.lock:
                    self.busy -= 1
            time.sleep(self.pause)

    def journey(self, rng, slug):
        self.request("browse", "GET", f"/v1/shops/{slug}/products?limit=20&locale=zh-CN")
        handle = rng.choice(self.shop["handles"])
        self.request("product", "GET", f"/v1/shops/{slug}/products/{handle}?locale=en")
        status, cart = self.request("cart", "POST", f"/v1/shops/{slug}/carts", {})
        if status != 201:
            return
        cart_id, cart_token = cart["id"], cart["token"]
        headers = {"X-Cart-Token": cart_token}
        status, _ = self.request("cart-line", "POST", f"/v1/shops/{slug}/carts/{cart_id}/lines",
                                 {"variant_id": rng.choice(self.shop["variants"]),
                                  "quantity": rng.randint(1, 3)}, headers=headers)
        if status != 200:
            return
        key = str(uuid.uuid4())
        entry = {"statuses": [], "orders": set()}
        with self.lock:
            self.checkouts[cart_id] = entry
        status, order = self.retried("checkout", "POST", f"/v1/shops/{slug}/checkout", {
            "cart_id": cart_id, "email": f"buyer{rng.randint(1, 999)}@example.cn",
            "phone": "+86 138 0013 8000", "shipping_address": ADDRESS,
            "shipping_rate_id": self.shop["rate"]},
            headers={**headers, "Idempotency-Key": key}, seen=entry["statuses"])
        if status != 201:
            return
        with self.lock:
            entry["orders"].add(order["id"])
        if rng.random() < self.unpaid_share:
            self.to_cancel.append(order["id"])
        else:
            status, _ = self.retried(
                "payment", "POST", f"/v1/shops/{slug}/orders/{order['id']}/payments",
                {"provider": "test", "card_number": CARD},
                headers={"X-Order-Token": order["access_token"], "Idempotency-Key": str(uuid.uuid4())})
            if status == 200:
                self.to_ship.append(order["id"])

    # Staff --------------------------------------------------------------------
    def staff(self):
        token = self.shop["staff"]
        number = 0
        while self.running or self.to_ship or self.to_cancel:
            if self.to_ship:
                order = self.to_ship.popleft()
                number += 1
                self.retried("ship", "POST", f"/v1/orders/{order}/fulfillments",
                             {"carrier": "顺丰速运 SF Express", "tracking_number": f"SF{1_000_000_000 + number}"},
                             token=token)
            elif self.to_cancel:
                order = self.to_cancel.popleft()
                self.retried("cancel", "POST", f"/v1/orders/{order}/cancel",
                             {"reason": "买家要求取消 / cancelled at the buyer's request"}, token=token)
            else:
                time.sleep(0.05)
            if not self.running and not (self.to_ship or self.to_cancel):
                break

    def start(self):
        self.running = True
        self.threads = [threading.Thread(target=self.buyer, args=(n,), daemon=True) for n in range(self.buyers)]
        self.threads.append(threading.Thread(target=self.staff, daemon=True))
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(timeout=120)

    def pause_buyers(self, timeout=90):
        """Stops new journeys and waits until every request has its answer and
        staff have worked through their queue."""
        self.go.clear()
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                quiet = self.busy == 0 and sum(self.in_flight.values()) == 0
            if quiet and not self.to_ship and not self.to_cancel:
                return True
            time.sleep(0.05)
        return False

    def resume(self):
        self.go.set()

    def wait_in_flight(self, kind, timeout=10):
        """Waits until a request of `kind` is being answered (so a fault lands mid-request)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.in_flight[kind] > 0:
                return True
            time.sleep(0.002)
        return False

    def phase_records(self, phase):
        with self.lock:
            return [record for record in self.records if record.phase == phase]


class Receiver:
    """The shop's webhook endpoint. `mode` is `ok` (answers 200), `slow` (answers
    after the sender's 5 s delivery timeout) or `fail` (answers 500). Counts, per
    event id, the deliveries it acknowledged."""

    def __init__(self, slow_seconds=6.5):
        self.mode = "ok"
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.acked = collections.Counter()
        self.received = collections.Counter()
        self.refused = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    event_id = json.loads(body)["id"]
                except (ValueError, KeyError, TypeError):
                    event_id = None
                mode = receiver.mode
                with receiver.lock:
                    receiver.received[event_id] += 1
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                if mode == "fail":
                    status = 500
                else:
                    status = 200
                # Past the sender's timeout nobody hears the answer: not acknowledged.
                acked = mode == "ok" and event_id is not None
                with receiver.lock:
                    if acked:
                        receiver.acked[event_id] += 1
                    else:
                        receiver.refused += 1
                try:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/caravan"

    def stop(self):
        self.server.shutdown()

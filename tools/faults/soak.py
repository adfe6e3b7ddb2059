"""The soak benchmark: the platform one process per service, mixed storefront
traffic at a steady rate of checkouts for some minutes, and per minute the
throughput, latencies, each service's memory, database connections and relay lag.

    python3 tools/faults/soak.py ROOT BINARIES MINUTES [RATE]

RATE is checkouts per second; without it, the checkout capacity in this traffic is
measured first (16 buyers going through their journey back to back for 15 s) and
half of it used. A journey: the product list, a product page, a cart and its line,
the checkout, the payment (six in seven orders), and staff ship what was paid.
"""

import collections
import signal
import sys
import threading
import time
import uuid

from load import ADDRESS, CARD
from stack import SERVICES, Api, Platform, log, seed

WORKERS = 48


def percentile(values, share):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Soak:
    def __init__(self, root, binaries):
        self.platform = Platform(root, binaries, extra_env={"RUST_LOG": "warn"})
        self.lock = threading.Lock()
        self.samples = []  # (ended, kind, seconds, status)
        self.tickets = threading.Semaphore(0)
        self.running = True
        self.to_ship = collections.deque()
        self.late = 0
        self.outstanding = 0
        self.statuses = collections.Counter()

    # Requests -----------------------------------------------------------------
    def call(self, api, kind, method, path, body=None, token=None, headers=None):
        started = time.perf_counter()
        status, answer = api.call(method, path, body, token, headers)
        ended = time.perf_counter()
        with self.lock:
            self.samples.append((time.time(), kind, ended - started, status))
        return status, answer

    def cart(self, api, rng_index):
        slug = self.shop["slug"]
        status, cart = self.call(api, "cart", "POST", f"/v1/shops/{slug}/carts", {})
        if status != 201:
            return None
        headers = {"X-Cart-Token": cart["token"]}
        variant = self.shop["variants"][rng_index % len(self.shop["variants"])]
        status, _ = self.call(api, "cart-line", "POST", f"/v1/shops/{slug}/carts/{cart['id']}/lines",
                              {"variant_id": variant, "quantity": 1}, headers=headers)
        return (cart["id"], headers) if status == 200 else None

    def checkout(self, api, cart_id, headers):
        return self.call(api, "checkout", "POST", f"/v1/shops/{self.shop['slug']}/checkout", {
            "cart_id": cart_id, "email": "buyer@example.cn", "phone": "+86 138 0013 8000",
            "shipping_address": ADDRESS, "shipping_rate_id": self.shop["rate"]},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())})

    # Capacity -----------------------------------------------------------------
    def capacity(self, seconds=15, clients=16):
        """Checkouts per second the platform completes in this mixed traffic with
        `clients` buyers going through their journey back to back."""
        deadline = time.time() + seconds
        before = len(self.samples)

        def buyer(number):
            api = Api(self.platform.gateway)
            index = number
            while time.time() < deadline:
                index += clients
                self.journey(api, index)

        started = time.time()
        threads = [threading.Thread(target=buyer, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self.lock:
            placed = sum(1 for _, kind, _, status in self.samples[before:] if kind == "checkout" and status == 201)
        return placed / (time.time() - started)

    # Traffic ------------------------------------------------------------------
    def journey(self, api, index):
        slug = self.shop["slug"]
        self.call(api, "browse", "GET", f"/v1/shops/{slug}/products?limit=20&locale=zh-CN")
        handle = self.shop["handles"][index % len(self.shop["handles"])]
        self.call(api, "product", "GET", f"/v1/shops/{slug}/products/{handle}?locale=en")
        prepared = self.cart(api, index)
        if not prepared:
            return
        status, order = self.checkout(api, *prepared)
        if status != 201 or index % 7 == 0:  # some orders stay unpaid
            return
        status, _ = self.call(api, "payment", "POST", f"/v1/shops/{slug}/orders/{order['id']}/payments",
                              {"provider": "test", "card_number": CARD},
                              headers={"X-Order-Token": order["access_token"], "Idempotency-Key": str(uuid.uuid4())})
        if status == 200:
            self.to_ship.append(order["id"])

    def worker(self, number):
        api = Api(self.platform.gateway)
        index = number
        while self.running:
            if not self.tickets.acquire(timeout=0.5):
                continue
            index += WORKERS
            self.journey(api, index)
            with self.lock:
                self.outstanding -= 1

    def staff(self):
        api = Api(self.platform.gateway)
        number = 0
        while self.running:
            if not self.to_ship:
                time.sleep(0.01)
                continue
            number += 1
            self.call(api, "ship", "POST", f"/v1/orders/{self.to_ship.popleft()}/fulfillments",
                      {"carrier": "SF Express", "tracking_number": f"SF{number:010d}"}, token=self.shop["staff"])

    def pacer(self, rate):
        """Starts `rate` journeys a second, evenly; counts those no worker was free for."""
        interval = 1.0 / rate
        next_at = time.time()
        while self.running:
            now = time.time()
            if now < next_at:
                time.sleep(min(next_at - now, 0.05))
                continue
            next_at += interval
            with self.lock:
                free = self.outstanding < WORKERS
                if free:
                    self.outstanding += 1
            if free:
                self.tickets.release()
            else:  # every worker busy: this journey is not started (an open system would queue it)
                self.late += 1

    # Observations -------------------------------------------------------------
    def connections(self):
        rows = self.platform.psql("postgres", """
            SELECT datname, count(*) FROM pg_stat_activity
            WHERE datname LIKE 'caravan_%' GROUP BY datname""")
        return {name.removeprefix("caravan_"): int(count) for name, count in rows}

    def relay_lag(self):
        """(events, seconds): the events the slowest consumer of each producer has
        still to handle (not yet sequenced by the relay, or past its offset), and the
        age of the oldest of them."""
        slowest = {}
        for name in SERVICES:
            for producer, last_seq in self.platform.psql(f"caravan_{name}", "SELECT producer, last_seq FROM event_offsets"):
                slowest[producer] = min(slowest.get(producer, int(last_seq)), int(last_seq))
        events, age = 0, 0.0
        for producer, last_seq in slowest.items():
            count, oldest = self.platform.psql(f"caravan_{producer}", f"""
                SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)
                FROM outbox WHERE seq IS NULL OR seq > {last_seq}""")[0]
            events += int(count)
            age = max(age, float(oldest))
        return events, age

    def run(self, minutes, rate):
        platform = self.platform
        platform.start()
        self.shop = seed(platform, Api(platform.gateway), slug="soak-farm", stock=10_000_000)
        if rate is None:
            staff = threading.Thread(target=self.staff, daemon=True)
            staff.start()
            measured = self.capacity()
            rate = max(1.0, measured / 2)
            log(f"checkout capacity in this traffic {measured:.0f}/s (16 buyers back to back, 15 s); "
                f"soaking at half: {rate:.0f}/s")
        else:
            log(f"soaking at {rate:.0f} checkouts/s")
        with self.lock:
            self.samples.clear()
        threads = [threading.Thread(target=self.worker, args=(n,), daemon=True) for n in range(WORKERS)]
        threads += [threading.Thread(target=self.staff, daemon=True) for _ in range(2)]
        threads.append(threading.Thread(target=self.pacer, args=(rate,), daemon=True))
        for thread in threads:
            thread.start()
        rows = []
        print()
        header = (f"{'min':>3} {'checkouts/s':>11} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
                  f"{'checkout p50/p99 ms':>19} {'non-2xx':>7} "
                  + " ".join(f"{name + ' MiB':>11}" for name in SERVICES + ("gateway",))
                  + " " + f"{'db conns a/t/c/o':>16} {'relay lag ev/age':>15}")
        print(header, flush=True)
        started = time.time()
        for minute in range(1, minutes + 1):
            time.sleep(max(0.0, started + 60 * minute - time.time()))
            with self.lock:
                samples, self.samples = self.samples, []
            rss = {name: platform.rss_kib(name) for name in SERVICES + ("gateway",)}
            connections = self.connections()
            lag, lag_age = self.relay_lag()
            latencies = [seconds * 1000 for _, _, seconds, _ in samples]
            checkouts = [seconds * 1000 for _, kind, seconds, status in samples if kind == "checkout"]
            placed = sum(1 for _, kind, _, status in samples if kind == "checkout" and status == 201)
            failed = sum(1 for *_, status in samples if not 200 <= status < 300)
            rows.append(rss)
            self.statuses.update(status for *_, status in samples if not 200 <= status < 300)
            print(f"{minute:>3} {placed / 60:>11.1f} {len(samples) / 60:>10.0f} "
                  f"{percentile(latencies, 0.5):>7.1f} {percentile(latencies, 0.99):>7.1f} "
                  f"{percentile(checkouts, 0.5):>9.1f}/{percentile(checkouts, 0.99):<9.1f} {failed:>7} "
                  + " ".join(f"{rss[name] / 1024:>11.1f}" for name in SERVICES + ("gateway",))
                  + " " + f"{'/'.join(str(connections.get(name, 0)) for name in SERVICES):>16} "
                  f"{f'{lag} / {lag_age:.1f}s':>15}",
                  flush=True)
        self.running = False
        growth = []
        if len(rows) >= 2:
            for name in SERVICES + ("gateway",):
                first, last = rows[0][name], rows[-1][name]
                if first and last > first * 1.10:
                    growth.append(f"{name} {first / 1024:.1f} -> {last / 1024:.1f} MiB (+{(last / first - 1) * 100:.0f} %)")
        print()
        print(f"{rate:.0f} checkouts/s offered for {minutes} min; journeys not started (all {WORKERS} buyers busy): {self.late}")
        if self.statuses:
            print("non-2xx answers: " + ", ".join(
                f"{status or 'no answer'}: {count}" for status, count in sorted(self.statuses.items())))
        if growth:
            print("RSS GREW by more than 10 % after the first minute: " + "; ".join(growth))
        else:
            print("RSS: no service grew by more than 10 % after the first minute")
        return 0


def main():
    root, binaries, minutes, *rest = sys.argv[1:]
    rate = float(rest[0]) if rest and rest[0] else None
    soak = Soak(root, binaries)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _: sys.exit(128 + number))
    try:
        code = soak.run(int(minutes), rate)
    finally:
        soak.running = False
        soak.platform.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()

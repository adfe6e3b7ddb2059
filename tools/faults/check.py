"""The fault suite: the platform one process per service, steady mixed load
through the gateway, one fault after another, and after each the invariants read
from the databases. Prints a table; exits 1 when an invariant does not hold.

    python3 tools/faults/check.py ROOT BINARIES [FAULT ...]
"""

import collections
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

import invariants
from load import Load, Receiver
from stack import SERVICES, Api, Platform, log, seed

ORDER_KINDS = {"cart", "cart-line", "checkout", "payment", "ship", "cancel"}


def wait_all_ready(platform, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if platform.all_ready():
            return time.time()
        time.sleep(0.1)
    return None


class Suite:
    def __init__(self, root, binaries):
        self.platform = Platform(root, binaries, extra_env={
            # Failed webhook deliveries retried after 0.5 s, 1 s, 5 s, 15 s, … (not 30 s, 1 min, …).
            "WEBHOOK_RETRY_BASE_MS": "500",
        }, pg_settings=["-c fsync=off", "-c full_page_writes=off"])
        self.rows = []
        self.failed = False

    # Faults: each answers the window during which a dependency was down (or None),
    # and checks of its own.
    def redis(self):
        """Redis killed for 10 s, restarted empty."""
        pids = {name: self.platform.pid(name) for name in SERVICES}
        start = time.time()
        self.platform.kill_redis()
        time.sleep(10)
        self.platform.start_redis()
        ready = wait_all_ready(self.platform)
        return (start, (ready or time.time()) + 3), lambda: invariants.readiness(self.platform, pids)

    def postgres(self):
        """PostgreSQL restarted (fast shutdown) while a checkout is being answered."""
        pids = {name: self.platform.pid(name) for name in SERVICES}
        landed = self.load.wait_in_flight("checkout")
        start = time.time()
        self.platform.pg_ctl("restart", "-m", "fast")
        ready = wait_all_ready(self.platform)
        checks = [("fault landed mid-checkout", landed, "a checkout was in flight" if landed else "none was")]
        return (start, (ready or time.time()) + 3), lambda: checks + invariants.readiness(self.platform, pids)

    def catalog(self):
        """The catalog killed (SIGKILL) while a checkout is reserving, then started again."""
        landed = self.load.wait_in_flight("checkout")
        start = time.time()
        self.platform.signal("catalog", signal.SIGKILL)
        self.platform.wait_exit("catalog")
        time.sleep(2)
        self.platform.start_service("catalog")
        ready = wait_all_ready(self.platform)
        checks = [("fault landed mid-checkout", landed, "a checkout was in flight" if landed else "none was")]
        return (start, (ready or time.time()) + 3), lambda: checks

    def order(self):
        """The order service stopped with SIGTERM under load (a rolling update)."""
        probes = []
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(self.platform.url("order") + "/readyz", timeout=2) as answer:
                        probes.append((time.time(), answer.status))
                except urllib.error.HTTPError as error:
                    probes.append((time.time(), error.code))
                except (urllib.error.URLError, OSError):
                    probes.append((time.time(), 0))
                time.sleep(0.02)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        landed = self.load.wait_in_flight("checkout")
        start = time.time()
        in_flight_kinds = dict(self.load.in_flight)
        self.platform.signal("order", signal.SIGTERM)
        code = self.platform.wait_exit("order", timeout=60)
        stopped = time.time()
        stop.set()
        prober.join()
        time.sleep(1)
        self.platform.start_service("order")
        ready = wait_all_ready(self.platform)
        after = [status for at, status in probes if at >= start]
        first_refused = next((i for i, status in enumerate(after) if status == 0), len(after))
        drained = 503 in after[:first_refused]
        records = self.load.phase_records("order")
        in_flight = [r for r in records if r.kind in ORDER_KINDS and r.started < start < r.ended]
        unfinished = [f"{r.kind} {r.status}" for r in in_flight if r.status == 0 or r.status >= 500]
        refused = [r for r in records if r.kind in ORDER_KINDS and start <= r.started <= stopped + 1]
        unclean = [f"{r.kind} {r.status}" for r in refused if r.status == 0 or (r.status >= 500 and r.status != 503)]
        checks = [
            ("stopped cleanly on SIGTERM", code == 0, f"exit {code} after {stopped - start:.1f}s"),
            ("readiness 503 before the listener closed", drained,
             f"readyz after SIGTERM: {summarise(after)}"),
            ("requests in flight at SIGTERM finished", not unfinished,
             f"{len(in_flight)} in flight ({sum(in_flight_kinds.values())} by the load), failed: {unfinished[:4]}"),
            ("new requests refused cleanly (503)", not unclean,
             f"{len(refused)} sent while stopping: " + ", ".join(
                 f"{status}: {count}" for status, count in sorted(collections.Counter(r.status for r in refused).items()))),
            ("fault landed mid-checkout", landed, "a checkout was in flight" if landed else "none was"),
        ]
        return (start, (ready or time.time()) + 3), lambda: checks

    def webhook(self):
        """The webhook receiver answers after the delivery timeout, then 500, then recovers."""
        refused = self.receiver.refused
        self.receiver.mode = "slow"
        time.sleep(12)
        self.receiver.mode = "fail"
        time.sleep(8)
        self.receiver.mode = "ok"
        failures = self.receiver.refused - refused
        checks = [("deliveries failed while the receiver did", failures > 0, f"{failures} refused or late")]
        return None, lambda: checks

    FAULTS = {
        "redis": "Redis SIGKILL 10 s, restarted empty",
        "postgres": "PostgreSQL restart -m fast",
        "catalog": "catalog SIGKILL mid-reservation",
        "order": "order SIGTERM (rolling update)",
        "webhook": "webhook receiver slow, 500, back",
    }

    def run(self, names):
        platform = self.platform
        started = time.time()
        platform.start()
        self.receiver = Receiver()
        api = Api(platform.gateway)
        shop = seed(platform, api)
        api.ok("POST", "/v1/webhooks", {"url": self.receiver.url, "events": ["order.paid"]}, token=shop["owner"])
        log("this run relaxes WEBHOOKS_ALLOW_INTERNAL=true (the webhook receiver is on 127.0.0.1) "
            "and turns PAYMENT_TEST_GATEWAY=true on (card 4242 4242 4242 4242)")
        self.load = load = Load(Api(platform.gateway), shop)
        load.start()
        load.phase = "healthy"
        time.sleep(5)
        self.settle("healthy", shop, None, lambda: [])
        for name in names:
            log(f"fault: {self.FAULTS[name]}")
            load.phase = name
            window, extra = getattr(self, name)()
            time.sleep(2)
            self.settle(name, shop, window, extra)
        load.stop()
        self.receiver.stop()
        self.print_table(time.time() - started)
        return 1 if self.failed else 0

    def settle(self, name, shop, window, extra):
        """Pauses the buyers, waits for the platform to catch up (up to 90 s), checks."""
        quiet = self.load.pause_buyers()
        deadline = time.time() + 90
        while True:
            results = invariants.settled(self.platform, shop, self.load, self.receiver)
            if all(ok for _, ok, _ in results) or time.time() > deadline:
                break
            time.sleep(1)
        results += extra()
        results += invariants.statuses(self.load.phase_records(name), window)
        results.append(("load paused with every answer in", quiet, "all answered" if quiet else "requests still open"))
        records = self.load.phase_records(name)
        errors = collections.Counter(r.status for r in records if r.status == 0 or r.status >= 400)
        passed = sum(1 for _, ok, _ in results if ok)
        self.rows.append((self.FAULTS.get(name, name), len(records), errors, passed, len(results)))
        for check, ok, detail in results:
            log(f"  {'ok  ' if ok else 'FAIL'} {check}: {detail}")
            self.failed |= not ok
        self.load.resume()

    def print_table(self, seconds):
        print()
        print(f"{'fault':<36} {'requests':>8}  {'errors by status':<34} {'invariants':>10}")
        for fault, sent, errors, passed, total in self.rows:
            shown = ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(errors.items())) or "-"
            print(f"{fault:<36} {sent:>8}  {shown:<34} {passed:>5}/{total:<4}")
        print(f"\n{sum(r[1] for r in self.rows)} requests in {seconds:.0f} s; "
              f"{'every invariant held' if not self.failed else 'AN INVARIANT FAILED'}; logs in {self.platform.root}")


def summarise(statuses):
    """Runs of equal values: [200, 200, 503, 0] -> '200x2 503 refused'."""
    runs = []
    for status in statuses:
        word = "refused" if status == 0 else str(status)
        if runs and runs[-1][0] == word:
            runs[-1][1] += 1
        else:
            runs.append([word, 1])
    return " ".join(f"{word}x{count}" if count > 1 else word for word, count in runs) or "none"


def main():
    root, binaries, *names = sys.argv[1:]
    names = names or list(Suite.FAULTS)
    unknown = [name for name in names if name not in Suite.FAULTS]
    if unknown:
        sys.exit(f"unknown fault {unknown}; known: {', '.join(Suite.FAULTS)}")
    suite = Suite(root, binaries)
    # Stopped from outside: still stop everything started here.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _: sys.exit(128 + number))
    try:
        code = suite.run(names)
    finally:
        suite.platform.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()

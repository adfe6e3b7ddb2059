"""What must hold after a fault, read from the databases directly (as the superuser,
so row-level security hides nothing). Each check answers (name, passed, detail)."""

from stack import SERVICES

PAID = {"paid", "partially_fulfilled", "fulfilled", "delivered"}
RELEASED = {"cancelled", "expired"}


def orders(platform, shop):
    rows = platform.psql("caravan_order", f"SELECT id, cart_id, status FROM orders WHERE tenant_id = '{shop['tenant']}'")
    return rows


def checkout_answers(platform, shop, load):
    """Every 201 names an order that exists exactly once; every other order of the
    run belongs to a checkout whose answer was lost (no answer or a 5xx)."""
    rows = orders(platform, shop)
    by_id = {}
    for order_id, cart_id, _ in rows:
        by_id.setdefault(order_id, []).append(cart_id)
    by_cart = {}
    for order_id, cart_id, _ in rows:
        by_cart.setdefault(cart_id, []).append(order_id)
    with load.lock:
        checkouts = {cart: (list(entry["statuses"]), set(entry["orders"])) for cart, entry in load.checkouts.items()}
    problems, told, unanswered = [], 0, 0
    for cart, (statuses, answered) in checkouts.items():
        if len(answered) > 1:
            problems.append(f"cart {cart}: two checkouts answered 201 with different orders {sorted(answered)}")
        for order_id in answered:
            told += 1
            if len(by_id.get(order_id, [])) != 1 or by_id[order_id][0] != cart:
                problems.append(f"order {order_id} (answered 201) is not in the order database once for its cart")
        in_db = by_cart.get(cart, [])
        if len(in_db) > 1:
            problems.append(f"cart {cart} became {len(in_db)} orders")
        if in_db and not answered:
            if any(status == 0 or status >= 500 for status in statuses):
                unanswered += 1
            else:
                problems.append(f"order {in_db[0]} exists, but its checkout answered {statuses}")
    for cart, order_ids in by_cart.items():
        if cart not in checkouts:
            problems.append(f"orders {order_ids} come from a cart this run never checked out")
    detail = f"{told} answered 201, {unanswered} made while the answer was lost"
    return [("each 201 checkout is one order; no untold orders", not problems,
             "; ".join(problems[:5]) or detail)]


def stock(platform, shop):
    """Available = on hand - held; a paid order's stock committed, a cancelled or
    expired one's released, an unpaid one's held; a hold without an order has a
    deadline that releases it."""
    tenant = shop["tenant"]
    variants = platform.psql("caravan_catalog", f"""
        SELECT v.id, v.on_hand, v.reserved,
               coalesce((SELECT sum(quantity) FROM reservations r WHERE r.variant_id = v.id AND r.status = 'held'), 0),
               coalesce((SELECT sum(quantity) FROM reservations r WHERE r.variant_id = v.id AND r.status = 'committed'), 0)
        FROM variants v WHERE v.tenant_id = '{tenant}'""")
    holds = [f"variant {v}: reserved {reserved}, held {held}"
             for v, _, reserved, held, _ in variants if int(reserved) != int(held)]
    on_hand = [f"variant {v}: on hand {hand}, {shop['stock']} - committed {committed}"
               for v, hand, _, _, committed in variants if int(hand) != shop["stock"] - int(committed)]
    reservations = platform.psql("caravan_catalog", f"""
        SELECT order_id, string_agg(DISTINCT status, ',') FROM reservations
        WHERE tenant_id = '{tenant}' GROUP BY order_id""")
    held_by = dict(reservations)
    statuses = {order_id: status for order_id, _, status in orders(platform, shop)}
    wrong = []
    for order_id, status in statuses.items():
        kept = held_by.get(order_id)
        want = "committed" if status in PAID else "released" if status in RELEASED else "held"
        if status in PAID | RELEASED | {"pending_payment"} and kept != want:
            wrong.append(f"order {order_id} is {status}, its stock {kept}")
    deadlines = {row[0] for row in platform.psql("caravan_order", "SELECT order_id FROM order_deadlines")}
    orphans = [order_id for order_id, status in held_by.items() if order_id not in statuses]
    stranded = [order_id for order_id in orphans if held_by[order_id] == "held" and order_id not in deadlines]
    return [
        ("available = on hand - held", not holds, "; ".join(holds[:3]) or f"{len(variants)} variants"),
        ("on hand = stock - committed", not on_hand, "; ".join(on_hand[:3]) or f"{len(variants)} variants"),
        ("order status matches its stock", not wrong,
         "; ".join(wrong[:3]) or f"{len(statuses)} orders"),
        ("a hold without an order is released or due", not stranded,
         f"stranded {stranded[:3]}" if stranded else f"{len(orphans)} holds without an order"),
    ]


def events(platform):
    """Each producer's outbox sequenced and published; every consumer's offset at
    the producer's last sequence number; nothing parked."""
    heads, relay = {}, []
    for name in SERVICES:
        last, unsequenced, unpublished = platform.psql(f"caravan_{name}", """
            SELECT coalesce(max(seq), 0), count(*) FILTER (WHERE seq IS NULL),
                   count(*) FILTER (WHERE seq IS NOT NULL AND published_at IS NULL) FROM outbox""")[0]
        heads[name] = int(last)
        if int(unsequenced) or int(unpublished):
            relay.append(f"{name}: {unsequenced} unsequenced, {unpublished} unpublished")
    behind, parked, offsets = [], [], 0
    for name in SERVICES:
        for producer, last_seq in platform.psql(f"caravan_{name}", "SELECT producer, last_seq FROM event_offsets"):
            offsets += 1
            if int(last_seq) != heads.get(producer, -1):
                behind.append(f"{name} at {producer} {last_seq} of {heads.get(producer)}")
        count = platform.scalar(f"caravan_{name}", "SELECT count(*) FROM parked_events WHERE resolved_at IS NULL")
        if int(count):
            parked.append(f"{name}: {count}")
    if heads["order"] and not any(True for _ in platform.psql("caravan_tenant", "SELECT 1 FROM event_offsets WHERE producer = 'order'")):
        behind.append("tenant never consumed order's events")
    return [
        ("relay: every event sequenced and published", not relay, "; ".join(relay) or str(heads)),
        ("every consumer at its producer's last event", not behind, "; ".join(behind) or f"{offsets} offsets"),
        ("no event parked", not parked, "; ".join(parked) or "none"),
    ]


def webhooks(platform, receiver):
    """Each order.paid event acknowledged by the receiver exactly once."""
    paid = {row[0] for row in platform.psql("caravan_order", "SELECT id FROM outbox WHERE event_type = 'order.paid'")}
    with receiver.lock:
        acked = dict(receiver.acked)
    missing = sorted(paid - set(acked))
    twice = sorted(event for event, count in acked.items() if count > 1)
    unknown = sorted(set(acked) - paid)
    ok = not missing and not twice and not unknown
    detail = (f"missing {len(missing)} {missing[:2]}, acknowledged twice {twice[:2]}, unknown {unknown[:2]}"
              if not ok else f"{len(paid)} order.paid, each acknowledged once")
    return [("each order.paid delivered and acknowledged once", ok, detail)]


def statuses(records, window):
    """No 5xx but 503 while a dependency was down; no 5xx (nor a lost answer) otherwise."""
    start, end = window if window else (0, 0)
    bad = []
    for record in records:
        down = record.started <= end and record.ended >= start
        if record.status == 0 or (record.status >= 500 and not (down and record.status == 503)):
            bad.append(f"{record.kind} {record.status} at {record.started - start:+.1f}s")
    return [("no 5xx but 503 while down, none when healthy", not bad,
             f"{len(bad)}: " + ", ".join(bad[:4]) if bad else f"{len(records)} requests")]


def readiness(platform, pids):
    """Every service ready again, by the same processes (no restart needed)."""
    not_ready = [name for name in SERVICES if not platform.ready(name)]
    restarted = [name for name, pid in pids.items() if platform.pid(name) != pid]
    ok = not not_ready and not restarted
    return [("readiness recovered without a restart", ok,
             f"not ready {not_ready}, restarted {restarted}" if not ok else "all ready")]


def settled(platform, shop, load, receiver):
    return (checkout_answers(platform, shop, load) + stock(platform, shop)
            + events(platform) + webhooks(platform, receiver))

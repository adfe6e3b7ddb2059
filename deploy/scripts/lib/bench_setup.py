#!/usr/bin/env python3
"""Prepares a running Caravan for the comparison with the bare reference: the demo
shop `zhongning-goji` on the `pro` plan with 1,000 more active products of two
variants each (CSV import, as the reference's seed has), one of them with a million
units for the checkout benchmark. Prints that variant's id.
Usage: bench_setup.py BASE PASSWORD"""
import json, sys, time, urllib.error, urllib.request

base, password = sys.argv[1], sys.argv[2]
shop = "zhongning-goji"


def call(method, path, body=None, headers=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, method=method, data=data,
                                     headers={"content-type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def bearer(email, tenant=None):
    body = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    status, answer = call("POST", "/v1/auth/login", body)
    assert status == 200, (status, answer)
    return {"authorization": "Bearer " + answer["access_token"]}


operator = bearer("operator@caravan.example.cn")
_, tenants = call("GET", f"/v1/tenants?q={shop}", headers=operator)
tenant = next(t for t in tenants["items"] if t["slug"] == shop)
status, answer = call("POST", f"/v1/tenants/{tenant['id']}/plan", {"plan": "pro"}, operator)
assert status in (200, 204), (status, answer)

rows = ["handle,status,title.zh-CN,title.en,tags,origin_province,sku,unit,weight_grams,prices,stock"]
for product in range(1000):
    for variant in (1, 2):
        stock = 1000000 if product == 0 else 1000
        rows.append(f"bench-{product},active,宁夏枸杞 {product},Goji {product},produce,Ningxia,"
                    f"BENCH-{product}-{variant},box,500,{6800 * variant} CNY,{stock}")
csv = ("\n".join(rows) + "\n").encode()
owner = bearer(f"owner@{shop}.example.cn", shop)
# The plan change reaches the catalog by event: retry while the old quota holds.
for _ in range(50):
    status, report = call("POST", "/v1/products/import", headers=owner, raw=csv, content_type="text/csv")
    if status == 200 and not report.get("failed"):
        break
    time.sleep(0.2)
else:
    sys.exit(f"the CSV import failed: {status} {json.dumps(report)[:300]}")
_, product = call("GET", f"/v1/shops/{shop}/products/bench-0")
print(product["variants"][0]["id"])

"""A third party's first integration with Caravan, through the Python client that
openapi-python-client generates from openapi/caravan.json, and nothing else: no
hand-written HTTP.

It logs in as a demo cooperative's owner to get app credentials, then, as the app,
creates a product and a shipping zone; as a guest buyer it lists the storefront, fills
a cart and checks out; and as the app again it reads the order.

    CARAVAN_URL=http://localhost:8080 PYTHONPATH=target/python-client python3 openapi/examples/journey.py
"""

import os
import sys
import uuid

from caravan_api import AuthenticatedClient, Client
from caravan_api.api.app_clients import app_clients_create
from caravan_api.api.carts import carts_add_line, carts_create, carts_show
from caravan_api.api.checkout import checkout_checkout
from caravan_api.api.orders import orders_show
from caravan_api.api.products import products_create
from caravan_api.api.sessions import sessions_login
from caravan_api.api.shipping import shipping_create
from caravan_api.api.storefront import storefront_list
from caravan_api.api.tokens import tokens_token
from caravan_api.models import (
    AccessToken,
    CartView,
    CheckoutRequest,
    ClientRequest,
    CountryCode,
    CreatedClient,
    LineInput,
    LoginRequest,
    NewCart,
    OrderView,
    ProductRequest,
    ProductView,
    TokenPair,
    TokenRequest,
    ZoneInput,
)

BASE = os.environ.get("CARAVAN_URL", "http://localhost:8080")
SHOP = os.environ.get("CARAVAN_SHOP", "zhongning-goji")
OWNER = os.environ.get("CARAVAN_OWNER", f"owner@{SHOP}.example.cn")
# The demo password `caravan up` printed (each installation generates its own).
PASSWORD = os.environ["CARAVAN_PASSWORD"]


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main() -> None:
    public = Client(base_url=BASE, raise_on_unexpected_status=True)
    run = uuid.uuid4().hex[:8]

    # 1. The owner creates app credentials; the app exchanges them for a token.
    login = sessions_login.sync(client=public, body=LoginRequest.from_dict({"email": OWNER, "password": PASSWORD, "tenant": SHOP}))
    owner = AuthenticatedClient(base_url=BASE, token=expect(login, TokenPair, "login").access_token)
    created = app_clients_create.sync(
        client=owner,
        body=ClientRequest.from_dict({"name": f"Python integration {run}", "scopes": ["catalog:write", "orders:read", "orders:write"]}),
    )
    created = expect(created, CreatedClient, "app client")
    token = tokens_token.sync(
        client=public,
        body=TokenRequest.from_dict({"grant_type": "client_credentials", "client_id": created.client_id, "client_secret": created.client_secret}),
    )
    app = AuthenticatedClient(base_url=BASE, token=expect(token, AccessToken, "token").access_token)

    # 2. The app creates a product and makes sure the shop ships to Shanghai.
    product = products_create.sync(
        client=app,
        body=ProductRequest.from_dict({
            "handle": f"goji-tea-{run}", "status": "active",
            "title": {"zh-CN": "枸杞芽茶", "en": "Goji leaf tea"},
            "variants": [{"sku": f"TEA-{run}", "unit": "box", "weight_grams": 150,
                          "prices": [{"amount": 3900, "currency": "CNY"}], "stock": 20}],
        }),
    )
    product = expect(product, ProductView, "product")
    variant = product.variants[0].id
    shipping_create.sync(
        client=app,
        body=ZoneInput.from_dict({
            "name": f"Shanghai {run}", "countries": ["CN"], "provinces": ["上海市"],
            "rates": [{"name": "顺丰", "price": {"amount": 1000, "currency": "CNY"}}],
        }),
    )

    # 3. A guest finds it on the storefront, fills a cart and checks out.
    listing = storefront_list.sync(SHOP, client=public, locale="zh-CN", limit=100)
    titles = [item.title for item in listing.items]
    if "枸杞芽茶" not in titles:
        sys.exit(f"the new product is not on the storefront: {titles}")
    cart = expect(carts_create.sync(SHOP, client=public, body=NewCart.from_dict({})), CartView, "cart")
    carts_add_line.sync(SHOP, cart.id, client=public, x_cart_token=cart.token, body=LineInput.from_dict({"variant_id": str(variant), "quantity": 2}))
    priced = expect(carts_show.sync(SHOP, cart.id, client=public, x_cart_token=cart.token, country=CountryCode.CN, province="上海市"), CartView, "cart")
    rate = priced.shipping_options[0].rate_id
    order = checkout_checkout.sync(
        SHOP,
        client=public,
        x_cart_token=cart.token,
        idempotency_key=f"python-{run}",
        body=CheckoutRequest.from_dict({
            "cart_id": str(cart.id), "email": f"buyer-{run}@example.cn", "phone": "+86 138 0013 8000",
            "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "street": "世纪大道 100 号",
                                 "postal_code": "200120", "recipient": "王芳"},
            "shipping_rate_id": str(rate),
        }),
    )
    order = expect(order, OrderView, "checkout")

    # 4. The app reads the order.
    seen = expect(orders_show.sync(order.id, client=app), OrderView, "order")
    if seen.number != order.number or seen.total.amount != 2 * 3900 + 1000:
        sys.exit(f"unexpected order: {seen}")
    print(f"order {seen.name}: {seen.status}, total {seen.total.amount / 100:.2f} {seen.total.currency}")


if __name__ == "__main__":
    main()

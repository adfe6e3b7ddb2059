"""The platform as Kubernetes runs it: one process per service plus the gateway, on
spare ports, against a PostgreSQL cluster, a Redis and an SMTP sink of its own.

Everything it starts lives under one directory (logs included) and is stopped by
`Platform.stop()`.
"""

import base64
import email
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request

SERVICES = ("auth", "tenant", "catalog", "order")
PG_BIN = "/usr/lib/postgresql/15/bin"


def spare_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def secret():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class MailSink:
    """A minimal SMTP server that keeps every message in memory."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                self.reply("220 faults-sink ESMTP")
                recipients = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip()
                    upper = verb.upper()
                    if upper.startswith(("EHLO", "HELO")):
                        self.reply("250-faults-sink")
                        self.reply("250 8BITMIME")
                    elif upper.startswith("MAIL FROM"):
                        recipients = []
                        self.reply("250 OK")
                    elif upper.startswith("RCPT TO"):
                        recipients.append(verb.split(":", 1)[1].strip().strip("<>").split(">")[0])
                        self.reply("250 OK")
                    elif upper == "DATA":
                        self.reply("354 go ahead")
                        data = []
                        while True:
                            chunk = self.rfile.readline()
                            if not chunk or chunk in (b".\r\n", b".\n"):
                                break
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        with sink.lock:
                            sink.messages.append((list(recipients), b"".join(data)))
                        self.reply("250 queued")
                    elif upper == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP and anything else
                        self.reply("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts_to(self, recipient):
        with self.lock:
            mine = [raw for to, raw in self.messages if recipient in to]
        texts = []
        for raw in mine:
            message = email.message_from_bytes(raw)
            parts = message.walk() if message.is_multipart() else [message]
            text = ""
            for part in parts:
                if part.get_content_maintype() == "text":
                    payload = part.get_payload(decode=True) or b""
                    text += payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            texts.append(text)
        return texts

    def token_for(self, recipient, seen=0, wait=30):
        deadline = time.time() + wait
        while time.time() < deadline:
            texts = self.texts_to(recipient)
            if len(texts) > seen:
                found = re.search(r"token=([A-Za-z0-9_-]+)", texts[-1])
                if found:
                    return found.group(1)
            time.sleep(0.2)
        raise RuntimeError(f"no email with a link reached {recipient}")

    def stop(self):
        self.server.shutdown()


class Platform:
    """Per-service processes, their own PostgreSQL cluster, Redis and SMTP sink."""

    def __init__(self, root, binaries, extra_env=None, pg_settings=()):
        self.root = os.path.abspath(root)
        self.binaries = os.path.abspath(binaries)
        self.extra_env = dict(extra_env or {})
        self.pg_settings = list(pg_settings)
        self.processes = {}
        self.pg_port = spare_port()
        self.redis_port = spare_port()
        self.ports = {name: spare_port() for name in SERVICES + ("gateway",)}
        self.pg_data = os.path.join(self.root, "pg")
        self.pg_log = os.path.join(self.root, "postgres.log")
        self.service_secret = secret()
        self.signing_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.payment_secret = secret()
        self.operator_email = "operator@faults.example.cn"
        self.operator_password = secret()
        self.redis = None
        self.mail = None

    # URLs ---------------------------------------------------------------------
    def url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway(self):
        return self.url("gateway")

    # PostgreSQL ---------------------------------------------------------------
    def _as_postgres(self, *command, **kwargs):
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--") + command
        return subprocess.run(command, check=True, **kwargs)

    def start_postgres(self):
        if os.path.exists(self.pg_data):
            shutil.rmtree(self.pg_data)
        os.makedirs(self.pg_data)
        open(self.pg_log, "a").close()
        if os.geteuid() == 0:
            shutil.chown(self.pg_data, "postgres", "postgres")
            shutil.chown(self.pg_log, "postgres", "postgres")
        self._as_postgres(f"{PG_BIN}/initdb", "-D", self.pg_data, "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-sync",
                          stdout=subprocess.DEVNULL)
        options = [f"-p {self.pg_port}", "-c listen_addresses=127.0.0.1",
                   f"-k {self.pg_data}", "-c max_connections=200"] + self.pg_settings
        with open(os.path.join(self.pg_data, "postgresql.auto.conf"), "a") as conf:
            for option in options:
                if option.startswith("-c "):
                    conf.write(option[3:].replace("=", " = '", 1) + "'\n")
        self.pg_options = f"-p {self.pg_port} -k {self.pg_data}"
        self.pg_ctl("start")

    def pg_ctl(self, action, *extra):
        self._as_postgres(f"{PG_BIN}/pg_ctl", action, "-D", self.pg_data, "-w", "-t", "60",
                          "-o", self.pg_options, "-l", self.pg_log,
                          *extra, stdout=subprocess.DEVNULL)

    def psql(self, database, sql):
        """Rows of `sql` as lists of strings (run as the superuser: no row-level security)."""
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-d", database,
             "-XAtq", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True)
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def scalar(self, database, sql):
        rows = self.psql(database, sql)
        return rows[0][0] if rows else None

    # Redis --------------------------------------------------------------------
    def remember(self, process):
        """Notes a process started here, for the shell's trap should this harness die."""
        with open(os.path.join(self.root, "pids"), "a") as pids:
            pids.write(f"{process.pid}\n")
        return process

    def start_redis(self):
        """Redis with no persistence: a restart comes back empty."""
        self.redis = self.remember(subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.root,
             "--logfile", os.path.join(self.root, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.wait_for(lambda: self.redis_ping(), "Redis")

    def redis_ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill_redis(self):
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait()

    # Services -----------------------------------------------------------------
    def environment(self, name):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}",
            "REDIS_PREFIX": "faults",
            "SMTP_URL": f"smtp://127.0.0.1:{self.mail.port}",
            "AUTH_URL": self.url("auth"),
            "TENANT_URL": self.url("tenant"),
            "CATALOG_URL": self.url("catalog"),
            "ORDER_URL": self.url("order"),
            "PUBLIC_URL": self.gateway,
            "LOG_FORMAT": "json",
            "RUST_LOG": "info,sqlx=warn,sea_orm=warn",
        }
        if name == "gateway":
            env.update({
                "BIND": f"127.0.0.1:{self.ports['gateway']}",
                "WEB_URL": f"http://127.0.0.1:{spare_port()}",
                "RATE_LIMIT_ANONYMOUS": "100000000",
                "RATE_LIMIT_AUTHENTICATED": "100000000",
            })
        else:
            database = f"caravan_{name}"
            env.update({
                "BIND": f"127.0.0.1:{self.ports[name]}",
                "DATABASE_URL": f"postgres://caravan_{name}@127.0.0.1:{self.pg_port}/{database}",
                "MIGRATION_DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/{database}",
                "SERVICE_CLIENT_SECRET": self.service_secret,
                # Only the gateway on this machine names the client.
                "TRUSTED_PROXIES": "127.0.0.1",
            })
            if name == "auth":
                env.update({
                    "SIGNING_KEY_ENCRYPTION_KEY": self.signing_key,
                    "CARAVAN_OPERATOR_EMAIL": self.operator_email,
                    "CARAVAN_OPERATOR_PASSWORD": self.operator_password,
                })
            if name == "order":
                env.update({"PAYMENT_TEST_GATEWAY": "true",
                            "PAYMENT_TEST_WEBHOOK_SECRET": self.payment_secret})
            if name == "tenant":
                env.update({"WEBHOOKS_ALLOW_INTERNAL": "true"})
        env.update(self.extra_env)
        return env

    def start_service(self, name, wait=True):
        binary = os.path.join(self.binaries, f"caravan-{name}")
        out = open(os.path.join(self.root, f"{name}.log"), "ab")
        self.processes[name] = self.remember(subprocess.Popen(
            [binary], env=self.environment(name), stdout=out, stderr=subprocess.STDOUT))
        out.close()
        if wait:
            self.wait_ready(name)

    def pid(self, name):
        return self.processes[name].pid

    def signal(self, name, signum):
        self.processes[name].send_signal(signum)

    def wait_exit(self, name, timeout=60):
        return self.processes[name].wait(timeout=timeout)

    def ready(self, name):
        path = "/healthz" if name == "gateway" else "/readyz"
        try:
            with urllib.request.urlopen(self.url(name) + path, timeout=3) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def all_ready(self):
        return all(self.ready(name) for name in SERVICES)

    def wait_ready(self, name, timeout=90):
        process = self.processes.get(name)

        def check():
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"caravan-{name} exited with {process.returncode}; see {self.root}/{name}.log")
            return self.ready(name)

        self.wait_for(check, f"caravan-{name}", timeout)

    @staticmethod
    def wait_for(check, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not come up within {timeout} s")

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        self.mail = MailSink()
        self.start_postgres()
        self.start_redis()
        # The auth service first: the others fetch its keys and their service tokens.
        self.start_service("auth")
        for name in ("tenant", "catalog", "order"):
            self.start_service(name, wait=False)
        for name in ("tenant", "catalog", "order"):
            self.wait_ready(name)
        self.start_service("gateway")
        log(f"platform up: gateway {self.gateway}, PostgreSQL :{self.pg_port}, "
            f"Redis :{self.redis_port}, logs in {self.root}")

    def rss_kib(self, name):
        try:
            with open(f"/proc/{self.pid(name)}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return 0
        return 0

    def stop(self):
        for name, process in self.processes.items():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        if self.redis is not None and self.redis.poll() is None:
            self.redis.send_signal(signal.SIGKILL)
            self.redis.wait()
        if os.path.exists(os.path.join(self.pg_data, "postmaster.pid")):
            try:
                self.pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass
        if self.mail is not None:
            self.mail.stop()


class Api:
    """JSON over one keep-alive connection per thread."""

    def __init__(self, base, timeout=20):
        self.base = base
        self.timeout = timeout
        host, port = base.split("://", 1)[1].split(":")
        self.host, self.port = host, int(port)
        self.local = threading.local()

    def _connection(self):
        import http.client
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.connection = connection
        return connection

    def call(self, method, path, body=None, token=None, headers=None):
        """(status, parsed body); status 0 when no answer came (the error as body)."""
        sent = {"accept": "application/json"}
        if token:
            sent["authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["content-type"] = "application/json"
        sent.update(headers or {})
        connection = self._connection()
        try:
            connection.request(method, path, body=data, headers=sent)
            answer = connection.getresponse()
            raw = answer.read()
            status = answer.status
            if answer.getheader("connection", "").lower() == "close":
                connection.close()
                self.local.connection = None
        except Exception as error:  # noqa: BLE001 - any failure is "no answer"
            connection.close()
            self.local.connection = None
            return 0, {"error": f"{type(error).__name__}: {error}"}
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return status, parsed

    def ok(self, method, path, body=None, token=None, headers=None, expect=(200, 201, 204)):
        status, answer = self.call(method, path, body, token, headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path} answered {status}: {answer}")
        return answer


def seed(platform, api, slug="faults-farm", variants=4, stock=1_000_000):
    """A shop with products in stock, a shipping zone, its owner and staff.
    Answers a dict with the shop's slug, tenant id, handles, variant ids, the
    shipping rate id, the owner's and the staff's tokens."""
    operator = api.ok("POST", "/v1/auth/login",
                      {"email": platform.operator_email, "password": platform.operator_password})["access_token"]
    owner_email = f"owner@{slug}.example.cn"
    staff_email = f"staff@{slug}.example.cn"
    password = secret()
    tenant = api.ok("POST", "/v1/tenants", {"name": "故障测试合作社", "slug": slug, "owner_email": owner_email,
                                            "plan": "pro", "region": "Xinjiang"}, token=operator)
    token = platform.mail.token_for(owner_email)
    api.ok("POST", "/v1/auth/invitations/accept",
           {"token": token, "password": password, "display_name": "owner"})
    owner = api.ok("POST", "/v1/auth/login",
                   {"email": owner_email, "password": password, "tenant": slug})["access_token"]
    api.ok("PATCH", f"/v1/tenants/{tenant['id']}", {
        "base_currency": "CNY", "currencies": ["CNY"], "default_locale": "zh-CN",
        "locales": ["zh-CN", "en"], "ship_to": ["CN"]}, token=owner)
    seen = len(platform.mail.texts_to(staff_email))
    api.ok("POST", "/v1/auth/invitations", {"email": staff_email, "role": "staff"}, token=owner)
    token = platform.mail.token_for(staff_email, seen)
    api.ok("POST", "/v1/auth/invitations/accept",
           {"token": token, "password": password, "display_name": "staff"})
    staff = api.ok("POST", "/v1/auth/login",
                   {"email": staff_email, "password": password, "tenant": slug})["access_token"]
    handles, variant_ids = [], []
    for index in range(variants):
        handle = f"goji-{index}"
        created = api.ok("POST", "/v1/products", {
            "handle": handle, "status": "active",
            "title": {"zh-CN": f"枸杞 {index}", "en": f"Goji {index}"},
            "description": {"zh-CN": "头茬", "en": "First harvest"},
            "origin": {"country": "CN", "province": "Ningxia", "place": "Zhongning"},
            "variants": [{"sku": f"FAULTS-{index}", "title": {"zh-CN": "500克", "en": "500 g"},
                          "unit": "box", "weight_grams": 500,
                          "prices": [{"amount": 6800 + index, "currency": "CNY"}],
                          "stock": stock, "low_stock_threshold": 0}]}, token=owner)
        handles.append(handle)
        variant_ids.append(created["variants"][0]["id"])
    zone = api.ok("POST", "/v1/shipping-zones", {
        "name": "Mainland", "countries": ["CN"],
        "rates": [{"name": "SF Express", "min_weight_grams": 0,
                   "price": {"amount": 1200, "currency": "CNY"}}]}, token=owner)
    return {"slug": slug, "tenant": tenant["id"], "handles": handles, "variants": variant_ids,
            "rate": zone["rates"][0]["id"], "owner": owner, "staff": staff, "stock": stock,
            "operator": operator}

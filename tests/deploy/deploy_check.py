#!/usr/bin/env python3
"""Static checks of the deployment files in deploy/ (run by ctest, label
"deploy"). Each subcommand is one check; exit 0 pass, 1 fail (every finding
printed), 77 skipped (the reason printed).

  config-keys SRC              every node configuration in deploy/ uses only
                               fields of proto/ruta/node/v1/config.proto
  secrets-scan SRC             no private key, password or token literal in
                               the tracked files of deploy/
  compose SRC                  deploy/docker: compose.yaml parses; every
                               secret it mounts is made by make-secrets.sh
                               (run into a temporary folder); every secret
                               file a node config names is mounted; no
                               password in the environment; images pinned;
                               the hardening; the Dockerfile's HEALTHCHECK
                               asks the configured health-only port
  kubernetes SRC OVERLAY YAML  the output of `kubectl kustomize` for an overlay
"""
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover
    print("deploy_check: SKIPPED: python3 yaml module missing "
          "(Debian: apt-get install python3-yaml)")
    sys.exit(77)

REGIONS = ("cusco", "madre-de-dios")
FINDINGS = []


def finding(message):
    FINDINGS.append(message)
    print("deploy_check: FAIL: " + message, file=sys.stderr)


def finish(name, summary):
    if FINDINGS:
        print(f"deploy_check {name}: {len(FINDINGS)} finding(s)", file=sys.stderr)
        sys.exit(1)
    print(f"deploy_check {name}: ok: {summary}")
    sys.exit(0)


# ---- config.proto ----------------------------------------------------------

def parse_config_proto(path):
    """Message name -> {field name: (message type or None, repeated)}."""
    messages = {}
    stack = []
    field_re = re.compile(r"^\s*(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*\d+\s*;")
    for line in open(path, encoding="utf-8"):
        line = line.split("//")[0]
        m = re.match(r"^\s*(message|enum)\s+(\w+)\s*\{", line)
        if m:
            stack.append((m.group(1), m.group(2)))
            if m.group(1) == "message":
                messages[m.group(2)] = {}
            continue
        if stack and stack[-1][0] == "message":
            f = field_re.match(line)
            if f:
                messages[stack[-1][1]][f.group(3)] = (f.group(2), bool(f.group(1)))
        closes = line.count("}")
        for _ in range(closes):
            if stack:
                stack.pop()
    for fields in messages.values():
        for name, (ftype, repeated) in list(fields.items()):
            fields[name] = (ftype if ftype in messages else None, repeated)
    return messages


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def check_message(messages, message, value, where):
    if not isinstance(value, dict):
        finding(f"{where}: expected an object for {message}")
        return
    fields = messages[message]
    by_json = {}
    for name, spec in fields.items():
        by_json[name] = spec
        by_json[camel(name)] = spec
    for key, sub in value.items():
        if key not in by_json:
            finding(f"{where}.{key}: no such field in {message} "
                    f"(proto/ruta/node/v1/config.proto)")
            continue
        ftype, repeated = by_json[key]
        items = sub if repeated else [sub]
        if repeated and not isinstance(sub, list):
            finding(f"{where}.{key}: expected a list")
            continue
        if ftype:
            for i, item in enumerate(items):
                check_message(messages, ftype, item,
                              f"{where}.{key}[{i}]" if repeated else f"{where}.{key}")


def node_configs(src):
    """(label, parsed JSON) of every node configuration under deploy/."""
    found = []
    for root, _, files in os.walk(os.path.join(src, "deploy")):
        if "/secrets" in root or root.endswith("/run"):
            continue
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(".json"):
                continue
            data = json.load(open(path, encoding="utf-8"))
            if isinstance(data, dict) and "region" in data and "regions" in data:
                found.append((os.path.relpath(path, src), data))
    return found


def cmd_config_keys(src):
    messages = parse_config_proto(os.path.join(src, "proto/ruta/node/v1/config.proto"))
    if "NodeConfig" not in messages or "Observability" not in messages:
        finding("config.proto: NodeConfig/Observability not found (parser out of date?)")
    configs = node_configs(src)
    if len(configs) < 6:
        finding(f"only {len(configs)} node configurations found under deploy/ "
                "(local, systemd and docker have two each)")
    for label, data in configs:
        check_message(messages, "NodeConfig", data, label)
        db = data.get("storage", {}).get("database", "")
        if re.search(r"password\s*=", db, re.I):
            finding(f"{label}: a password in storage.database")
    finish("config-keys", f"{len(configs)} node configurations match config.proto")


# ---- secrets scan ----------------------------------------------------------

KEY_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE" + r" KEY-----")
PASSWORD_LITERAL = re.compile(
    r"(?i)\b(password|passwd|secret|token)\b[ \t]*[:=][ \t]*['\"]?([^\s'\"$#{}<>:]{6,})(?![^\s'\"])")
ALLOWED_VALUES = re.compile(r"(?i)(_file|/run/secrets/|\.key|password-stdin|db-password)")


def cmd_secrets_scan(src):
    files = subprocess.run(["git", "-C", src, "ls-files", "deploy", ".dockerignore"],
                           check=True, capture_output=True, text=True).stdout.split()
    if not files:
        finding("git ls-files deploy found nothing")
    for rel in files:
        path = os.path.join(src, rel)
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        if KEY_BLOCK.search(text):
            finding(f"{rel}: holds a private key")
        for m in PASSWORD_LITERAL.finditer(text):
            if not ALLOWED_VALUES.search(m.group(2)):
                line = text.count("\n", 0, m.start()) + 1
                finding(f"{rel}:{line}: looks like a literal secret: {m.group(0)!r}")
        if re.search(r"(?i)\b(POSTGRES_PASSWORD|RUTA_DATABASE_PASSWORD)\s*[:=]\s*\S", text):
            finding(f"{rel}: sets a database password in the environment "
                    "(use POSTGRES_PASSWORD_FILE / storage.password_file)")
    finish("secrets-scan", f"{len(files)} tracked files hold no key, password or token")


# ---- compose ---------------------------------------------------------------

def cmd_compose(src):
    ddir = os.path.join(src, "deploy/docker")
    compose = yaml.safe_load(open(os.path.join(ddir, "compose.yaml"), encoding="utf-8"))
    services = compose.get("services", {})
    top_secrets = compose.get("secrets", {})
    top_configs = compose.get("configs", {})
    for region in REGIONS:
        for kind in ("node", "db"):
            if f"{region}-{kind}" not in services:
                finding(f"compose.yaml: no service {region}-{kind}")

    # Every secret file is one make-secrets.sh makes.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "secrets")
        env = dict(os.environ, RUTA_SECRETS_DIR=out)
        run = subprocess.run(["bash", os.path.join(ddir, "make-secrets.sh")], env=env,
                             capture_output=True, text=True)
        if run.returncode != 0:
            finding(f"make-secrets.sh failed ({run.returncode}): {run.stderr[-2000:]}")
        made = set()
        for root, _, files in os.walk(out):
            for name in files:
                made.add(os.path.relpath(os.path.join(root, name), out))
        for name, spec in top_secrets.items():
            path = (spec or {}).get("file", "")
            if not path.startswith("./secrets/"):
                finding(f"secret {name}: file {path!r} is not under ./secrets/ "
                        "(the generated, ignored folder)")
                continue
            if path[len("./secrets/"):] not in made:
                finding(f"secret {name}: {path} is not made by make-secrets.sh")
            for key in ("environment", "content"):
                if key in (spec or {}):
                    finding(f"secret {name}: given by {key}, not by a generated file")
        # The generated keys are private; the re-run keeps them.
        for rel in made:
            if rel.endswith((".key", "-key.pem", "db-password")):
                mode = os.stat(os.path.join(out, rel)).st_mode & 0o777
                if mode & 0o077:
                    finding(f"make-secrets.sh: {rel} has mode {oct(mode)}")
        before = {}
        for rel in made:
            if rel.endswith(("db-password", "partner.key", "backup.key")):
                before[rel] = open(os.path.join(out, rel)).read()
        rerun = subprocess.run(["bash", os.path.join(ddir, "make-secrets.sh")], env=env,
                               capture_output=True, text=True)
        if rerun.returncode != 0:
            finding(f"make-secrets.sh run again failed: {rerun.stderr[-2000:]}")
        for rel, value in before.items():
            if open(os.path.join(out, rel)).read() != value:
                finding(f"make-secrets.sh run again replaced {rel}")
        passwords = [v for r, v in before.items() if r.endswith("db-password")]
        if len(set(passwords)) != len(REGIONS):
            finding("the regions' database passwords are not distinct random values")

    used = set()
    for sname, service in services.items():
        mounted = {}
        for entry in service.get("secrets", []):
            entry = {"source": entry} if isinstance(entry, str) else entry
            source = entry.get("source")
            used.add(source)
            if source not in top_secrets:
                finding(f"service {sname}: secret {source} is not declared")
            target = entry.get("target", source)
            mounted["/run/secrets/" + target if not target.startswith("/") else target] = source
        image = service.get("image", "")
        if ":" not in image or image.endswith(":latest"):
            finding(f"service {sname}: image {image!r} is not pinned by tag")
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"(?i)pass|secret|token|key", key) and not key.endswith("_FILE"):
                finding(f"service {sname}: environment {key} carries a secret value")
            if key.endswith("_FILE") and not str(value).startswith("/run/secrets/"):
                finding(f"service {sname}: {key} does not point at a secret")
        if "/run/secrets/db-password" not in mounted:
            finding(f"service {sname}: the database password secret is not mounted")
        if not sname.endswith("-node"):
            continue
        if not service.get("read_only"):
            finding(f"service {sname}: root file system not read-only")
        if "ALL" not in service.get("cap_drop", []):
            finding(f"service {sname}: capabilities not dropped")
        if "no-new-privileges:true" not in service.get("security_opt", []):
            finding(f"service {sname}: no-new-privileges not set")
        if (service.get("ulimits") or {}).get("core") != 0:
            finding(f"service {sname}: core dumps not disabled (ulimits core: 0)")
        configs = service.get("configs", [])
        if len(configs) != 1 or configs[0].get("target") != "/etc/ruta/node.json":
            finding(f"service {sname}: node.json must be mounted at /etc/ruta/node.json")
            continue
        cfg_file = top_configs.get(configs[0]["source"], {}).get("file", "")
        cfg = json.load(open(os.path.join(ddir, cfg_file), encoding="utf-8"))
        region = sname[: -len("-node")]
        if cfg.get("region") != region:
            finding(f"service {sname}: {cfg_file} is region {cfg.get('region')}")
        volumes = [v.split(":")[1] for v in service.get("volumes", [])]
        for path in json_paths(cfg):
            if path.startswith("/run/secrets/"):
                source = mounted.get(path)
                if not source:
                    finding(f"service {sname}: {cfg_file} reads {path}, not mounted")
                elif not top_secrets[source]["file"].startswith(f"./secrets/{region}/"):
                    finding(f"service {sname}: {path} comes from another region's folder")
            elif path.startswith("/") and not any(path.startswith(v) for v in volumes):
                finding(f"service {sname}: {cfg_file} names {path}, on no volume")
        storage = cfg.get("storage", {})
        if not storage.get("database", "").startswith("postgres:"):
            finding(f"{cfg_file}: the compose nodes use their PostgreSQL")
        if storage.get("password_file") != "/run/secrets/db-password":
            finding(f"{cfg_file}: storage.password_file must be the db-password secret")
        health = cfg.get("observability", {}).get("health_address", "")
        check_dockerfile_health(ddir, health, cfg_file)
    for name in top_secrets:
        if name not in used:
            finding(f"secret {name} is declared and mounted nowhere")
    check_dockerfile(src, ddir)
    finish("compose", f"{len(services)} services, {len(top_secrets)} generated secrets")


def json_paths(value):
    """Every string value of a *_file / *_files / directory field."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if re.search(r"(file|files|directory)$", key, re.I):
                for item in sub if isinstance(sub, list) else [sub]:
                    if isinstance(item, str):
                        yield item
            else:
                yield from json_paths(sub)
    elif isinstance(value, list):
        for item in value:
            yield from json_paths(item)


def check_dockerfile_health(ddir, health, cfg_file):
    text = open(os.path.join(ddir, "Dockerfile"), encoding="utf-8").read()
    # Continuation lines joined.
    m = re.search(r"^HEALTHCHECK.*$", text.replace("\\\n", " "), re.M)
    if not m:
        finding("Dockerfile: no HEALTHCHECK")
        return
    if "ruta-health-probe" not in m.group(0):
        finding("Dockerfile: the HEALTHCHECK does not use ruta-health-probe")
    port = health.rsplit(":", 1)[-1] if health else ""
    if not port or not re.search(r"127\.0\.0\.1:" + re.escape(port) + r"\b", m.group(0)):
        finding(f"Dockerfile: HEALTHCHECK does not ask {cfg_file}'s health_address {health!r}")
    if health and not health.startswith(("127.0.0.1:", "0.0.0.0:")):
        finding(f"{cfg_file}: health_address {health} unreachable from the container's loopback")


def check_dockerfile(src, ddir):
    text = open(os.path.join(ddir, "Dockerfile"), encoding="utf-8").read()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    if len(stages) < 2:
        finding("Dockerfile: not multi-stage")
    for image, _ in stages:
        if not image.startswith("debian:${DEBIAN_RELEASE}") and not image.startswith("debian:bookworm"):
            finding(f"Dockerfile: stage from {image}, not Debian bookworm")
    if not re.search(r"^ARG DEBIAN_RELEASE=bookworm$", text, re.M):
        finding("Dockerfile: DEBIAN_RELEASE is not bookworm")
    runtime = text[text.rfind("\nFROM "):]
    users = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    if not users or users[-1].split(":")[0] in ("0", "root"):
        finding("Dockerfile: the runtime stage does not run as a non-root user")
    for line in re.findall(r"^(?:COPY|ADD)\s+.*$", text, re.M):
        if re.search(r"secrets|\.pem|\.key|certs/out|/var/|password", line):
            finding(f"Dockerfile: copies secrets into the image: {line}")
    if re.search(r"(?i)^ENV\s+.*(PASSWORD|SECRET|TOKEN)", text, re.M):
        finding("Dockerfile: a secret in ENV")
    ignore = open(os.path.join(src, ".dockerignore"), encoding="utf-8").read().split()
    for needed in ("certs/out", "deploy/docker/secrets", "/var", ".git", "/build"):
        if needed not in ignore:
            finding(f".dockerignore does not exclude {needed}")


# ---- kubernetes ------------------------------------------------------------

def cmd_kubernetes(src, overlay, rendered):
    docs = [d for d in yaml.safe_load_all(open(rendered, encoding="utf-8")) if d]
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    for kind in ("Deployment", "Service", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget"):
        if kind not in kinds:
            finding(f"{overlay}: no {kind} rendered")
    for d in kinds.get("Secret", []):
        if d.get("data") or d.get("stringData"):
            finding(f"{overlay}: Secret {d['metadata']['name']} has data in the manifests "
                    "(Secrets are created from ignored files or kubectl create secret)")
    configmaps = {d["metadata"]["name"]: d for d in kinds.get("ConfigMap", [])}
    messages = parse_config_proto(os.path.join(src, "proto/ruta/node/v1/config.proto"))
    deployments = kinds.get("Deployment", [])
    creator = open(os.path.join(src, "deploy/kubernetes/create-secrets.sh"),
                   encoding="utf-8").read()
    workloads = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in deployments]
    workloads += [(c["metadata"]["name"], c["spec"]["jobTemplate"]["spec"]["template"]["spec"])
                  for c in kinds.get("CronJob", [])]
    if not kinds.get("CronJob"):
        finding(f"{overlay}: no audit verification CronJob")
    for name, spec in workloads:
        pod_sc = spec.get("securityContext", {})
        if not pod_sc.get("runAsNonRoot"):
            finding(f"{name}: pod securityContext.runAsNonRoot is not true")
        if (pod_sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            finding(f"{name}: pod seccompProfile is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            finding(f"{name}: the service account token is mounted")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounted_secrets = [v["secret"]["secretName"] for v in volumes.values() if "secret" in v]
        mounted_secrets += [s_["secret"]["name"] for v in volumes.values()
                            for s_ in (v.get("projected") or {}).get("sources", [])
                            if "secret" in s_]
        for secret in mounted_secrets:
            if not re.search(r"^\s*apply " + re.escape(secret) + r" ", creator, re.M):
                finding(f"{name}: mounts Secret {secret}, which create-secrets.sh does not create")
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            cname = f"{name}/{c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                finding(f"{cname}: allowPrivilegeEscalation is not false")
            if not sc.get("readOnlyRootFilesystem"):
                finding(f"{cname}: readOnlyRootFilesystem is not true")
            if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
                finding(f"{cname}: capabilities do not drop ALL")
            if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
                finding(f"{cname}: may run as root")
            image = c.get("image", "")
            tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
            if not tag or tag == "latest":
                finding(f"{cname}: image {image!r} not pinned by tag")
            for env in c.get("env", []):
                if "value" in env and re.search(r"(?i)pass|secret|token|key", env["name"]):
                    finding(f"{cname}: env {env['name']} carries a literal secret")
        node = next((c for c in spec.get("containers", []) if c["name"] == "node"), None)
        if not node:
            if name != "ruta-audit-verify":
                finding(f"{name}: no container named node")
            continue
        ports = {p["name"]: p["containerPort"] for p in node.get("ports", [])}
        for p in ("grpc", "health", "metrics"):
            if p not in ports:
                finding(f"{name}: the node declares no {p} port")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            spec_p = node.get(probe)
            if not spec_p:
                finding(f"{name}: no {probe}")
                continue
            grpc = spec_p.get("grpc")
            if not grpc:
                finding(f"{name}: {probe} is not a native grpc probe")
            elif grpc.get("port") != ports.get("health"):
                finding(f"{name}: {probe} asks port {grpc.get('port')}, "
                        f"not the health-only port {ports.get('health')}")
        # The node configuration it mounts.
        cfg = None
        mounts = {m["mountPath"]: m for m in node.get("volumeMounts", [])}
        for path, m in mounts.items():
            vol = volumes.get(m["name"], {})
            cm = (vol.get("configMap") or {}).get("name")
            if cm and cm in configmaps:
                cfg = json.loads(configmaps[cm]["data"]["node.json"])
                cfg_dir = path
        if cfg is None:
            finding(f"{name}: no node.json ConfigMap mounted")
            continue
        check_message(messages, "NodeConfig", cfg, f"{overlay} node.json")
        if cfg.get("region") != overlay:
            finding(f"{overlay}: node.json region is {cfg.get('region')}")
        health = cfg.get("observability", {}).get("health_address", "")
        if health.rsplit(":", 1)[-1] != str(ports.get("health")):
            finding(f"{overlay}: health_address {health!r} is not the health port {ports.get('health')}")
        if not health.startswith("0.0.0.0:"):
            finding(f"{overlay}: health_address {health!r} unreachable by the kubelet")
        listen = cfg.get("listen_address", "")
        if listen.rsplit(":", 1)[-1] != str(ports.get("grpc")):
            finding(f"{overlay}: listen_address {listen!r} is not the grpc port")
        for path in json_paths(cfg):
            if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in mounts):
                finding(f"{overlay}: node.json names {path}, on no volume")
        if "password_file" not in cfg.get("storage", {}):
            finding(f"{overlay}: storage.password_file not set")
        # Every secret file it names is one create-secrets.sh puts in the
        # Secrets the pod mounts.
        per_region = ("-root.pem", "-root.crl.pem", "-intermediate.crl.pem", "-signing.pub")
        for path in json_paths(cfg):
            if not path.startswith("/run/ruta/secrets/"):
                continue
            fname = path[len("/run/ruta/secrets/"):]
            suffix = next((x for x in per_region if fname.endswith(x)
                           and fname[: -len(x)] in REGIONS), None)
            if suffix:
                ok = ("*" + suffix.replace("-root.crl.pem", ".crl.pem")
                      .replace("-intermediate.crl.pem", ".crl.pem")) in creator
            else:
                ok = re.search(r"\$files/" + re.escape(fname) + r"\b", creator) is not None
            if not ok:
                finding(f"{overlay}: node.json reads {fname}, which create-secrets.sh "
                        "does not put in a Secret")

    for pdb in kinds.get("PodDisruptionBudget", []):
        if "minAvailable" not in pdb["spec"] and "maxUnavailable" not in pdb["spec"]:
            finding(f"{overlay}: PodDisruptionBudget without a budget")
    policies = kinds.get("NetworkPolicy", [])
    ingress_rules = [r for p in policies for r in p["spec"].get("ingress", [])]
    metrics_ok = any(
        any(pt.get("port") in ("metrics", 9464) for pt in r.get("ports", [])) and
        all("namespaceSelector" in f for f in r.get("from", [])) and r.get("from")
        for r in ingress_rules)
    if not metrics_ok:
        finding(f"{overlay}: no NetworkPolicy rule limits metrics to a namespace")
    for r in ingress_rules:
        if not r.get("from"):
            finding(f"{overlay}: a NetworkPolicy ingress rule admits everyone")
        for pt in r.get("ports", []):
            if pt.get("port") in ("health", 7480):
                finding(f"{overlay}: the health-only port is opened by a NetworkPolicy "
                        "(the kubelet's probes need no rule)")
    if not any("Ingress" in p["spec"].get("policyTypes", []) and not p["spec"].get("ingress")
               for p in policies):
        finding(f"{overlay}: no default-deny ingress NetworkPolicy")
    finish(f"kubernetes {overlay}", f"{len(docs)} objects, {len(deployments)} Deployment(s)")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, src = argv[1], argv[2]
    if cmd == "config-keys":
        cmd_config_keys(src)
    elif cmd == "secrets-scan":
        cmd_secrets_scan(src)
    elif cmd == "compose":
        cmd_compose(src)
    elif cmd == "kubernetes" and len(argv) == 5:
        cmd_kubernetes(src, argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

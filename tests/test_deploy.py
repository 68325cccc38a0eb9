"""The deployment files parse, and say what they must (docker itself is not needed)."""

import re

import yaml
from conftest import REPO

DEPLOY = REPO / "deploy"


def test_dagster_yaml_uses_postgres_and_one_duckdb_writer():
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert set(config["storage"]["postgres"]["postgres_db"]) >= {"hostname", "username", "password", "db_name"}
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_dagster_yaml_is_a_valid_instance_config():
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config_schema

    result = validate_config(dagster_instance_config_schema(), yaml.safe_load((DEPLOY / "dagster.yaml").read_text()))
    assert result.success, [e.message for e in result.errors]


def test_compose_has_postgres_code_server_webserver_and_one_daemon():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "tipipeline_code", "webserver", "daemon"}
    assert sum("dagster-daemon" in " ".join(s.get("command", [])) for s in services.values()) == 1
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]
    environment = services["tipipeline_code"]["environment"]
    assert environment["TIPIPELINE_PSEUDONYM_KEY"].startswith("${")  # from the host, never written here
    for name in ("webserver", "daemon", "tipipeline_code"):
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["grpc_server"]["host"] == "tipipeline_code"


def test_dockerfile_installs_from_the_lock():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "dagster-postgres" in dockerfile
    for path in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for part in path.split():
            assert (REPO / part).exists(), part

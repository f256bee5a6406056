"""fly.toml and the Dockerfile point at things that exist in the app."""

import tomllib
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def fly() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "fly.toml").read_text())


async def test_fly_health_check_path_is_served(client: AsyncTestClient[Litestar]) -> None:
    config = fly()
    assert config["primary_region"] == "sin"
    checks = config["http_service"]["checks"]
    assert checks, "fly.toml has no health check"
    for check in checks:
        response = await client.get(check["path"])
        assert response.status_code == 200, check["path"]
    assert config["http_service"]["internal_port"] == int(config["env"]["PORT"])
    assert config["http_service"]["concurrency"]["hard_limit"] >= config["http_service"]["concurrency"]["soft_limit"]


def test_fly_release_command_is_a_real_cli_command() -> None:
    command = fly()["deploy"]["release_command"].split()
    assert command[:3] == ["python", "-m", "service"]
    with pytest.raises(SystemExit) as exit_:
        main([*command[3:], "--help"])
    assert exit_.value.code == 0, f"`{' '.join(command)}` is not a command of the CLI"


def test_fly_environment_runs_in_production_mode() -> None:
    env = fly()["env"]
    assert env["ENV"] == "production"
    assert env["MEDIA_STORE"] == "s3"
    assert "DATABASE_URL" not in env, "secrets go in `fly secrets`, not fly.toml"
    assert "JWT_SECRET" not in env


def test_dockerfile_runs_the_cli_and_ships_migrations() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "service", "serve"]' in dockerfile
    assert "COPY migrations" in dockerfile
    assert "COPY assets" in dockerfile


def test_fly_runs_the_scheduled_jobs_in_a_worker_process_group() -> None:
    config = fly()
    processes = config["processes"]
    for name, command in processes.items():
        parts = command.split()
        assert parts[:3] == ["python", "-m", "service"], name
        with pytest.raises(SystemExit) as exit_:
            main([*parts[3:], "--help"])
        assert exit_.value.code == 0, f"`{command}` is not a command of the CLI"
    assert processes["worker"] == "python -m service worker"
    assert config["env"]["JOBS_IN_SERVER"] == "false"  # the web machines leave the jobs to the worker
    assert config["http_service"]["processes"] == ["app"]


def test_the_image_runs_in_production_mode_and_fly_names_its_proxy_header() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENV=production" in dockerfile, "a plain `docker run` must not trust development settings"
    assert fly()["env"]["TRUSTED_PROXY_HEADER"] == "Fly-Client-IP"
    assert "METRICS_TOKEN" not in fly()["env"], "a secret: `fly secrets set`"


def test_fly_scrapes_the_metrics_port_that_is_not_public() -> None:
    """Fly's scraper sends no token: it reads METRICS_PORT, which is never the [http_service] port."""
    config = fly()
    assert config["metrics"]["port"] == int(config["env"]["METRICS_PORT"])
    assert config["metrics"]["port"] != config["http_service"]["internal_port"]
    assert config["metrics"]["path"] == "/metrics"
    assert config["metrics"]["processes"] == ["app"]  # the worker group serves no HTTP

"""The Docker image's file set (.ci/image_files.py): the build context .dockerignore leaves,
placed by the Dockerfile's COPY lines. `.ci/image` installs and runs what it assembles."""

import importlib.util
import shutil
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("image_files", ROOT / ".ci" / "image_files.py")
image_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(image_files)

APPS = ("oshara", "accounts", "characters", "knowledge", "calls")


def make_project(tmp_path, files, dockerfile):
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")
    (tmp_path / "Dockerfile").write_text(dockerfile)
    shutil.copy(ROOT / ".dockerignore", tmp_path / ".dockerignore")
    return tmp_path


def taken(root):
    placed, workdir = image_files.image_files(root)
    return {str(path.relative_to(workdir)) for path in placed}, workdir


def test_the_project_image_takes_every_app_and_what_installing_it_needs():
    names, workdir = taken(ROOT)
    assert workdir == PurePosixPath("/app")
    for app in APPS:
        assert f"{app}/__init__.py" in names
        assert f"{app}/apps.py" in names or app == "oshara"
    assert {"manage.py", "pyproject.toml", "README.md"} <= names
    assert "calls/migrations/0001_initial.py" in names
    # Every file of the packages pip installs reaches the image (templates, static, data).
    tracked = [path for app in APPS for path in (ROOT / app).rglob("*") if path.is_file()]
    expected = {
        str(path.relative_to(ROOT))
        for path in tracked
        if "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected <= names


IGNORED = [
    ".env",
    ".env.production",
    ".dev-secrets.json",
    "db.sqlite3",
    "db.sqlite3-wal",
    "test-db.sqlite3_gw0",
    "calls/old.sqlite3",
    "media/characters/images/a.png",
    "private-media/documents/x/handbook.pdf",
    "staticfiles/admin/css/base.css",
    ".git/config",
    ".venv/bin/python",
    "calls/__pycache__/models.cpython-311.pyc",
    "__pycache__/x.pyc",
    "oshara_characters.egg-info/PKG-INFO",
    ".pytest_cache/v/cache/lastfailed",
    "bench/results/run.json",
    "tests/test_x.py",
    "openapi.yaml",
]
KEPT = [
    "manage.py",
    "pyproject.toml",
    "README.md",
    "calls/__init__.py",
    "calls/migrations/0001_initial.py",
    "newapp/models.py",  # a new app needs no line anywhere
    "oshara/templates/api_docs/redoc.html",
    "knowledge/data/model.safetensors",
]


def test_dockerignore_keeps_secrets_local_state_and_caches_out(tmp_path):
    root = make_project(tmp_path, IGNORED + KEPT, "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n")
    names, _ = taken(root)
    assert set(KEPT) <= names
    assert not set(IGNORED) & names
    # Docker anchors a pattern at the root: `media` is the uploads folder, not any "media".
    (root / "characters" / "media").mkdir(parents=True)
    (root / "characters" / "media" / "kept.py").write_text("")
    assert "characters/media/kept.py" in taken(root)[0]


def test_a_per_app_copy_list_that_forgets_an_app_is_seen(tmp_path):
    # The Dockerfile as it was: calls/ was never copied, so the image failed at collectstatic.
    dockerfile = (
        "FROM python:3.12-slim\nWORKDIR /app\n"
        "COPY pyproject.toml README.md ./\n"
        "COPY oshara ./oshara\nCOPY accounts ./accounts\n"
        "COPY manage.py ./\n"
    )
    root = make_project(tmp_path, [*KEPT, "oshara/__init__.py", "accounts/models.py"], dockerfile)
    names, _ = taken(root)
    assert names == {
        "pyproject.toml",
        "README.md",
        "oshara/__init__.py",
        "oshara/templates/api_docs/redoc.html",
        "accounts/models.py",
        "manage.py",
    }
    assert "calls/__init__.py" not in names


def test_copy_places_files_folders_and_wildcards_as_docker_does(tmp_path):
    dockerfile = (
        "# comment\nFROM python:3.12-slim\nWORKDIR /srv\nWORKDIR app\n"
        "COPY --chown=app:app manage.py run.py\n"
        'COPY ["README.md", "docs/"]\n'
        "COPY calls/*.py \\\n    flat/\n"
        "COPY calls lib/calls\n"
    )
    root = make_project(tmp_path, KEPT, dockerfile)
    names, workdir = taken(root)
    assert workdir == PurePosixPath("/srv/app")
    assert names == {
        "run.py",
        "docs/README.md",
        "flat/__init__.py",
        "lib/calls/__init__.py",
        "lib/calls/migrations/0001_initial.py",
    }


@pytest.mark.parametrize(
    "line",
    ["ADD . .", "COPY --from=build /app /app", "COPY missing.txt ./"],
)
def test_what_the_script_does_not_understand_is_refused(tmp_path, line):
    root = make_project(tmp_path, KEPT, f"FROM python:3.12-slim\nWORKDIR /app\n{line}\n")
    with pytest.raises(image_files.UnsupportedDockerfile):
        image_files.image_files(root)


def test_assemble_copies_the_files_under_the_image_paths(tmp_path):
    root = make_project(tmp_path / "project", [*KEPT, ".env"], "WORKDIR /app\nCOPY . .\n")
    workdir = image_files.assemble(tmp_path / "image", root)
    assert workdir == PurePosixPath("/app")
    copied = tmp_path / "image" / "app"
    assert (copied / "calls" / "migrations" / "0001_initial.py").read_text() == (
        "content of calls/migrations/0001_initial.py\n"
    )
    assert not (copied / ".env").exists()

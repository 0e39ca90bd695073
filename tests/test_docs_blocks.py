"""The docs stage's convention (.ci/docs_blocks.py): which blocks run, what they expect, and
the pages of this repository following it. `.ci/docs` runs the blocks against a server."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("docs_blocks", ROOT / ".ci" / "docs_blocks.py")
docs_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs_blocks)

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_page_follows_the_convention(page):
    found = docs_blocks.blocks(page)
    for block in found:
        assert block.language, block.where
        if block.skip:
            assert len(block.skip) > 10, f"{block.where}: say why it cannot run"


def test_most_shell_examples_run():
    found = [block for page in PAGES for block in docs_blocks.blocks(page)]
    shell = [block for block in found if block.language == "sh"]
    skipped = [block for block in shell if block.skip]
    assert len(shell) >= 10
    assert len(skipped) <= len(shell) // 3


def page(tmp_path, text):
    path = tmp_path / "page.md"
    path.write_text(text)
    return path


def test_blocks_their_markers_and_indented_fences(tmp_path):
    path = page(
        tmp_path,
        "Intro\n\n<!-- docs-check: expect ^ok$ -->\n<!-- docs-check: expect b -->\n"
        "```sh\necho ok\n```\n\n```json\n{}\n```\n\n"
        "1. A step:\n\n   <!-- docs-check: skip (needs a Docker engine) -->\n"
        "   ```sh\n   docker compose up\n     --build\n   ```\n",
    )
    first, shown, skipped = docs_blocks.blocks(path, "page.md")
    assert (first.where, first.language, first.code) == ("page.md:5", "sh", "echo ok")
    assert first.expect == ["^ok$", "b"]
    assert (shown.language, shown.expect, shown.skip) == ("json", [], "")
    assert skipped.skip == "needs a Docker engine"
    assert skipped.code == "docker compose up\n  --build"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("```\nmake run\n```\n", "names its language"),
        ("```bash\nmake run\n```\n", "write ```sh"),
        ("<!-- docs-check: skip -->\n```sh\nmake run\n```\n", "unknown marker"),
        ("<!-- docs-check: skip () -->\n```sh\nmake run\n```\n", "unknown marker"),
        ("<!-- docs-check: expect ( -->\n```sh\nls\n```\n", "bad expect pattern"),
        ("<!-- docs-check: expect x -->\n```json\n{}\n```\n", "above ```sh blocks only"),
        ("```sh\nls\n", "never closed"),
    ],
)
def test_what_could_hide_a_command_is_an_error(tmp_path, text, message):
    with pytest.raises(docs_blocks.PageError, match=message):
        docs_blocks.blocks(page(tmp_path, text))


def run_page(tmp_path, text):
    (tmp_path / "out").mkdir()
    (tmp_path / "wait.sh").write_text("true\n")
    script = docs_blocks.script(page(tmp_path, text), "http://127.0.0.1:9", "page.md")
    env = {"PATH": "/usr/bin:/bin", "DOCS_OUTPUT": str(tmp_path / "out")}
    env["DOCS_WAIT_FOR_WORKER"] = str(tmp_path / "wait.sh")
    return subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def test_blocks_share_one_shell_and_the_base_url_is_the_stages(tmp_path):
    result = run_page(
        tmp_path,
        "```sh\nURL=http://127.0.0.1:8000/api/\n```\n\n"
        "<!-- docs-check: skip (would fail) -->\n```sh\nfalse\n```\n\n"
        '<!-- docs-check: expect ^http://127\\.0\\.0\\.1:9/api/$ -->\n```sh\necho "$URL"\n```\n',
    )
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:9/api/" in result.stdout


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("false\necho never", "FAILED in page.md:1 (exit 1): false"),
        ("echo $UNSET", "UNSET: unbound variable"),
        (
            "TOKEN=$(echo '{}' | python3 -c 'import json,sys; json.load(sys.stdin)[\"a\"]')",
            "exit 1",
        ),
    ],
)
def test_a_failing_command_fails_the_page(tmp_path, block, message):
    result = run_page(tmp_path, f"```sh\n{block}\n```\n\n```sh\necho after\n```\n")
    assert result.returncode != 0
    assert message in result.stderr
    assert "after" not in result.stdout


def test_an_output_other_than_expected_fails_the_page(tmp_path):
    result = run_page(
        tmp_path, '<!-- docs-check: expect "status": ?"ok" -->\n```sh\necho no\n```\n'
    )
    assert result.returncode == 1
    assert 'page.md:2: its output does not match "status": ?"ok"' in result.stderr

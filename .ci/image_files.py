"""The files the Docker image takes, assembled without a Docker engine (the `.ci/image` stage).

The build context is the project less what `.dockerignore` excludes, matched by docker-py's
own implementation of Docker's pattern rules; the Dockerfile's COPY lines then place context
files in the image. Only what this project's Dockerfile uses is understood: WORKDIR and COPY
(with --chown, --chmod, --link); anything else that brings files in (ADD, COPY --from) is
refused rather than approximated.

    python .ci/image_files.py DEST    copies the files under DEST as the image holds them
                                      (DEST/app/manage.py, ...) and prints the last WORKDIR
    python .ci/image_files.py --list  prints each image path and the context file it comes from
"""

import json
import shlex
import shutil
import sys
from pathlib import Path, PurePosixPath

from docker.utils.build import exclude_paths
from docker.utils.fnmatch import fnmatch

ROOT = Path(__file__).resolve().parent.parent
COPY_FLAGS_WITHOUT_EFFECT_ON_FILES = ("--chown=", "--chmod=", "--link")


class UnsupportedDockerfile(Exception):
    pass


def ignore_patterns(root):
    """.dockerignore's patterns, read as docker-py's build does: blank lines and comments out."""
    path = root / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def context_files(root, dockerfile="Dockerfile"):
    """Every file of the build context, as paths relative to the root."""
    kept = exclude_paths(str(root), ignore_patterns(root), dockerfile=dockerfile)
    return sorted(
        PurePosixPath(name)
        for name in kept
        if (root / name).is_file() or (root / name).is_symlink()
    )


def instructions(text):
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    logical, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    if pending:
        logical.append(pending)
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        yield keyword.upper(), arguments.strip()


def copy_arguments(arguments):
    """A COPY's sources and destination, its flags checked."""
    words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if not flag.startswith(COPY_FLAGS_WITHOUT_EFFECT_ON_FILES):
            raise UnsupportedDockerfile(f"COPY {flag} is not understood by .ci/image_files.py")
    if len(words) < 2:
        raise UnsupportedDockerfile(f"COPY {arguments}: a source and a destination are needed")
    return words[:-1], words[-1]


def matched(source, files):
    """What one COPY source names: ("file", path) or ("folder", path) pairs; "." is the whole
    context. Wildcards follow Docker's rules (docker-py's fnmatch: `*` stays within a folder)."""
    pattern = str(PurePosixPath(source))
    if pattern == ".":
        return [("folder", PurePosixPath("."))]
    folders = {parent for name in files for parent in name.parents if str(parent) != "."}
    if any(character in pattern for character in "*?["):
        names = [name for name in files if fnmatch(str(name), pattern)]
        names += [folder for folder in folders if fnmatch(str(folder), pattern)]
    else:
        names = [PurePosixPath(pattern)]
    return [("file" if name in files else "folder", name) for name in sorted(names)]


def image_files(root=ROOT, dockerfile="Dockerfile"):
    """{image path: context path} for every file the Dockerfile's COPY lines take, and the
    last WORKDIR."""
    files = context_files(root, dockerfile)
    known = set(files)
    workdir = PurePosixPath("/")
    placed = {}
    for keyword, arguments in instructions((root / dockerfile).read_text()):
        if keyword == "WORKDIR":
            workdir = workdir / arguments
        elif keyword == "ADD":
            raise UnsupportedDockerfile("ADD is not understood by .ci/image_files.py; use COPY")
        elif keyword == "COPY":
            sources, destination = copy_arguments(arguments)
            target = workdir / destination
            matches = [match for source in sources for match in matched(source, known)]
            into_folder = destination.endswith("/") or destination == "." or len(matches) > 1
            for kind, name in matches:
                if kind == "file":
                    placed[target / name.name if into_folder else target] = name
                    continue
                below = [
                    file for file in files if name == PurePosixPath(".") or name in file.parents
                ]
                if not below:
                    raise UnsupportedDockerfile(f"COPY {name}: nothing in the build context")
                for file in below:  # a folder's contents, not the folder itself
                    placed[target / file.relative_to(name)] = file
    return placed, workdir


def assemble(destination, root=ROOT):
    destination = Path(destination)
    placed, workdir = image_files(root)
    for image_path, name in placed.items():
        target = destination / image_path.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target, follow_symlinks=False)
    return workdir


def main(argv):
    if argv == ["--list"]:
        placed, _ = image_files()
        for image_path, name in sorted(placed.items()):
            print(f"{image_path}\t{name}")
    elif len(argv) == 1 and not argv[0].startswith("-"):
        print(assemble(argv[0]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

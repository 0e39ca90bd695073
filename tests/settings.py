"""The test suite's settings: the project's own, with DEBUG on as `make run` has it.

An unset DJANGO_DEBUG means off (production: real secrets required, HTTPS redirects), so the
suite turns it on before the project's settings read it, whatever the shell says; the
processes it starts (workers, servers) inherit it. Tests of production behaviour start a
process of their own with DJANGO_DEBUG=false (tests/helpers.py, run_python).
"""

import os

os.environ["DJANGO_DEBUG"] = "true"

from oshara.settings import *  # noqa: F403

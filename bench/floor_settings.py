"""The floor: the project's own settings and middleware, with a URLconf of bare views."""

from oshara.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"

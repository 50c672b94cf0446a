"""papermill has no entry point for translators, but it loads every engine's entry point when
it starts: this engine (papermill's default, under another name) is how a command-line run
imports the package and so registers its translator."""

from papermill.engines import NBClientEngine

import ferrolab_papermill  # noqa: F401  (registers the translator)


class FerrolabEngine(NBClientEngine):
    pass

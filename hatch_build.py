"""Build hook: compile the exact test's walk (``src/sharedground/analysis/stats/_fisher_walk.c``).

Why a hook and not setuptools: the project builds with hatchling, and one C file with no
library of its own needs only the compiler Python was built with and Python's headers, both
named by ``sysconfig``. The extension is written next to its source, so an editable install
(``make install``) imports it from ``src``; a wheel carries it and is tagged for this
platform. Without a compiler the build goes on with a warning and the exact test uses its
Python forms (slower on small tables); the tests require the extension.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = "src/sharedground/analysis/stats/_fisher_walk.c"


def compile_walk(root: str | Path) -> Path:
    """Compile the walk next to its source and return the extension's path.

    Raises:
        OSError: No compiler.
        subprocess.CalledProcessError: The compiler refused the source.
    """
    source = Path(root, SOURCE)
    target = source.with_name("_fisher_walk" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    compiler = os.environ.get("CC") or str(sysconfig.get_config_var("CC") or "cc")
    command = [
        *shlex.split(compiler),
        "-O2",
        "-shared",
        "-fPIC",
        f"-I{sysconfig.get_paths()['include']}",
        str(source),
        "-o",
        str(target),
        "-lm",
    ]
    subprocess.run(command, check=True)
    return target


class CompiledWalkHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the walk for wheels (editable ones included); sdists carry the source."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        try:
            target = compile_walk(self.root)
        except (OSError, subprocess.CalledProcessError) as exc:
            self.app.display_warning(
                f"sharedground: the compiled exact test was not built ({exc}); "
                "r x c exact tests will use the slower Python walk"
            )
            return
        if version == "editable":
            return  # imported from src, where it was written
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["force_include"][str(target)] = f"sharedground/analysis/stats/{target.name}"

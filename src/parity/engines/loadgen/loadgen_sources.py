"""Every version of LoadGen's tracked source files in a round's window, as the SHA-1s LoadGen logs.

``data/loadgen_<round>.yaml`` is written by ``scripts/extract_loadgen_sources.py`` from mlcommons/inference
(the previous round's tag to the round's). A detail log's ``loadgen_file_sha1`` names each file LoadGen
was built from; a tracked file whose SHA-1 is none of its versions in the window was modified, or the
build is from another round. Files git does not track (the generated ``mlperf_conf.h``) are not judged.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from parity.engines.loadgen.rounds import DATA_DIR
from parity.errors import BadInput
from parity.rulebook.yaml_safe import read_yaml


class LoadgenSources(BaseModel):
    """One round's window of LoadGen sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["parity-loadgen-sources"]
    round: str
    source: dict[str, str | int]
    files: dict[str, list[str]]

    def modified(self, logged: dict) -> list[str]:
        """The tracked files whose logged SHA-1 is none of their versions in the window."""
        return sorted(
            name for name, digest in logged.items() if name in self.files and digest not in self.files[name]
        )


@cache
def loadgen_sources(round_name: str) -> LoadgenSources | None:
    """The packaged window of round ``round_name``, or None where there is none.

    Raises:
        BadInput: the file does not validate.
    """
    path = DATA_DIR / f"loadgen_{round_name}.yaml"
    if not path.is_file():
        return None
    try:
        return LoadgenSources.model_validate(read_yaml(path))
    except ValidationError as exc:
        error = exc.errors()[0]
        raise BadInput(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", path) from None
